// netns_fixture.cc: see netns_fixture.h for the topology, ownership and cleanup rules.
#include "netns_fixture.h"

#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace vdemesh::itest {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kTmpPrefix = "vdm-it.";
constexpr Millis kStopGrace = 3s;

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// In the child after fork(): never returns. Only async-signal-safe calls until exec.
[[noreturn]] void ExecChild(const std::vector<char*>& argv, int stdin_fd, int out_fd, int err_fd,
                            pid_t parent) {
  setpgid(0, 0);
  // A test process that dies (ctest timeout, crash) takes its children along.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  dup2(stdin_fd, STDIN_FILENO);
  dup2(out_fd, STDOUT_FILENO);
  dup2(err_fd, STDERR_FILENO);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execvp(argv[0], argv.data());
  const char msg[] = "exec failed: ";
  (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)!write(STDERR_FILENO, argv[0], strlen(argv[0]));
  (void)!write(STDERR_FILENO, "\n", 1);
  _exit(127);
}

std::vector<char*> CArgv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const std::string& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

std::string Join(const std::vector<std::string>& argv) {
  std::string s;
  for (const std::string& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

// Alive and not a zombie (a zombie has exited; only its parent has not looked yet).
bool ProcessExists(pid_t pid) {
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  const std::size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

// Namespaces and temp dirs of test processes that died without their TearDown (SIGKILL by a
// ctest timeout) carry the dead PID in their name; remove them so they cannot pile up.
void RemoveLeftoversOfDeadRuns() {
  static const std::regex ns_re("vdm([0-9]+)g[0-9]+");
  const CommandResult list = RunCommand({"ip", "netns", "list"}, 5s);
  std::istringstream lines(list.out);
  std::string line;
  for (int i = 0; i < 1000 && std::getline(lines, line); ++i) {
    std::smatch m;
    const std::string name = line.substr(0, line.find(' '));
    if (std::regex_match(name, m, ns_re) && !ProcessExists(std::stoi(m[1])))
      RunCommand({"ip", "netns", "del", name}, 5s);
  }
  static const std::regex dir_re(std::string("vdm-it\\.([0-9]+)\\..*"));
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/tmp", ec)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (std::regex_match(name, m, dir_re) && !ProcessExists(std::stoi(m[1])))
      fs::remove_all(entry.path(), ec);
  }
}

template <class Message>
Message ParseJson(const CommandResult& r, const std::string& what) {
  if (!r.ok()) throw FixtureError("vswitchctl " + what + " failed: " + ::testing::PrintToString(r));
  Message m;
  const auto status = google::protobuf::util::JsonStringToMessage(r.out, &m);
  if (!status.ok())
    throw FixtureError("vswitchctl --json " + what + " does not parse as " +
                       m.GetDescriptor()->full_name() + " (" + status.ToString() + "): " + r.out);
  return m;
}

std::optional<pid_t> PidInDescription(const std::string& descr) {
  static const std::regex re("[Pp][Ii][Dd]=([0-9]+)");
  std::smatch m;
  if (!std::regex_search(descr, m, re)) return std::nullopt;
  return static_cast<pid_t>(std::stol(m[1]));
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const CommandResult& r) {
  os << "{exit " << r.exit_code << (r.timed_out ? ", TIMED OUT" : "") << ", stdout \"" << r.out
     << "\", stderr \"" << r.err << "\"}";
  return os;
}

CommandResult RunCommand(const std::vector<std::string>& argv, Millis timeout) {
  CommandResult r;
  int out[2];
  int err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return r;
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return r;
  }
  const int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const std::vector<char*> cargv = CArgv(argv);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) ExecChild(cargv, devnull, out[1], err[1], parent);
  close(out[1]);
  close(err[1]);
  close(devnull);
  if (pid < 0) {
    close(out[0]);
    close(err[0]);
    r.err = std::string("fork: ") + std::strerror(errno);
    return r;
  }
  setpgid(pid, pid);

  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  const auto deadline = Clock::now() + timeout;
  auto drain_deadline = Clock::time_point::max();
  int status = 0;
  bool exited = false;
  for (;;) {
    const auto now = Clock::now();
    if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      drain_deadline = now + 200ms;
    }
    const bool open = fds[0].fd >= 0 || fds[1].fd >= 0;
    if (exited && (!open || now >= drain_deadline)) break;
    if (now >= deadline) {
      r.timed_out = true;
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      if (!exited) waitpid(pid, &status, 0);
      break;
    }
    if (!open) {
      std::this_thread::sleep_for(10ms);
      continue;
    }
    if (poll(fds, 2, 20) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
      }
    }
  }
  for (pollfd& p : fds)
    if (p.fd >= 0) close(p.fd);
  r.exit_code = DecodeWaitStatus(status);
  return r;
}

