#include "vswitchd/daemon/options.h"

#include <grp.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "crypto/keys.h"
#include "transport/constants.h"
#include "transport/endpoint.h"
#include "vswitchd/core/ethernet.h"

namespace vdemesh::daemon {

namespace {

using Apply = void (*)(const std::string& value, DaemonOptions& d, NetworkOptions& n);

struct OptionSpec {
  const char* name;
  char short_name;
  bool network;  // belongs to a network (section) rather than to the daemon
  bool has_value;
  Apply apply;
  const char* help;
};

[[noreturn]] void Fail(std::string_view msg) { throw std::invalid_argument(std::string(msg)); }

std::uint32_t ParseNumber(const std::string& v, std::uint64_t min, std::uint64_t max, int base,
                          const char* what) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n, base);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < min || n > max) {
    Fail(std::string("bad value '") + v + "' for " + what + " (expected " +
         (base == 8 ? "an octal mode" : std::to_string(min) + ".." + std::to_string(max)) + ")");
  }
  return static_cast<std::uint32_t>(n);
}

const OptionSpec kOptions[] = {
    {"sock", 's', true, true,
     [](const std::string& v, DaemonOptions&, NetworkOptions& n) { n.dir = v; },
     "switch directory (vde_switch compatible; default /run/vdemesh/NAME)"},
    {"network", 0, true, true,
     [](const std::string& v, DaemonOptions&, NetworkOptions& n) { n.name = v; },
     "network name (default: the switch directory's basename)"},
    {"mode", 'm', true, true,
     [](const std::string& v, DaemonOptions&, NetworkOptions& n) {
       n.mode = ParseNumber(v, 0, 0777, 8, "mode");
     },
     "permissions of the VDE sockets, octal (default 0600)"},
    {"group", 'g', true, true,
     [](const std::string& v, DaemonOptions&, NetworkOptions& n) { n.group = v; },
     "group owning the VDE sockets"},
    {"tap", 't', true, true,
     [](const std::string& v, DaemonOptions&, NetworkOptions& n) { n.tap = v; },
     "attach TAP interface IFNAME as a port"},
    {"numports", 'n', true, true,
     [](const std::string& v, DaemonOptions&, NetworkOptions& n) {
       n.numports = ParseNumber(v, 1, 65535, 10, "numports");
     },
     "number of ports (default 32)"},
    {"max-frame", 0, true, true,
     [](const std::string& v, DaemonOptions&, NetworkOptions& n) {
       n.max_frame =
           ParseNumber(v, 60, core::kMaxFrameBytes - core::kVlanTagBytes, 10, "max-frame");
     },
     "largest untagged frame in bytes (default 1514; up to 9230 for jumbo frames)"},
    {"fdb-size", 0, true, true,
     [](const std::string& v, DaemonOptions&, NetworkOptions& n) {
       n.fdb_size = ParseNumber(v, 16, 1u << 24, 10, "fdb-size");
     },
     "MAC table bound (default 65536)"},
    {"fdb-aging", 0, true, true,
     [](const std::string& v, DaemonOptions&, NetworkOptions& n) {
       n.fdb_aging_seconds = ParseNumber(v, 1, 86400 * 365, 10, "fdb-aging");
     },
     "seconds before an idle MAC is forgotten (default 300)"},
    {"network-key", 'k', true, true,
     [](const std::string& v, DaemonOptions&, NetworkOptions& n) { n.network_key = v; },
     "network key file (vswitchctl netkey); joins the encrypted overlay"},
    {"peer", 'P', true, true,
     [](const std::string& v, DaemonOptions&, NetworkOptions& n) {
       std::string err;
       if (!transport::ParseHostPort(v, transport::kDefaultPort, &err) || v.empty())
         Fail("bad value '" + v + "' for peer: " + (err.empty() ? "empty" : err));
       n.peers.push_back(v);
     },
     "HOST[:PORT] of another member (repeatable; more are found by peer exchange)"},
    {"allow-peer", 0, true, true,
     [](const std::string& v, DaemonOptions&, NetworkOptions& n) {
       if (!crypto::DecodePublicKey(v))
         Fail("bad value '" + v + "' for allow-peer (expected a base64 public key)");
       n.allowed_peers.push_back(v);
     },
     "only hosts with this public key may join (repeatable; default: any key holder)"},
    {"listen", 'l', false, true,
     [](const std::string& v, DaemonOptions& d, NetworkOptions&) {
       std::string err;
       if (!transport::ParseHostPort(v, transport::kDefaultPort, &err))
         Fail("bad value '" + v + "' for listen: " + err);
       d.listen = v;
     },
     "[ADDR]:PORT for the overlay's UDP (default :6655, IPv4 and IPv6)"},
    {"underlay-mtu", 0, false, true,
     [](const std::string& v, DaemonOptions& d, NetworkOptions&) {
       d.underlay_mtu = ParseNumber(v, 1280, 65535, 10, "underlay-mtu");
     },
     "MTU of the network between hosts (default 1500); TCP through the overlay is sized to fit"},
    {"threads", 0, false, true,
     [](const std::string& v, DaemonOptions& d, NetworkOptions&) {
       d.threads = ParseNumber(v, 0, 64, 10, "threads");
     },
     "datapath threads (default 0: one per CPU, at most one per network); with an overlay, "
     "each further thread with an encrypted network listens on the next port"},
    {"busy-poll", 0, false, true,
     [](const std::string& v, DaemonOptions& d, NetworkOptions&) {
       d.busy_poll_us = ParseNumber(v, 0, 10000, 10, "busy-poll");
     },
     "microseconds a datapath thread keeps polling after traffic before it sleeps, yielding "
     "its CPU between looks (default 150; 0: sleep at once). Lower latency for some CPU while "
     "there is traffic, none when idle"},
    {"host-key", 0, false, true,
     [](const std::string& v, DaemonOptions& d, NetworkOptions&) { d.host_key = v; },
     "this host's private key (default /var/lib/vdemesh/host.key, created if absent)"},
    {"control", 0, false, true,
     [](const std::string& v, DaemonOptions& d, NetworkOptions&) { d.control = v; },
     "control socket (default /run/vdemesh/vswitchd.sock)"},
    {"config", 'f', false, true,
     [](const std::string& v, DaemonOptions& d, NetworkOptions&) { d.config = v; },
     "config file (default /etc/vdemesh/vswitchd.conf if present)"},
    {"daemon", 'd', false, false,
     [](const std::string&, DaemonOptions& d, NetworkOptions&) { d.daemonize = true; },
     "fork into the background and log to syslog"},
    {"pidfile", 'p', false, true,
     [](const std::string& v, DaemonOptions& d, NetworkOptions&) { d.pidfile = v; },
     "write the daemon's pid here (default with --daemon: /run/vdemesh/vswitchd.pid)"},
    {"log-level", 0, false, true,
     [](const std::string& v, DaemonOptions& d, NetworkOptions&) { d.log_level = v; },
     "trace, debug, info, warn, error (default info)"},
    {"help", 'h', false, false,
     [](const std::string&, DaemonOptions& d, NetworkOptions&) { d.help = true; },
     "show this help"},
    {"version", 'V', false, false,
     [](const std::string&, DaemonOptions& d, NetworkOptions&) { d.version = true; },
     "show the version"},
};

