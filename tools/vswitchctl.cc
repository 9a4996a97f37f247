// vswitchctl.cc: the command-line client of vswitchd's control socket.
//
// Flow: argv -> Request (a usage error exits 1) -> one delimited Request over the UNIX socket
// -> one delimited Response (no daemon, a transport failure or Response.error exits 2) ->
// a table on stdout, or with --json the result message in the proto3 JSON mapping.
// Dependencies: the generated control proto and POSIX only, never daemon code (STYLE.md).
// Errors travel as exceptions to the one catch in main(), which picks the exit status.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/util/json_util.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "control.pb.h"

#ifndef VDEMESH_VERSION
#define VDEMESH_VERSION "0.1.0"
#endif

namespace vdemesh::tools {
namespace {

using control::Request;
using control::Response;

constexpr char kDefaultControl[] = "/run/vdemesh/vswitchd.sock";
constexpr timeval kIoTimeout{5, 0};
// SECURITY: a reply's length prefix is trusted only up to this, so a broken peer on the
// socket cannot make us allocate gigabytes.
constexpr std::uint32_t kMaxResponseBytes = 64u << 20;
constexpr std::uint32_t kMinVlan = 1, kMaxVlan = 4094;

constexpr char kUsage[] =
    "usage: vswitchctl [--control PATH] [--json] [-N|--network NAME] COMMAND [ARGS]\n"
    "  status                      daemon and network summary\n"
    "  ports                       ports: number, kind, VLAN mode, rx/tx frames and bytes,\n"
    "                              drops by reason, description\n"
    "  fdb                         MAC table: VLAN, MAC, port (or peer), age\n"
    "  port set N --vlan V         make port N an access port of VLAN V (1..4094)\n"
    "  port set N --trunk V[,V..] [--native V]\n"
    "                              make port N a trunk carrying those VLANs (ranges like 10-20)\n"
    "options (before or after the command):\n"
    "  --control PATH              control socket (default /run/vdemesh/vswitchd.sock)\n"
    "  --json                      print the reply as JSON\n"
    "  -N, --network NAME          network to act on (default: the daemon's only network)\n"
    "  -h, --help                  show this help\n"
    "  --version                   show the version\n"
    "exit status: 0 ok, 1 usage error, 2 daemon error\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct DaemonError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  std::string control = kDefaultControl;
  std::string network;
  bool json = false;
  bool help = false;
  bool version = false;
  std::vector<std::string> words;  // the command and its own arguments, in order
};

// ---- Command line ----

std::string NextValue(const std::vector<std::string>& args, std::size_t& i) {
  if (i + 1 >= args.size()) throw UsageError("option '" + args[i] + "' needs a value");
  return args[++i];
}

// Splits "--name=value" into two words, so every option below can take "--name value".
std::vector<std::string> SplitEquals(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    const auto eq = a.find('=');
    if (a.starts_with("--") && eq != std::string_view::npos) {
      args.emplace_back(a.substr(0, eq));
      args.emplace_back(a.substr(eq + 1));
    } else {
      args.emplace_back(a);
    }
  }
  return args;
}

// Takes the global options from anywhere on the line; the rest is the command.
Options ParseOptions(const std::vector<std::string>& args) {
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      o.json = true;
    } else if (a == "--control") {
      o.control = NextValue(args, i);
    } else if (a == "-N" || a == "--network") {
      o.network = NextValue(args, i);
    } else if (a == "-h" || a == "--help") {
      o.help = true;
    } else if (a == "--version") {
      o.version = true;
    } else {
      o.words.push_back(a);
    }
  }
  if (o.control.empty() || o.control.size() >= sizeof(sockaddr_un{}.sun_path)) {
    throw UsageError("--control path must be 1.." +
                     std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes long");
  }
  return o;
}

std::uint32_t ParseNumber(std::string_view text, const char* what, std::uint32_t lo,
                          std::uint32_t hi) {
  std::uint32_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || n < lo || n > hi) {
    const std::string range = hi == UINT32_MAX ? "a number from " + std::to_string(lo)
                                               : std::to_string(lo) + ".." + std::to_string(hi);
    throw UsageError("invalid " + std::string(what) + " '" + std::string(text) + "' (expected " +
                     range + ")");
  }
  return n;
}

std::uint32_t ParseVlan(std::string_view text) {
  return ParseNumber(text, "VLAN", kMinVlan, kMaxVlan);
}

