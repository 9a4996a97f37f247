#include "vswitchd/core/tso.h"

#include "inet_frames.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace vdemesh::core {
namespace {

using testing::kEth;

std::uint16_t Load16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t Load32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

// A TCP super-frame with flags CWR|ACK|PSH|FIN whose sequence numbers wrap around.
std::vector<std::uint8_t> SuperFrame(bool v6, std::size_t payload) {
  return testing::TcpFrame(v6, payload, 0x80 | 0x10 | 0x08 | 0x01, 0xfffffff0u);
}

bool TcpChecksumOk(const std::vector<std::uint8_t>& s, bool v6) {
  const std::size_t ip = kEth, tcp = v6 ? ip + 40 : ip + 20;
  std::uint32_t sum = v6 ? OnesSum({&s[ip + 8], 32}) : OnesSum({&s[ip + 12], 8});
  sum += 6 + static_cast<std::uint32_t>(s.size() - tcp);
  return FoldChecksum(OnesSum({&s[tcp], s.size() - tcp}, sum)) == 0;
}

struct Segments {
  std::vector<std::vector<std::uint8_t>> frames;
};

Segments Segment(const std::vector<std::uint8_t>& f, std::size_t gso, std::size_t max_frame,
                 std::size_t slots = 64) {
  return {testing::Cut(SegmentTcp, f, gso, max_frame, slots)};
}

void ExpectValidSegmentation(bool v6) {
  const std::size_t payload = 10000;
  const auto super = SuperFrame(v6, payload);
  const std::size_t hdrs = kEth + (v6 ? 40 : 20) + 32;
  const auto segs = Segment(super, 1448, 1436);
  const std::size_t mss = 1436 - hdrs;
  ASSERT_EQ(segs.frames.size(), (payload + mss - 1) / mss);
  std::vector<std::uint8_t> joined;
  for (std::size_t k = 0; k < segs.frames.size(); ++k) {
    const auto& s = segs.frames[k];
    ASSERT_LE(s.size(), 1436u);
    const std::size_t tcp = kEth + (v6 ? 40 : 20);
    if (v6) {
      EXPECT_EQ(Load16(&s[kEth + 4]), s.size() - kEth - 40);
    } else {
      EXPECT_EQ(Load16(&s[kEth + 2]), s.size() - kEth);
      EXPECT_EQ(Load16(&s[kEth + 4]), 0x1234 + k);
      EXPECT_EQ(FoldChecksum(OnesSum({&s[kEth], 20})), 0) << "IPv4 header checksum, k=" << k;
    }
    EXPECT_EQ(Load32(&s[tcp + 4]), static_cast<std::uint32_t>(0xfffffff0u + k * mss)) << k;
    const bool last = k + 1 == segs.frames.size();
    EXPECT_EQ((s[tcp + 13] & 0x09) != 0, last) << "FIN/PSH only on the last, k=" << k;
    EXPECT_EQ((s[tcp + 13] & 0x80) != 0, k == 0) << "CWR only on the first, k=" << k;
    EXPECT_TRUE(s[tcp + 13] & 0x10) << "ACK on every segment";
    EXPECT_TRUE(TcpChecksumOk(s, v6)) << "TCP checksum, k=" << k;
    joined.insert(joined.end(), s.begin() + static_cast<long>(hdrs), s.end());
  }
  EXPECT_EQ(joined, std::vector<std::uint8_t>(super.begin() + static_cast<long>(hdrs), super.end()));
}

TEST(SegmentTcp, Ipv4SuperFrameBecomesValidSegmentsCarryingThePayloadInOrder) {
  ExpectValidSegmentation(false);
}

TEST(SegmentTcp, Ipv6SuperFrameBecomesValidSegmentsCarryingThePayloadInOrder) {
  ExpectValidSegmentation(true);
}

TEST(SegmentTcp, GsoSizeSmallerThanTheFrameLimitIsKept) {
  const auto segs = Segment(SuperFrame(false, 3000), 1000, 1500);
  ASSERT_EQ(segs.frames.size(), 3u);
  EXPECT_EQ(segs.frames[0].size(), kEth + 20 + 32 + 1000u);
}

TEST(SegmentTcp, TooManySegmentsForTheSlotsIsRefused) {
  EXPECT_TRUE(Segment(SuperFrame(false, 60000), 1448, 1436, 8).frames.empty());
}

TEST(SegmentTcp, NonTcpAndTruncatedFramesAreRefused) {
  auto udp = SuperFrame(false, 100);
  udp[kEth + 9] = 17;
  EXPECT_TRUE(Segment(udp, 1448, 1436).frames.empty());
  const auto full = SuperFrame(true, 0);
  for (std::size_t n = 0; n < full.size(); ++n) {
    const std::vector<std::uint8_t> cut(full.begin(), full.begin() + static_cast<long>(n));
    EXPECT_TRUE(Segment(cut, 1448, 1436).frames.empty()) << "n=" << n;
  }
}

std::vector<std::vector<std::uint8_t>> SegmentUdpFrames(const std::vector<std::uint8_t>& super,
                                                        std::size_t gso_size,
                                                        std::size_t max_frame) {
  return testing::Cut(SegmentUdp, super, gso_size, max_frame);
}

void ExpectValidUdpSegmentation(bool v6) {
  const auto super = testing::UdpFrame(v6, 3 * 1000 + 10);  // as a UDP GSO read gives it
  const auto dgrams = SegmentUdpFrames(super, 1000, 1514);
  ASSERT_EQ(dgrams.size(), 4u);
  const std::size_t hdrs = kEth + (v6 ? 40 : 20) + 8;
  std::vector<std::uint8_t> joined;
  for (std::size_t k = 0; k < dgrams.size(); ++k) {
    const auto& d = dgrams[k];
    EXPECT_EQ(d.size(), hdrs + (k < 3 ? 1000 : 10)) << k;
    EXPECT_EQ(Load16(&d[hdrs - 4]), d.size() - hdrs + 8) << "UDP length, k=" << k;
    if (!v6) {
      EXPECT_EQ(Load16(&d[kEth + 4]), 0x1234 + k) << "IPv4 id, k=" << k;
    }
    EXPECT_TRUE(testing::UdpChecksumsValid(d, v6)) << "k=" << k;
    joined.insert(joined.end(), d.begin() + static_cast<long>(hdrs), d.end());
  }
  EXPECT_EQ(joined, std::vector<std::uint8_t>(super.begin() + static_cast<long>(hdrs), super.end()));
}

TEST(SegmentUdp, Ipv4GsoFrameBecomesTheValidDatagramsInOrder) { ExpectValidUdpSegmentation(false); }
TEST(SegmentUdp, Ipv6GsoFrameBecomesTheValidDatagramsInOrder) { ExpectValidUdpSegmentation(true); }

TEST(SegmentUdp, DatagramsLargerThanTheFrameLimitTcpAndTruncatedFramesAreRefused) {
  EXPECT_TRUE(SegmentUdpFrames(testing::UdpFrame(false, 3000), 1480, 1514).empty())
      << "a datagram cannot be cut smaller than its sender chose";
  EXPECT_TRUE(SegmentUdpFrames(SuperFrame(false, 100), 64, 1514).empty());
  const auto full = testing::UdpFrame(true, 0);
  for (std::size_t n = 0; n < full.size(); ++n) {
    const std::vector<std::uint8_t> cut(full.begin(), full.begin() + static_cast<long>(n));
    EXPECT_TRUE(SegmentUdpFrames(cut, 64, 1514).empty()) << "n=" << n;
  }
}

TEST(CompleteChecksum, FillsInWhatThePseudoHeaderSumLeftOpen) {
  auto f = SuperFrame(false, 500);
  const std::size_t tcp = kEth + 20;
  // What a kernel leaves with NEEDS_CSUM: the pseudo-header sum, not complemented.
  std::uint32_t pseudo = OnesSum({&f[kEth + 12], 8}) + 6 + static_cast<std::uint32_t>(f.size() - tcp);
  while (pseudo >> 16) pseudo = (pseudo & 0xffff) + (pseudo >> 16);
  f[tcp + 16] = static_cast<std::uint8_t>(pseudo >> 8);
  f[tcp + 17] = static_cast<std::uint8_t>(pseudo);
  f[kEth + 2] = static_cast<std::uint8_t>((f.size() - kEth) >> 8);
  f[kEth + 3] = static_cast<std::uint8_t>(f.size() - kEth);
  ASSERT_TRUE(CompleteChecksum(f, tcp, 16));
  EXPECT_TRUE(TcpChecksumOk(f, false));
  EXPECT_FALSE(CompleteChecksum(f, f.size(), 16));
  EXPECT_FALSE(CompleteChecksum(f, f.size() - 1, 16));
}

}  // namespace
}  // namespace vdemesh::core

