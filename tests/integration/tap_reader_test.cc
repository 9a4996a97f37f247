// TapReader against a real TAP device in a network namespace of its own: frames the kernel
// transmits on the interface (sent with a packet socket) must come out of Read() whole, once
// each and in order, with io_uring batches and with plain read()s. Needs root.
#include "vswitchd/datapath/tap_reader.h"

#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "vswitchd/vde/tap_port.h"

namespace vdemesh::datapath {
namespace {

constexpr std::uint16_t kTestEtherType = 0x88b5;  // IEEE local experimental
constexpr std::size_t kVnetHeader = 10;
constexpr char kTapName[] = "vdmrdr0";

class TapReaderTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (a network namespace and a TAP device)";
    ASSERT_EQ(unshare(CLONE_NEWNET), 0) << std::strerror(errno);
    auto tap = vde::OpenTap(kTapName);
    ASSERT_TRUE(tap) << tap.error().message();
    tap_fd_ = tap->fd;
    SetMtu(9000);
    packet_fd_ = socket(AF_PACKET, SOCK_RAW, 0);
    ASSERT_GE(packet_fd_, 0) << std::strerror(errno);
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_ifindex = static_cast<int>(if_nametoindex(kTapName));
    ASSERT_GT(addr.sll_ifindex, 0);
    ASSERT_EQ(bind(packet_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  void TearDown() override {
    if (packet_fd_ >= 0) close(packet_fd_);
    if (tap_fd_ >= 0) close(tap_fd_);  // the TAP and the namespace go with the process's exit
  }

  void SetMtu(int mtu) {
    const int s = socket(AF_INET, SOCK_DGRAM, 0);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, kTapName, IFNAMSIZ - 1);
    ifr.ifr_mtu = mtu;
    ASSERT_EQ(ioctl(s, SIOCSIFMTU, &ifr), 0) << std::strerror(errno);
    close(s);
  }

  // Frame i: broadcast, our EtherType, then i as 4 bytes and a pattern, `size` bytes in all.
  static std::vector<std::uint8_t> Frame(std::uint32_t i, std::size_t size) {
    std::vector<std::uint8_t> f(size);
    std::memset(f.data(), 0xff, 6);
    const std::uint8_t src[6] = {0x02, 0, 0, 0, 0, 1};
    std::memcpy(f.data() + 6, src, 6);
    f[12] = kTestEtherType >> 8;
    f[13] = kTestEtherType & 0xff;
    std::memcpy(f.data() + 14, &i, 4);
    for (std::size_t k = 18; k < size; ++k) f[k] = static_cast<std::uint8_t>(i * 7 + k);
    return f;
  }

  void Send(const std::vector<std::uint8_t>& f) {
    ASSERT_EQ(send(packet_fd_, f.data(), f.size(), 0), static_cast<ssize_t>(f.size()))
        << std::strerror(errno);
  }

  // Reads as Drain(Tap&) does (1, 4, 16, 16... until a short batch), at most `rounds` rounds,
  // and keeps our frames (the kernel may send IPv6 frames of its own on the new interface).
  std::vector<std::vector<std::uint8_t>> ReadAll(TapReader& reader, int rounds) {
    std::vector<std::vector<std::uint8_t>> got;
    std::size_t want = 1;
    for (int r = 0; r < rounds; ++r) {
      const auto frames = reader.Read(want);
      for (const auto read : frames) {
        EXPECT_GE(read.size(), kVnetHeader + 14);
        if (read.size() < kVnetHeader + 14) continue;
        std::uint8_t* const eth = read.data() + kVnetHeader;
        if (eth[12] == (kTestEtherType >> 8) && eth[13] == (kTestEtherType & 0xff))
          got.emplace_back(eth, read.data() + read.size());
      }
      if (frames.size() < want) break;
      want = std::min(want * 4, TapReader::kMaxBatch);
    }
    return got;
  }

  int tap_fd_ = -1;
  int packet_fd_ = -1;
};

TEST_P(TapReaderTest, ReadsEveryQueuedFrameOnceInOrderWhole) {
  TapReader reader(tap_fd_, GetParam());
  if (GetParam() && !reader.batched()) GTEST_SKIP() << "io_uring is not available here";
  EXPECT_TRUE(reader.Read(TapReader::kMaxBatch).empty()) << "nothing queued yet";

  // 300 frames of every size from the smallest to a jumbo one: more than a batch holds, fewer
  // than the TAP's queue (500).
  std::vector<std::vector<std::uint8_t>> sent;
  for (std::uint32_t i = 0; i < 300; ++i) {
    sent.push_back(Frame(i, 60 + (i * 677) % (9014 - 60)));
    Send(sent.back());
  }
  const auto got = ReadAll(reader, 1000);
  ASSERT_EQ(got.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(got[i], sent[i]) << "frame " << i;
  EXPECT_TRUE(reader.Read(TapReader::kMaxBatch).empty()) << "every frame was read once";
}

TEST_P(TapReaderTest, TakesTheLargestFrameATapCanCarry) {
  SetMtu(65521);  // a frame of 65535 bytes: what a 64 KiB TSO super-frame needs of a buffer
  TapReader reader(tap_fd_, GetParam());
  std::vector<std::vector<std::uint8_t>> sent;
  for (std::uint32_t i = 0; i < 20; ++i) {
    sent.push_back(Frame(i, 65535));
    Send(sent.back());
  }
  const auto got = ReadAll(reader, 100);
  ASSERT_EQ(got.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(got[i], sent[i]) << "frame " << i;
}

INSTANTIATE_TEST_SUITE_P(IoUringAndRead, TapReaderTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "IoUring" : "ReadOnly"; });

}  // namespace
}  // namespace vdemesh::datapath
