// control_server_test.cc: ControlServer against real UNIX sockets in a temporary directory.
//
// The io_context runs on its own thread, as the control thread does in the daemon; the server
// is created and destroyed on that thread (RunOnIo), and the test body is a blocking client
// with a receive timeout, so a server bug fails a test instead of hanging it.
#include "vswitchd/control/control_server.h"

#include <google/protobuf/io/coded_stream.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace vdemesh::control {
namespace {

using Server = std::unique_ptr<ControlServer>;

// A client file descriptor that closes itself.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

sockaddr_un Address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  return addr;
}

Fd Connect(const std::string& path) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const timeval timeout{5, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  const sockaddr_un addr = Address(path);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    ADD_FAILURE() << "connect " << path << ": " << std::strerror(errno);
  }
  return fd;
}

void SendBytes(const Fd& fd, const std::string& bytes) {
  ASSERT_EQ(::send(fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
}

std::string Varint(std::uint32_t n) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream(&stream).WriteVarint32(n);
  return out;
}

std::string Delimited(const Request& request) {
  return Varint(static_cast<std::uint32_t>(request.ByteSizeLong())) + request.SerializeAsString();
}

Request StatusFor(const std::string& network) {
  Request request;
  request.set_network(network);
  request.mutable_status();
  return request;
}

// Reads one delimited Response; nullopt on EOF, timeout or a malformed reply.
std::optional<Response> ReadResponse(const Fd& fd) {
  std::uint32_t len = 0;
  for (int shift = 0;; shift += 7) {
    std::uint8_t byte = 0;
    if (shift > 28 || ::recv(fd.get(), &byte, 1, 0) != 1) return std::nullopt;
    len |= static_cast<std::uint32_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  std::string body(len, '\0');
  if (len > 0 && ::recv(fd.get(), body.data(), len, MSG_WAITALL) != static_cast<ssize_t>(len)) {
    return std::nullopt;
  }
  Response response;
  if (!response.ParseFromString(body)) return std::nullopt;
  return response;
}

// True when the server closed the connection (EOF or reset), false on data or timeout.
bool ClosedByServer(const Fd& fd) {
  char byte = 0;
  const ssize_t n = ::recv(fd.get(), &byte, 1, 0);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

// Binds a socket at `path` and closes it without unlinking, as a crashed daemon leaves it.
void LeaveStaleSocket(const std::string& path) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
  const sockaddr_un addr = Address(path);
  ASSERT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
}

class ControlServerTest : public ::testing::Test {
 protected:
  // Runs `fn` on the io thread and waits for it, as the daemon touches the server.
  template <typename Fn>
  auto RunOnIo(Fn fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }

  ControlServerTest() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ctlXXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    path_ = dir_ + "/run/vswitchd.sock";  // the parent "run" is created by the server
    io_thread_ = std::thread([this] { io_.run(); });
  }
  ~ControlServerTest() override {
    RunOnIo([this] { server_.reset(); });
    work_.reset();
    io_thread_.join();
    std::filesystem::remove_all(dir_);
  }

  boost::system::result<Server> Create(const std::string& path) {
    return RunOnIo([&] {
      return ControlServer::Create(io_, path, [this](const Request& r) { return Handle(r); });
    });
  }
  void Start() {
    auto created = Create(path_);
    ASSERT_TRUE(created) << created.error().message();
    server_ = std::move(*created);
  }

  // The fake handler: names the requested network in the reply, or fails on "throw".
  Response Handle(const Request& request) {
    ++calls_;
    if (request.network() == "throw") throw std::runtime_error("boom");
    Response response;
    response.mutable_status()->add_networks()->set_name(request.network());
    return response;
  }

  // Sends a status request for `network` and checks that the reply names it.
  void ExpectRoundTrip(const Fd& fd, const std::string& network) {
    SendBytes(fd, Delimited(StatusFor(network)));
    const std::optional<Response> response = ReadResponse(fd);
    ASSERT_TRUE(response.has_value()) << "no reply for " << network;
    ASSERT_EQ(response->status().networks_size(), 1);
    EXPECT_EQ(response->status().networks(0).name(), network);
  }

  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  std::thread io_thread_;
  std::string dir_;
  std::string path_;
  Server server_;
  std::atomic<int> calls_{0};
};

TEST_F(ControlServerTest, RepliesWithTheHandlersResponse) {
  Start();
  Fd client = Connect(path_);
  ExpectRoundTrip(client, "lab");
  EXPECT_EQ(calls_, 1);
}

TEST_F(ControlServerTest, ServesSeveralRequestsOnOneConnection) {
  Start();
  Fd client = Connect(path_);
  for (const char* network : {"a", "b", "c"}) ExpectRoundTrip(client, network);
  EXPECT_EQ(calls_, 3);
}

TEST_F(ControlServerTest, AnswersPipelinedRequestsInOrder) {
  Start();
  Fd client = Connect(path_);
  SendBytes(client, Delimited(StatusFor("first")) + Delimited(StatusFor("second")));
  for (const char* network : {"first", "second"}) {
    const std::optional<Response> response = ReadResponse(client);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status().networks(0).name(), network);
  }
}

