#include "vdeplug-plugin/vdemesh_url.h"

#include <charconv>

namespace vdemesh::plugin {

namespace {

// The request's type field keeps the port in its upper 24 bits.
constexpr std::uint32_t kMaxPort = (1u << 24) - 1;

std::optional<std::uint32_t> ParsePort(std::string_view s, std::string* err) {
  std::uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > kMaxPort) {
    *err = "bad port '" + std::string(s) + "'";
    return std::nullopt;
  }
  return v;
}

bool IsDigits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// One option inside the brackets; false (and *err) if it is unknown or malformed.
bool ApplyOption(std::string_view option, VdemeshUrl* out, std::string* err) {
  const auto eq = option.find('=');
  const std::string_view key = option.substr(0, eq);
  const std::string_view value = eq == std::string_view::npos ? "" : option.substr(eq + 1);
  if (IsDigits(option) || key == "port") {
    if (out->port) {
      *err = "port given twice";
      return false;
    }
    out->port = ParsePort(IsDigits(option) ? option : value, err);
    return out->port.has_value();
  }
  if (key != "vlan" && key != "trunk" && key != "native") {
    *err = "unknown option '" + std::string(option) + "' (known: port, vlan, trunk, native)";
    return false;
  }
  // Spaces separate the options on the wire; a value never needs one.
  if (value.empty() || value.find_first_of(" \t") != std::string_view::npos) {
    *err = "option '" + std::string(key) + "' needs a value without spaces";
    return false;
  }
  if (!out->switch_options.empty()) out->switch_options += ' ';
  out->switch_options += option;
  return true;
}

}  // namespace

std::optional<VdemeshUrl> ParseVdemeshUrl(std::string_view url, std::string* err) {
  VdemeshUrl out;
  const auto open = url.find('[');
  std::string_view target = url.substr(0, open);
  if (open != std::string_view::npos) {
    if (url.back() != ']') {
      *err = "options must end with ']'";
      return std::nullopt;
    }
    std::string_view options = url.substr(open + 1, url.size() - open - 2);
    while (!options.empty()) {
      const auto slash = options.find('/');
      const std::string_view option = options.substr(0, slash);
      options = slash == std::string_view::npos ? std::string_view() : options.substr(slash + 1);
      if (!option.empty() && !ApplyOption(option, &out, err)) return std::nullopt;
    }
  }
  if (target.empty()) {
    *err = "name a network (vdemesh://lab) or a switch directory (vdemesh:///run/vdemesh/lab)";
    return std::nullopt;
  }
  if (target.find('/') != std::string_view::npos) {
    out.dir = target;
  } else if (target == "." || target == "..") {
    *err = "'" + std::string(target) + "' is not a network name";
    return std::nullopt;
  } else {
    out.dir = std::string(kRunDir) + "/" + std::string(target);
  }
  return out;
}

}  // namespace vdemesh::plugin
