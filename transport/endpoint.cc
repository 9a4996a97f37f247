#include "transport/endpoint.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <charconv>

namespace vdemesh::transport {

std::string Endpoint::ToString() const {
  char host[INET6_ADDRSTRLEN] = "?";
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &addr_.in4.sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(port());
  }
  if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &addr_.in6.sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(port());
  }
  return "(none)";
}

std::uint64_t Endpoint::HostHash() const noexcept {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a over the address bytes
  const auto* p = family() == AF_INET6 ? reinterpret_cast<const std::uint8_t*>(&addr_.in6.sin6_addr)
                                       : reinterpret_cast<const std::uint8_t*>(&addr_.in4.sin_addr);
  const int n = family() == AF_INET6 ? 16 : 4;
  for (int i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

std::optional<HostPort> ParseHostPort(const std::string& text, std::uint16_t default_port,
                                      std::string* err) {
  HostPort hp{text, default_port};
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos) {
      *err = "missing ']' in '" + text + "'";
      return std::nullopt;
    }
    hp.host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') {
        *err = "expected ':PORT' after ']' in '" + text + "'";
        return std::nullopt;
      }
      port_text = text.substr(close + 2);
    }
  } else if (text.find(':') != text.rfind(':')) {
    hp.host = text;  // a bare IPv6 address
  } else if (const auto colon = text.find(':'); colon != std::string::npos) {
    hp.host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (!port_text.empty() || (text.size() > 0 && text.back() == ':')) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      *err = "bad port '" + port_text + "' in '" + text + "'";
      return std::nullopt;
    }
    hp.port = static_cast<std::uint16_t>(port);
  }
  return hp;
}

bool IsNumericHost(const HostPort& hp) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, hp.host.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, hp.host.c_str(), buf) == 1;
}

std::vector<Endpoint> Resolve(const HostPort& hp, std::string* err) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = hp.host.empty() ? AI_PASSIVE : 0;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(hp.port);
  const int rc =
      getaddrinfo(hp.host.empty() ? nullptr : hp.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    *err = "cannot resolve '" + hp.host + "': " + gai_strerror(rc);
    return {};
  }
  std::vector<Endpoint> out;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next)
    out.push_back(Endpoint::FromSockaddr(ai->ai_addr, ai->ai_addrlen));
  freeaddrinfo(res);
  return out;
}

}  // namespace vdemesh::transport
