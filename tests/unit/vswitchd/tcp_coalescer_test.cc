#include "vswitchd/core/tcp_coalescer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "vswitchd/core/tso.h"
#include "tcp_frames.h"

namespace vdemesh::core {
namespace {

using testing::kEth;

// An ACK|PSH TCP super-frame with `payload` bytes; IPv4 or IPv6.
std::vector<std::uint8_t> SuperFrame(bool v6, std::size_t payload) {
  return testing::TcpFrame(v6, payload, 0x18, 0x1000);
}

std::vector<std::vector<std::uint8_t>> Cut(const std::vector<std::uint8_t>& super, std::size_t mss) {
  std::vector<std::vector<std::uint8_t>> bufs(64, std::vector<std::uint8_t>(1600));
  std::vector<std::uint8_t*> out;
  for (auto& b : bufs) out.push_back(b.data());
  std::vector<std::size_t> lens(64);
  const std::size_t n = SegmentTcp(super, mss, 1514, out, lens);
  bufs.resize(n);
  for (std::size_t i = 0; i < n; ++i) bufs[i].resize(lens[i]);
  return bufs;
}

void ExpectRoundTrip(bool v6) {
  const auto super = SuperFrame(v6, 20000);
  const auto segs = Cut(super, 1400);
  ASSERT_GT(segs.size(), 1u);
  TcpCoalescer c;
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

TEST(TcpCoalescer, Ipv4SegmentsOfOneBurstBecomeTheSuperFrameAgain) { ExpectRoundTrip(false); }
TEST(TcpCoalescer, Ipv6SegmentsOfOneBurstBecomeTheSuperFrameAgain) { ExpectRoundTrip(true); }

TEST(TcpCoalescer, AGapInSequenceOrAnotherFlowIsNotAppended) {
  const auto segs = Cut(SuperFrame(false, 6000), 1400);
  TcpCoalescer c;
  ASSERT_TRUE(c.Start(segs[0]));
  EXPECT_FALSE(c.Append(segs[2])) << "sequence gap";
  auto other = segs[1];
  other[kEth + 20 + 1] ^= 1;  // another source port
  EXPECT_FALSE(c.Append(other));
  EXPECT_TRUE(c.Append(segs[1]));
}

TEST(TcpCoalescer, NothingFollowsAPshOrShortSegment) {
  const auto segs = Cut(SuperFrame(false, 3000), 1400);  // 1400, 1400, 200 (PSH)
  TcpCoalescer c;
  ASSERT_TRUE(c.Start(segs[0]));
  ASSERT_TRUE(c.Append(segs[1]));
  ASSERT_TRUE(c.Append(segs[2]));
  EXPECT_FALSE(c.Append(segs[2]));
}

TEST(TcpCoalescer, SynFinAndPureAcksDoNotStartARun) {
  auto seg = Cut(SuperFrame(false, 100), 1400)[0];
  TcpCoalescer c;
  auto syn = seg;
  syn[kEth + 20 + 13] = 0x02;
  EXPECT_FALSE(c.Start(syn));
  auto fin = seg;
  fin[kEth + 20 + 13] = 0x11;
  EXPECT_FALSE(c.Start(fin));
  std::vector<std::uint8_t> ack(seg.begin(), seg.begin() + kEth + 20 + 32);
  EXPECT_FALSE(c.Start(ack));
}

TEST(TcpCoalescer, ASingleSegmentComesBackPlain) {
  const auto seg = Cut(SuperFrame(false, 500), 1400)[0];
  TcpCoalescer c;
  ASSERT_TRUE(c.Start(seg));
  VnetHeader h;
  const auto out = c.Finish(&h);
  EXPECT_EQ(h.gso_type, VnetHeader::kGsoNone);
  EXPECT_EQ(h.flags, 0);
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.end()), seg);
}

}  // namespace
}  // namespace vdemesh::core
