// config_fuzzer.cc: vswitchd's config file reader, ApplyConfigText() (vswitchd/daemon/options.h),
// then FinishOptions(), on arbitrary text.
//
// Invariants beyond "no crash, no sanitizer report":
//   - the only exception that leaves either function is std::invalid_argument (the one catch in
//     main() prints it; anything else, such as std::out_of_range from a substr, is a bug);
//   - an accepted file yields values inside their documented ranges: mode <= 0777, numports
//     1..65535, max-frame 60..9230, fdb-size 16..2^24, fdb-aging 1 s..1 year, peers that parse
//     as HOST[:PORT], allow-peer keys that decode;
//   - after FinishOptions() every network has a name and a directory, both unique. (Not
//     before: `network = NAME` inside a section may rename it, even to "" or to another
//     section's name, and FinishOptions() is what derives and checks names.)
#include <cstddef>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>

#include "crypto/keys.h"
#include "tests/fuzz/fuzz_check.h"
#include "transport/endpoint.h"
#include "vswitchd/daemon/options.h"

namespace {

using vdemesh::daemon::DaemonOptions;
using vdemesh::daemon::NetworkOptions;

void CheckRanges(const NetworkOptions& n) {
  FUZZ_CHECK(n.mode <= 0777);
  FUZZ_CHECK(n.numports >= 1 && n.numports <= 65535);
  FUZZ_CHECK(n.max_frame >= 60 && n.max_frame <= 9230);
  FUZZ_CHECK(n.fdb_size >= 16 && n.fdb_size <= (1u << 24));
  FUZZ_CHECK(n.fdb_aging_seconds >= 1 && n.fdb_aging_seconds <= 86400 * 365);
  std::string err;
  for (const auto& p : n.peers)
    FUZZ_CHECK(vdemesh::transport::ParseHostPort(p, 6655, &err).has_value());
  for (const auto& k : n.allowed_peers) FUZZ_CHECK(vdemesh::crypto::DecodePublicKey(k));
}

void CheckFinished(const DaemonOptions& opts) {
  std::set<std::string> names, dirs;
  for (const auto& n : opts.networks) {
    FUZZ_CHECK(!n.name.empty() && !n.dir.empty());
    FUZZ_CHECK(names.insert(n.name).second);
    FUZZ_CHECK(dirs.insert(n.dir).second);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  DaemonOptions opts;
  try {
    vdemesh::daemon::ApplyConfigText(text, "fuzz.conf", &opts);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  bool any_group = false;
  for (const auto& n : opts.networks) {
    CheckRanges(n);
    any_group |= !n.group.empty();
  }
  // FinishOptions() looks a group up in the system's group database; that is slow and not
  // the text's doing, so such inputs stop here.
  if (any_group) return 0;
  try {
    vdemesh::daemon::FinishOptions(&opts);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  CheckFinished(opts);
  return 0;
}
