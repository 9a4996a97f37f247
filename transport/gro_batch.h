// gro_batch.h: receive buffers for the overlay's UDP sockets with UDP GRO.
//
// With UDP_GRO on, one recvmmsg() entry can hold many datagrams of one flow, all of the same
// size but the last (the segment size comes in a UDP_GRO control message), up to 64 KiB; so
// each entry gets a 64 KiB buffer, or the kernel would cut coalesced datagrams off.
// Memory: allocated once; the shard owns it. Nothing here allocates per packet.
#pragma once

#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace vdemesh::transport {

class GroBatch {
 public:
  static constexpr std::size_t kEntries = 16;
  static constexpr std::size_t kBufferBytes = 65536;

  GroBatch() : buffers_(std::make_unique<std::uint8_t[]>(kEntries * kBufferBytes)) {
    for (std::size_t i = 0; i < kEntries; ++i) {
      iov_[i] = {buffers_.get() + i * kBufferBytes, kBufferBytes};
      msgs_[i] = {};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
    }
  }
  GroBatch(const GroBatch&) = delete;
  GroBatch& operator=(const GroBatch&) = delete;

  // Before each recvmmsg: the kernel shrinks the name and control lengths it fills in.
  mmsghdr* Prepare() noexcept {
    for (std::size_t i = 0; i < kEntries; ++i) {
      msgs_[i].msg_hdr.msg_name = &names_[i];
      msgs_[i].msg_hdr.msg_namelen = sizeof names_[i];
      msgs_[i].msg_hdr.msg_control = control_[i].data();
      msgs_[i].msg_hdr.msg_controllen = control_[i].size();
      msgs_[i].msg_hdr.msg_flags = 0;
    }
    return msgs_.data();
  }
  std::span<std::uint8_t> data(std::size_t i) noexcept {
    return {buffers_.get() + i * kBufferBytes, msgs_[i].msg_len};
  }
  const sockaddr* source(std::size_t i) const noexcept {
    return reinterpret_cast<const sockaddr*>(&names_[i]);
  }
  socklen_t source_length(std::size_t i) const noexcept { return msgs_[i].msg_hdr.msg_namelen; }
  bool truncated(std::size_t i) const noexcept {
    return (msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
  }
  // The size of each coalesced datagram in entry i, or 0 if it holds a single datagram.
  std::size_t segment_size(std::size_t i) noexcept {
    for (cmsghdr* c = CMSG_FIRSTHDR(&msgs_[i].msg_hdr); c != nullptr;
         c = CMSG_NXTHDR(&msgs_[i].msg_hdr, c)) {
      if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
        int size = 0;
        std::memcpy(&size, CMSG_DATA(c), sizeof size);
        return size > 0 ? static_cast<std::size_t>(size) : 0;
      }
    }
    return 0;
  }

 private:
  std::unique_ptr<std::uint8_t[]> buffers_;
  std::array<iovec, kEntries> iov_;
  std::array<mmsghdr, kEntries> msgs_;
  std::array<sockaddr_storage, kEntries> names_;
  std::array<std::array<char, CMSG_SPACE(sizeof(int))>, kEntries> control_;
};

}  // namespace vdemesh::transport
