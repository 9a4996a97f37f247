#include "vswitchd/core/gso_coalescer.h"

#include <cstring>

namespace vdemesh::core {

namespace {

constexpr std::size_t kEth = kEthHeaderBytes;
constexpr std::uint8_t kAck = 0x10, kPsh = 0x08;

bool Same(const std::uint8_t* a, const std::uint8_t* b, std::size_t from, std::size_t to) {
  return std::memcmp(a + from, b + from, to - from) == 0;
}

// An exact IP length (no Ethernet padding), and for IPv4 no fragmentation or options and a
// valid header checksum (the super-frame's is computed afresh, so a wrong one must not be
// laundered into it).
bool PlainIp(std::span<const std::uint8_t> f, std::size_t l4, bool v6) {
  if (v6) return Load16(&f[kEth + 4]) == f.size() - kEth - 40;
  const bool unfragmented = (Load16(&f[kEth + 6]) & 0x3fff) == 0;
  return l4 == kEth + 20 && unfragmented && Load16(&f[kEth + 2]) == f.size() - kEth &&
         FoldChecksum(OnesSum(f.subspan(kEth, 20))) == 0;
}

}  // namespace

GsoCoalescer::Layout GsoCoalescer::Coalescable(std::span<const std::uint8_t> f) const noexcept {
  TcpFrame t;
  if (ParseTcpFrame(f, &t)) {
    // A data segment with only ACK (and PSH).
    const std::uint8_t flags = f[t.tcp + 13];
    if (f.size() <= t.payload || (flags & ~(kAck | kPsh)) != 0 || (flags & kAck) == 0 ||
        !PlainIp(f, t.tcp, t.v6))
      return {};
    return {t.tcp, t.payload, t.v6, false};
  }
  UdpFrame u;
  if (!udp_enabled_ || !ParseUdpFrame(f, &u) || f.size() <= u.payload || !PlainIp(f, u.udp, u.v6))
    return {};
  const std::size_t udp_len = f.size() - u.udp;
  if (Load16(&f[u.udp + 4]) != udp_len || Load16(&f[u.udp + 6]) == 0) return {};
  // The super-frame's checksum is computed afresh, so a datagram with a wrong one must not be
  // laundered into it.
  const std::uint32_t pseudo = PseudoHeaderSum(&f[u.ip], u.v6, kIpProtoUdp, udp_len);
  if (FoldChecksum(OnesSum(f.subspan(u.udp), pseudo)) != 0) return {};
  return {u.udp, u.payload, u.v6, true};
}

bool GsoCoalescer::SameHeaders(const std::uint8_t* b) const noexcept {
  const std::uint8_t* a = buf_.get();
  const std::size_t l4 = run_.l4;
  // IP: all but lengths, checksum and the IPv4 id.
  const bool same_ip = run_.v6 ? Same(a, b, 0, kEth + 4) && Same(a, b, kEth + 6, l4)
                               : Same(a, b, 0, kEth + 2) && Same(a, b, kEth + 6, kEth + 10) &&
                                     Same(a, b, kEth + 12, l4);
  if (!same_ip) return false;
  if (run_.udp) return Same(a, b, l4, l4 + 4);  // ports
  // TCP: ports, ack, offset, window, urgent pointer and options; flags but for PSH.
  return Same(a, b, l4, l4 + 4) && Same(a, b, l4 + 8, l4 + 13) && Same(a, b, l4 + 14, l4 + 16) &&
         Same(a, b, l4 + 18, run_.payload) && ((a[l4 + 13] ^ b[l4 + 13]) & ~kPsh) == 0;
}

bool GsoCoalescer::Start(std::span<const std::uint8_t> frame) noexcept {
  const Layout l = Coalescable(frame);
  if (l.l4 == 0 || frame.size() > kMaxBytes) return false;
  std::memcpy(buf_.get(), frame.data(), frame.size());
  len_ = frame.size();
  run_ = l;
  gso_size_ = frame.size() - l.payload;
  segments_ = 1;
  if (l.udp) {
    next_ = l.v6 ? 0 : Load16(&frame[kEth + 4]) + 1u;
    closed_ = false;
  } else {
    next_ = Load32(&frame[l.l4 + 4]) + static_cast<std::uint32_t>(gso_size_);
    closed_ = (frame[l.l4 + 13] & kPsh) != 0;
  }
  return true;
}

bool GsoCoalescer::Append(std::span<const std::uint8_t> frame) noexcept {
  if (segments_ == 0 || closed_) return false;
  const Layout l = Coalescable(frame);
  if (l.l4 == 0 || l.udp != run_.udp || l.v6 != run_.v6 || l.payload != run_.payload) return false;
  const std::size_t len = frame.size() - l.payload;
  const std::uint8_t* b = frame.data();
  if (len > gso_size_ || len_ + len > kMaxBytes || !SameHeaders(b)) return false;
  if (run_.udp) {
    // The kernel gives segment k the id of the first plus k.
    if (segments_ == kMaxUdpSegments) return false;
    if (!run_.v6 && Load16(&b[kEth + 4]) != static_cast<std::uint16_t>(next_)) return false;
    next_ = (next_ + 1) & 0xffff;
    closed_ = len < gso_size_;
  } else {
    if (Load32(&b[l.l4 + 4]) != next_) return false;
    next_ += static_cast<std::uint32_t>(len);
    if ((b[l.l4 + 13] & kPsh) != 0) buf_[l.l4 + 13] |= kPsh;
    closed_ = len < gso_size_ || (b[l.l4 + 13] & kPsh) != 0;
  }
  std::memcpy(buf_.get() + len_, b + l.payload, len);
  len_ += len;
  ++segments_;
  return true;
}

std::span<const std::uint8_t> GsoCoalescer::Finish(VnetHeader* h) noexcept {
  if (segments_ == 0) return {};
  *h = VnetHeader{};
  std::uint8_t* f = buf_.get();
  if (segments_ > 1) {
    // One super-frame: lengths for the whole, and a transport checksum the kernel completes
    // (NEEDS_CSUM): the field holds the pseudo-header sum, as on a GSO transmit.
    const std::size_t l4 = run_.l4;
    const std::size_t l4_len = len_ - l4;
    SetIpLength(f + kEth, run_.v6, l4 - kEth, len_ - kEth);
    const std::uint8_t proto = run_.udp ? kIpProtoUdp : kIpProtoTcp;
    const std::size_t csum_offset = run_.udp ? 6 : 16;
    if (run_.udp) Store16(f + l4 + 4, static_cast<std::uint16_t>(l4_len));
    const std::uint32_t pseudo = PseudoHeaderSum(f + kEth, run_.v6, proto, l4_len);
    Store16(f + l4 + csum_offset, static_cast<std::uint16_t>(~FoldChecksum(pseudo)));
    h->flags = VnetHeader::kNeedsCsum;
    h->gso_type = run_.udp ? VnetHeader::kGsoUdpL4
                           : (run_.v6 ? VnetHeader::kGsoTcpV6 : VnetHeader::kGsoTcpV4);
    h->hdr_len = static_cast<std::uint16_t>(run_.payload);
    h->gso_size = static_cast<std::uint16_t>(gso_size_);
    h->csum_start = static_cast<std::uint16_t>(l4);
    h->csum_offset = static_cast<std::uint16_t>(csum_offset);
  }
  segments_ = 0;
  return {f, len_};
}

}  // namespace vdemesh::core