namespace vdemesh::core {
namespace {

// A 16-bit-at-a-time reference, the RFC 1071 way.
std::uint16_t ReferenceChecksum(const std::vector<std::uint8_t>& d, std::uint32_t start) {
  std::uint64_t s = start;
  for (std::size_t i = 0; i + 1 < d.size(); i += 2) s += static_cast<std::uint32_t>(d[i] << 8 | d[i + 1]);
  if (d.size() % 2) s += static_cast<std::uint32_t>(d.back() << 8);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint16_t>(~s);
}

TEST(OnesSum, MatchesTheSixteenBitReferenceForEveryLengthAndStart) {
  std::uint32_t x = 12345;
  for (std::size_t len = 0; len < 300; ++len) {
    std::vector<std::uint8_t> d(len);
    for (auto& b : d) b = static_cast<std::uint8_t>((x = x * 1103515245 + 12345) >> 16);
    for (std::uint32_t start : {0u, 1u, 0xffffu, 0x1fffeu, 0xffffffffu}) {
      ASSERT_EQ(FoldChecksum(OnesSum(d, start)), ReferenceChecksum(d, start))
          << "len=" << len << " start=" << start;
    }
  }
  const std::vector<std::uint8_t> ones(70000, 0xff);  // many end-around carries
  EXPECT_EQ(FoldChecksum(OnesSum(ones)), ReferenceChecksum(ones, 0));
}

}  // namespace
}  // namespace vdemesh::core
