// tap_reader.h: reads a TAP's frames several at a time.
//
// A TAP has no recvmmsg: every frame is one read(). Where a system call is expensive (in this
// project's bench VM an empty one costs about 1 us, as much as the rest of a small frame's
// path), a stream of small frames is bound by them. So after the first frame of a wake-up,
// which is read and sent at once for latency, reads go to the kernel in batches through one
// io_uring submission: each read has a buffer of its own, large enough for a 64 KiB TSO
// super-frame, and is flagged RWF_NOWAIT, so every read completes within the submission with a
// frame or EAGAIN. Without io_uring (an old kernel, a seccomp filter, the
// kernel.io_uring_disabled sysctl) the batch is a loop of read()s: slower, the same frames.
#pragma once

#include <liburing.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace vdemesh::datapath {

class TapReader {
 public:
  static constexpr std::size_t kMaxBatch = 16;  // reads per submission: 16 x 64 KiB buffers
  static constexpr std::size_t kReadBytes = 10 + 65536 + 14;  // virtio_net_hdr + IP + Ethernet

  // `batched`: use io_uring if it works here (false: read() only, as without it).
  explicit TapReader(int fd, bool batched = true);
  ~TapReader();
  TapReader(const TapReader&) = delete;
  TapReader& operator=(const TapReader&) = delete;

  // Reads up to `want` (1..kMaxBatch) frames, each with its virtio_net_hdr, in the order the
  // TAP queued them. The spans stay valid until the next call. Fewer than `want` means the
  // queue was found empty (or an error, which the caller's next wake-up meets again).
  std::span<const std::span<std::uint8_t>> Read(std::size_t want) noexcept;

  bool batched() const { return ring_ok_; }

  // Whether this kernel and process may use io_uring at all (for the start-up log line).
  static bool IoUringAvailable();

 private:
  std::size_t ReadOneByOne(std::size_t want) noexcept;
  std::size_t ReadBatched(std::size_t want) noexcept;

  const int fd_;
  io_uring ring_{};
  bool ring_init_ = false;
  bool ring_ok_ = false;
  std::unique_ptr<std::uint8_t[]> buffers_;  // kMaxBatch x kReadBytes
  std::array<std::span<std::uint8_t>, kMaxBatch> frames_{};
};

}  // namespace vdemesh::datapath
