// switch_answer.h: what the switch said to the vdemesh:// plugin's request (wire.h), parsed
// from the bytes read so far. Pure, no I/O: the plugin reads exactly the bytes asked for until
// the answer is complete, so it never reads past it.
//
// The bytes come from whatever listens on DIR/ctl, which in a directory others can write to
// need not be vswitchd: nothing in them is trusted, and the plugin runs inside QEMU, where a
// crash would take the guest down (tests/fuzz/answer_fuzzer.cc).
#pragma once

#include <sys/un.h>

#include <cstddef>
#include <span>
#include <string>

namespace vdemesh::plugin {

struct SwitchAnswer {
  enum class Kind {
    kNeedMore,     // read until `need` bytes in all
    kAddress,      // `address`: a NUL-terminated, non-empty path to connect to
    kRefused,      // vswitchd said why: `reason` (printable, one line)
    kNotVswitchd,  // a stock switch, which cannot grant the options asked for
    kBad,          // not an answer of this protocol; `reason` says how
  };
  Kind kind = Kind::kNeedMore;
  std::size_t need = 0;
  sockaddr_un address{};
  std::string reason;
};

// `got`: the answer's bytes so far. `asked_options`: the request carried options besides the
// marker (a stock switch would ignore them).
SwitchAnswer ParseSwitchAnswer(std::span<const char> got, bool asked_options);

}  // namespace vdemesh::plugin
