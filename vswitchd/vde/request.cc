#include "vswitchd/vde/request.h"

#include <sys/socket.h>

#include <cstring>
#include <string_view>

#include "vswitchd/vde/wire.h"

namespace vdemesh::vde {

const char* RequestErrorText(RequestError e) noexcept {
  switch (e) {
    case RequestError::kNone:
      return "ok";
    case RequestError::kTooShort:
      return "request shorter than request_v3";
    case RequestError::kTooLong:
      return "request longer than request_v3";
    case RequestError::kBadMagic:
      return "bad magic (not a VDE client)";
    case RequestError::kBadVersion:
      return "unsupported protocol version (need 3)";
    case RequestError::kBadType:
      return "unknown request type";
    case RequestError::kBadSocket:
      return "bad client socket address";
    case RequestError::kBadOption:
      return "bad vdemesh option";
  }
  return "unknown";
}

std::string Request::ClientName() const {
  const char* p = client.sun_path;
  if (!abstract) return std::string(p, strnlen(p, sizeof client.sun_path));
  return "@" + std::string(p + 1, strnlen(p + 1, sizeof client.sun_path - 1));
}

namespace {

std::string PrintableDescription(const char* p, std::size_t n) {
  std::string s(p, strnlen(p, n));
  for (char& ch : s)
    if (ch < 0x20 || ch > 0x7e) ch = '?';  // keep logs and tables one clean line
  return s;
}

// The options of the vdemesh extension: "vlan=V", or "trunk=LIST" and optionally "native=V".
// Unknown or repeated options are refused, so that a client never believes in a setting that
// this switch ignored.
bool ParseOptions(std::string_view text, Request* out) {
  std::optional<std::uint16_t> access, native;
  std::optional<core::VlanSet> trunk;
  std::string& err = out->option_error;
  while (!text.empty()) {
    const auto space = text.find(' ');
    const std::string_view option = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    if (option.empty()) continue;
    const auto eq = option.find('=');
    const std::string_view key = option.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : option.substr(eq + 1);
    const bool repeated =
        (key == "vlan" && access) || (key == "trunk" && trunk) || (key == "native" && native);
    if (repeated) {
      err = "option '" + std::string(key) + "' given twice";
      return false;
    }
    if (key == "vlan") {
      access = core::ParseVlanId(value, &err);
      if (!access) return false;
    } else if (key == "trunk") {
      trunk = core::VlanSet::Parse(value, &err);
      if (!trunk) return false;
    } else if (key == "native") {
      native = core::ParseVlanId(value, &err);
      if (!native) return false;
    } else {
      err = "unknown option '" + PrintableDescription(option.data(), option.size()) + "'";
      return false;
    }
  }
  if (access && (trunk || native)) {
    err = "vlan= excludes trunk= and native=";
    return false;
  }
  if (native && !trunk) {
    err = "native= needs trunk=";
    return false;
  }
  if (access) out->vlan = core::PortVlan::Access(*access);
  if (trunk) out->vlan = core::PortVlan::Trunk(*trunk, native.value_or(0));
  return true;
}

// What follows the description's NUL: the extension if it starts with the marker. Anything
// else there (zeros from a client that sends all 128 bytes) is not ours and is ignored.
bool ParseExtension(const char* tail, std::size_t n, Request* out) {
  const std::string_view text(tail, strnlen(tail, n));
  const std::string_view marker = kExtensionMarker;
  if (!text.starts_with(marker)) return true;
  if (text.size() > marker.size() && text[marker.size()] != ' ') return true;
  out->extended = true;
  return ParseOptions(text.substr(marker.size()), out);
}

}  // namespace

RequestError ParseRequest(std::span<const std::uint8_t> msg, Request* out) {
  if (msg.size() < kRequestFixedBytes) return RequestError::kTooShort;
  if (msg.size() > kRequestMaxBytes) return RequestError::kTooLong;
  RequestV3 req{};
  std::memcpy(&req, msg.data(), msg.size());
  if (req.magic != kSwitchMagic) return RequestError::kBadMagic;
  if (req.version != kVersion3) return RequestError::kBadVersion;

  const std::uint32_t type = req.type & 0xff;
  if (type != kReqNewControl && type != kReqNewPort0) return RequestError::kBadType;
  out->wants_port0 = type == kReqNewPort0;
  out->port = out->wants_port0 ? 0 : req.type >> 8;

  // SECURITY: the switch will connect() to this address, so it must be exactly what it claims.
  if (req.sock.sun_family != AF_UNIX) return RequestError::kBadSocket;
  const char* path = req.sock.sun_path;
  out->abstract = path[0] == '\0';
  const std::size_t name_len = out->abstract ? strnlen(path + 1, sizeof req.sock.sun_path - 1)
                                             : strnlen(path, sizeof req.sock.sun_path);
  if (name_len == 0) return RequestError::kBadSocket;
  if (!out->abstract && name_len == sizeof req.sock.sun_path) return RequestError::kBadSocket;
  out->client = req.sock;

  const std::size_t descr_bytes = msg.size() - kRequestFixedBytes;
  out->description = PrintableDescription(req.description, descr_bytes);
  const std::size_t descr_len = strnlen(req.description, descr_bytes);
  if (descr_len + 1 < descr_bytes &&
      !ParseExtension(req.description + descr_len + 1, descr_bytes - descr_len - 1, out))
    return RequestError::kBadOption;
  return RequestError::kNone;
}

}  // namespace vdemesh::vde
