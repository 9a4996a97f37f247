// vde_protocol_test.cc: the vde_switch control protocol (request_v3) spoken badly on purpose by
// a hand-made client, and the switch that must shrug it off.
//
//   +------------------------------------------------------------------------------------+
//   | root namespace                                                                     |
//   |   raw client (this process)                                                        |
//   |     SOCK_STREAM --> swN/ctl            request_v3, mangled: bad magic, version 2,  |
//   |                                        10 bytes, 300 bytes, 128-byte description,  |
//   |                                        a data socket path that does not exist      |
//   |     SOCK_DGRAM rawN.sock <-- the switch connects here (when the request is good)   |
//   |   vswitchd -s swN --control ctlN.sock  (stderr in the test's log: names bad paths)  |
//   +----------------------------+---------------------------+---------------------------+
//                                |                           |
//                  +-------------+------------+ +------------+-------------+
//                  | vdm<pid>g1 tap0 10.99.1.1 | | vdm<pid>g2 tap0 10.99.1.2 |  then still ping
//                  +---------------------------+ +---------------------------+
//
// The request is laid out here byte by byte from libvdeplug's definition, independently of the
// daemon's wire.h: magic, version, type (4 bytes each, host order), the client's sockaddr_un
// (110 bytes), then a description of up to 128 bytes sent without its unused tail.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstring>
#include <string>

#include "netns_fixture.h"

namespace vdemesh::itest {
namespace {

constexpr std::uint32_t kMagic = 0xfeedface;
constexpr std::size_t kSockaddrBytes = 110;
constexpr std::size_t kMaxDescription = 128;

void PutU32(std::string* out, std::uint32_t v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}

std::string Request(std::uint32_t magic, std::uint32_t version, const std::string& data_path,
                    const std::string& description) {
  std::string req;
  PutU32(&req, magic);
  PutU32(&req, version);
  PutU32(&req, 0);  // REQ_NEW_CONTROL, any port
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::strncpy(sun.sun_path, data_path.c_str(), sizeof sun.sun_path - 1);
  static_assert(sizeof sun == kSockaddrBytes);
  req.append(reinterpret_cast<const char*>(&sun), sizeof sun);
  req.append(description.substr(0, kMaxDescription));
  return req;
}

// One connection to DIR/ctl plus the datagram socket the switch is told to use.
class RawClient {
 public:
  RawClient(const std::string& ctl, const std::string& data_path) : data_path_(data_path) {
    ctl_fd_ = Connect(ctl);
    data_fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::strncpy(sun.sun_path, data_path.c_str(), sizeof sun.sun_path - 1);
    unlink(data_path.c_str());
    bound_ = bind(data_fd_, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0;
  }
  ~RawClient() {
    if (ctl_fd_ >= 0) close(ctl_fd_);
    if (data_fd_ >= 0) close(data_fd_);
    if (bound_) unlink(data_path_.c_str());
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return ctl_fd_ >= 0 && bound_; }
  bool Write(const std::string& bytes) {
    // MSG_NOSIGNAL: a switch that hangs up must fail the test, not kill it with SIGPIPE.
    return send(ctl_fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  void ShutdownWrite() { shutdown(ctl_fd_, SHUT_WR); }
  void Close() {
    close(ctl_fd_);
    ctl_fd_ = -1;
  }

  // Reads until `want` bytes, EOF (or a reset), or `timeout`; *closed tells whether it ended.
  std::string Read(std::size_t want, Millis timeout, bool* closed) {
    std::string got;
    *closed = false;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
      pollfd p{ctl_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char buf[512];
      const ssize_t n = read(ctl_fd_, buf, std::min(sizeof buf, want - got.size()));
      if (n <= 0) {
        *closed = true;
        break;
      }
      got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }

  // Sends one datagram to the switch's data socket named in `reply` (a sockaddr_un).
  bool SendFrame(const std::string& reply, std::size_t size) {
    sockaddr_un sun{};
    std::memcpy(&sun, reply.data(), std::min(reply.size(), sizeof sun));
    const std::string frame(size, '\x02');  // locally administered unicast src and dst
    return sendto(data_fd_, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&sun),
                  sizeof sun) == static_cast<ssize_t>(size);
  }

 private:
  static int Connect(const std::string& path) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::strncpy(sun.sun_path, path.c_str(), sizeof sun.sun_path - 1);
    if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0) return fd;
    if (fd >= 0) close(fd);
    return -1;
  }

  std::string data_path_;
  int ctl_fd_ = -1;
  int data_fd_ = -1;
  bool bound_ = false;
};

class VdeProtocol : public NetnsTest {
 protected:
  std::string DataPath() { return tmp() + "/raw" + std::to_string(++clients_) + ".sock"; }

  // A request the switch must refuse: the connection is closed, nothing is answered, no port.
  void ExpectRefused(const Switch& sw, const std::string& bytes, bool shut_wr,
                     const std::string& data_path) {
    RawClient c(sw.dir + "/ctl", data_path);
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.Write(bytes));
    if (shut_wr) c.ShutdownWrite();
    bool closed = false;
    const std::string reply = c.Read(kSockaddrBytes, 3s, &closed);
    EXPECT_TRUE(closed) << "the switch kept the connection open for 3 s";
    EXPECT_EQ(reply.size(), 0u) << "the switch answered a bad request";
    EXPECT_EQ(Ports().ports_size(), 0) << Ports().DebugString();
  }

  void ExpectRefused(const Switch& sw, const std::string& bytes, bool shut_wr = false) {
    ExpectRefused(sw, bytes, shut_wr, DataPath());
  }