const OptionSpec* FindLong(std::string_view name) {
  for (const auto& o : kOptions)
    if (name == o.name) return &o;
  return nullptr;
}

const OptionSpec* FindShort(char c) {
  for (const auto& o : kOptions)
    if (o.short_name == c && c != 0) return &o;
  return nullptr;
}

void ApplyOption(const OptionSpec& o, const std::string& value, DaemonOptions& d, NetworkOptions& n,
                 const std::string& where) {
  try {
    o.apply(value, d, n);
  } catch (const std::invalid_argument& e) {
    Fail(where + e.what());
  }
}

std::string Trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

void ApplyConfigText(const std::string& text, const std::string& filename, DaemonOptions* opts) {
  std::istringstream in(text);
  std::string line;
  NetworkOptions* section = nullptr;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    const std::string where = filename + ":" + std::to_string(lineno) + ": ";
    const std::string s = Trim(line.substr(0, line.find('#')));
    if (s.empty()) continue;
    if (s.front() == '[') {
      if (s.back() != ']' || s.rfind("[network ", 0) != 0 ||
          Trim(s.substr(9, s.size() - 10)).empty())
        Fail(where + "expected a section header like [network NAME]");
      const std::string name = Trim(s.substr(9, s.size() - 10));
      for (const auto& n : opts->networks)
        if (n.name == name) Fail(where + "network '" + name + "' is defined twice");
      opts->networks.push_back({});
      section = &opts->networks.back();
      section->name = name;
      continue;
    }
    const auto eq = s.find('=');
    const std::string key = Trim(s.substr(0, eq));
    const OptionSpec* o = FindLong(key);
    if (o == nullptr || key == "config" || key == "help" || key == "version")
      Fail(where + "unknown setting '" + key + "'");
    if (o->has_value && eq == std::string::npos) Fail(where + key + " needs '= value'");
    if (o->network && section == nullptr)
      Fail(where + key + " belongs in a [network NAME] section");
    if (!o->network && section != nullptr)
      Fail(where + key + " is a global setting: put it above the first section");
    if (key == "network")
      Fail(where + "a network is named by its section header, [network NAME]");
    NetworkOptions unused;
    ApplyOption(*o, o->has_value ? Trim(s.substr(eq + 1)) : "", *opts, section ? *section : unused,
                where);
  }
}

