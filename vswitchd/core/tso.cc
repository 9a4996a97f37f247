#include "vswitchd/core/tso.h"

#include <endian.h>

#include <algorithm>
#include <cstring>

namespace vdemesh::core {

namespace {

constexpr std::size_t kEth = 14;
constexpr std::uint8_t kTcp = 6;
constexpr std::uint8_t kFin = 0x01, kPsh = 0x08, kCwr = 0x80;

std::uint16_t Load16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t Load32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
void Store16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void Store32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

std::uint16_t TcpChecksum(const std::uint8_t* seg, const TcpFrame& l, std::size_t seg_len) {
  const std::size_t tcp_len = seg_len - l.tcp;
  std::uint32_t sum = l.v6 ? OnesSum({seg + l.ip + 8, 32}) : OnesSum({seg + l.ip + 12, 8});
  sum += kTcp + static_cast<std::uint32_t>(tcp_len);
  return FoldChecksum(OnesSum({seg + l.tcp, tcp_len}, sum));
}

}  // namespace

bool ParseTcpFrame(std::span<const std::uint8_t> f, TcpFrame* l) noexcept {
  if (f.size() < kEth + 40) return false;
  const std::uint16_t type = Load16(&f[12]);
  if (type == 0x0800) {
    const std::size_t ihl = (f[kEth] & 0x0f) * 4u;
    if ((f[kEth] >> 4) != 4 || ihl < 20 || f[kEth + 9] != kTcp) return false;
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

void VnetHeader::Write(std::uint8_t* p) const noexcept {
  p[0] = flags;
  p[1] = gso_type;
  std::memcpy(p + 2, &hdr_len, 2);
  std::memcpy(p + 4, &gso_size, 2);
  std::memcpy(p + 6, &csum_start, 2);
  std::memcpy(p + 8, &csum_offset, 2);
}

VnetHeader VnetHeader::Read(const std::uint8_t* p) noexcept {
  VnetHeader h;
  h.flags = p[0];
  h.gso_type = p[1];
  std::memcpy(&h.hdr_len, p + 2, 2);  // native byte order, as the TAP writes it
  std::memcpy(&h.gso_size, p + 4, 2);
  std::memcpy(&h.csum_start, p + 6, 2);
  std::memcpy(&h.csum_offset, p + 8, 2);
  return h;
}

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

bool CompleteChecksum(std::span<std::uint8_t> frame, std::size_t csum_start,
                      std::size_t csum_offset) noexcept {
  if (csum_start >= frame.size() || csum_offset + 2 > frame.size() - csum_start) return false;
  // The field holds the pseudo-header sum; summing over it folds that in.
  std::uint16_t c = FoldChecksum(OnesSum(frame.subspan(csum_start)));
  Store16(&frame[csum_start + csum_offset], c);
  return true;
}

std::size_t SegmentTcp(std::span<const std::uint8_t> frame, std::size_t gso_size,
                       std::size_t max_frame, std::span<std::uint8_t* const> out,
                       std::span<std::size_t> lens) noexcept {
  TcpFrame l;
  if (!ParseTcpFrame(frame, &l) || max_frame <= l.payload || gso_size == 0) return 0;
  const std::size_t mss = std::min(gso_size, max_frame - l.payload);
  const std::size_t payload = frame.size() - l.payload;
  const std::size_t count = payload == 0 ? 1 : (payload + mss - 1) / mss;
  if (count > out.size() || count > lens.size()) return 0;

  const std::uint32_t seq = Load32(&frame[l.tcp + 4]);
  const std::uint16_t id = l.v6 ? 0 : Load16(&frame[l.ip + 4]);
  const std::uint8_t flags = frame[l.tcp + 13];
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t off = k * mss;
    const std::size_t len = std::min(mss, payload - off);
    std::uint8_t* s = out[k];
    std::memcpy(s, frame.data(), l.payload);
    std::memcpy(s + l.payload, frame.data() + l.payload + off, len);
    const std::size_t seg_len = l.payload + len;
    if (l.v6) {
      Store16(s + l.ip + 4, static_cast<std::uint16_t>(seg_len - l.ip - 40));
    } else {
      Store16(s + l.ip + 2, static_cast<std::uint16_t>(seg_len - l.ip));
      Store16(s + l.ip + 4, static_cast<std::uint16_t>(id + k));
      Store16(s + l.ip + 10, 0);
      Store16(s + l.ip + 10, FoldChecksum(OnesSum({s + l.ip, l.tcp - l.ip})));
    }
    Store32(s + l.tcp + 4, seq + static_cast<std::uint32_t>(off));
    std::uint8_t f = flags;
    if (k + 1 < count) f &= static_cast<std::uint8_t>(~(kFin | kPsh));
    if (k > 0) f &= static_cast<std::uint8_t>(~kCwr);
    s[l.tcp + 13] = f;
    Store16(s + l.tcp + 16, 0);
    Store16(s + l.tcp + 16, TcpChecksum(s, l, seg_len));
    lens[k] = seg_len;
  }
  return count;
}

}  // namespace vdemesh::core