TEST_F(ControlServerTest, HugeLengthPrefixClosesOnlyThatConnection) {
  Start();
  Fd bad = Connect(path_);
  Fd good = Connect(path_);
  SendBytes(bad, "\xff\xff\xff\xff\xff\xff\x0f");
  EXPECT_TRUE(ClosedByServer(bad));
  ExpectRoundTrip(good, "still-here");
  ExpectRoundTrip(Connect(path_), "new-client");
  EXPECT_EQ(calls_, 2);
}

TEST_F(ControlServerTest, LengthJustOverTheLimitClosesTheConnection) {
  Start();
  Fd client = Connect(path_);
  SendBytes(client, Varint(ControlServer::kMaxRequestBytes + 1));
  EXPECT_TRUE(ClosedByServer(client));
  EXPECT_EQ(calls_, 0);
}

TEST_F(ControlServerTest, UnparsableRequestClosesTheConnection) {
  Start();
  Fd client = Connect(path_);
  SendBytes(client, Varint(3) + "\xff\xff\xff");
  EXPECT_TRUE(ClosedByServer(client));
  ExpectRoundTrip(Connect(path_), "after-garbage");
}

TEST_F(ControlServerTest, TruncatedRequestFollowedByCloseDoesNotDisturbTheServer) {
  Start();
  {
    Fd client = Connect(path_);
    SendBytes(client, Delimited(StatusFor("cut-short")).substr(0, 4));
  }
  ExpectRoundTrip(Connect(path_), "next");
  EXPECT_EQ(calls_, 1);
}

TEST_F(ControlServerTest, StalledClientDoesNotBlockOthers) {
  Start();
  Fd stalled = Connect(path_);
  SendBytes(stalled, Delimited(StatusFor("stalled")).substr(0, 3));
  ExpectRoundTrip(Connect(path_), "other");
}

TEST_F(ControlServerTest, HandlerExceptionBecomesAnErrorReply) {
  Start();
  Fd client = Connect(path_);
  SendBytes(client, Delimited(StatusFor("throw")));
  const std::optional<Response> response = ReadResponse(client);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->error(), "internal error: boom");
  ExpectRoundTrip(client, "after-throw");
}

TEST_F(ControlServerTest, ClientsBeyondTheLimitAreClosedImmediately) {
  Start();
  std::vector<Fd> clients;
  for (std::size_t i = 0; i < ControlServer::kMaxClients; ++i) {
    clients.push_back(Connect(path_));
    ExpectRoundTrip(clients.back(), "client" + std::to_string(i));  // admitted, not queued
  }
  Fd extra = Connect(path_);
  EXPECT_TRUE(ClosedByServer(extra));
  clients.clear();
  // The server frees the slots once it reads the EOFs; retry until it has.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::optional<Response> response;
  while (!response && std::chrono::steady_clock::now() < deadline) {
    Fd late = Connect(path_);
    SendBytes(late, Delimited(StatusFor("late")));
    response = ReadResponse(late);
  }
  EXPECT_TRUE(response.has_value());
}

TEST_F(ControlServerTest, SecondServerOnALivePathFails) {
  Start();
  auto second = Create(path_);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), boost::system::errc::address_in_use);
  EXPECT_EQ(second.error(), boost::asio::error::address_in_use);  // what the daemon tests for
  ExpectRoundTrip(Connect(path_), "first-still-serves");
}

TEST_F(ControlServerTest, StaleSocketFileIsReplaced) {
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
  LeaveStaleSocket(path_);
  ASSERT_TRUE(std::filesystem::is_socket(path_));
  Start();
  ExpectRoundTrip(Connect(path_), "replaced");
}

TEST_F(ControlServerTest, RefusesToReplaceAFileThatIsNotASocket) {
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
  std::ofstream(path_) << "precious";
  auto created = Create(path_);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error(), boost::system::errc::file_exists);
  EXPECT_TRUE(std::filesystem::is_regular_file(path_));
}

TEST_F(ControlServerTest, PathTooLongForSockaddrIsAnErrorNotAThrow) {
  auto created = Create(dir_ + "/" + std::string(200, 'x'));
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error(), boost::system::errc::filename_too_long);
}

TEST_F(ControlServerTest, SocketIsGroupAccessibleOnly) {
  Start();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST_F(ControlServerTest, DestructorUnlinksTheSocket) {
  Start();
  ASSERT_TRUE(std::filesystem::exists(path_));
  RunOnIo([this] { server_.reset(); });
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(ControlServerTest, DestructionClosesOpenConnectionsWithoutCallingTheHandler) {
  Start();
  Fd idle = Connect(path_);
  ExpectRoundTrip(idle, "before");
  Fd partial = Connect(path_);
  SendBytes(partial, Delimited(StatusFor("partial")).substr(0, 3));
  // Destroy in the same io turn as the rest of the request arrives.
  RunOnIo([&] {
    SendBytes(partial, Delimited(StatusFor("partial")).substr(3));
    server_.reset();
  });
  EXPECT_TRUE(ClosedByServer(idle));
  EXPECT_TRUE(ClosedByServer(partial));
  EXPECT_EQ(calls_, 1);
}

TEST_F(ControlServerTest, FailedCreateLeavesTheLiveServersSocketInPlace) {
  Start();
  ASSERT_FALSE(Create(path_));
  EXPECT_TRUE(std::filesystem::is_socket(path_));
  ExpectRoundTrip(Connect(path_), "untouched");
}

}  // namespace
}  // namespace vdemesh::control
