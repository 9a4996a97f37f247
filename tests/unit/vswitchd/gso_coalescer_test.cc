#include "vswitchd/core/gso_coalescer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "vswitchd/core/tso.h"
#include "inet_frames.h"

namespace vdemesh::core {
namespace {

using testing::kEth;

// An ACK|PSH TCP super-frame with `payload` bytes; IPv4 or IPv6.
std::vector<std::uint8_t> SuperFrame(bool v6, std::size_t payload) {
  return testing::TcpFrame(v6, payload, 0x18, 0x1000);
}

std::vector<std::vector<std::uint8_t>> Cut(const std::vector<std::uint8_t>& super, std::size_t mss) {
  return testing::Cut(SegmentTcp, super, mss);
}

void ExpectRoundTrip(bool v6) {
  const auto super = SuperFrame(v6, 20000);
  const auto segs = Cut(super, 1400);
  ASSERT_GT(segs.size(), 1u);
  GsoCoalescer c(/*udp=*/true);
  ASSERT_TRUE(c.Start(segs[0]));
  for (std::size_t i = 1; i < segs.size(); ++i) ASSERT_TRUE(c.Append(segs[i])) << "segment " << i;
  EXPECT_EQ(c.segments(), segs.size());
  VnetHeader h;
  const auto out = c.Finish(&h);
  std::vector<std::uint8_t> got(out.begin(), out.end());
  ASSERT_EQ(got.size(), super.size());
  EXPECT_EQ(h.gso_type, v6 ? VnetHeader::kGsoTcpV6 : VnetHeader::kGsoTcpV4);
  EXPECT_EQ(h.gso_size, 1400);
  EXPECT_EQ(h.flags, VnetHeader::kNeedsCsum);
  const std::size_t tcp = kEth + (v6 ? 40 : 20);
  EXPECT_EQ(h.csum_start, tcp);
  EXPECT_EQ(h.hdr_len, tcp + 32);
  // What the kernel does with NEEDS_CSUM gives a valid checksum.
  ASSERT_TRUE(CompleteChecksum(got, h.csum_start, h.csum_offset));
  std::uint32_t sum = v6 ? OnesSum({&got[kEth + 8], 32}) : OnesSum({&got[kEth + 12], 8});
  sum += 6 + static_cast<std::uint32_t>(got.size() - tcp);
  EXPECT_EQ(FoldChecksum(OnesSum({&got[tcp], got.size() - tcp}, sum)), 0);
  if (!v6) {
    EXPECT_EQ(FoldChecksum(OnesSum({&got[kEth], 20})), 0);
  }
  // Payload and the headers but for lengths, ids and checksums are the original's.
  EXPECT_TRUE(std::equal(got.begin() + static_cast<long>(tcp + 32), got.end(),
                         super.begin() + static_cast<long>(tcp + 32)));
  EXPECT_EQ(got[tcp + 13], super[tcp + 13]) << "PSH of the last segment carried over";
  EXPECT_TRUE(c.empty());
}

TEST(GsoCoalescerTcp, Ipv4SegmentsOfOneBurstBecomeTheSuperFrameAgain) { ExpectRoundTrip(false); }
TEST(GsoCoalescerTcp, Ipv6SegmentsOfOneBurstBecomeTheSuperFrameAgain) { ExpectRoundTrip(true); }

TEST(GsoCoalescerTcp, AGapInSequenceOrAnotherFlowIsNotAppended) {
  const auto segs = Cut(SuperFrame(false, 6000), 1400);
  GsoCoalescer c(/*udp=*/true);
  ASSERT_TRUE(c.Start(segs[0]));
  EXPECT_FALSE(c.Append(segs[2])) << "sequence gap";
  auto other = segs[1];
  other[kEth + 20 + 1] ^= 1;  // another source port
  EXPECT_FALSE(c.Append(other));
  EXPECT_TRUE(c.Append(segs[1]));
}

TEST(GsoCoalescerTcp, NothingFollowsAPshOrShortSegment) {
  const auto segs = Cut(SuperFrame(false, 3000), 1400);  // 1400, 1400, 200 (PSH)
  GsoCoalescer c(/*udp=*/true);
  ASSERT_TRUE(c.Start(segs[0]));
  ASSERT_TRUE(c.Append(segs[1]));
  ASSERT_TRUE(c.Append(segs[2]));
  EXPECT_FALSE(c.Append(segs[2]));
}

TEST(GsoCoalescerTcp, SynFinAndPureAcksDoNotStartARun) {
  auto seg = Cut(SuperFrame(false, 100), 1400)[0];
  GsoCoalescer c(/*udp=*/true);
  auto syn = seg;
  syn[kEth + 20 + 13] = 0x02;
  EXPECT_FALSE(c.Start(syn));
  auto fin = seg;
  fin[kEth + 20 + 13] = 0x11;
  EXPECT_FALSE(c.Start(fin));
  std::vector<std::uint8_t> ack(seg.begin(), seg.begin() + kEth + 20 + 32);
  EXPECT_FALSE(c.Start(ack));
}

TEST(GsoCoalescerTcp, ASingleSegmentComesBackPlain) {
  const auto seg = Cut(SuperFrame(false, 500), 1400)[0];
  GsoCoalescer c(/*udp=*/true);
  ASSERT_TRUE(c.Start(seg));
  VnetHeader h;
  const auto out = c.Finish(&h);
  EXPECT_EQ(h.gso_type, VnetHeader::kGsoNone);
  EXPECT_EQ(h.flags, 0);
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.end()), seg);
}