// "10,20-22" -> {10, 20, 21, 22}, sorted and without duplicates.
std::set<std::uint32_t> ParseVlanList(std::string_view text) {
  std::set<std::uint32_t> vlans;
  for (std::string_view rest = text;;) {
    const std::string_view item = rest.substr(0, rest.find(','));
    if (item.empty()) throw UsageError("empty item in VLAN list '" + std::string(text) + "'");
    const auto dash = item.find('-');
    if (dash == 0 || dash + 1 == item.size()) {
      throw UsageError("invalid VLAN range '" + std::string(item) + "'");
    }
    const std::uint32_t first = ParseVlan(item.substr(0, dash));
    const std::uint32_t last = dash == item.npos ? first : ParseVlan(item.substr(dash + 1));
    if (last < first) throw UsageError("invalid VLAN range '" + std::string(item) + "'");
    for (std::uint32_t v = first; v <= last; ++v) vlans.insert(v);
    if (item.size() == rest.size()) return vlans;
    rest.remove_prefix(item.size() + 1);
  }
}

[[noreturn]] void RejectWord(const std::string& word) {
  if (word.starts_with("-")) throw UsageError("unknown option '" + word + "'");
  throw UsageError("unexpected argument '" + word + "'");
}

template <typename T>
void SetOnce(std::optional<T>& slot, T value, const std::string& option) {
  if (slot) throw UsageError("option '" + option + "' given twice");
  slot = std::move(value);
}

// port set N (--vlan V | --trunk LIST [--native V])
control::PortSetRequest ParsePortSet(const std::vector<std::string>& w) {
  if (w.size() < 2 || w[1] != "set") throw UsageError("'port' needs a subcommand: port set N ...");
  if (w.size() < 3) throw UsageError("'port set' needs a port number");
  control::PortSetRequest req;
  req.set_port(ParseNumber(w[2], "port number", 1, UINT32_MAX));
  std::optional<std::uint32_t> access, native;
  std::optional<std::set<std::uint32_t>> trunk;
  for (std::size_t i = 3; i < w.size(); ++i) {
    const std::string& option = w[i];
    if (option != "--vlan" && option != "--trunk" && option != "--native") RejectWord(option);
    const std::string value = NextValue(w, i);
    if (option == "--vlan") SetOnce(access, ParseVlan(value), option);
    if (option == "--trunk") SetOnce(trunk, ParseVlanList(value), option);
    if (option == "--native") SetOnce(native, ParseVlan(value), option);
  }
  if (access && trunk) throw UsageError("'--vlan' and '--trunk' exclude each other");
  if (native && !trunk) throw UsageError("'--native' needs '--trunk'");
  if (access) {
    req.set_access_vlan(*access);
  } else if (trunk) {
    req.mutable_trunk()->mutable_vlans()->Add(trunk->begin(), trunk->end());
    req.mutable_trunk()->set_native_vlan(native.value_or(0));
  } else {
    throw UsageError("'port set' needs '--vlan V' or '--trunk LIST'");
  }
  return req;
}

Request BuildRequest(const Options& o) {
  const std::vector<std::string>& w = o.words;
  if (w.empty()) throw UsageError("no command given");
  if (w[0].starts_with("-")) RejectWord(w[0]);
  Request req;
  req.set_network(o.network);
  if (w[0] == "port") {
    *req.mutable_port_set() = ParsePortSet(w);
    return req;
  }
  if (w[0] == "status") req.mutable_status();
  if (w[0] == "ports") req.mutable_ports();
  if (w[0] == "fdb") req.mutable_fdb();
  if (req.command_case() == Request::COMMAND_NOT_SET) {
    throw UsageError("unknown command '" + w[0] + "'");
  }
  if (w.size() > 1) RejectWord(w[1]);
  return req;
}

// ---- Control socket ----

class Socket {
 public:
  explicit Socket(const std::string& path);
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  void WriteAll(std::string_view bytes);
  void ReadExact(char* out, std::size_t n);

 private:
  [[noreturn]] void Fail(const char* doing, int err) const {
    throw DaemonError(std::string(doing) + " " + path_ + ": " + std::strerror(err));
  }
  std::string path_;
  int fd_;
};

Socket::Socket(const std::string& path)
    : path_(path), fd_(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  if (fd_ < 0) Fail("cannot create a socket for", errno);
  // Blocking I/O with a deadline: a hung daemon makes us fail, not hang.
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &kIoTimeout, sizeof(kIoTimeout));
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &kIoTimeout, sizeof(kIoTimeout));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);  // length checked by ParseOptions
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    ::close(fd_);
    throw DaemonError("cannot connect to " + path + ": " + std::strerror(err) +
                      " (is vswitchd running? use --control PATH)");
  }
}

