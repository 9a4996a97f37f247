// request_fuzzer.cc: ParseRequest() (vswitchd/vde/request.h) on arbitrary bytes, i.e. whatever
// a local process writes to DIR/ctl.
//
// Invariants beyond "no crash, no sanitizer report":
//   - the length checks come first: <122 bytes is kTooShort, >250 is kTooLong;
//   - on success the description is printable ASCII of at most 128 characters, the client name
//     is non-empty, the socket is AF_UNIX, a path (not abstract) name is NUL-terminated inside
//     sun_path, and the port is the type's upper 24 bits (0 for NEW_PORT0);
//   - the vdemesh extension (wire.h): a VLAN only in an extended request, a valid one; a
//     refused option only in an extended request, and with a reason.
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "tests/fuzz/fuzz_check.h"
#include "vswitchd/vde/request.h"
#include "vswitchd/vde/wire.h"

using vdemesh::vde::Request;
using vdemesh::vde::RequestError;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Request req;
  const RequestError err = vdemesh::vde::ParseRequest(std::span(data, size), &req);
  FUZZ_CHECK(vdemesh::vde::RequestErrorText(err) != nullptr);
  if (size < vdemesh::vde::kRequestFixedBytes) FUZZ_CHECK(err == RequestError::kTooShort);
  if (size > vdemesh::vde::kRequestMaxBytes) FUZZ_CHECK(err == RequestError::kTooLong);
  if (err == RequestError::kBadOption) FUZZ_CHECK(req.extended && !req.option_error.empty());
  if (err != RequestError::kNone) return 0;

  FUZZ_CHECK(!req.vlan || req.extended);
  if (req.vlan && !req.vlan->is_trunk())
    FUZZ_CHECK(vdemesh::core::IsValidVlan(req.vlan->access_vlan()));
  if (req.vlan && req.vlan->is_trunk()) {
    FUZZ_CHECK(!req.vlan->allowed().empty());
    FUZZ_CHECK(req.vlan->native_vlan() == 0 || vdemesh::core::IsValidVlan(req.vlan->native_vlan()));
  }

  FUZZ_CHECK(req.description.size() <= vdemesh::vde::kMaxDescription);
  for (const char c : req.description) FUZZ_CHECK(c >= 0x20 && c <= 0x7e);
  FUZZ_CHECK(!req.ClientName().empty());
  FUZZ_CHECK(req.client.sun_family == AF_UNIX);
  if (!req.abstract)
    FUZZ_CHECK(strnlen(req.client.sun_path, sizeof req.client.sun_path) <
               sizeof req.client.sun_path);

  std::uint32_t type;
  std::memcpy(&type, data + offsetof(vdemesh::vde::RequestV3, type), sizeof type);
  FUZZ_CHECK(req.wants_port0 == ((type & 0xff) == vdemesh::vde::kReqNewPort0));
  FUZZ_CHECK(req.port == (req.wants_port0 ? 0 : type >> 8));
  return 0;
}
