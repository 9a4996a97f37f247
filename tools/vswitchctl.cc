// vswitchctl.cc: the command-line client of vswitchd's control socket.
//
// Flow: argv -> Request (a usage error exits 1) -> one delimited Request over the UNIX socket
// -> one delimited Response (no daemon, a transport failure or Response.error exits 2) ->
// a table on stdout (vswitchctl_format.h), or with --json the result message in the proto3 JSON
// mapping. The key commands (genkey, pubkey, netkey) run locally and never open the socket.
// Dependencies: the generated control proto, crypto/ for the key commands, and POSIX; never
// daemon code (STYLE.md).
// Errors travel as exceptions to the one catch in main(), which picks the exit status.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/util/json_util.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "control.pb.h"
#include "crypto/keys.h"
#include "tools/vswitchctl_format.h"

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
    "  status                      daemon, overlay and network summary\n"
    "  ports                       ports: number, kind, VLAN mode, rx/tx frames and bytes,\n"
    "                              drops by reason, description\n"
    "  fdb                         MAC table: VLAN, MAC, port (or peer), age\n"
    "  peers                       overlay peers: endpoint, state, last handshake, rx/tx\n"
    "                              packets and bytes, drops by reason, public key\n"
    "  port set N --vlan V         make port N an access port of VLAN V (1..4094)\n"
    "  port set N --trunk V[,V..] [--native V]\n"
    "                              make port N a trunk carrying those VLANs (ranges like 10-20)\n"
    "keys (no daemon needed; base64 text, 44 characters, as wg genkey and wg pubkey print):\n"
    "  genkey                      print a new host private key\n"
    "  pubkey                      read a private key on stdin, print its public key\n"
    "  netkey                      print a new network key (shared by a network's members)\n"
    "  vswitchd refuses key files that group or others may read, so create them like this:\n"
    "    (umask 077; vswitchctl genkey > host.key)\n"
    "    vswitchctl pubkey < host.key\n"
    "options (before or after the command):\n"
    "  --control PATH              control socket (default /run/vdemesh/vswitchd.sock)\n"
    "  --json                      print the reply as JSON\n"
    "  -N, --network NAME          network to act on (default: the daemon's only network)\n"
    "  -h, --help                  show this help\n"
    "  --version                   show the version\n"
    "exit status: 0 ok, 1 usage error or bad input, 2 daemon error\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct DaemonError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A key command could not read its input or write its output: exit 1, without the usage hint.
struct InputError : std::runtime_error {
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
  if (w[0] == "peers") req.mutable_peers();
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

// ---- Key commands (no daemon) ----
//
// The text is what `wg genkey` / `wg pubkey` use: one 44-character base64 key and a newline.
// Secrets go out with write(2), not stdio, so no copy is left in a stdio buffer, and their text
// is wiped on every path, as crypto/ does with its key types.

// Wipes a buffer when the scope ends, also when an exception leaves it.
class WipeOnExit {
 public:
  WipeOnExit(void* data, std::size_t size) : data_(data), size_(size) {}
  ~WipeOnExit() { sodium_memzero(data_, size_); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  void* data_;
  std::size_t size_;
};

void WriteLine(std::string_view text) {
  for (std::string_view rest : {text, std::string_view("\n")}) {
    while (!rest.empty()) {
      const ssize_t n = ::write(STDOUT_FILENO, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw InputError(std::string("cannot write to stdout: ") + std::strerror(errno));
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }
}

// As `wg genkey` does: a key written into a file that others may read is worth a warning now,
// since vswitchd will refuse that file later.
void WarnIfStdoutIsShared(const std::string& command) {
  struct stat st {};
  if (::fstat(STDOUT_FILENO, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) == 0) return;
  std::fprintf(stderr,
               "vswitchctl: warning: the output file is accessible to group or others, so "
               "vswitchd will refuse it; run chmod 600 on it, or create it with "
               "(umask 077; vswitchctl %s > FILE)\n",
               command.c_str());
}

void WriteSecretKey(const std::string& command,
                    std::span<const std::uint8_t, crypto::kKeyBytes> key) {
  WarnIfStdoutIsShared(command);
  std::string text = crypto::EncodeBase64Key(key);
  const WipeOnExit wipe(text.data(), text.size());
  WriteLine(text);
}

std::string_view TrimSpace(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\r\v\f";
  while (!s.empty() && kSpace.find(s.front()) != kSpace.npos) s.remove_prefix(1);
  while (!s.empty() && kSpace.find(s.back()) != kSpace.npos) s.remove_suffix(1);
  return s;
}

// Reads one base64 key from stdin; whitespace around it (a key file's newline) is ignored.
crypto::Key32 ReadKeyFromStdin() {
  // One spare byte: filling the buffer means the input is too long to be a key.
  std::array<char, 128 + 1> text;
  const WipeOnExit wipe(text.data(), text.size());
  std::size_t used = 0;
  while (used < text.size()) {
    const ssize_t n = ::read(STDIN_FILENO, text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw InputError(std::string("cannot read stdin: ") + std::strerror(errno));
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  std::optional<crypto::Key32> key;
  if (used < text.size()) key = crypto::DecodeBase64Key(TrimSpace({text.data(), used}));
  // Never echo the input: it may be a mangled secret.
  if (!key) {
    throw InputError("stdin does not hold a base64 private key of " +
                     std::to_string(crypto::kKeyBase64Chars) +
                     " characters (as printed by vswitchctl genkey)");
  }
  return std::move(*key);
}

// genkey, pubkey and netkey. Returns false when `w` is not one of them.
bool RunKeyCommand(const std::vector<std::string>& w) {
  if (w.empty() || (w[0] != "genkey" && w[0] != "pubkey" && w[0] != "netkey")) return false;
  if (w.size() > 1) RejectWord(w[1]);
  if (w[0] == "genkey") {
    const crypto::KeyPair pair = crypto::GenerateKeyPair();
    WriteSecretKey(w[0], pair.private_key.span());
  } else if (w[0] == "netkey") {
    const crypto::NetworkKey key = crypto::GenerateNetworkKey();
    WriteSecretKey(w[0], key.span());
  } else {
    const crypto::PrivateKey key(ReadKeyFromStdin().span());
    WriteLine(crypto::EncodePublicKey(crypto::DerivePublic(key)));
  }
  return true;
}

// ---- Output ----

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

void PrintText(const std::string& text) { std::fputs(text.c_str(), stdout); }

void PrintResult(const Response& r, bool json) {
  switch (r.result_case()) {
    case Response::kStatus:
      return json ? PrintJson(r.status()) : PrintText(FormatStatus(r.status()));
    case Response::kPorts:
      return json ? PrintJson(r.ports()) : PrintText(FormatPorts(r.ports()));
    case Response::kFdb:
      return json ? PrintJson(r.fdb()) : PrintText(FormatFdb(r.fdb()));
    case Response::kPeers:
      return json ? PrintJson(r.peers()) : PrintText(FormatPeers(r.peers()));
    case Response::kPort: {
      if (json) return PrintJson(r.port());
      control::PortList one;
      *one.add_ports() = r.port();
      return PrintText(FormatPorts(one));
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
              int{Request::kPeers} == int{Response::kPeers} &&
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
  if (RunKeyCommand(options.words)) return 0;
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
} catch (const vdemesh::tools::InputError& e) {
  std::fprintf(stderr, "vswitchctl: %s\n", e.what());
  return 1;
} catch (const std::exception& e) {  // DaemonError, or an allocation failure
  std::fprintf(stderr, "vswitchctl: %s\n", e.what());
  return 2;
}
