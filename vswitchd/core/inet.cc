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

namespace {

// The offset of the transport header of an untagged IPv4 (first or only fragment) or IPv6 (no
// extension headers) frame carrying `proto`, or 0.
std::size_t TransportOffset(std::span<const std::uint8_t> f, std::uint8_t proto, bool* v6) {
  if (f.size() < kEth + 40) return 0;
  const std::uint16_t type = Load16(&f[12]);
  if (type == 0x0800) {
    const std::size_t ihl = (f[kEth] & 0x0f) * 4u;
    // A later fragment's bytes are not a transport header.
    const bool first_fragment = (Load16(&f[kEth + 6]) & 0x1fff) == 0;
    if ((f[kEth] >> 4) != 4 || ihl < 20 || f[kEth + 9] != proto || !first_fragment) return 0;
    *v6 = false;
    return kEth + ihl;
  }
  if (type == 0x86dd) {
    if ((f[kEth] >> 4) != 6 || f[kEth + 6] != proto) return 0;
    *v6 = true;
    return kEth + 40;
  }
  return 0;
}

}  // namespace

bool ParseTcpFrame(std::span<const std::uint8_t> f, TcpFrame* l) noexcept {
  l->tcp = TransportOffset(f, kTcp, &l->v6);
  if (l->tcp == 0 || f.size() < l->tcp + 20) return false;
  const std::size_t doff = (f[l->tcp + 12] >> 4) * 4u;
  if (doff < 20 || f.size() < l->tcp + doff) return false;
  l->payload = l->tcp + doff;
  return true;
}

bool ParseUdpFrame(std::span<const std::uint8_t> f, UdpFrame* l) noexcept {
  l->udp = TransportOffset(f, kIpProtoUdp, &l->v6);
  if (l->udp == 0 || f.size() < l->udp + UdpFrame::kHeaderBytes) return false;
  l->payload = l->udp + UdpFrame::kHeaderBytes;
  return true;
}

void SetIpLength(std::uint8_t* ip, bool v6, std::size_t l4, std::size_t ip_len) noexcept {
  if (v6) {
    Store16(ip + 4, static_cast<std::uint16_t>(ip_len - 40));
    return;
  }
  Store16(ip + 2, static_cast<std::uint16_t>(ip_len));
  Store16(ip + 10, 0);
  Store16(ip + 10, FoldChecksum(OnesSum({ip, l4})));
}

std::uint32_t PseudoHeaderSum(const std::uint8_t* ip, bool v6, std::uint8_t proto,
                              std::size_t l4_len) noexcept {
  const std::uint32_t sum = v6 ? OnesSum({ip + 8, 32}) : OnesSum({ip + 12, 8});
  return sum + proto + static_cast<std::uint32_t>(l4_len);
}

}  // namespace vdemesh::core
