#include "vswitchd/vde/vde_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>

#include "common/log_budget.h"
#include "vswitchd/daemon/logging.h"
#include "vswitchd/vde/request.h"
#include "vswitchd/vde/wire.h"

namespace vdemesh::vde {

namespace asio = boost::asio;
using asio::awaitable;
using asio::local::stream_protocol;
using boost::system::error_code;
constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);
constexpr auto kRequestTimeout = std::chrono::seconds(5);
constexpr const char* kClosedEarly = "closed before sending a request";

namespace {

error_code LastError() { return {errno, boost::system::system_category()}; }

// The status block of the vdemesh extension (wire.h): the text, NUL-padded, cut to fit.
std::string Status(const std::string& text) {
  std::string out = text.substr(0, kStatusBytes - 1);
  out.resize(kStatusBytes, '\0');
  return out;
}

// The answer to an accepted client: the address of its data socket, after the status for a
// vdemesh client (wire.h).
std::string Answer(bool extended, const std::string& data_path) {
  sockaddr_un reply{};
  reply.sun_family = AF_UNIX;
  std::strncpy(reply.sun_path, data_path.c_str(), sizeof reply.sun_path - 1);
  std::string out = extended ? Status(kStatusOk) : std::string();
  out.append(reinterpret_cast<const char*>(&reply), sizeof reply);
  return out;
}

bool IsOurDataSocketName(const char* name) {
  // "NNN.ID" as created by CreateDataSocket().
  const char* dot = std::strchr(name, '.');
  if (dot == nullptr || dot == name || dot[1] == '\0') return false;
  for (const char* p = name; *p != '\0'; ++p)
    if (p != dot && (*p < '0' || *p > '9')) return false;
  return true;
}

// A switch that still listens on DIR/ctl accepts a connection; a dead one's socket refuses.
bool LiveSocketAt(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::strncpy(sun.sun_path, path.c_str(), sizeof sun.sun_path - 1);
  const bool live = connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0;
  close(fd);
  return live;
}

void RemoveStaleSockets(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = readdir(d)) {
    if (!IsOurDataSocketName(e->d_name)) continue;
    const std::string path = dir + "/" + e->d_name;
    struct stat st;
    if (lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path.c_str());
  }
  closedir(d);
}

}  // namespace

struct VdeServer::Impl : std::enable_shared_from_this<Impl> {
  struct PortSlot {
    std::uint32_t users = 0;
    uid_t owner = 0;
    bool reserved = false;  // a TAP: never shared
  };
  struct Client {
    EndpointInfo info;
    std::shared_ptr<stream_protocol::socket> ctl;
  };

  Impl(asio::io_context& io, const Options& o, EndpointSink* s)
      : io(io),
        options(o),
        sink(s),
        acceptor(io),
        ports(o.numports + 1),
        log(daemon::Logger("vde")) {}

  error_code Listen();
  awaitable<void> AcceptLoop();
  awaitable<void> Serve(std::shared_ptr<stream_protocol::socket> sock);
  awaitable<bool> ReadRequest(stream_protocol::socket& sock, Request* req, std::string* why);
  std::optional<std::uint32_t> AcquirePort(const Request& req, uid_t uid, std::string* why);
  void ReleasePort(std::uint32_t port);
  int CreateDataSocket(const Request& req, const ucred& cred, EndpointInfo* info, std::string* why);
  void Shutdown();

  asio::io_context& io;
  Options options;
  EndpointSink* sink;
  stream_protocol::acceptor acceptor;
  std::string ctl_path;
  bool created_dir = false;
  bool shut_down = false;
  std::vector<PortSlot> ports;  // index = port number; 0 only on explicit request
  std::map<std::uint64_t, Client> clients;
  std::uint64_t next_id = 1;
  std::size_t connections = 0;
  std::shared_ptr<spdlog::logger> log;
};

