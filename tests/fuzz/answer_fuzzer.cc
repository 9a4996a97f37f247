// answer_fuzzer.cc: ParseSwitchAnswer() (vdeplug-plugin/switch_answer.h) on arbitrary bytes,
// i.e. whatever listens on DIR/ctl answering the vdemesh:// plugin inside QEMU.
//
// Invariants beyond "no crash, no sanitizer report": the parser asks for more bytes only up to
// the longest answer (238) and only more than it has; an address is AF_UNIX with a non-empty,
// NUL-terminated path; a reason is printable.
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "tests/fuzz/fuzz_check.h"
#include "vdeplug-plugin/switch_answer.h"

using vdemesh::plugin::ParseSwitchAnswer;
using Kind = vdemesh::plugin::SwitchAnswer::Kind;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool asked_options = (data[0] & 1) != 0;
  // Feed the answer as the plugin reads it: exactly as many bytes as the parser asks for.
  const char* bytes = reinterpret_cast<const char*>(data + 1);
  const std::size_t available = size - 1;
  std::size_t got = 0;
  for (int steps = 0; steps < 8; ++steps) {
    const auto a = ParseSwitchAnswer({bytes, got}, asked_options);
    if (a.kind == Kind::kNeedMore) {
      FUZZ_CHECK(a.need > got && a.need <= 238);
      if (a.need > available) return 0;  // the stream ended early: the plugin reports it
      got = a.need;
      continue;
    }
    if (a.kind == Kind::kAddress) {
      FUZZ_CHECK(a.address.sun_family == AF_UNIX);
      const std::size_t len = strnlen(a.address.sun_path, sizeof a.address.sun_path);
      FUZZ_CHECK(len > 0 && len < sizeof a.address.sun_path);
    }
    for (const char c : a.reason) FUZZ_CHECK(c >= 0x20 && c <= 0x7e);
    return 0;
  }
  FUZZ_CHECK(false);  // an answer never takes more than three reads
  return 0;
}