void Socket::WriteAll(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Fail("cannot send to", errno == EAGAIN ? ETIMEDOUT : errno);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void Socket::ReadExact(char* out, std::size_t n) {
  while (n > 0) {
    const ssize_t got = ::recv(fd_, out, n, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) Fail("no reply from", errno == EAGAIN ? ETIMEDOUT : errno);
    if (got == 0) throw DaemonError("vswitchd closed the connection without a complete reply");
    out += got;
    n -= static_cast<std::size_t>(got);
  }
}

std::uint32_t ReadLength(Socket& socket) {
  std::uint64_t len = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    char c = 0;
    socket.ReadExact(&c, 1);
    const auto byte = static_cast<std::uint8_t>(c);
    len |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      if (len > kMaxResponseBytes) break;
      return static_cast<std::uint32_t>(len);
    }
  }
  throw DaemonError("reply from vswitchd is too large or malformed");
}

Response Exchange(const std::string& path, const Request& req) {
  Socket socket(path);
  std::string out(5, '\0');
  auto* begin = reinterpret_cast<std::uint8_t*>(out.data());
  const auto* end = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(
      static_cast<std::uint32_t>(req.ByteSizeLong()), begin);
  out.resize(end - begin);
  req.AppendToString(&out);
  socket.WriteAll(out);
  std::string body(ReadLength(socket), '\0');
  socket.ReadExact(body.data(), body.size());
  Response resp;
  if (!resp.ParseFromString(body)) throw DaemonError("reply from vswitchd does not parse");
  return resp;
}

// ---- Output ----

std::string HumanBytes(std::uint64_t n) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(n);
  std::size_t u = 0;
  for (; v >= 1024 && u + 1 < std::size(kUnits); ++u) v /= 1024;
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f%s" : "%.1f%s", v, kUnits[u]);
  return buf;
}

// 45s, 5m12s, 2h03m, 3d04h: the two most significant units, like `wg show`'s handshakes.
std::string Duration(std::uint64_t s) {
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof(buf), "%llus", static_cast<unsigned long long>(s));
  else if (s < 3600)
    std::snprintf(buf, sizeof(buf), "%llum%02llus", s / 60ull, s % 60ull);
  else if (s < 86400)
    std::snprintf(buf, sizeof(buf), "%lluh%02llum", s / 3600ull, s / 60 % 60ull);
  else
    std::snprintf(buf, sizeof(buf), "%llud%02lluh", s / 86400ull, s / 3600 % 24ull);
  return buf;
}

// "10,20-22": consecutive VLANs folded into ranges.
std::string VlanRanges(const google::protobuf::RepeatedField<std::uint32_t>& list) {
  std::vector<std::uint32_t> v(list.begin(), list.end());
  std::sort(v.begin(), v.end());
  std::string out;
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    out += (out.empty() ? "" : ",") + std::to_string(v[i]);
    if (j > i) out += "-" + std::to_string(v[j]);
    i = j + 1;
  }
  return out.empty() ? "none" : out;
}

// "reason=count,..." sorted by reason, zero counts left out; "-" when nothing was dropped.
std::string Drops(const google::protobuf::Map<std::string, std::uint64_t>& drops) {
  std::set<std::pair<std::string, std::uint64_t>> sorted(drops.begin(), drops.end());
  std::string out;
  for (const auto& [reason, count] : sorted) {
    if (count != 0) out += (out.empty() ? "" : ",") + reason + "=" + std::to_string(count);
  }
  return out.empty() ? "-" : out;
}

// Columns padded to their widest cell; `align` holds 'l' or 'r' per column. The last column
// is not padded, so free text (a description) may hold spaces.
void PrintTable(std::string_view align, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(align.size(), 0);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      const std::string pad(c + 1 == row.size() ? 0 : width[c] - row[c].size(), ' ');
      line += align[c] == 'r' ? pad + row[c] : row[c] + pad;
      if (c + 1 < row.size()) line += "  ";
    }
    std::printf("%s\n", line.c_str());
  }
}

std::string VlanColumn(const control::Port& p) {
  if (p.vlan_mode() == "access") return std::to_string(p.access_vlan());
  if (p.vlan_mode() != "trunk") return p.vlan_mode().empty() ? "-" : p.vlan_mode();
  std::string out = "trunk:" + VlanRanges(p.trunk_vlans());
  if (p.native_vlan() != 0) out += "/native=" + std::to_string(p.native_vlan());
  return out;
}

void PrintPorts(const google::protobuf::RepeatedPtrField<control::Port>& ports) {
  std::vector<std::vector<std::string>> rows = {{"PORT", "KIND", "VLAN", "RX-FRAMES", "RX-BYTES",
                                                 "TX-FRAMES", "TX-BYTES", "DROPS", "DESCRIPTION"}};
  for (const control::Port& p : ports) {
    const control::Counters& c = p.counters();
    std::string description = p.description();
    if (p.endpoints_size() > 1) description += " (+" + std::to_string(p.endpoints_size() - 1) + ")";
    rows.push_back({std::to_string(p.number()), p.kind(), VlanColumn(p),
                    std::to_string(c.rx_frames()), HumanBytes(c.rx_bytes()),
                    std::to_string(c.tx_frames()), HumanBytes(c.tx_bytes()), Drops(c.drops()),
                    description});
  }
  PrintTable("rllrrrrll", rows);
}

