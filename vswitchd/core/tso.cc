#include "vswitchd/core/tso.h"

#include <algorithm>
#include <cstring>

namespace vdemesh::core {

namespace {

constexpr std::uint8_t kTcp = kIpProtoTcp;
constexpr std::uint8_t kFin = 0x01, kPsh = 0x08, kCwr = 0x80;

// The transport checksum of a segment of `seg_len` bytes whose transport header is at `l4`.
std::uint16_t L4Checksum(const std::uint8_t* seg, std::size_t ip, std::size_t l4, bool v6,
                         std::uint8_t proto, std::size_t seg_len) {
  const std::size_t l4_len = seg_len - l4;
  return FoldChecksum(OnesSum({seg + l4, l4_len}, PseudoHeaderSum(seg + ip, v6, proto, l4_len)));
}

// Sets the IP header of segment k of `seg_len` bytes: for IPv4 the id of the first plus k (as
// the kernel's segmentation does), then the lengths and checksum.
void SetIpHeader(std::uint8_t* s, std::size_t ip, std::size_t l4, bool v6, std::uint16_t id,
                 std::size_t k, std::size_t seg_len) {
  if (!v6) Store16(s + ip + 4, static_cast<std::uint16_t>(id + k));
  SetIpLength(s + ip, v6, l4 - ip, seg_len - ip);
}

// Writes segment k to `s`: the headers (the first `headers` bytes of `frame`) and `len` bytes of
// payload from `off`; returns the segment's length.
std::size_t CopySegment(std::uint8_t* s, std::span<const std::uint8_t> frame, std::size_t headers,
                        std::size_t off, std::size_t len) {
  std::memcpy(s, frame.data(), headers);
  std::memcpy(s + headers, frame.data() + headers + off, len);
  return headers + len;
}

// How many segments of at most `mss` bytes `payload` bytes make (one for none), or 0 if more
// than `room`.
std::size_t SegmentCount(std::size_t payload, std::size_t mss, std::size_t room) {
  const std::size_t count = payload == 0 ? 1 : (payload + mss - 1) / mss;
  return count > room ? 0 : count;
}

}  // namespace

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
  const std::size_t count = SegmentCount(payload, mss, std::min(out.size(), lens.size()));
  if (count == 0) return 0;

  const std::uint32_t seq = Load32(&frame[l.tcp + 4]);
  const std::uint16_t id = l.v6 ? 0 : Load16(&frame[l.ip + 4]);
  const std::uint8_t flags = frame[l.tcp + 13];
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t off = k * mss;
    const std::size_t len = std::min(mss, payload - off);
    std::uint8_t* s = out[k];
    const std::size_t seg_len = CopySegment(s, frame, l.payload, off, len);
    SetIpHeader(s, l.ip, l.tcp, l.v6, id, k, seg_len);
    Store32(s + l.tcp + 4, seq + static_cast<std::uint32_t>(off));
    std::uint8_t f = flags;
    if (k + 1 < count) f &= static_cast<std::uint8_t>(~(kFin | kPsh));
    if (k > 0) f &= static_cast<std::uint8_t>(~kCwr);
    s[l.tcp + 13] = f;
    Store16(s + l.tcp + 16, 0);
    Store16(s + l.tcp + 16, L4Checksum(s, l.ip, l.tcp, l.v6, kTcp, seg_len));
    lens[k] = seg_len;
  }
  return count;
}

std::size_t SegmentUdp(std::span<const std::uint8_t> frame, std::size_t gso_size,
                       std::size_t max_frame, std::span<std::uint8_t* const> out,
                       std::span<std::size_t> lens) noexcept {
  UdpFrame l;
  // Unlike TCP, a datagram cannot be cut smaller than the sender chose: gso_size must fit.
  if (!ParseUdpFrame(frame, &l) || gso_size == 0 || l.payload + gso_size > max_frame) return 0;
  const std::size_t payload = frame.size() - l.payload;
  const std::size_t count = SegmentCount(payload, gso_size, std::min(out.size(), lens.size()));
  if (count == 0) return 0;
  const std::uint16_t id = l.v6 ? 0 : Load16(&frame[l.ip + 4]);
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t off = k * gso_size;
    const std::size_t len = std::min(gso_size, payload - off);
    std::uint8_t* s = out[k];
    const std::size_t seg_len = CopySegment(s, frame, l.payload, off, len);
    SetIpHeader(s, l.ip, l.udp, l.v6, id, k, seg_len);
    Store16(s + l.udp + 4, static_cast<std::uint16_t>(seg_len - l.udp));
    Store16(s + l.udp + 6, 0);
    const std::uint16_t c = L4Checksum(s, l.ip, l.udp, l.v6, kIpProtoUdp, seg_len);
    Store16(s + l.udp + 6, c == 0 ? 0xffff : c);  // 0 means "no checksum" in UDP
    lens[k] = seg_len;
  }
  return count;
}

}  // namespace vdemesh::core
