#include "vswitchd/core/tcp_coalescer.h"

#include <cstring>

namespace vdemesh::core {

namespace {

constexpr std::size_t kEth = kEthHeaderBytes;
constexpr std::uint8_t kAck = 0x10, kPsh = 0x08;

bool Same(const std::uint8_t* a, const std::uint8_t* b, std::size_t from, std::size_t to) {
  return std::memcmp(a + from, b + from, to - from) == 0;
}

// A frame that may take part in a run: a data segment with only ACK (and PSH), an exact IP
// length (no Ethernet padding), and no IPv4 fragmentation or options.
bool Coalescable(std::span<const std::uint8_t> f, TcpFrame* l) {
  if (!ParseTcpFrame(f, l) || f.size() <= l->payload) return false;
  const std::uint8_t flags = f[l->tcp + 13];
  if ((flags & ~(kAck | kPsh)) != 0 || (flags & kAck) == 0) return false;
  if (l->v6) return Load16(&f[kEth + 4]) == f.size() - kEth - 40;
  const bool unfragmented = (Load16(&f[kEth + 6]) & 0x3fff) == 0;
  return l->tcp == kEth + 20 && unfragmented && Load16(&f[kEth + 2]) == f.size() - kEth;
}

}  // namespace

bool TcpCoalescer::Start(std::span<const std::uint8_t> frame) noexcept {
  TcpFrame l;
  if (!Coalescable(frame, &l) || frame.size() > kMaxBytes) return false;
  std::memcpy(buf_.get(), frame.data(), frame.size());
  len_ = frame.size();
  tcp_ = l.tcp;
  payload_ = l.payload;
  v6_ = l.v6;
  gso_size_ = frame.size() - l.payload;
  segments_ = 1;
  next_seq_ = Load32(&frame[l.tcp + 4]) + static_cast<std::uint32_t>(gso_size_);
  closed_ = (frame[l.tcp + 13] & kPsh) != 0;
  return true;
}

bool TcpCoalescer::Append(std::span<const std::uint8_t> frame) noexcept {
  TcpFrame l;
  if (segments_ == 0 || closed_ || !Coalescable(frame, &l)) return false;
  const std::size_t len = frame.size() - l.payload;
  if (l.v6 != v6_ || l.payload != payload_ || len > gso_size_ || len_ + len > kMaxBytes)
    return false;
  const std::uint8_t* a = buf_.get();
  const std::uint8_t* b = frame.data();
  const bool same_ip = v6_ ? Same(a, b, 0, kEth + 4) && Same(a, b, kEth + 6, tcp_)
                           : Same(a, b, 0, kEth + 2) && Same(a, b, kEth + 6, kEth + 10) &&
                                 Same(a, b, kEth + 12, tcp_);
  // Ports, ack, offset, window, urgent pointer and options must match; flags but for PSH.
  const bool same_tcp = Same(a, b, tcp_, tcp_ + 4) && Same(a, b, tcp_ + 8, tcp_ + 13) &&
                        Same(a, b, tcp_ + 14, tcp_ + 16) && Same(a, b, tcp_ + 18, payload_) &&
                        ((a[tcp_ + 13] ^ b[tcp_ + 13]) & ~kPsh) == 0;
  if (!same_ip || !same_tcp || Load32(&b[tcp_ + 4]) != next_seq_) return false;
  std::memcpy(buf_.get() + len_, b + payload_, len);
  len_ += len;
  ++segments_;
  next_seq_ += static_cast<std::uint32_t>(len);
  if ((b[tcp_ + 13] & kPsh) != 0) buf_[tcp_ + 13] |= kPsh;
  closed_ = len < gso_size_ || (b[tcp_ + 13] & kPsh) != 0;
  return true;
}

std::span<const std::uint8_t> TcpCoalescer::Finish(VnetHeader* h) noexcept {
  if (segments_ == 0) return {};
  *h = VnetHeader{};
  std::uint8_t* f = buf_.get();
  if (segments_ > 1) {
    // One super-frame: lengths for the whole, and a TCP checksum the kernel completes
    // (NEEDS_CSUM): the field holds the pseudo-header sum, as on a TSO transmit.
    std::uint32_t pseudo = 0;
    if (v6_) {
      Store16(f + kEth + 4, static_cast<std::uint16_t>(len_ - kEth - 40));
      pseudo = OnesSum({f + kEth + 8, 32});
    } else {
      Store16(f + kEth + 2, static_cast<std::uint16_t>(len_ - kEth));
      Store16(f + kEth + 10, 0);
      Store16(f + kEth + 10, FoldChecksum(OnesSum({f + kEth, tcp_ - kEth})));
      pseudo = OnesSum({f + kEth + 12, 8});
    }
    pseudo += 6 + static_cast<std::uint32_t>(len_ - tcp_);
    Store16(f + tcp_ + 16, static_cast<std::uint16_t>(~FoldChecksum(pseudo)));
    h->flags = VnetHeader::kNeedsCsum;
    h->gso_type = v6_ ? VnetHeader::kGsoTcpV6 : VnetHeader::kGsoTcpV4;
    h->hdr_len = static_cast<std::uint16_t>(payload_);
    h->gso_size = static_cast<std::uint16_t>(gso_size_);
    h->csum_start = static_cast<std::uint16_t>(tcp_);
    h->csum_offset = 16;
  }
  segments_ = 0;
  return {f, len_};
}

}  // namespace vdemesh::core
