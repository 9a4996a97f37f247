// request.h: validation of a client's request_v3 (see wire.h) into a Request.
//
// The bytes come from any local process that can reach DIR/ctl, so nothing in them is trusted:
// every field is checked, the description is cut at NUL or at the message end and made
// printable, and the client's socket address must be a real, NUL-terminated path or an
// abstract name.
#pragma once

#include <sys/un.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "vswitchd/core/vlan.h"

namespace vdemesh::vde {

enum class RequestError : std::uint8_t {
  kNone,
  kTooShort,  // less than the fixed part (122 bytes)
  kTooLong,   // more than a whole request_v3 (250 bytes)
  kBadMagic,
  kBadVersion,  // e.g. version 2 (pre-2007 libvdeplug)
  kBadType,     // a request type other than NEW_CONTROL / NEW_PORT0
  kBadSocket,   // not AF_UNIX, empty, or a path without NUL
  kBadOption,   // the vdemesh extension (wire.h) with an option vswitchd refuses
};
const char* RequestErrorText(RequestError e) noexcept;

struct Request {
  // Requested port: 0 = any free port (NEW_CONTROL without port bits); otherwise that number.
  // NEW_PORT0 (vdeplug's "port -1") asks for port 0 itself.
  std::uint32_t port = 0;
  bool wants_port0 = false;
  struct sockaddr_un client {};  // the client's datagram socket, validated
  bool abstract = false;         // client is in the abstract namespace (sun_path[0] == 0)
  std::string description;       // printable ASCII, at most 128 characters

  // The vdemesh extension (wire.h): set only by a vdemesh:// client, which is answered with a
  // status first. `vlan`: the VLAN mode it asks for its port (vlan=, trunk=, native=).
  bool extended = false;
  std::optional<core::PortVlan> vlan;
  std::string option_error;  // with kBadOption: which option and why

  std::string ClientName() const;  // the path, or "@name" for an abstract socket
};

RequestError ParseRequest(std::span<const std::uint8_t> msg, Request* out);

}  // namespace vdemesh::vde
