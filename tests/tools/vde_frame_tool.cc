// vde_frame_tool: a real libvdeplug client that puts crafted traffic into a VDE switch.
//
// The integration tests use it where vde_plug cannot go: MAC floods, frames of exact sizes,
// connection churn, a client that never reads. It links the same libvdeplug that QEMU uses, so
// what it does to a switch a real client can do.
//
//   vde_frame_tool [--hold SECONDS] flood URL COUNT   COUNT broadcasts from random source MACs
//   vde_frame_tool [--hold SECONDS] sizes URL N...    one broadcast of each size N (bytes)
//   vde_frame_tool churn URL COUNT                    open and close COUNT connections in a row
//   vde_frame_tool stall URL SECONDS                  a broadcast every 10 ms, never reads
//   vde_frame_tool recv URL SECONDS                   prints how many frames arrived
//
// --hold keeps the connection open that long after the frames are sent, so that a test can read
// the port's counters before the port goes away. Every count and duration is bounded, and an
// alarm ends the process if it runs far past them. Exit status: 0 ok, 1 error, 2 usage.
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

extern "C" {  // libvdeplug.h has no C++ guards
#include <libvdeplug.h>
}

namespace {

using Clock = std::chrono::steady_clock;

constexpr long kMaxCount = 10'000'000;
constexpr long kMaxSeconds = 600;
constexpr std::size_t kMaxFrame = VDE_ETHBUFSIZE;
constexpr std::uint16_t kEtherType = 0x88b5;  // IEEE 802 local experimental: no stack answers it

int Usage() {
  std::fprintf(stderr,
               "usage: vde_frame_tool [--hold SECONDS] flood|sizes|churn|stall|recv URL ARGS...\n"
               "  flood URL COUNT | sizes URL N... | churn URL COUNT | stall URL SECONDS |"
               " recv URL SECONDS\n");
  return 2;
}

// Parses a decimal in [lo, hi]; false on anything else.
bool ParseLong(const char* s, long lo, long hi, long* out) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) return false;
  *out = v;
  return true;
}

