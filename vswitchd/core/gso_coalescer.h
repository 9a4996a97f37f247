// gso_coalescer.h: joins consecutive segments of one TCP or UDP flow into one super-frame for a
// TAP that takes a virtio_net_hdr (GSO), the receive half of tso.h: one write() of up to 64 KiB
// instead of one per segment, and one trip through the guest's IP stack (the kernel cuts the
// super-frame again, TCP by TSO rules, UDP into the original datagrams).
//
// TCP rules (those of Linux's TCP GRO): same Ethernet and IP addresses, same ports, the next
// sequence number, the same TCP header but for sequence, checksum and PSH, only ACK/PSH flags,
// every segment but the last exactly gso_size bytes of payload, a PSH or a short segment ends
// the run. TCP checksums are not verified (it would cost a pass over every payload byte); the
// frames come checksummed by a guest's kernel or authenticated from the tunnel.
// UDP rules (those of Linux's UDP GRO, plus what makes the kernel's re-segmentation give back
// the very datagrams): same Ethernet and IP headers but for length, checksum and an IPv4 id one
// more than the last, same ports, a valid non-zero checksum (the super-frame's is recomputed),
// every datagram but the last exactly gso_size bytes of payload, at most kMaxUdpSegments.
// Both: an IPv4 header checksum that verifies.
// Anything else is written as it is.
//
// Per-packet: noexcept, no allocation (the buffer is made once). Owned by one TAP port.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "vswitchd/core/tso.h"

namespace vdemesh::core {

class GsoCoalescer {
 public:
  static constexpr std::size_t kMaxBytes = 65535 - 64;  // what one GSO frame may carry
  static constexpr std::size_t kMaxUdpSegments = 64;    // UDP_MAX_SEGMENTS of older kernels

  // `udp`: the TAP takes UDP GSO frames (VIRTIO_NET_HDR_GSO_UDP_L4, Linux 6.2+).
  explicit GsoCoalescer(bool udp)
      : udp_enabled_(udp), buf_(std::make_unique<std::uint8_t[]>(kMaxBytes)) {}

  // Takes `frame` (untagged, checksums complete) into the pending run if it continues it.
  // False: the caller must Flush() the pending run (if any) and then try again or write the
  // frame alone (Start() says whether it can begin a run).
  bool Append(std::span<const std::uint8_t> frame) noexcept;
  // Begins a new run with `frame` if it is a coalescable segment; false otherwise.
  bool Start(std::span<const std::uint8_t> frame) noexcept;
  // The pending run as a virtio_net_hdr and a frame (valid until the next call), or empty.
  bool empty() const noexcept { return segments_ == 0; }
  std::span<const std::uint8_t> Finish(VnetHeader* header) noexcept;
  std::size_t segments() const noexcept { return segments_; }

 private:
  // Where a candidate segment's headers are; l4 = 0 if it cannot take part in a run.
  struct Layout {
    std::size_t l4 = 0;
    std::size_t payload = 0;
    bool v6 = false;
    bool udp = false;
  };
  Layout Coalescable(std::span<const std::uint8_t> frame) const noexcept;
  bool SameHeaders(const std::uint8_t* b) const noexcept;

  const bool udp_enabled_;
  std::unique_ptr<std::uint8_t[]> buf_;
  std::size_t len_ = 0;
  Layout run_;                // the headers of the pending run
  std::size_t gso_size_ = 0;  // payload of the first segment
  std::size_t segments_ = 0;
  std::uint32_t next_ = 0;  // TCP: the next sequence number; UDP over IPv4: the next IP id
  bool closed_ = false;     // a PSH or short segment ended the run
};

}  // namespace vdemesh::core
