#include "transport/udp_sockets.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <unistd.h>

#include <cerrno>

namespace vdemesh::transport {

namespace {

boost::system::error_code Errno() { return {errno, boost::system::system_category()}; }

void SetBuffers(int fd) {
  // Room for bursts of a fast guest; FORCE works as root, the plain option otherwise.
  const int size = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

int OpenOne(const Endpoint& local, boost::system::error_code* ec) {
  const int fd = socket(local.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *ec = Errno();
    return -1;
  }
  const int on = 1;
  if (local.family() == AF_INET6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    const int pmtu = IPV6_PMTUDISC_DONT;
    setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof pmtu);
  } else {
    const int pmtu = IP_PMTUDISC_DONT;
    setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu);
  }
  SetBuffers(fd);
  // Coalesced receive (UDP GRO): many datagrams of one flow per recvmmsg entry. Older kernels
  // refuse the option and deliver datagram by datagram, which the receive path handles too.
  setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on);
  if (bind(fd, local.sockaddr_ptr(), local.length()) != 0) {
    *ec = Errno();
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

boost::system::result<UdpSockets> UdpSockets::Open(const HostPort& listen) {
  std::vector<Endpoint> locals;
  if (listen.host.empty()) {
    std::string err;
    for (const char* any : {"0.0.0.0", "::"}) {
      auto r = Resolve({any, listen.port}, &err);
      if (!r.empty()) locals.push_back(r.front());
    }
  } else {
    std::string err;
    auto r = Resolve(listen, &err);
    if (r.empty())
      return boost::system::error_code(EADDRNOTAVAIL, boost::system::system_category());
    locals.push_back(r.front());
  }
  UdpSockets s;
  for (const auto& local : locals) {
    boost::system::error_code ec;
    const int fd = OpenOne(local, &ec);
    // A host without IPv6 still serves IPv4 when listening on the wildcard.
    if (fd < 0 && listen.host.empty() && local.family() == AF_INET6 && ec.value() == EAFNOSUPPORT)
      continue;
    if (fd < 0) return ec;
    s.fds_.push_back(fd);
    (local.family() == AF_INET6 ? s.fd6_ : s.fd4_) = fd;
  }
  return s;
}

UdpSockets& UdpSockets::operator=(UdpSockets&& other) noexcept {
  if (this != &other) {
    for (int fd : fds_) close(fd);
    fds_ = std::move(other.fds_);
    fd4_ = other.fd4_;
    fd6_ = other.fd6_;
    other.fds_.clear();
  }
  return *this;
}

UdpSockets::~UdpSockets() {
  for (int fd : fds_) close(fd);
}

std::vector<Endpoint> UdpSockets::LocalEndpoints() const {
  std::vector<Endpoint> out;
  for (int fd : fds_) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
      out.push_back(Endpoint::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len));
  }
  return out;
}

bool UdpSockets::SendTo(const Endpoint& to, std::span<const std::uint8_t> data) const noexcept {
  const int fd = FdFor(to.family());
  if (fd < 0) return false;
  return sendto(fd, data.data(), data.size(), MSG_DONTWAIT, to.sockaddr_ptr(), to.length()) ==
         static_cast<ssize_t>(data.size());
}

}  // namespace vdemesh::transport