  void ExpectStillTakesClients(const Switch& sw) {
    EXPECT_TRUE(Running(sw.pid)) << Tail(sw.log, 20);
    const CommandResult r = RunCommand({VDE_FRAME_TOOL_BIN, "churn", sw.url(), "2"}, 30s);
    EXPECT_TRUE(r.ok()) << "a well-behaved client is refused afterwards: " << r;
  }

  std::string Valid(const std::string& data_path, const std::string& descr = "vdm-raw") {
    return Request(kMagic, 3, data_path, descr);
  }

  int clients_ = 0;
};

TEST_F(VdeProtocol, BadMagicIsClosedWithoutAnswer) {
  const Switch sw = StartSwitch();
  const std::string path = DataPath();
  ExpectRefused(sw, Request(0xdeadbeef, 3, path, "vdm-raw"), false, path);
  ExpectStillTakesClients(sw);
}

TEST_F(VdeProtocol, Version2RequestIsClosedWithoutAnswer) {
  const Switch sw = StartSwitch();
  const std::string path = DataPath();
  ExpectRefused(sw, Request(kMagic, 2, path, "vdm-raw"), false, path);
  ExpectStillTakesClients(sw);
}

TEST_F(VdeProtocol, TruncatedRequestOfTenBytesIsClosedWithoutAnswer) {
  const Switch sw = StartSwitch();
  const std::string path = DataPath();
  ExpectRefused(sw, Valid(path).substr(0, 10), /*shut_wr=*/true, path);
  ExpectStillTakesClients(sw);
}

TEST_F(VdeProtocol, OversizedRequestOf300BytesIsClosedWithoutAnswer) {
  const Switch sw = StartSwitch();
  const std::string path = DataPath();
  std::string req = Valid(path, std::string(kMaxDescription, 'd'));
  req.append(300 - req.size(), 'x');
  ASSERT_EQ(req.size(), 300u);
  ExpectRefused(sw, req, false, path);
  ExpectStillTakesClients(sw);
}

TEST_F(VdeProtocol, UnreachableDataSocketIsClosedAndTheLogNamesThePath) {
  const Switch sw = StartSwitch();
  const std::string nowhere = tmp() + "/no-such-dir/data.sock";
  RawClient c(sw.dir + "/ctl", DataPath());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Write(Valid(nowhere)));
  bool closed = false;
  EXPECT_EQ(c.Read(kSockaddrBytes, 3s, &closed).size(), 0u);
  EXPECT_TRUE(closed);
  EXPECT_EQ(Ports().ports_size(), 0);
  EXPECT_TRUE(WaitUntil([&] { return ReadFile(sw.log).find(nowhere) != std::string::npos; }, 3s))
      << "the log does not name " << nowhere << ":\n"
      << Tail(sw.log, 20);
  ExpectStillTakesClients(sw);
}

TEST_F(VdeProtocol, FullLengthDescriptionWithoutNulWorksAndIsShownCleanly) {
  const Switch sw = StartSwitch();
  std::string descr = "vdm-raw pid=" + std::to_string(getpid()) + " ";
  descr.append(kMaxDescription - descr.size(), 'd');
  ASSERT_EQ(descr.size(), kMaxDescription);
  const std::string path = DataPath();
  RawClient c(sw.dir + "/ctl", path);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Write(Valid(path, descr)));  // 250 bytes: no NUL anywhere in the description
  bool closed = false;
  const std::string reply = c.Read(kSockaddrBytes, 3s, &closed);
  ASSERT_EQ(reply.size(), kSockaddrBytes) << "closed=" << closed;

  const control::Port port = PortOf(getpid());
  const std::string shown = port.description();
  EXPECT_FALSE(shown.empty());
  EXPECT_LE(shown.size(), kMaxDescription);
  EXPECT_EQ(descr.rfind(shown, 0), 0u)
      << "shown \"" << shown << "\" is not a prefix of the sent one";
  for (char ch : shown) EXPECT_TRUE(std::isprint(static_cast<unsigned char>(ch))) << shown;

  // The port carries frames: one datagram on the data socket the switch named.
  ASSERT_TRUE(c.SendFrame(reply, 60));
  EXPECT_TRUE(WaitUntil([&] { return PortOf(getpid()).counters().rx_frames() == 1; }, 3s))
      << PortOf(getpid()).DebugString();

  c.Close();
  EXPECT_TRUE(WaitUntil([&] { return Ports().ports_size() == 0; }, 5s))
      << "EOF on the control stream must unplug the port: " << Ports().DebugString();
}

TEST_F(VdeProtocol, AfterEveryKindOfBadRequestGuestsStillPing) {
  const Switch sw = StartSwitch();
  std::string path = DataPath();
  ExpectRefused(sw, Request(0xdeadbeef, 3, path, "vdm-raw"), false, path);
  path = DataPath();
  ExpectRefused(sw, Request(kMagic, 2, path, "vdm-raw"), false, path);
  path = DataPath();
  ExpectRefused(sw, Valid(path).substr(0, 10), true, path);
  path = DataPath();
  ExpectRefused(sw, Valid(path, std::string(kMaxDescription, 'd')) + std::string(50, 'x'), false,
                path);
  ExpectRefused(sw, Valid(tmp() + "/no-such-dir/data.sock"));
  {
    RawClient idle(sw.dir + "/ctl", DataPath());  // connects, says nothing, leaves
  }

  const Guest g1 = AddGuest(sw.url(), "10.99.1.1/24");
  const Guest g2 = AddGuest(sw.dir, "10.99.1.2/24");
  EXPECT_EQ(Ping(g1.ns, g2.ip).received, 3);
  EXPECT_EQ(Ping(g2.ns, g1.ip).received, 3);
}

}  // namespace
}  // namespace vdemesh::itest