// Datagrams of one UDP GSO send, cut as the kernel (or SegmentUdp) cuts them.
std::vector<std::vector<std::uint8_t>> CutUdp(const std::vector<std::uint8_t>& super,
                                              std::size_t gso_size) {
  return testing::Cut(SegmentUdp, super, gso_size);
}

void ExpectUdpRoundTrip(bool v6) {
  const auto super = testing::UdpFrame(v6, 64 * 40 + 17);  // 40 full datagrams and a short one
  const auto dgrams = CutUdp(super, 64);
  ASSERT_EQ(dgrams.size(), 41u);
  for (const auto& d : dgrams) ASSERT_TRUE(testing::UdpChecksumsValid(d, v6));
  GsoCoalescer c(/*udp=*/true);
  ASSERT_TRUE(c.Start(dgrams[0]));
  for (std::size_t i = 1; i < dgrams.size(); ++i) ASSERT_TRUE(c.Append(dgrams[i])) << "datagram " << i;
  EXPECT_FALSE(c.Append(dgrams[1])) << "a short datagram ends the run";
  VnetHeader h;
  const auto out = c.Finish(&h);
  std::vector<std::uint8_t> got(out.begin(), out.end());
  ASSERT_EQ(got.size(), super.size());
  const std::size_t udp = kEth + (v6 ? 40 : 20);
  EXPECT_EQ(h.gso_type, VnetHeader::kGsoUdpL4);
  EXPECT_EQ(h.gso_size, 64);
  EXPECT_EQ(h.flags, VnetHeader::kNeedsCsum);
  EXPECT_EQ(h.csum_start, udp);
  EXPECT_EQ(h.csum_offset, 6);
  EXPECT_EQ(h.hdr_len, udp + 8);
  // NEEDS_CSUM completed as the kernel would gives the super-frame's valid checksum...
  ASSERT_TRUE(CompleteChecksum(got, h.csum_start, h.csum_offset));
  EXPECT_TRUE(testing::UdpChecksumsValid(got, v6));
  EXPECT_EQ(got, super);
  // ...and cutting it again gives back the very datagrams.
  EXPECT_EQ(CutUdp(got, h.gso_size), dgrams);
}

TEST(GsoCoalescerUdp, Ipv4DatagramsOfOneFlowBecomeOneUdpGsoFrameAndCutBackTheSame) {
  ExpectUdpRoundTrip(false);
}
TEST(GsoCoalescerUdp, Ipv6DatagramsOfOneFlowBecomeOneUdpGsoFrameAndCutBackTheSame) {
  ExpectUdpRoundTrip(true);
}

TEST(GsoCoalescerUdp, AnIdGapAnotherPortOrALongerDatagramIsNotAppended) {
  const auto dgrams = CutUdp(testing::UdpFrame(false, 64 * 4), 64);
  GsoCoalescer c(/*udp=*/true);
  ASSERT_TRUE(c.Start(dgrams[0]));
  EXPECT_FALSE(c.Append(dgrams[2])) << "IPv4 id gap: the kernel would renumber it";
  auto other = dgrams[1];
  other[kEth + 20 + 1] ^= 1;  // another source port (checksum no longer matters: refused first)
  EXPECT_FALSE(c.Append(other));
  EXPECT_FALSE(c.Append(testing::UdpFrame(false, 65, 0x1235))) << "longer than gso_size";
  EXPECT_TRUE(c.Append(dgrams[1]));
}

TEST(GsoCoalescerUdp, BadOrAbsentChecksumsAndDisabledUdpDoNotStartARun) {
  auto bad = testing::UdpFrame(false, 64);
  bad.back() ^= 0xff;
  GsoCoalescer c(/*udp=*/true);
  EXPECT_FALSE(c.Start(bad)) << "its checksum would be made valid by the kernel";
  auto none = testing::UdpFrame(false, 64);
  none[kEth + 20 + 6] = none[kEth + 20 + 7] = 0;
  EXPECT_FALSE(c.Start(none));
  GsoCoalescer tcp_only(/*udp=*/false);
  EXPECT_FALSE(tcp_only.Start(testing::UdpFrame(false, 64)));
  EXPECT_TRUE(c.Start(testing::UdpFrame(false, 64)));
}

TEST(GsoCoalescer, AWrongIpv4HeaderChecksumStartsNoRun) {
  GsoCoalescer c(/*udp=*/true);
  auto seg = Cut(SuperFrame(false, 500), 1400)[0];
  ASSERT_TRUE(c.Start(seg));
  VnetHeader h;
  c.Finish(&h);
  seg[kEth + 10] ^= 1;
  EXPECT_FALSE(c.Start(seg)) << "TCP: the super-frame's header checksum would be made valid";
  auto dgram = testing::UdpFrame(false, 64);
  dgram[kEth + 10] ^= 1;
  EXPECT_FALSE(c.Start(dgram)) << "UDP";
}

TEST(GsoCoalescerUdp, ARunStopsAtSixtyFourDatagrams) {
  const auto dgrams = CutUdp(testing::UdpFrame(false, 16 * 64), 16);
  ASSERT_EQ(dgrams.size(), 64u);
  GsoCoalescer c(/*udp=*/true);
  ASSERT_TRUE(c.Start(dgrams[0]));
  for (std::size_t i = 1; i < 64; ++i) ASSERT_TRUE(c.Append(dgrams[i]));
  EXPECT_FALSE(c.Append(testing::UdpFrame(false, 16, static_cast<std::uint16_t>(0x1234 + 64))));
  EXPECT_EQ(c.segments(), 64u);
}

}  // namespace
}  // namespace vdemesh::core
