// tx_queue.h: frames waiting to leave through one VDE endpoint, sent with one sendmmsg().
//
// Entries point into the shard's RxBatch buffers, so a queue must be flushed before that batch
// is refilled; NetworkDatapath flushes every dirty queue at the end of each batch. A tagged
// egress is three iovecs (MAC pair, tag, rest), so tagging never copies the frame.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <span>

#include "transport/batch.h"
#include "vswitchd/core/ethernet.h"

namespace vdemesh::datapath {

// Describes `frame` (untagged) as iovecs; with tag_vid != 0 an 802.1Q tag (written into
// `tag`) is inserted after the MAC pair. Returns the number of iovecs used (1 or 3).
inline std::size_t FrameIovecs(std::span<const std::uint8_t> frame, std::uint16_t tag_vid,
                               iovec iov[3], std::uint8_t tag[core::kVlanTagBytes]) noexcept {
  auto* bytes = const_cast<std::uint8_t*>(frame.data());  // iovec is not const-correct
  if (tag_vid == 0) {
    iov[0] = {bytes, frame.size()};
    return 1;
  }
  core::WriteVlanTag(tag_vid, tag);
  iov[0] = {bytes, core::kMacPairBytes};
  iov[1] = {tag, core::kVlanTagBytes};
  iov[2] = {bytes + core::kMacPairBytes, frame.size() - core::kMacPairBytes};
  return 3;
}

class TxQueue {
 public:
  bool full() const noexcept { return n_ == transport::kBatchSize; }
  bool empty() const noexcept { return n_ == 0; }
  std::size_t size() const noexcept { return n_; }

  // Queues `frame` (untagged); with tag_vid != 0 an 802.1Q tag is inserted on the way out.
  void Push(std::span<const std::uint8_t> frame, std::uint16_t tag_vid) noexcept {
    msgs_[n_] = {};
    msgs_[n_].msg_hdr.msg_iov = iov_[n_].data();
    msgs_[n_].msg_hdr.msg_iovlen = FrameIovecs(frame, tag_vid, iov_[n_].data(), tags_[n_].data());
    bytes_[n_] = static_cast<std::uint32_t>(frame.size() + (tag_vid != 0 ? 4 : 0));
    ++n_;
  }

  mmsghdr* msgs() noexcept { return msgs_.data(); }
  std::uint32_t bytes(std::size_t i) const noexcept { return bytes_[i]; }
  void Clear() noexcept { n_ = 0; }

 private:
  std::size_t n_ = 0;
  std::array<mmsghdr, transport::kBatchSize> msgs_;
  std::array<std::array<iovec, 3>, transport::kBatchSize> iov_;
  std::array<std::array<std::uint8_t, core::kVlanTagBytes>, transport::kBatchSize> tags_;
  std::array<std::uint32_t, transport::kBatchSize> bytes_;
};

}  // namespace vdemesh::datapath