void PrintFdb(const control::FdbList& fdb) {
  std::vector<const control::FdbEntry*> entries;
  for (const auto& e : fdb.entries()) entries.push_back(&e);
  std::sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) {
    return std::forward_as_tuple(a->vlan(), a->mac()) < std::forward_as_tuple(b->vlan(), b->mac());
  });
  std::vector<std::vector<std::string>> rows = {{"VLAN", "MAC", "PORT/PEER", "AGE"}};
  for (const auto* e : entries) {
    const std::string where = e->peer().empty() ? std::to_string(e->port()) : e->peer();
    rows.push_back({std::to_string(e->vlan()), e->mac(), where, Duration(e->age_seconds())});
  }
  PrintTable("rllr", rows);
}

const char* OrDash(const std::string& s) { return s.empty() ? "-" : s.c_str(); }

void PrintStatus(const control::Status& s) {
  std::printf("version: %s\npid: %u\nuptime: %s\n", OrDash(s.version()), s.pid(),
              Duration(s.uptime_seconds()).c_str());
  for (const control::NetworkStatus& n : s.networks()) {
    std::printf("\nnetwork: %s\n  switch dir: %s\n", OrDash(n.name()), OrDash(n.switch_dir()));
    if (!n.tap().empty()) std::printf("  tap: %s\n", n.tap().c_str());
    std::printf("  ports: %u of %u in use\n", n.ports_in_use(), n.numports());
    std::printf("  fdb: %llu of %llu entries, aging %s\n",
                static_cast<unsigned long long>(n.fdb_entries()),
                static_cast<unsigned long long>(n.fdb_max_entries()),
                Duration(n.fdb_aging_seconds()).c_str());
    std::printf("  max frame: %u bytes\n  drops: %s\n", n.max_frame(), Drops(n.drops()).c_str());
  }
}

void PrintJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(m, &out, options).ok()) {
    throw DaemonError("cannot print the reply as JSON");
  }
  if (out.empty() || out.back() != '\n') out += '\n';
  std::fputs(out.c_str(), stdout);
}

void PrintResult(const Response& r, bool json) {
  switch (r.result_case()) {
    case Response::kStatus:
      return json ? PrintJson(r.status()) : PrintStatus(r.status());
    case Response::kPorts:
      return json ? PrintJson(r.ports()) : PrintPorts(r.ports().ports());
    case Response::kFdb:
      return json ? PrintJson(r.fdb()) : PrintFdb(r.fdb());
    case Response::kPort: {
      if (json) return PrintJson(r.port());
      control::PortList one;
      *one.add_ports() = r.port();
      return PrintPorts(one.ports());
    }
    case Response::RESULT_NOT_SET:
      break;
  }
  throw DaemonError("reply from vswitchd carries no result");
}

// control.proto numbers each result field like the command it answers, so a reply of another
// kind (a daemon of a different version) is found by comparing the oneof cases.
static_assert(int{Request::kStatus} == int{Response::kStatus} &&
              int{Request::kPorts} == int{Response::kPorts} &&
              int{Request::kFdb} == int{Response::kFdb} &&
              int{Request::kPortSet} == int{Response::kPort});

int Run(int argc, char** argv) {
  const Options options = ParseOptions(SplitEquals(argc, argv));
  if (options.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (options.version) {
    std::printf("vswitchctl %s\n", VDEMESH_VERSION);
    return 0;
  }
  const Request req = BuildRequest(options);
  const Response resp = Exchange(options.control, req);
  if (!resp.error().empty()) throw DaemonError(resp.error());
  if (int{resp.result_case()} != int{req.command_case()}) {
    throw DaemonError("unexpected reply from vswitchd (a different version?)");
  }
  PrintResult(resp, options.json);
  return 0;
}

}  // namespace
}  // namespace vdemesh::tools

int main(int argc, char** argv) try {
  return vdemesh::tools::Run(argc, argv);
} catch (const vdemesh::tools::UsageError& e) {
  std::fprintf(stderr, "vswitchctl: %s\nTry 'vswitchctl --help' for more information.\n", e.what());
  return 1;
} catch (const std::exception& e) {  // DaemonError, or an allocation failure
  std::fprintf(stderr, "vswitchctl: %s\n", e.what());
  return 2;
}
