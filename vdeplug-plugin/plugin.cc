// plugin.cc: libvdeplug_vdemesh.so, the vdemesh:// plugin of libvdeplug (vdeplug4's module
// interface, libvdeplug_mod.h): `vde_plug vdemesh://lab[vlan=10] tap://tap0`, or
// `qemu -netdev vde,id=n0,sock=vdemesh://lab[vlan=10]`.
//
// It is a VDE client like libvdeplug's own vde:// (wire.h: request_v3 on DIR/ctl, then one
// datagram per frame), with three differences: the URL names a network; it may choose its
// port's VLAN, which vswitchd sets before the first frame moves; and the switch says why it
// refused, which this plugin prints on stderr (the only channel libvdeplug leaves it; errno
// alone would say "connection refused"). Against a stock vde_switch it works as vde:// does,
// unless a VLAN is asked for: that only vswitchd can grant.
//
// Nothing here is per-frame except VdemeshRecv/VdemeshSend, one system call each.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <utility>

extern "C" {
#include <libvdeplug_mod.h>
}

#include "vdeplug-plugin/switch_answer.h"
#include "vdeplug-plugin/vdemesh_url.h"
#include "vswitchd/vde/wire.h"

namespace vdemesh::plugin {
namespace {

using Clock = std::chrono::steady_clock;
// A switch that accepts but never answers must not hang QEMU's start-up forever.
constexpr auto kAnswerTimeout = std::chrono::seconds(5);

// libvdeplug fills in the first two fields after open; the rest is ours.
struct Connection {
  void* handle = nullptr;
  vdeplug_module* module = nullptr;
  int ctl_fd = -1;
  int data_fd = -1;
};

// A failed open: the reason on stderr, errno for the caller.
struct OpenError {
  int error;
  std::string why;
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// The client's data socket, DIR/.vdemesh-PID-N; it is unlinked once the switch has connected
// to it (or the open failed), as vde:// does.
class BoundPath {
 public:
  ~BoundPath() {
    if (!path_.empty()) unlink(path_.c_str());
  }
  void set(std::string path) { path_ = std::move(path); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

sockaddr_un UnixAddress(const std::string& path) {
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  path.copy(sun.sun_path, sizeof sun.sun_path - 1);
  return sun;
}

// Reads exactly `n` bytes unless the stream ends or the deadline passes; the count read.
std::size_t ReadUntil(int fd, char* buf, std::size_t n, Clock::time_point deadline) {
  std::size_t got = 0;
  while (got < n) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    const ssize_t r = read(fd, buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

// Binds the client's data socket in the switch directory and opens it to the switch: 0700 by
// default, as vde:// does, with open_args' group and mode when the program gives them.
void BindDataSocket(int fd, const std::string& dir, const vde_open_args* args, BoundPath* bound) {
  const std::string prefix = dir + "/.vdemesh-" + std::to_string(getpid()) + "-";
  for (int n = 0;; ++n) {
    const std::string path = prefix + std::to_string(n);
    if (path.size() >= sizeof(sockaddr_un::sun_path))
      throw OpenError{ENAMETOOLONG, "switch directory path too long: " + dir};
    const sockaddr_un sun = UnixAddress(path);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&sun), sizeof sun) == 0) {
      bound->set(path);
      break;
    }
    if (errno != EADDRINUSE || n == 1000) throw OpenError{errno, Errno("bind " + path)};
  }
  mode_t mode = args != nullptr && args->mode != 0 ? args->mode : 0700;
  if (args != nullptr && args->group != nullptr) {
    const group* g = getgrnam(args->group);
    if (g == nullptr || chown(bound->path().c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0)
      throw OpenError{EINVAL, "cannot give the data socket to group " + std::string(args->group)};
  } else if ((mode & 077) == 0) {
    // A switch run by another user, not root, could not reach a 0700 socket: share it with the
    // switch's group if we are in it (else with everyone), as vde:// does.
    struct stat ctl;
    if (stat((dir + "/ctl").c_str(), &ctl) == 0 && ctl.st_uid != 0 && ctl.st_uid != geteuid())
      mode |= chown(bound->path().c_str(), static_cast<uid_t>(-1), ctl.st_gid) == 0 ? 070 : 077;
  }
  chmod(bound->path().c_str(), mode);
}

// request_v3 with the extension (wire.h) after the description's NUL; the description is cut
// so that the extension fits.
std::string BuildRequest(const VdemeshUrl& url, const char* descr, const std::string& client) {
  using namespace vde;
  std::string extension = kExtensionMarker;
  if (!url.switch_options.empty()) extension += " " + url.switch_options;
  if (extension.size() + 1 > kMaxDescription)
    throw OpenError{EINVAL, "options too long for a VDE request: " + url.switch_options};
  const std::string description(descr, strnlen(descr, kMaxDescription - extension.size() - 1));

  RequestV3 req{};
  req.magic = kSwitchMagic;
  req.version = kVersion3;
  const bool port0 = url.port && *url.port == 0;
  req.type = port0 ? kReqNewPort0 : kReqNewControl | (url.port.value_or(0) << 8);
  req.sock = UnixAddress(client);
  std::memcpy(req.description, description.data(), description.size());
  std::memcpy(req.description + description.size() + 1, extension.data(), extension.size());
  const std::size_t size = kRequestFixedBytes + description.size() + 1 + extension.size();
  return std::string(reinterpret_cast<const char*>(&req), size);
}

// Reads the switch's answer (switch_answer.h) byte for byte as far as it goes; the address of
// its data socket for us.
sockaddr_un ReadAnswer(int ctl, const VdemeshUrl& url) {
  using Kind = SwitchAnswer::Kind;
  const auto deadline = Clock::now() + kAnswerTimeout;
  char buf[vde::kStatusBytes + vde::kReplyBytes];
  std::size_t got = 0;
  for (;;) {
    const SwitchAnswer a = ParseSwitchAnswer({buf, got}, !url.switch_options.empty());
    switch (a.kind) {
      case Kind::kNeedMore:
        got += ReadUntil(ctl, buf + got, a.need - got, deadline);
        if (got == 0)
          throw OpenError{ECONNREFUSED, url.dir + " closed the connection without an answer"};
        if (got < a.need) throw OpenError{EPROTO, url.dir + " sent a truncated answer"};
        break;
      case Kind::kAddress:
        return a.address;
      case Kind::kRefused:
        throw OpenError{ECONNREFUSED, "refused by " + url.dir + ": " + a.reason};
      case Kind::kNotVswitchd:
        throw OpenError{EPROTONOSUPPORT, url.dir + " is a VDE switch but not vswitchd, which " +
                                             "alone can set " + url.switch_options};
      case Kind::kBad:
        throw OpenError{EPROTO, url.dir + " sent " + a.reason};
    }
  }
}

Connection* Open(const char* given_url, const char* descr, int interface_version,
                 const vde_open_args* args) {
  if (args != nullptr && interface_version != 1)
    throw OpenError{EINVAL, "unknown libvdeplug interface version"};
  std::string why;
  auto url = ParseVdemeshUrl(given_url, &why);
  if (!url) throw OpenError{EINVAL, "vdemesh://" + std::string(given_url) + ": " + why};
  // QEMU's -netdev vde,port=N arrives here, not in the URL.
  if (!url->port && args != nullptr && args->port != 0)
    url->port = args->port < 0 ? 0u : static_cast<std::uint32_t>(args->port);

  Fd ctl(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  Fd data(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (ctl.get() < 0 || data.get() < 0) throw OpenError{errno, Errno("socket")};
  const sockaddr_un ctl_addr = UnixAddress(url->dir + "/ctl");
  if (connect(ctl.get(), reinterpret_cast<const sockaddr*>(&ctl_addr), sizeof ctl_addr) != 0)
    throw OpenError{errno, Errno("no switch at " + url->dir + " (is vswitchd running?)")};

  BoundPath client;
  BindDataSocket(data.get(), url->dir, args, &client);
  const std::string request = BuildRequest(*url, descr, client.path());
  if (send(ctl.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size()))
    throw OpenError{errno, Errno("send to " + url->dir + "/ctl")};
  const sockaddr_un reply = ReadAnswer(ctl.get(), *url);
  if (connect(data.get(), reinterpret_cast<const sockaddr*>(&reply), sizeof reply) != 0)
    throw OpenError{errno, Errno(std::string("connect to ") + reply.sun_path)};

  auto* conn = new Connection;
  conn->ctl_fd = ctl.release();
  conn->data_fd = data.release();
  return conn;
}

VDECONN* VdemeshOpen(char* given_url, char* descr, int interface_version, vde_open_args* args) {
  try {
    return reinterpret_cast<VDECONN*>(Open(given_url, descr, interface_version, args));
  } catch (const OpenError& e) {
    std::fprintf(stderr, "vdemesh: %s\n", e.why.c_str());
    errno = e.error;
  } catch (const std::bad_alloc&) {
    errno = ENOMEM;
  }
  return nullptr;
}

Connection* Conn(VDECONN* c) { return reinterpret_cast<Connection*>(c); }

ssize_t VdemeshRecv(VDECONN* c, void* buf, size_t len, int) {
  return recv(Conn(c)->data_fd, buf, len, 0);
}

ssize_t VdemeshSend(VDECONN* c, const void* buf, size_t len, int) {
  return send(Conn(c)->data_fd, buf, len, 0);
}

int VdemeshDataFd(VDECONN* c) { return Conn(c)->data_fd; }

// Its hangup tells the program that the switch is gone (vde_plug exits on it).
int VdemeshCtlFd(VDECONN* c) { return Conn(c)->ctl_fd; }

int VdemeshClose(VDECONN* c) {
  Connection* conn = Conn(c);
  close(conn->data_fd);
  close(conn->ctl_fd);
  delete conn;
  return 0;
}

}  // namespace
}  // namespace vdemesh::plugin

// libvdeplug looks this symbol up by name in every plugin it loads.
extern "C" {
__attribute__((visibility("default"))) vdeplug_module vdeplug_ops = {
    .flags = 0,
    .vde_open_real = vdemesh::plugin::VdemeshOpen,
    .vde_recv = vdemesh::plugin::VdemeshRecv,
    .vde_send = vdemesh::plugin::VdemeshSend,
    .vde_datafd = vdemesh::plugin::VdemeshDataFd,
    .vde_ctlfd = vdemesh::plugin::VdemeshCtlFd,
    .vde_close = vdemesh::plugin::VdemeshClose,
};
}
