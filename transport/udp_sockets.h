// udp_sockets.h: the overlay's UDP sockets, one per address family (default port 6655).
//
// The data path (one shard) reads them with recvmmsg and writes with sendmmsg; the control
// thread sends handshake messages on the same sockets with sendto (one syscall, thread-safe).
// Sockets let the kernel fragment datagrams larger than the path MTU (PMTUDISC_DONT), so a guest
// frame of 1514 bytes crosses an underlay of MTU 1500 with no guest configuration.
#pragma once

#include <sys/socket.h>

#include <boost/system/result.hpp>
#include <span>
#include <vector>

#include "transport/endpoint.h"

namespace vdemesh::transport {

class UdpSockets {
 public:
  // listen.host empty: both families on the wildcard address; otherwise that address only.
  static boost::system::result<UdpSockets> Open(const HostPort& listen);
  UdpSockets() = default;
  UdpSockets(UdpSockets&& other) noexcept
      : fds_(std::move(other.fds_)), fd4_(other.fd4_), fd6_(other.fd6_) {
    other.fds_.clear();
  }
  UdpSockets& operator=(UdpSockets&& other) noexcept;
  ~UdpSockets();

  // The socket for an endpoint's family, or -1.
  int FdFor(int family) const noexcept { return family == AF_INET6 ? fd6_ : fd4_; }
  const std::vector<int>& fds() const noexcept { return fds_; }
  std::vector<Endpoint> LocalEndpoints() const;
  // One datagram, non-blocking; false if it could not be sent (counted by the caller).
  bool SendTo(const Endpoint& to, std::span<const std::uint8_t> data) const noexcept;

 private:
  std::vector<int> fds_;
  int fd4_ = -1;
  int fd6_ = -1;
};

}  // namespace vdemesh::transport
