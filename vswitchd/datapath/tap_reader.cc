#include "vswitchd/datapath/tap_reader.h"

#include <linux/fs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace vdemesh::datapath {

TapReader::TapReader(int fd, bool batched)
    : fd_(fd), buffers_(std::make_unique<std::uint8_t[]>(kMaxBatch * kReadBytes)) {
  ring_init_ = batched && io_uring_queue_init(kMaxBatch, &ring_, 0) == 0;
  ring_ok_ = ring_init_;
}

TapReader::~TapReader() {
  if (ring_init_) io_uring_queue_exit(&ring_);  // nothing is in flight: Read() reaps every read
}

bool TapReader::IoUringAvailable() {
  io_uring ring{};
  if (io_uring_queue_init(1, &ring, 0) != 0) return false;
  io_uring_queue_exit(&ring);
  return true;
}

std::span<const std::span<std::uint8_t>> TapReader::Read(std::size_t want) noexcept {
  want = std::clamp<std::size_t>(want, 1, kMaxBatch);
  // One frame is one read() either way, and a plain read() is the shorter path.
  const std::size_t n = ring_ok_ && want > 1 ? ReadBatched(want) : ReadOneByOne(want);
  return {frames_.data(), n};
}

std::size_t TapReader::ReadOneByOne(std::size_t want) noexcept {
  std::size_t n = 0;
  for (; n < want; ++n) {
    std::uint8_t* const buf = buffers_.get() + n * kReadBytes;
    const ssize_t len = read(fd_, buf, kReadBytes);
    if (len <= 0) break;
    frames_[n] = {buf, static_cast<std::size_t>(len)};
  }
  return n;
}

std::size_t TapReader::ReadBatched(std::size_t want) noexcept {
  for (std::size_t i = 0; i < want; ++i) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);  // never null: kMaxBatch entries, all reaped
    // Offset -1: the file's position, which a character device ignores.
    io_uring_prep_read(sqe, fd_, buffers_.get() + i * kReadBytes, kReadBytes,
                       static_cast<__u64>(-1));
    // io_uring ignores O_NONBLOCK on a file that can be polled: without RWF_NOWAIT a read of an
    // empty TAP would wait for the next frame instead of completing with EAGAIN.
    sqe->rw_flags = RWF_NOWAIT;
    sqe->user_data = i;
  }
  std::array<int, kMaxBatch> result;
  result.fill(-EAGAIN);
  // Each read completes within the submission (RWF_NOWAIT). Every read is reaped
  // before returning all the same, so that no buffer is written behind our back.
  std::size_t pending = want;
  io_uring_submit_and_wait(&ring_, static_cast<unsigned>(want));
  for (int tries = 0; pending > 0 && tries < 100;) {
    io_uring_cqe* cqe;
    if (io_uring_peek_cqe(&ring_, &cqe) == 0) {
      if (cqe->user_data < kMaxBatch) result[cqe->user_data] = cqe->res;
      io_uring_cqe_seen(&ring_, cqe);
      --pending;
      continue;
    }
    ++tries;
    const int err = io_uring_submit_and_wait(&ring_, 1);  // submits what is left, waits for one
    if (err < 0 && err != -EINTR) break;
  }
  // Anything but a frame or EAGAIN (a kernel whose TAP does not take RWF_NOWAIT: EOPNOTSUPP;
  // one without IORING_OP_READ: EINVAL), or a ring that misbehaves: read() from now on, which
  // meets a real error of the TAP the same way.
  const bool odd = std::any_of(result.begin(), result.begin() + want,
                               [](int r) { return r < 0 && r != -EAGAIN; });
  if (pending > 0 || odd) ring_ok_ = false;
  // The reads ran one after the other in submission order, so the frames are in queue order;
  // a read that found the queue empty may be followed by one that found a newer frame.
  std::size_t n = 0;
  for (std::size_t i = 0; i < want; ++i) {
    if (result[i] > 0)
      frames_[n++] = {buffers_.get() + i * kReadBytes, static_cast<std::size_t>(result[i])};
  }
  return n;
}

}  // namespace vdemesh::datapath