bool WaitUntil(const std::function<bool()>& cond, Millis timeout, Millis interval) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    try {
      if (cond()) return true;
    } catch (const FixtureError&) {
      // Not there yet: the daemon may still be starting.
    }
    if (Clock::now() + interval > deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Tail(const std::string& path, int lines) {
  std::istringstream in(ReadFile(path));
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (static_cast<int>(last.size()) > lines) last.pop_front();
  }
  std::string s;
  for (const std::string& l : last) s += "    " + l + "\n";
  return s;
}

bool CanConnect(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

std::optional<long> RssKiB(pid_t pid) {
  std::istringstream in(ReadFile("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return std::nullopt;
}

std::uint64_t Drops(const google::protobuf::Map<std::string, std::uint64_t>& drops,
                    const std::string& reason) {
  const auto it = drops.find(reason);
  return it == drops.end() ? 0 : it->second;
}

// ---- NetnsTest: lifetime ----

void NetnsTest::SetUp() {
  if (geteuid() != 0)
    GTEST_SKIP() << "integration tests need root (network namespaces, TAP devices)";
  // sbin is not on every user's PATH; ip and vde_switch live there or in /usr/bin.
  const std::string path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
  if (path.find("/usr/sbin") == std::string::npos)
    setenv("PATH", (path + ":/usr/sbin:/sbin").c_str(), 1);
  if (!RunCommand({"ip", "-V"}, 5s).ok()) GTEST_SKIP() << "the ip command (iproute2) is missing";
  // vde_plug and vde_frame_tool find the vdemesh:// plugin of this build, and libvdeplug's own
  // plugins (tap://, null://...) where they are installed.
  setenv("VDEPLUGIN_PATH", VDEMESH_PLUGIN_DIR ":" VDEPLUG_SYSTEM_PLUGIN_DIR, 1);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  RemoveLeftoversOfDeadRuns();
  std::string templ = "/tmp/" + std::string(kTmpPrefix) + std::to_string(getpid()) + ".XXXXXX";
  if (mkdtemp(templ.data()) == nullptr)
    throw FixtureError(std::string("mkdtemp: ") + std::strerror(errno));
  tmp_ = templ;
}

void NetnsTest::TearDown() { Cleanup(); }

NetnsTest::~NetnsTest() { Cleanup(); }

void NetnsTest::Cleanup() {
  if (cleaned_) return;
  cleaned_ = true;
  StopAll();
  for (const std::string& ns : namespaces_) {
    const CommandResult r = RunCommand({"ip", "netns", "del", ns}, 10s);
    if (!r.ok()) std::fprintf(stderr, "[fixture] ip netns del %s: %s\n", ns.c_str(), r.err.c_str());
  }
  namespaces_.clear();
  if (tmp_.empty()) return;
  if (::testing::Test::HasFailure()) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(tmp_, ec)) {
      if (entry.path().extension() != ".log") continue;
      std::fprintf(stderr, "[fixture] last lines of %s:\n%s", entry.path().c_str(),
                   Tail(entry.path(), 40).c_str());
    }
  }
  std::error_code ec;
  fs::remove_all(tmp_, ec);
}

// Stops clients before the switches they are plugged into: newest first.
void NetnsTest::StopAll() {
  for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
    const bool same_process =
        !it->adopted || ReadFile("/proc/" + std::to_string(it->pid) + "/comm") == it->comm;
    if (!it->exit_code && same_process) Stop(it->pid, SIGTERM, kStopGrace);
    if (it->stdin_fd >= 0) close(it->stdin_fd);
    it->stdin_fd = -1;
  }
  // Grandchildren of ours that were orphaned (a daemon's helpers) were handed to us as the
  // subreaper; collect them. Bounded: each call reaps one.
  for (int i = 0; i < 1000 && waitpid(-1, nullptr, WNOHANG) > 0; ++i) {
  }
}

