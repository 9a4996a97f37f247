#include "vdeplug-plugin/switch_answer.h"

#include <sys/socket.h>

#include <cstring>
#include <string_view>

#include "vswitchd/vde/wire.h"

namespace vdemesh::plugin {

namespace {

using Kind = SwitchAnswer::Kind;

SwitchAnswer Need(std::size_t n) { return {Kind::kNeedMore, n, {}, {}}; }
SwitchAnswer Bad(std::string why) { return {Kind::kBad, 0, {}, std::move(why)}; }

// The address at the start of `bytes` (kReplyBytes long), checked: AF_UNIX, a path that is
// not empty and ends inside sun_path.
SwitchAnswer Address(std::span<const char> bytes) {
  SwitchAnswer a{Kind::kAddress, 0, {}, {}};
  std::memcpy(&a.address, bytes.data(), vde::kReplyBytes);
  const std::size_t len = strnlen(a.address.sun_path, sizeof a.address.sun_path);
  if (a.address.sun_family != AF_UNIX || len == 0 || len == sizeof a.address.sun_path)
    return Bad("an answer with a bad address");
  return a;
}

std::string Printable(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c < 0x20 || c > 0x7e) c = '?';
  return out;
}

}  // namespace

SwitchAnswer ParseSwitchAnswer(std::span<const char> got, bool asked_options) {
  using namespace vde;
  if (got.size() < 2) return Need(2);
  const sa_family_t family = AF_UNIX;
  if (std::memcmp(got.data(), &family, 2) == 0) {
    // A stock vde_switch: the address alone; the options went unread.
    if (asked_options) return {Kind::kNotVswitchd, 0, {}, {}};
    if (got.size() < kReplyBytes) return Need(kReplyBytes);
    return Address(got);
  }
  if (got.size() < kStatusBytes) return Need(kStatusBytes);
  const std::string_view status(got.data(), strnlen(got.data(), kStatusBytes));
  if (status.starts_with(kStatusError))
    return {Kind::kRefused, 0, {}, Printable(status.substr(std::strlen(kStatusError)))};
  if (status != kStatusOk) return Bad("an answer of an unknown kind");
  if (got.size() < kStatusBytes + kReplyBytes) return Need(kStatusBytes + kReplyBytes);
  return Address(got.subspan(kStatusBytes));
}

}  // namespace vdemesh::plugin