error_code VdeServer::Impl::Listen() {
  const std::string& dir = options.dir;
  ctl_path = dir + "/ctl";
  if (ctl_path.size() >= sizeof(sockaddr_un::sun_path)) return asio::error::name_too_long;
  // The directory is searchable by whoever may read the sockets (vde_switch's -m convention).
  const mode_t dir_mode = options.mode | ((options.mode & 0444) >> 2) | 0700;
  if (mkdir(dir.c_str(), dir_mode) == 0) {
    created_dir = true;
    chmod(dir.c_str(), dir_mode);  // mkdir() applied the umask
  } else if (errno != EEXIST) {
    return LastError();
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) return LastError();
  if (!S_ISDIR(st.st_mode)) return asio::error::not_found;
  if (LiveSocketAt(ctl_path)) return asio::error::address_in_use;
  unlink(ctl_path.c_str());
  RemoveStaleSockets(dir);
  if (options.group && chown(dir.c_str(), static_cast<uid_t>(-1), *options.group) != 0)
    return LastError();

  error_code ec;
  acceptor.open(stream_protocol(), ec);
  if (!ec) acceptor.bind(stream_protocol::endpoint(ctl_path), ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return ec;
  if (chmod(ctl_path.c_str(), options.mode) != 0) return LastError();
  if (options.group && chown(ctl_path.c_str(), static_cast<uid_t>(-1), *options.group) != 0)
    return LastError();
  return {};
}

awaitable<void> VdeServer::Impl::AcceptLoop() {
  auto self = shared_from_this();
  while (!shut_down) {
    auto [ec, sock] = co_await acceptor.async_accept(kUseAwaitable);
    if (shut_down) co_return;
    if (ec) {
      // EMFILE and friends: back off briefly instead of spinning.
      VDEMESH_LOG_LIMITED(log, spdlog::level::warn, "accept on {}: {}", ctl_path, ec.message());
      asio::steady_timer pause(io, std::chrono::milliseconds(100));
      co_await pause.async_wait(kUseAwaitable);
      continue;
    }
    if (connections >= options.max_connections) {
      VDEMESH_LOG_LIMITED(log, spdlog::level::warn, "{}: too many clients, refusing one", ctl_path);
      continue;  // the socket closes as it goes out of scope
    }
    ++connections;
    asio::co_spawn(io, Serve(std::make_shared<stream_protocol::socket>(std::move(sock))),
                   asio::detached);
  }
}

// Reads one request_v3. libvdeplug sends it with one send(), but a stream may split it, so the
// fixed part is read until complete; the description is whatever follows in the same burst.
awaitable<bool> VdeServer::Impl::ReadRequest(stream_protocol::socket& sock, Request* req,
                                             std::string* why) {
  std::array<std::uint8_t, kRequestMaxBytes + 1> buf;  // one extra byte reveals an oversize
  std::size_t got = 0;
  asio::steady_timer deadline(io, kRequestTimeout);
  deadline.async_wait([&sock](error_code ec) {
    if (!ec) sock.cancel();  // a silent client cannot hold its connection slot forever
  });
  while (got < buf.size()) {
    auto [ec, n] = co_await sock.async_read_some(asio::buffer(buf.data() + got, buf.size() - got),
                                                 kUseAwaitable);
    if (ec) {
      *why = ec == asio::error::operation_aborted ? "no request within 5 s"
             : got == 0                           ? kClosedEarly
                                                  : "closed in the middle of a request";
      if (got == 0 || ec == asio::error::operation_aborted) co_return false;
      break;  // parse what arrived: it will be reported as truncated
    }
    got += n;
    error_code avail_ec;
    if (got >= kRequestFixedBytes && sock.available(avail_ec) == 0) break;
  }
  deadline.cancel();
  const RequestError err = ParseRequest(std::span(buf.data(), got), req);
  if (err != RequestError::kNone) {
    *why = std::string(RequestErrorText(err)) + (err == RequestError::kBadOption
                                                     ? ": " + req->option_error
                                                     : " (" + std::to_string(got) + " bytes)");
    co_return false;
  }
  co_return true;
}

std::optional<std::uint32_t> VdeServer::Impl::AcquirePort(const Request& req, uid_t uid,
                                                          std::string* why) {
  std::uint32_t port = 0;
  if (req.port != 0 || req.wants_port0) {
    port = req.port;
    if (port >= ports.size()) {
      *why = "port " + std::to_string(port) + " does not exist (numports " +
             std::to_string(options.numports) + ")";
      return std::nullopt;
    }
    PortSlot& slot = ports[port];
    if (slot.users > 0 && (slot.reserved || (uid != 0 && slot.owner != uid))) {
      *why = "port " + std::to_string(port) + " is in use by another user";
      return std::nullopt;
    }
    // Its VLAN would change under the clients already there.
    if (slot.users > 0 && req.vlan) {
      *why =
          "port " + std::to_string(port) + " is in use; a VLAN can be chosen only for a free port";
      return std::nullopt;
    }
  } else {
    for (port = 1; port < ports.size() && ports[port].users > 0; ++port) {
    }
    if (port == ports.size()) {
      *why = "no free port (numports " + std::to_string(options.numports) + ")";
      return std::nullopt;
    }
  }
  if (ports[port].users++ == 0) ports[port].owner = uid;
  return port;
}

void VdeServer::Impl::ReleasePort(std::uint32_t port) {
  if (--ports[port].users == 0) ports[port] = PortSlot{};
}

// Returns a connected, bound, non-blocking data socket for the client, or -1 with *why set.
int VdeServer::Impl::CreateDataSocket(const Request& req, const ucred& cred, EndpointInfo* info,
                                      std::string* why) {
  const std::string client = req.ClientName();
  // SECURITY: we are probably root and will send frames wherever the client points us, so the
  // target must be a socket the client itself owns (not, say, /dev/log).
  if (req.abstract && cred.uid != 0) {
    *why = "abstract client sockets are accepted from root only";
    return -1;
  }
  struct stat st;
  if (!req.abstract) {
    if (lstat(client.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
      *why = "cannot reach the client's data socket " + client + ": " +
             (errno != 0 ? std::strerror(errno) : "not a socket");
      return -1;
    }
    if (cred.uid != 0 && st.st_uid != cred.uid) {
      *why = "client data socket " + client + " is not owned by the client's uid";
      return -1;
    }
  }
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *why = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  // Room for bursts: a guest's burst should queue in the kernel, not be dropped by us.
  const int bufsize = 1 << 21;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&req.client), sizeof req.client) != 0) {
    *why = "cannot reach the client's data socket " + client + ": " + std::strerror(errno) +
           " (a client whose socket has mode 0 cannot be reached; use mode 0700 or more)";
    close(fd);
    return -1;
  }
  char name[32];
  std::snprintf(name, sizeof name, "/%03u.%llu", info->port,
                static_cast<unsigned long long>(info->id));
  info->data_path = options.dir + name;
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::strncpy(sun.sun_path, info->data_path.c_str(), sizeof sun.sun_path - 1);
  unlink(sun.sun_path);
  // The client owns its data socket, so that it may send there whatever the mode. Only root
  // can give a file away; a switch run by a user leaves it its own, and the mode and group
  // (-m, -g) admit the client, as they admitted it to DIR/ctl.
  const uid_t owner = geteuid() == 0 ? cred.uid : static_cast<uid_t>(-1);
  if (info->data_path.size() >= sizeof sun.sun_path ||
      bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0 ||
      chmod(sun.sun_path, options.mode) != 0 ||
      chown(sun.sun_path, owner, options.group.value_or(static_cast<gid_t>(-1))) != 0) {
    *why = "cannot create data socket " + info->data_path + ": " + std::strerror(errno);
    unlink(sun.sun_path);
    close(fd);
    return -1;
  }
  return fd;
}

