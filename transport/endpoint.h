// endpoint.h: a UDP peer address (IPv4 or IPv6) as a small value type, and the parser for the
// `--peer HOST[:PORT]` / `--listen [ADDR]:PORT` syntax.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace vdemesh::transport {

class Endpoint {
 public:
  Endpoint() { std::memset(&addr_, 0, sizeof addr_); }
  static Endpoint FromSockaddr(const sockaddr* sa, socklen_t len) noexcept {
    Endpoint e;
    if (len > sizeof e.addr_) len = sizeof e.addr_;
    std::memcpy(&e.addr_, sa, len);
    return e;
  }

  bool valid() const noexcept { return family() == AF_INET || family() == AF_INET6; }
  int family() const noexcept { return addr_.ss.ss_family; }
  const sockaddr* sockaddr_ptr() const noexcept { return &addr_.sa; }
  sockaddr* sockaddr_ptr() noexcept { return &addr_.sa; }
  socklen_t length() const noexcept {
    return family() == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  }
  static constexpr socklen_t capacity() { return sizeof(sockaddr_in6); }
  std::uint16_t port() const noexcept {
    return ntohs(family() == AF_INET6 ? addr_.in6.sin6_port : addr_.in4.sin_port);
  }
  std::string ToString() const;  // "192.0.2.1:6655", "[2001:db8::1]:6655"

  friend bool operator==(const Endpoint& a, const Endpoint& b) noexcept {
    if (a.family() != b.family()) return false;
    if (a.family() == AF_INET)
      return a.addr_.in4.sin_port == b.addr_.in4.sin_port &&
             a.addr_.in4.sin_addr.s_addr == b.addr_.in4.sin_addr.s_addr;
    if (a.family() == AF_INET6)
      return a.addr_.in6.sin6_port == b.addr_.in6.sin6_port &&
             std::memcmp(&a.addr_.in6.sin6_addr, &b.addr_.in6.sin6_addr, 16) == 0;
    return !a.valid() && !b.valid();
  }
  // A hash of the address without the port: the key of per-source rate limits.
  std::uint64_t HostHash() const noexcept;

 private:
  union {
    sockaddr sa;
    sockaddr_in in4;
    sockaddr_in6 in6;
    sockaddr_storage ss;
  } addr_;
};

// "HOST", "HOST:PORT", "[V6]:PORT", "V6": the host part and the port (default_port if absent).
// nullopt and *err on a malformed string. Does not resolve names.
struct HostPort {
  std::string host;
  std::uint16_t port;
};
std::optional<HostPort> ParseHostPort(const std::string& text, std::uint16_t default_port,
                                      std::string* err);

// Whether the host part is an IPv4 or IPv6 address, not a name (Resolve() needs no DNS).
bool IsNumericHost(const HostPort& hp);

// Resolves a HostPort (numeric or a name, via getaddrinfo: control thread only). Empty on
// failure with *err set.
std::vector<Endpoint> Resolve(const HostPort& hp, std::string* err);

}  // namespace vdemesh::transport
