// control_server.cc: the accept loop and one coroutine per client connection.
//
// Thread affinity: every coroutine, timer and the destructor run on the control io_context.
// Ownership: ControlServer owns Impl through a shared_ptr that the accept loop and each
// connection coroutine also hold, and each coroutine holds its Connection. The destructor only
// closes sockets and sets `closed`; the coroutines then resume with operation_aborted and free
// their state themselves, so nothing is freed under a suspended coroutine.
// Invariant: the handler is never called once `closed` is set (it may capture objects that die
// with the daemon), and at most kMaxClients connections are open.
// Memory per connection: the input buffer holds at most one frame (a varint and
// kMaxRequestBytes) plus one read chunk, because it is only read into while it holds no
// complete frame.
#include "vswitchd/control/control_server.h"

#include <google/protobuf/io/coded_stream.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <string_view>
#include <unordered_set>
#include <utility>

namespace vdemesh::control {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using Protocol = asio::local::stream_protocol;
constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);

// A client that neither completes a request nor reads its reply for this long is dropped, so
// dead clients do not hold one of the kMaxClients slots forever.
constexpr std::chrono::seconds kIdleTimeout{30};
// After an accept error other than cancellation (EMFILE, ENOBUFS), wait before retrying
// instead of spinning on the same error.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
constexpr std::size_t kReadChunkBytes = 4096;

// System-category codes, like asio's own: they equal both asio::error::address_in_use (what
// the daemon tests for) and the portable errc::address_in_use condition.
error_code ErrnoCode(int err) { return error_code(err, boost::system::system_category()); }

std::shared_ptr<spdlog::logger> ControlLogger() {
  auto logger = spdlog::get("control");
  return logger ? logger : spdlog::default_logger();
}

// One delimited message at the front of a buffer, as far as its bytes have arrived.
struct Frame {
  enum class Kind : std::uint8_t { kIncomplete, kTooLarge, kComplete };
  Kind kind = Kind::kIncomplete;
  std::size_t header_bytes = 0;
  std::size_t body_bytes = 0;
};

Frame PeekFrame(std::string_view buf, std::size_t max_body) {
  std::size_t len = 0;
  // SECURITY: a uint32 varint has at most 5 bytes; checking the bound at every byte keeps the
  // shift in range and rejects a huge length before a single body byte is buffered.
  for (std::size_t i = 0; i < buf.size() && i < 5; ++i) {
    const auto byte = static_cast<std::uint8_t>(buf[i]);
    len |= static_cast<std::size_t>(byte & 0x7f) << (7 * i);
    if (len > max_body) return {Frame::Kind::kTooLarge};
    if ((byte & 0x80) == 0) {
      const bool whole = buf.size() - (i + 1) >= len;
      return {whole ? Frame::Kind::kComplete : Frame::Kind::kIncomplete, i + 1, len};
    }
  }
  // Five continuation bytes would be a length above 2^35: not a frame we accept.
  return {buf.size() >= 5 ? Frame::Kind::kTooLarge : Frame::Kind::kIncomplete};
}

std::string EncodeDelimited(const Response& response) {
  std::array<std::uint8_t, 5> header{};
  const auto* end = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(
      static_cast<std::uint32_t>(response.ByteSizeLong()), header.data());
  std::string out(reinterpret_cast<const char*>(header.data()), end - header.data());
  response.AppendToString(&out);
  return out;
}

// A path must fit sockaddr_un, or asio's endpoint constructor would throw.
bool FitsSockaddr(const std::string& path) {
  return !path.empty() && path.size() < sizeof(sockaddr_un{}.sun_path);
}

// Creates every missing directory above `path`, each with mode 0755 (less the umask).
error_code MakeParentDirs(const std::string& path) {
  std::filesystem::path prefix;
  for (const auto& part : std::filesystem::path(path).parent_path()) {
    prefix /= part;
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoCode(errno);
  }
  return {};
}

// Decides whether a socket file at `path` belongs to a live server. A raw non-blocking
// connect is used because a live server with a full backlog answers EAGAIN, where a blocking
// connect (and asio's, which polls until done) would hang.
error_code ProbeExisting(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoCode(errno);
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int err = rc == 0 ? 0 : errno;
  ::close(fd);
  if (err == 0 || err == EAGAIN || err == EINPROGRESS) return ErrnoCode(EADDRINUSE);
  return ErrnoCode(err);
}

