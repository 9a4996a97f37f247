#include "vswitchd/core/mss_clamp.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace vdemesh::core {
namespace {

std::uint32_t Sum16(const std::uint8_t* p, std::size_t n, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  if (n % 2) sum += static_cast<std::uint32_t>(p[n - 1] << 8);
  return sum;
}

std::uint16_t Fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// The TCP checksum of `frame` computed from scratch (0 when the stored one is right).
std::uint16_t TcpChecksumResidue(const std::vector<std::uint8_t>& f, bool v6) {
  const std::size_t ip = 14, tcp = v6 ? ip + 40 : ip + 20;
  const std::size_t tcp_len = f.size() - tcp;
  std::uint32_t sum = v6 ? Sum16(&f[ip + 8], 32) : Sum16(&f[ip + 12], 8);
  sum += 6 + static_cast<std::uint32_t>(tcp_len);
  return Fold(Sum16(&f[tcp], tcp_len, sum));
}

// A TCP SYN with options [MSS mss][NOP NOP SACK-permitted]... and a correct checksum.
std::vector<std::uint8_t> Syn(bool v6, std::uint16_t mss, std::uint8_t flags = 0x02) {
  std::vector<std::uint8_t> f(14, 0);
  f[12] = v6 ? 0x86 : 0x08;
  f[13] = v6 ? 0xdd : 0x00;
  const std::size_t tcp_len = 28;
  if (v6) {
    std::vector<std::uint8_t> ip(40, 0);
    ip[0] = 0x60;
    ip[5] = tcp_len;
    ip[6] = 6;
    ip[7] = 64;
    for (int i = 0; i < 16; ++i) ip[8 + i] = static_cast<std::uint8_t>(0x20 + i), ip[24 + i] = static_cast<std::uint8_t>(0x40 + i);
    f.insert(f.end(), ip.begin(), ip.end());
  } else {
    std::vector<std::uint8_t> ip = {0x45, 0, 0, 20 + tcp_len, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0,
                                    10, 0, 0, 1, 10, 0, 0, 2};
    f.insert(f.end(), ip.begin(), ip.end());
  }
  std::vector<std::uint8_t> tcp = {0x9c, 0x40, 0x00, 0x50, 1, 2, 3, 4, 0, 0, 0, 0,
                                   0x70, flags, 0xfa, 0xf0, 0, 0, 0, 0,
                                   2, 4, static_cast<std::uint8_t>(mss >> 8),
                                   static_cast<std::uint8_t>(mss), 1, 1, 4, 2};
  f.insert(f.end(), tcp.begin(), tcp.end());
  const std::size_t t = f.size() - tcp_len;
  const std::uint16_t c = TcpChecksumResidue(f, v6);
  f[t + 16] = static_cast<std::uint8_t>(c >> 8);
  f[t + 17] = static_cast<std::uint8_t>(c);
  return f;
}

std::uint16_t MssOf(const std::vector<std::uint8_t>& f, bool v6) {
  const std::size_t o = 14 + (v6 ? 40 : 20) + 22;
  return static_cast<std::uint16_t>(f[o] << 8 | f[o + 1]);
}

TEST(MssClamp, TheTestFramesStartWithAValidChecksum) {
  EXPECT_EQ(TcpChecksumResidue(Syn(false, 1460), false), 0);
  EXPECT_EQ(TcpChecksumResidue(Syn(true, 1440), true), 0);
}

TEST(MssClamp, Ipv4SynIsLoweredToFitTheFrameAndKeepsAValidChecksum) {
  auto f = Syn(false, 1460);
  ASSERT_TRUE(ClampTcpMss(f, 1436));
  EXPECT_EQ(MssOf(f, false), 1436 - 14 - 20 - 20);
  EXPECT_EQ(TcpChecksumResidue(f, false), 0);
}

TEST(MssClamp, Ipv6SynIsLoweredByTheLargerHeaderAndKeepsAValidChecksum) {
  auto f = Syn(true, 1440);
  ASSERT_TRUE(ClampTcpMss(f, 1436));
  EXPECT_EQ(MssOf(f, true), 1436 - 14 - 40 - 20);
  EXPECT_EQ(TcpChecksumResidue(f, true), 0);
}

TEST(MssClamp, SynAckIsClampedToo) {
  auto f = Syn(false, 1460, 0x12);
  EXPECT_TRUE(ClampTcpMss(f, 1436));
  EXPECT_EQ(TcpChecksumResidue(f, false), 0);
}

TEST(MssClamp, SmallEnoughMssAndNonSynSegmentsAreLeftAlone) {
  auto small = Syn(false, 1200);
  const auto before = small;
  EXPECT_FALSE(ClampTcpMss(small, 1436));
  EXPECT_EQ(small, before);
  auto ack = Syn(false, 1460, 0x10);
  const auto ack_before = ack;
  EXPECT_FALSE(ClampTcpMss(ack, 1436));
  EXPECT_EQ(ack, ack_before);
}

TEST(MssClamp, NonFirstFragmentsAndOtherProtocolsAreLeftAlone) {
  auto frag = Syn(false, 1460);
  frag[14 + 7] = 0x10;  // fragment offset != 0: bytes there are not a TCP header
  EXPECT_FALSE(ClampTcpMss(frag, 1436));
  auto udp = Syn(false, 1460);
  udp[14 + 9] = 17;
  EXPECT_FALSE(ClampTcpMss(udp, 1436));
}

TEST(MssClamp, EveryTruncationIsLeftAloneWithoutReadingPastTheEnd) {
  for (bool v6 : {false, true}) {
    const auto full = Syn(v6, 1460);
    for (std::size_t n = 0; n < full.size(); ++n) {
      std::vector<std::uint8_t> cut(full.begin(), full.begin() + static_cast<long>(n));
      EXPECT_FALSE(ClampTcpMss(cut, 1436)) << "v6=" << v6 << " n=" << n;
    }
  }
}

TEST(MssClamp, MalformedOptionLengthsStopTheScan) {
  auto f = Syn(false, 1460);
  f[14 + 20 + 21] = 0;  // MSS option length 0
  EXPECT_FALSE(ClampTcpMss(f, 1436));
  auto g = Syn(false, 1460);
  g[14 + 20 + 21] = 200;  // runs past the header
  EXPECT_FALSE(ClampTcpMss(g, 1436));
}

}  // namespace
}  // namespace vdemesh::core