// ---- processes ----

NetnsTest::Child* NetnsTest::FindChild(pid_t pid) {
  for (Child& c : children_)
    if (c.pid == pid) return &c;
  return nullptr;
}

std::string NetnsTest::LogPath(const std::string& name) const { return tmp_ + "/" + name + ".log"; }

pid_t NetnsTest::Spawn(const std::vector<std::string>& argv, const std::string& name,
                       const SpawnOptions& opts) {
  std::vector<std::string> full;
  if (!opts.netns.empty()) full = {"ip", "netns", "exec", opts.netns};
  full.insert(full.end(), argv.begin(), argv.end());
  const std::string log = LogPath(name);
  const int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw FixtureError("open " + log + ": " + std::strerror(errno));
  int in[2] = {-1, -1};
  if (opts.stdin_pipe ? pipe2(in, O_CLOEXEC) != 0
                      : (in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
    close(log_fd);
    throw FixtureError(std::string("stdin for ") + name + ": " + std::strerror(errno));
  }
  const std::vector<char*> cargv = CArgv(full);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) ExecChild(cargv, in[0], log_fd, log_fd, parent);
  close(log_fd);
  close(in[0]);
  if (pid < 0) {
    if (in[1] >= 0) close(in[1]);
    throw FixtureError(std::string("fork: ") + std::strerror(errno));
  }
  setpgid(pid, pid);
  children_.push_back(Child{pid, name, in[1], false, "", std::nullopt});
  std::fprintf(stderr, "[fixture] started %s (pid %d): %s\n", name.c_str(), pid,
               Join(full).c_str());
  return pid;
}

void NetnsTest::Adopt(pid_t pid) {
  if (FindChild(pid) != nullptr) return;
  children_.push_back(
      Child{pid, "adopted", -1, true, ReadFile("/proc/" + std::to_string(pid) + "/comm"), {}});
}

std::optional<int> NetnsTest::WaitExit(pid_t pid, Millis timeout) {
  Child* child = FindChild(pid);
  if (child != nullptr && child->exit_code) return child->exit_code;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    std::optional<int> code;
    if (r == pid) code = DecodeWaitStatus(status);
    // Not our child (an adopted process whose parent is still alive): watch /proc instead.
    if (r < 0 && errno == ECHILD && !ProcessExists(pid)) code = -1;
    if (code) {
      if (child != nullptr) child->exit_code = code;
      return code;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

bool NetnsTest::Running(pid_t pid) { return !WaitExit(pid, 0ms).has_value(); }

std::optional<int> NetnsTest::Stop(pid_t pid, int sig, Millis grace) {
  if (auto code = WaitExit(pid, 0ms)) return code;
  kill(pid, sig);
  if (auto code = WaitExit(pid, grace)) return code;
  std::fprintf(stderr, "[fixture] pid %d ignored signal %d for %lld ms; SIGKILL\n", pid, sig,
               static_cast<long long>(grace.count()));
  kill(pid, SIGKILL);
  return WaitExit(pid, 5s);
}

// ---- namespaces and guests ----

std::string NetnsTest::NewNamespace() {
  static int counter = 0;
  const std::string ns = "vdm" + std::to_string(getpid()) + "g" + std::to_string(++counter);
  const CommandResult r = RunCommand({"ip", "netns", "add", ns}, 10s);
  if (!r.ok()) throw FixtureError("ip netns add " + ns + ": " + ::testing::PrintToString(r));
  namespaces_.push_back(ns);
  RunCommand({"ip", "-n", ns, "link", "set", "lo", "up"}, 5s);
  return ns;
}

CommandResult NetnsTest::InNamespace(const std::string& ns, const std::vector<std::string>& argv,
                                     Millis timeout) {
  std::vector<std::string> full = {"ip", "netns", "exec", ns};
  full.insert(full.end(), argv.begin(), argv.end());
  return RunCommand(full, timeout);
}

pid_t NetnsTest::PlugTap(const std::string& ns, const std::string& url, const std::string& ifname,
                         const std::string& cidr, const std::string& descr) {
  const pid_t pid = Spawn({"vde_plug", "-D", descr, url, "tap://" + ifname},
                          ns + "-" + ifname + "-vde_plug", {.netns = ns});
  // vde_plug opens the switch first and the TAP second, so once the interface exists the
  // switch has answered the request and the port is up.
  const bool up = WaitUntil(
      [&] {
        return !Running(pid) || RunCommand({"ip", "-n", ns, "link", "show", ifname}, 5s).ok();
      },
      10s);
  if (!up || !Running(pid))
    throw FixtureError("vde_plug did not create " + ifname + " in " + ns + " on " + url + ":\n" +
                       Tail(LogPath(ns + "-" + ifname + "-vde_plug"), 20));
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"ip", "-n", ns, "addr", "add", cidr, "dev", ifname},
        std::vector<std::string>{"ip", "-n", ns, "link", "set", ifname, "up"}}) {
    const CommandResult r = RunCommand(cmd, 5s);
    if (!r.ok()) throw FixtureError(Join(cmd) + ": " + ::testing::PrintToString(r));
  }
  return pid;
}