class Connection {
 public:
  Connection(const std::string& url, const std::string& what) {
    std::string u = url;
    std::string descr = "vde_frame_tool " + what;
    conn_ = vde_open(u.data(), descr.data(), nullptr);
  }
  ~Connection() {
    if (conn_ != nullptr) vde_close(conn_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool ok() const { return conn_ != nullptr; }
  VDECONN* get() const { return conn_; }

 private:
  VDECONN* conn_ = nullptr;
};

// One Ethernet frame to broadcast: [ff*6][source][0x88b5][counting payload], cut to `size`
// bytes (a size under 14 cuts into the header, which is the point of some tests).
class Frame {
 public:
  explicit Frame(std::size_t size) : bytes_(kMaxFrame, 0) {
    std::memset(bytes_.data(), 0xff, 6);
    bytes_[12] = kEtherType >> 8;
    bytes_[13] = kEtherType & 0xff;
    for (std::size_t i = 14; i < kMaxFrame; ++i) bytes_[i] = static_cast<std::uint8_t>(i);
    bytes_.resize(size);
  }
  void SetSource(std::uint64_t mac) {
    for (std::size_t i = 0; i < 6 && 6 + i < bytes_.size(); ++i)
      bytes_[6 + i] = static_cast<std::uint8_t>(mac >> (8 * (5 - i)));
  }
  const std::vector<std::uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<std::uint8_t> bytes_;
};

// A random unicast, locally administered MAC (bit 0 of the first byte clear, bit 1 set).
std::uint64_t RandomMac(std::mt19937_64& rng) {
  std::uint64_t mac = rng() & 0xffffffffffffULL;
  return (mac & ~(0x03ULL << 40)) | (0x02ULL << 40);
}

bool Send(const Connection& c, const Frame& f, const char* what) {
  if (vde_send(c.get(), f.bytes().data(), f.bytes().size(), 0) >= 0) return true;
  std::fprintf(stderr, "vde_frame_tool %s: vde_send of %zu bytes: %s\n", what, f.bytes().size(),
               std::strerror(errno));
  return false;
}

// Null (after saying why) when the switch does not take the connection.
std::unique_ptr<Connection> Open(const std::string& url, const std::string& what) {
  auto c = std::make_unique<Connection>(url, what);
  if (c->ok()) return c;
  std::fprintf(stderr, "vde_frame_tool %s: vde_open %s: %s\n", what.c_str(), url.c_str(),
               std::strerror(errno));
  return nullptr;
}

void Hold(long seconds) { std::this_thread::sleep_for(std::chrono::seconds(seconds)); }

int Flood(const std::string& url, long count, long hold) {
  auto c = Open(url, "flood");
  if (c == nullptr) return 1;
  std::mt19937_64 rng(std::random_device{}());
  Frame f(64);
  for (long i = 0; i < count; ++i) {
    f.SetSource(RandomMac(rng));
    if (!Send(*c, f, "flood")) return 1;
  }
  Hold(hold);
  return 0;
}

int Sizes(const std::string& url, const std::vector<long>& sizes, long hold) {
  auto c = Open(url, "sizes");
  if (c == nullptr) return 1;
  std::mt19937_64 rng(std::random_device{}());
  const std::uint64_t mac = RandomMac(rng);
  for (long n : sizes) {
    Frame f(n);
    f.SetSource(mac);
    if (!Send(*c, f, "sizes")) return 1;
  }
  Hold(hold);
  return 0;
}

int Churn(const std::string& url, long count) {
  for (long i = 0; i < count; ++i) {
    Connection c(url, "churn");
    if (!c.ok()) {
      std::fprintf(stderr, "vde_frame_tool churn: vde_open %s failed after %ld connections: %s\n",
                   url.c_str(), i, std::strerror(errno));
      return 1;
    }
  }
  return 0;
}

int Stall(const std::string& url, long seconds) {
  auto c = Open(url, "stall");
  if (c == nullptr) return 1;
  std::mt19937_64 rng(std::random_device{}());
  Frame f(64);
  f.SetSource(RandomMac(rng));
  const auto end = Clock::now() + std::chrono::seconds(seconds);
  long sent = 0;
  for (; Clock::now() < end; ++sent) {
    if (!Send(*c, f, "stall")) return 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::printf("%ld\n", sent);
  return 0;
}

int Recv(const std::string& url, long seconds) {
  auto c = Open(url, "recv");
  if (c == nullptr) return 1;
  std::vector<std::uint8_t> buf(kMaxFrame);
  const auto end = Clock::now() + std::chrono::seconds(seconds);
  long frames = 0;
  for (auto now = Clock::now(); now < end; now = Clock::now()) {
    pollfd pfd{vde_datafd(c->get()), POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - now);
    const int n = poll(&pfd, 1, static_cast<int>(left.count()) + 1);
    if (n < 0 && errno != EINTR) {
      std::fprintf(stderr, "vde_frame_tool recv: poll: %s\n", std::strerror(errno));
      return 1;
    }
    if (n > 0 && (pfd.revents & POLLIN) != 0 && vde_recv(c->get(), buf.data(), buf.size(), 0) > 0)
      ++frames;
  }
  std::printf("%ld\n", frames);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  long hold = 0;
  if (args.size() >= 2 && args[0] == "--hold") {
    if (!ParseLong(args[1].c_str(), 0, kMaxSeconds, &hold)) return Usage();
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.size() < 3) return Usage();
  const std::string& cmd = args[0];
  const std::string& url = args[1];
  long n = 0;
  // The whole run is bounded: the default SIGALRM action ends the process.
  alarm(static_cast<unsigned>(2 * kMaxSeconds + hold));
  if (cmd == "sizes") {
    std::vector<long> sizes;
    for (std::size_t i = 2; i < args.size(); ++i) {
      if (!ParseLong(args[i].c_str(), 1, kMaxFrame, &n)) return Usage();
      sizes.push_back(n);
    }
    return Sizes(url, sizes, hold);
  }
  if (args.size() != 3) return Usage();
  if (cmd == "flood" && ParseLong(args[2].c_str(), 1, kMaxCount, &n)) return Flood(url, n, hold);
  if (cmd == "churn" && ParseLong(args[2].c_str(), 1, kMaxCount, &n)) return Churn(url, n);
  if (cmd == "stall" && ParseLong(args[2].c_str(), 1, kMaxSeconds, &n)) return Stall(url, n);
  if (cmd == "recv" && ParseLong(args[2].c_str(), 1, kMaxSeconds, &n)) return Recv(url, n);
  return Usage();
}
