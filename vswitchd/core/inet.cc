#include "vswitchd/core/inet.h"

#include <endian.h>

#include <cstring>

namespace vdemesh::core {

namespace {
constexpr std::size_t kEth = kEthHeaderBytes;
constexpr std::uint8_t kTcp = kIpProtoTcp;
}  // namespace

std::uint32_t OnesSum(std::span<const std::uint8_t> data, std::uint32_t sum) noexcept {
  // Eight bytes at a time: since 2^16 = 1 in ones' complement arithmetic mod 0xffff, summing
  // big-endian 64-bit words with end-around carry gives the same folded sum as 16-bit words.
  std::uint64_t s = sum;
  std::size_t i = 0;
  const std::uint8_t* p = data.data();
  for (; i + 8 <= data.size(); i += 8) {
    std::uint64_t v;
    std::memcpy(&v, p + i, 8);
    v = be64toh(v);
    s += v;
    s += s < v ? 1 : 0;
  }
  for (; i + 1 < data.size(); i += 2) {
    const std::uint64_t v = static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
    s += v;
    s += s < v ? 1 : 0;
  }
  if (i < data.size()) {
    const std::uint64_t v = static_cast<std::uint32_t>(p[i] << 8);
    s += v;
    s += s < v ? 1 : 0;
  }
  s = (s & 0xffffffff) + (s >> 32);
  s = (s & 0xffffffff) + (s >> 32);
  return static_cast<std::uint32_t>(s);
}

std::uint16_t FoldChecksum(std::uint32_t sum) noexcept {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

bool ParseTcpFrame(std::span<const std::uint8_t> f, TcpFrame* l) noexcept {
  if (f.size() < kEth + 40) return false;
  const std::uint16_t type = Load16(&f[12]);
  if (type == 0x0800) {
    const std::size_t ihl = (f[kEth] & 0x0f) * 4u;
    // A later fragment's bytes are not a TCP header.
    const bool first_fragment = (Load16(&f[kEth + 6]) & 0x1fff) == 0;
    if ((f[kEth] >> 4) != 4 || ihl < 20 || f[kEth + 9] != kTcp || !first_fragment) return false;
    l->v6 = false;
    l->tcp = kEth + ihl;
  } else if (type == 0x86dd) {
    if ((f[kEth] >> 4) != 6 || f[kEth + 6] != kTcp) return false;  // no extension headers
    l->v6 = true;
    l->tcp = kEth + 40;
  } else {
    return false;
  }
  if (f.size() < l->tcp + 20) return false;
  const std::size_t doff = (f[l->tcp + 12] >> 4) * 4u;
  if (doff < 20 || f.size() < l->tcp + doff) return false;
  l->payload = l->tcp + doff;
  return true;
}

}  // namespace vdemesh::core