// Removes a socket file left by a dead server; refuses a live server's socket and any file
// that is not a socket (a typo in --control must not delete someone's data).
error_code RemoveStaleSocket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT ? error_code() : ErrnoCode(errno);
  if (!S_ISSOCK(st.st_mode)) return ErrnoCode(EEXIST);
  const error_code probe = ProbeExisting(path);
  if (probe != boost::system::errc::connection_refused) return probe;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoCode(errno);
  return {};
}

void RethrowEscaped(const std::exception_ptr& e) {
  // Our coroutines use error codes; an exception here is a bug (or bad_alloc) and must stop
  // the process loudly rather than vanish, which is what asio::detached would do.
  if (e) std::rethrow_exception(e);
}

}  // namespace

struct ControlServer::Impl {
  // One client. The coroutine serving it holds the only long-lived reference besides the
  // `connections` set, which the destructor clears after closing the socket.
  struct Connection {
    explicit Connection(Protocol::socket s) : socket(std::move(s)), idle(socket.get_executor()) {}
    // Makes the pending read or write fail, so that Serve() ends and frees this connection;
    // the idle timer's wait is cancelled then, by the timer's destructor.
    void Close() {
      error_code ignored;
      socket.close(ignored);
    }
    Protocol::socket socket;
    asio::steady_timer idle;
    std::string in;  // bytes received and not yet consumed
    std::array<char, kReadChunkBytes> chunk{};
  };
  using ConnectionPtr = std::shared_ptr<Connection>;

  Impl(asio::io_context& io, Handler h)
      : acceptor(io), handler(std::move(h)), log(ControlLogger()) {}

  error_code Listen(const std::string& path);
  void Shutdown();
  static void Admit(const std::shared_ptr<Impl>& self, Protocol::socket socket);
  Response CallHandler(const Request& request);
  static asio::awaitable<void> AcceptLoop(std::shared_ptr<Impl> self);
  static asio::awaitable<void> Serve(std::shared_ptr<Impl> self, ConnectionPtr conn);
  static asio::awaitable<bool> ReadRequest(Impl& self, Connection& conn, Request& request);
  static asio::awaitable<bool> WriteResponse(Impl& self, Connection& conn, const Response& r);
  static void ArmIdleTimer(const ConnectionPtr& conn);

  Protocol::acceptor acceptor;
  Handler handler;
  std::shared_ptr<spdlog::logger> log;
  std::unordered_set<ConnectionPtr> connections;
  bool bound = false;   // the socket file is ours to unlink
  bool closed = false;  // the destructor ran; no handler calls from here on
};

error_code ControlServer::Impl::Listen(const std::string& path) {
  error_code ec;
  acceptor.open(Protocol(), ec);
  if (!ec) acceptor.bind(Protocol::endpoint(path), ec);
  if (ec) return ec;
  bound = true;
  // The socket is created with the umask's mode; the group (e.g. a vdemesh admin group) gets
  // access, other users do not.
  if (::chmod(path.c_str(), 0660) != 0) return ErrnoCode(errno);
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  return ec;
}

void ControlServer::Impl::Shutdown() {
  closed = true;
  error_code ignored;
  acceptor.close(ignored);
  for (const auto& conn : connections) conn->Close();
  connections.clear();
  handler = nullptr;  // release whatever it captured now, not when the last coroutine ends
}

asio::awaitable<void> ControlServer::Impl::AcceptLoop(std::shared_ptr<Impl> self) {
  asio::steady_timer retry(self->acceptor.get_executor());
  for (;;) {
    auto [ec, socket] = co_await self->acceptor.async_accept(kUseAwaitable);
    if (self->closed) co_return;
    if (!ec) {
      Admit(self, std::move(socket));
      continue;
    }
    self->log->warn("control: accept failed: {}", ec.message());
    retry.expires_after(kAcceptRetryDelay);
    co_await retry.async_wait(kUseAwaitable);
  }
}

void ControlServer::Impl::Admit(const std::shared_ptr<Impl>& self, Protocol::socket socket) {
  if (self->connections.size() >= kMaxClients) {
    self->log->warn("control: {} clients already connected; refusing another", kMaxClients);
    error_code ignored;
    socket.close(ignored);
    return;
  }
  auto conn = std::make_shared<Connection>(std::move(socket));
  self->connections.insert(conn);
  asio::co_spawn(self->acceptor.get_executor(), Serve(self, std::move(conn)), RethrowEscaped);
}

