// control_fuzzer.cc: the control API's messages (proto/control.proto) read from arbitrary bytes:
// a Request as vswitchd reads one from any client of its socket, and a Response as vswitchctl
// reads one and prints it (tools/vswitchctl_format.h, and --json).
//
// The framing (PeekFrame in vswitchd/control/control_server.cc) is internal to that file, so
// this target starts at the message body, where ControlServer calls Request::ParseFromArray().
//
// Invariants beyond "no crash, no sanitizer report", for every input that parses:
//   - it serializes and parses back to an equal message (unknown fields included);
//   - it prints as proto3 JSON with vswitchctl's options, and that JSON parses back to the
//     same message less its unknown fields, which JSON cannot carry;
//   - a Response's result formats as vswitchctl's text tables.
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "control.pb.h"
#include "tests/fuzz/fuzz_check.h"
#include "tools/vswitchctl_format.h"

namespace {

namespace pb = google::protobuf;
using vdemesh::control::Request;
using vdemesh::control::Response;

template <typename Message>
void CheckRoundTrips(const Message& m) {
  std::string wire;
  FUZZ_CHECK(m.SerializeToString(&wire));
  Message again;
  FUZZ_CHECK(again.ParseFromString(wire));
  FUZZ_CHECK(pb::util::MessageDifferencer::Equals(m, again));

  pb::util::JsonPrintOptions print;  // as vswitchctl --json
  print.add_whitespace = true;
  print.always_print_primitive_fields = true;
  print.preserve_proto_field_names = true;
  std::string json;
  FUZZ_CHECK(pb::util::MessageToJsonString(m, &json, print).ok());
  Message from_json;
  FUZZ_CHECK(pb::util::JsonStringToMessage(json, &from_json).ok());
  Message known = m;
  known.DiscardUnknownFields();
  FUZZ_CHECK(pb::util::MessageDifferencer::Equals(known, from_json));
}

void FormatResult(const Response& r) {
  using namespace vdemesh::tools;
  vdemesh::control::PortList one;
  switch (r.result_case()) {
    case Response::kStatus:
      FormatStatus(r.status());
      break;
    case Response::kPorts:
      FormatPorts(r.ports());
      break;
    case Response::kFdb:
      FormatFdb(r.fdb());
      break;
    case Response::kPeers:
      FormatPeers(r.peers());
      break;
    case Response::kPort:
      *one.add_ports() = r.port();
      FormatPorts(one);
      break;
    case Response::RESULT_NOT_SET:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Invalid UTF-8 in a string field makes the parser log an error line per message; that is a
  // refusal like any other here, and the noise would slow the fuzzer down.
  pb::SetLogHandler([](pb::LogLevel, const char*, int, const std::string&) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int n = static_cast<int>(size);
  Request request;
  if (request.ParseFromArray(data, n)) CheckRoundTrips(request);
  Response response;
  if (response.ParseFromArray(data, n)) {
    CheckRoundTrips(response);
    FormatResult(response);
  }
  return 0;
}
