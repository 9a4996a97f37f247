#include "vswitchd/vde/request.h"

#include <sys/socket.h>

#include <cstring>

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

  out->description = PrintableDescription(req.description, msg.size() - kRequestFixedBytes);
  return RequestError::kNone;
}

}  // namespace vdemesh::vde