awaitable<void> VdeServer::Impl::Serve(std::shared_ptr<stream_protocol::socket> sock) {
  auto self = shared_from_this();
  ucred cred{};
  socklen_t len = sizeof cred;
  getsockopt(sock->native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len);
  // On the heap: each holds a VLAN set of 512 bytes, which GCC 12 does not keep in a
  // coroutine frame cleanly (-Wmismatched-new-delete on asio's frame allocator).
  const auto request = std::make_unique<Request>();
  const auto endpoint = std::make_unique<EndpointInfo>();
  Request& req = *request;
  EndpointInfo& info = *endpoint;
  std::string why;
  int fd = -1;
  if (co_await ReadRequest(*sock, &req, &why)) {
    if (auto port = AcquirePort(req, cred.uid, &why)) {
      info = {next_id++, *port, req.description, cred.uid, cred.pid, {}, req.vlan};
      fd = CreateDataSocket(req, cred, &info, &why);
      if (fd < 0) ReleasePort(*port);
    }
  }
  if (fd < 0 || shut_down) {
    if (fd >= 0) close(fd);
    if (req.extended && !shut_down) {
      // 128 bytes into a fresh stream's empty buffer: this write does not wait.
      error_code ignored;
      asio::write(*sock, asio::buffer(Status(kStatusError + why)), ignored);
    }
    // A connect-and-close is a liveness probe (ours at start-up, or a script's), not an error.
    const auto level = why == kClosedEarly ? spdlog::level::debug : spdlog::level::warn;
    VDEMESH_LOG_LIMITED(log, level, "{}: refused client pid={} uid={}: {}", options.dir, cred.pid,
                        cred.uid, why);
    --connections;
    co_return;
  }
  const std::string answer = Answer(req.extended, info.data_path);
  auto [wec, wn] = co_await asio::async_write(*sock, asio::buffer(answer), kUseAwaitable);
  if (!wec && !shut_down) {
    clients[info.id] = {info, sock};
    sink->OnEndpointOpened(info, fd);
    fd = -1;
    log->info("port {} plugged: \"{}\" pid={} uid={}{}", info.port, info.description, cred.pid,
              cred.uid, info.vlan ? ", " + info.vlan->ToString() : "");
    // Nothing more is expected on the control stream; EOF (or any error) unplugs the client.
    std::array<char, 256> sink_buf;
    for (;;) {
      auto [ec, n] = co_await sock->async_read_some(asio::buffer(sink_buf), kUseAwaitable);
      if (ec || shut_down) break;
    }
    if (!shut_down) {
      sink->OnEndpointClosed(info);
      log->info("port {} unplugged: \"{}\" pid={}", info.port, info.description, cred.pid);
    }
    clients.erase(info.id);
  }
  if (fd >= 0) close(fd);
  if (!shut_down) {
    unlink(info.data_path.c_str());
    ReleasePort(info.port);
  }
  --connections;
}

