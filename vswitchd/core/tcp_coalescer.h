// tcp_coalescer.h: joins consecutive TCP segments of one flow into one super-frame for a TAP
// that takes a virtio_net_hdr (GSO), the receive half of tso.h: one write() of up to 64 KiB
// instead of one per segment, and one trip through the guest's stack.
//
// Rules (those of Linux's TCP GRO): same Ethernet and IP addresses, same ports, the next
// sequence number, the same TCP header but for sequence, checksum and PSH, only ACK/PSH flags,
// every segment but the last exactly gso_size bytes of payload, a PSH or a short segment ends
// the run. Anything else is written as it is.
//
// Per-packet: noexcept, no allocation (the buffer is made once). Owned by one TAP port.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "vswitchd/core/tso.h"

namespace vdemesh::core {

class TcpCoalescer {
 public:
  static constexpr std::size_t kMaxBytes = 65535 - 64;  // what one GSO frame may carry

  TcpCoalescer() : buf_(std::make_unique<std::uint8_t[]>(kMaxBytes)) {}

  // Takes `frame` (untagged, checksums complete) into the pending run if it continues it.
  // False: the caller must Flush() the pending run (if any) and then try again or write the
  // frame alone (Start() says whether it can begin a run).
  bool Append(std::span<const std::uint8_t> frame) noexcept;
  // Begins a new run with `frame` if it is a coalescable TCP segment; false otherwise.
  bool Start(std::span<const std::uint8_t> frame) noexcept;
  // The pending run as a virtio_net_hdr and a frame (valid until the next call), or empty.
  bool empty() const noexcept { return segments_ == 0; }
  std::span<const std::uint8_t> Finish(VnetHeader* header) noexcept;
  std::size_t segments() const noexcept { return segments_; }

 private:
  std::unique_ptr<std::uint8_t[]> buf_;
  std::size_t len_ = 0;
  std::size_t tcp_ = 0;       // offset of the TCP header
  std::size_t payload_ = 0;   // offset of the payload = header length
  std::size_t gso_size_ = 0;  // payload of the first segment
  std::size_t segments_ = 0;
  std::uint32_t next_seq_ = 0;
  bool v6_ = false;
  bool closed_ = false;  // a PSH or short segment ended the run
};

}  // namespace vdemesh::core