asio::awaitable<void> ControlServer::Impl::Serve(std::shared_ptr<Impl> self, ConnectionPtr conn) {
  Request request;
  for (;;) {
    // One deadline covers reading a request and writing its reply.
    ArmIdleTimer(conn);
    if (!co_await ReadRequest(*self, *conn, request)) break;
    // A read may complete in the same turn as the destructor; its handler must not run.
    if (self->closed) break;
    if (!co_await WriteResponse(*self, *conn, self->CallHandler(request))) break;
  }
  conn->Close();
  self->connections.erase(conn);
}

void ControlServer::Impl::ArmIdleTimer(const ConnectionPtr& conn) {
  conn->idle.expires_after(kIdleTimeout);
  conn->idle.async_wait([weak = std::weak_ptr<Connection>(conn)](error_code ec) {
    if (ec) return;  // re-armed or closed
    // Closing makes the pending read or write fail, and Serve() cleans up as usual.
    if (auto c = weak.lock()) c->Close();
  });
}

asio::awaitable<bool> ControlServer::Impl::ReadRequest(Impl& self, Connection& conn,
                                                       Request& request) {
  for (;;) {
    const Frame frame = PeekFrame(conn.in, kMaxRequestBytes);
    if (frame.kind == Frame::Kind::kTooLarge) {
      self.log->warn("control: request length exceeds {} bytes; closing connection",
                     kMaxRequestBytes);
      co_return false;
    }
    if (frame.kind == Frame::Kind::kComplete) {
      const bool ok = request.ParseFromArray(conn.in.data() + frame.header_bytes,
                                             static_cast<int>(frame.body_bytes));
      conn.in.erase(0, frame.header_bytes + frame.body_bytes);
      if (!ok) self.log->warn("control: request does not parse; closing connection");
      co_return ok;
    }
    auto [ec, n] = co_await conn.socket.async_read_some(asio::buffer(conn.chunk), kUseAwaitable);
    if (ec) {
      if (ec == asio::error::eof && !conn.in.empty()) {
        self.log->warn("control: client closed the connection mid-request");
      } else if (ec != asio::error::eof && ec != asio::error::operation_aborted) {
        self.log->debug("control: read failed: {}", ec.message());
      }
      co_return false;
    }
    conn.in.append(conn.chunk.data(), n);
  }
}

asio::awaitable<bool> ControlServer::Impl::WriteResponse(Impl& self, Connection& conn,
                                                         const Response& r) {
  const std::string out = EncodeDelimited(r);
  auto [ec, n] = co_await asio::async_write(conn.socket, asio::buffer(out), kUseAwaitable);
  if (ec && ec != asio::error::operation_aborted) {
    self.log->debug("control: write failed: {}", ec.message());
  }
  co_return !ec;
}

Response ControlServer::Impl::CallHandler(const Request& request) {
  // The handler belongs to the daemon; if it throws, the client gets the reason as an error
  // reply and the control thread keeps serving (no exception may leave an asio handler).
  try {
    return handler(request);
  } catch (const std::exception& e) {
    log->error("control: request handler failed: {}", e.what());
    Response response;
    response.set_error(std::string("internal error: ") + e.what());
    return response;
  }
}

boost::system::result<std::unique_ptr<ControlServer>> ControlServer::Create(
    boost::asio::io_context& io, const std::string& path, Handler handler) {
  if (!FitsSockaddr(path)) return ErrnoCode(ENAMETOOLONG);
  if (error_code ec = MakeParentDirs(path)) return ec;
  if (error_code ec = RemoveStaleSocket(path)) return ec;
  std::unique_ptr<ControlServer> server(new ControlServer(io, path, std::move(handler)));
  if (error_code ec = server->impl_->Listen(path)) return ec;  // ~ControlServer cleans up
  asio::co_spawn(io, Impl::AcceptLoop(server->impl_), RethrowEscaped);
  return server;
}

ControlServer::ControlServer(boost::asio::io_context& io, std::string path, Handler handler)
    : impl_(std::make_shared<Impl>(io, std::move(handler))), path_(std::move(path)) {}

ControlServer::~ControlServer() {
  impl_->Shutdown();
  if (impl_->bound) ::unlink(path_.c_str());
}

}  // namespace vdemesh::control