void FinishOptions(DaemonOptions* opts) {
  if (opts->networks.empty())
    Fail("no network to serve: give -s DIR, or a config file with a [network NAME] section");
  std::set<std::string> names, dirs;
  for (auto& n : opts->networks) {
    if (n.name.empty()) {
      std::string d = n.dir;
      while (d.size() > 1 && d.back() == '/') d.pop_back();
      n.name = d.substr(d.find_last_of('/') + 1);
    }
    if (n.name.empty()) Fail("--network: cannot derive a network name from '" + n.dir + "'");
    if (n.dir.empty()) n.dir = std::string(kRunDir) + "/" + n.name;
    if (!names.insert(n.name).second) Fail("network '" + n.name + "' is defined twice");
    if (!dirs.insert(n.dir).second) Fail("switch directory '" + n.dir + "' is used twice");
    if (!n.group.empty() && getgrnam(n.group.c_str()) == nullptr)
      Fail("--group: no such group '" + n.group + "'");
  }
  if (opts->daemonize && opts->pidfile.empty())
    opts->pidfile = std::string(kRunDir) + "/vswitchd.pid";
}

DaemonOptions ParseOptions(int argc, const char* const* argv) {
  // First collect the flags, so the config file they name can be read before they are applied:
  // flags given on the command line win over the file.
  std::vector<std::pair<const OptionSpec*, std::string>> flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const OptionSpec* o = nullptr;
    std::string value;
    bool inline_value = false;
    if (arg.rfind("--", 0) == 0) {
      const auto eq = arg.find('=');
      o = FindLong(arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2));
      if (eq != std::string::npos) value = arg.substr(eq + 1), inline_value = true;
    } else if (arg.size() == 2 && arg[0] == '-') {
      o = FindShort(arg[1]);
    }
    if (o == nullptr) Fail("unknown option '" + arg + "' (see --help)");
    if (o->has_value && !inline_value) {
      if (i + 1 >= argc) Fail(std::string("--") + o->name + " needs a value");
      value = argv[++i];
    }
    flags.emplace_back(o, value);
  }

  DaemonOptions opts;
  NetworkOptions flag_network;
  bool have_flag_network = false;
  for (const auto& [o, value] : flags) {
    if (!o->network) ApplyOption(*o, value, opts, flag_network, "");
    have_flag_network |= o->network;
  }
  if (opts.help || opts.version) return opts;
  if (opts.config.empty() && !have_flag_network && access(kDefaultConfigPath, R_OK) == 0)
    opts.config = kDefaultConfigPath;
  if (!opts.config.empty()) {
    std::ifstream f(opts.config);
    if (!f) Fail("--config: cannot read '" + opts.config + "'");
    std::stringstream text;
    text << f.rdbuf();
    ApplyConfigText(text.str(), opts.config, &opts);
    if (have_flag_network && !opts.networks.empty())
      Fail("network options on the command line cannot be combined with [network] sections in " +
           opts.config);
  }
  for (const auto& [o, value] : flags) ApplyOption(*o, value, opts, flag_network, "");
  if (have_flag_network) opts.networks.push_back(flag_network);
  FinishOptions(&opts);
  return opts;
}

std::string UsageText() {
  std::string s =
      "Usage: vswitchd -s DIR [options]      one network from flags, vde_switch style\n"
      "       vswitchd --config FILE [options]\n\nOptions:\n";
  for (const auto& o : kOptions) {
    std::string flag = o.short_name ? std::string("-") + o.short_name + ", " : "    ";
    flag += std::string("--") + o.name + (o.has_value ? " VALUE" : "");
    flag.resize(std::max<std::size_t>(flag.size() + 2, 26), ' ');
    s += "  " + flag + o.help + "\n";
  }
  return s;
}

}  // namespace vdemesh::daemon