Guest NetnsTest::AddGuest(const std::string& url, const std::string& cidr) {
  Guest g;
  g.ns = NewNamespace();
  g.ip = cidr.substr(0, cidr.find('/'));
  g.descr = "vdm-guest-" + g.ns;
  g.plug_pid = PlugTap(g.ns, url, "tap0", cidr, g.descr);
  g.mac = MacOf(g.ns, "tap0");
  return g;
}

std::string NetnsTest::MacOf(const std::string& ns, const std::string& ifname) {
  const CommandResult link = RunCommand({"ip", "-n", ns, "-j", "link", "show", "dev", ifname});
  static const std::regex mac_re("\"address\":\"([0-9a-fA-F:]{17})\"");
  std::smatch m;
  if (!std::regex_search(link.out, m, mac_re))
    throw FixtureError("no MAC for " + ifname + " in " + ns + ": " +
                       ::testing::PrintToString(link));
  std::string mac = m[1];
  for (char& c : mac) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return mac;
}

PingResult NetnsTest::Ping(const std::string& from_ns, const std::string& ip, int count) {
  const CommandResult r =
      InNamespace(from_ns, {"ping", "-n", "-c", std::to_string(count), "-W", "1", "-i", "0.2", ip},
                  Millis(count * 1000 + 5000));
  PingResult p;
  p.out = r.out + r.err;
  static const std::regex re("([0-9]+) packets transmitted, ([0-9]+) (packets )?received");
  std::smatch m;
  if (std::regex_search(r.out, m, re)) {
    p.sent = std::stoi(m[1]);
    p.received = std::stoi(m[2]);
  }
  return p;
}

// ---- switches ----

Switch NetnsTest::StartSwitch(const std::vector<std::string>& extra_args) {
  const std::string n = std::to_string(++switches_);
  return StartSwitchAt(tmp_ + "/sw" + n, tmp_ + "/ctl" + n + ".sock", extra_args);
}

Switch NetnsTest::StartSwitchAt(const std::string& dir, const std::string& control,
                                const std::vector<std::string>& extra_args) {
  return StartSwitchInNamespace("", dir, control, "vswitchd-" + fs::path(dir).filename().string(),
                                extra_args);
}

Switch NetnsTest::StartSwitchInNamespace(const std::string& netns, const std::string& dir,
                                         const std::string& control, const std::string& name,
                                         const std::vector<std::string>& extra_args) {
  Switch sw;
  sw.dir = dir;
  sw.control = control;
  const std::string log_name = name + "-" + std::to_string(children_.size());
  sw.log = LogPath(log_name);
  std::vector<std::string> argv = {VSWITCHD_BIN, "--control", control, "--log-level", "debug"};
  if (!dir.empty()) argv.insert(argv.end(), {"-s", dir});
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  sw.pid = Spawn(argv, log_name, {.netns = netns});
  const bool ready = WaitUntil(
      [&] {
        return !Running(sw.pid) ||
               ((dir.empty() || CanConnect(dir + "/ctl")) && CanConnect(control));
      },
      10s);
  if (!ready || !Running(sw.pid))
    throw FixtureError("vswitchd did not come up on " + dir +
                       (netns.empty() ? "" : " in " + netns) + ":\n" + Tail(sw.log, 30));
  control_ = control;
  return sw;
}