void VdeServer::Impl::Shutdown() {
  if (shut_down) return;
  shut_down = true;
  error_code ignored;
  acceptor.close(ignored);
  for (auto& [id, c] : clients) {
    c.ctl->close(ignored);
    unlink(c.info.data_path.c_str());
  }
  clients.clear();
  unlink(ctl_path.c_str());
  if (created_dir) rmdir(options.dir.c_str());
}

boost::system::result<std::unique_ptr<VdeServer>> VdeServer::Create(asio::io_context& io,
                                                                    const Options& options,
                                                                    EndpointSink* sink) {
  auto impl = std::make_shared<Impl>(io, options, sink);
  if (error_code ec = impl->Listen()) return ec;
  asio::co_spawn(io, impl->AcceptLoop(), asio::detached);
  return std::unique_ptr<VdeServer>(new VdeServer(std::move(impl)));
}

VdeServer::~VdeServer() { impl_->Shutdown(); }

std::optional<std::uint32_t> VdeServer::ReservePort() {
  auto& ports = impl_->ports;
  for (std::uint32_t p = 1; p < ports.size(); ++p) {
    if (ports[p].users == 0) {
      ports[p] = {1, 0, true};
      return p;
    }
  }
  return std::nullopt;
}

std::vector<EndpointInfo> VdeServer::Endpoints() const {
  std::vector<EndpointInfo> out;
  for (const auto& [id, c] : impl_->clients) out.push_back(c.info);
  return out;
}

std::uint32_t VdeServer::ports_in_use() const {
  std::uint32_t n = 0;
  for (const auto& slot : impl_->ports) n += slot.users > 0 ? 1 : 0;
  return n;
}

}  // namespace vdemesh::vde
