// udp_tx_queue.h: sealed packets waiting for one sendmmsg(), one queue per address family.
//
// Each slot is a whole packet buffer: [data header 16][inner header 4][frame][tag 16], so a
// frame is sealed where it lies. Memory is allocated once; the shard owns it.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>

#include "transport/batch.h"
#include "transport/endpoint.h"
#include "transport/wire.h"

namespace vdemesh::transport {

struct UdpTxQueue {
  static constexpr std::size_t kSlotBytes =
      kDataHeaderBytes + kInnerHeaderBytes + kMaxFrameBytes + kTagBytes;

  struct Family {
    Family() : buffers(std::make_unique<std::uint8_t[]>(kSlotBytes * kBatchSize)) {}
    std::uint8_t* slot(std::size_t i) noexcept { return buffers.get() + i * kSlotBytes; }
    std::unique_ptr<std::uint8_t[]> buffers;
    std::array<iovec, kBatchSize> iov{};
    std::array<Endpoint, kBatchSize> dest;
    std::array<std::uint32_t, kBatchSize> peer{};
    std::array<bool, kBatchSize> is_frame{};
    std::size_t n = 0;

    // What one sendmmsg() sends: message m covers entries [first[m], first[m + 1]). With UDP
    // GSO a message is a run of datagrams for one destination, cut apart by the kernel.
    std::array<mmsghdr, kBatchSize> out{};
    std::array<std::size_t, kBatchSize + 1> first{};
    std::array<std::array<char, CMSG_SPACE(sizeof(std::uint16_t))>, kBatchSize> cmsg{};
  };
  Family v4, v6;

  Family& For(int family) noexcept { return family == AF_INET6 ? v6 : v4; }
};

}  // namespace vdemesh::transport
