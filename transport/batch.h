// batch.h: a fixed set of frame buffers filled by one recvmmsg() (or a run of read()s).
//
// Layout of each buffer: [headroom 64][frame up to 9234][tailroom 16]. The headroom lets later
// stages push tunnel headers and the tailroom an AEAD tag without copying the frame.
// Memory: allocated once per shard at start; nothing here allocates per packet.
// Thread affinity: owned by one shard thread.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace vdemesh::transport {

inline constexpr std::size_t kHeadroom = 64;
inline constexpr std::size_t kMaxFrameBytes = 9234;  // VDE_ETHBUFSIZE
inline constexpr std::size_t kTailroom = 16;
inline constexpr std::size_t kBatchSize = 64;

class RxBatch {
 public:
  static constexpr std::size_t kBufferBytes = kHeadroom + kMaxFrameBytes + kTailroom;

  RxBatch() : buffers_(std::make_unique<Buffer[]>(kBatchSize)) {
    for (std::size_t i = 0; i < kBatchSize; ++i) {
      iov_[i] = {buffers_[i].bytes + kHeadroom, kMaxFrameBytes};
      msgs_[i] = {};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
    }
  }

  RxBatch(const RxBatch&) = delete;
  RxBatch& operator=(const RxBatch&) = delete;

  // For recvmmsg(fd, msgs(), kBatchSize, ...): msg_len and msg_flags are filled by the kernel.
  mmsghdr* msgs() noexcept { return msgs_.data(); }
  // Where a read() of frame i goes.
  std::uint8_t* slot(std::size_t i) noexcept { return buffers_[i].bytes + kHeadroom; }
  void set_length(std::size_t i, std::size_t n) noexcept {
    msgs_[i].msg_len = static_cast<unsigned>(n);
    msgs_[i].msg_hdr.msg_flags = 0;
  }
  std::span<std::uint8_t> frame(std::size_t i) noexcept { return {slot(i), msgs_[i].msg_len}; }
  // The datagram was larger than kMaxFrameBytes and was cut.
  bool truncated(std::size_t i) const noexcept {
    return (msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
  }

 private:
  struct alignas(64) Buffer {
    std::uint8_t bytes[kBufferBytes];
  };
  std::unique_ptr<Buffer[]> buffers_;
  std::array<iovec, kBatchSize> iov_;
  std::array<mmsghdr, kBatchSize> msgs_;
};

}  // namespace vdemesh::transport