Switch NetnsTest::StartVdeSwitch() {
  const std::string n = std::to_string(++switches_);
  Switch sw;
  sw.dir = tmp_ + "/vsw" + n;
  sw.mgmt = tmp_ + "/vsw" + n + ".mgmt";
  sw.log = LogPath("vde_switch" + n);
  // Foreground, as the tests run vswitchd; vde_switch leaves when its stdin closes, so it gets
  // a pipe that the fixture holds until TearDown.
  sw.pid =
      Spawn({"vde_switch", "-s", sw.dir, "-M", sw.mgmt}, "vde_switch" + n, {.stdin_pipe = true});
  const bool ready = WaitUntil(
      [&] { return !Running(sw.pid) || (CanConnect(sw.dir + "/ctl") && CanConnect(sw.mgmt)); },
      10s);
  if (!ready || !Running(sw.pid))
    throw FixtureError("vde_switch did not come up on " + sw.dir + ":\n" + Tail(sw.log, 30));
  return sw;
}

std::string NetnsTest::VdeSwitchCommand(const Switch& sw, const std::string& command) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, sw.mgmt.c_str(), sizeof addr.sun_path - 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) close(fd);
    throw FixtureError("cannot connect to vde_switch management socket " + sw.mgmt);
  }
  // The switch greets with a banner and the prompt "vde$ ", and ends every reply with it.
  auto read_to_prompt = [fd](std::string* text) {
    const auto deadline = Clock::now() + 3s;
    while (text->find("vde$ ") == std::string::npos && Clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      char buf[4096];
      if (poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      text->append(buf, static_cast<std::size_t>(n));
    }
    return text->find("vde$ ") != std::string::npos;
  };
  std::string banner;
  std::string reply;
  const std::string line = command + "\n";
  const bool ok =
      read_to_prompt(&banner) &&
      send(fd, line.data(), line.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(line.size()) &&
      read_to_prompt(&reply);
  close(fd);
  if (!ok) throw FixtureError("vde_switch did not answer '" + command + "': " + reply);
  return reply.substr(0, reply.find("vde$ "));
}

// ---- vswitchctl ----

CommandResult NetnsTest::Ctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {VSWITCHCTL_BIN, "--control", control_};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, 10s);
}

control::PortList NetnsTest::Ports() {
  return ParseJson<control::PortList>(Ctl({"--json", "ports"}), "ports");
}

control::FdbList NetnsTest::Fdb() {
  return ParseJson<control::FdbList>(Ctl({"--json", "fdb"}), "fdb");
}

control::Status NetnsTest::Status() {
  return ParseJson<control::Status>(Ctl({"--json", "status"}), "status");
}

std::optional<control::Port> NetnsTest::FindPort(const control::PortList& ports, pid_t client_pid) {
  for (const control::Port& port : ports.ports())
    for (const control::Endpoint& ep : port.endpoints())
      if (PidInDescription(ep.description()) == client_pid) return port;
  return std::nullopt;
}

control::Port NetnsTest::PortOf(pid_t client_pid) {
  std::optional<control::Port> port;
  WaitUntil([&] { return (port = FindPort(Ports(), client_pid)).has_value(); }, 5s);
  if (!port)
    throw FixtureError("no port of the switch has a client with pid=" + std::to_string(client_pid) +
                       "; ports: " + Ports().DebugString());
  return *port;
}

// ---- overlay ----

control::PeerList NetnsTest::Peers(const std::string& network) {
  if (!network.empty())
    return ParseJson<control::PeerList>(Ctl({"--json", "--network", network, "peers"}), "peers");
  return ParseJson<control::PeerList>(Ctl({"--json", "peers"}), "peers");
}

std::string NetnsTest::NewNetworkKeyFile(const std::string& name) {
  const CommandResult key = RunCommand({VSWITCHCTL_BIN, "netkey"}, 5s);
  if (!key.ok()) throw FixtureError("vswitchctl netkey: " + ::testing::PrintToString(key));
  const std::string path = tmp_ + "/" + name;
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw FixtureError("create " + path + ": " + std::strerror(errno));
  const bool ok = write(fd, key.out.data(), key.out.size()) == static_cast<ssize_t>(key.out.size());
  close(fd);
  if (!ok) throw FixtureError("write " + path + ": " + std::strerror(errno));
  return path;
}

}  // namespace vdemesh::itest
