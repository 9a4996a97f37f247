// ethernet_test.cc: unit tests for EthernetHeader::Parse and WriteVlanTag.
//
// Frames are built byte by byte here, independently of the parser, so a layout mistake in
// ethernet.h cannot hide behind the same mistake in a test helper.

#include "vswitchd/core/ethernet.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <vector>

namespace vdemesh::core {
namespace {

constexpr std::uint8_t kDst[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0b};
constexpr std::uint8_t kSrc[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};

// dst, src, then `type_and_rest` (ethertype or 802.1Q tag onwards), padded with zeros to `size`.
std::vector<std::uint8_t> Frame(std::vector<std::uint8_t> type_and_rest, std::size_t size) {
  std::vector<std::uint8_t> f;
  f.reserve(12 + type_and_rest.size() + size);  // also keeps GCC 12's -Warray-bounds quiet
  f.insert(f.end(), kDst, kDst + 6);
  f.insert(f.end(), kSrc, kSrc + 6);
  f.insert(f.end(), type_and_rest.begin(), type_and_rest.end());
  if (f.size() < size) f.resize(size, 0);
  return f;
}

std::vector<std::uint8_t> UntaggedFrame() { return Frame({0x08, 0x00}, 60); }

// TCI 0xe00a: PCP 7, DEI 0, VID 10.
std::vector<std::uint8_t> TaggedFrame() { return Frame({0x81, 0x00, 0xe0, 0x0a, 0x08, 0x00}, 64); }

MacAddress Mac(const std::uint8_t (&b)[6]) { return MacAddress::From(b); }

TEST(EthernetHeader, UntaggedFrameGivesItsMacsAndNoTag) {
  const auto f = UntaggedFrame();
  const auto h = EthernetHeader::Parse(f);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->dst, Mac(kDst));
  EXPECT_EQ(h->src, Mac(kSrc));
  EXPECT_FALSE(h->tagged);
  EXPECT_EQ(h->vid, 0);
}

TEST(EthernetHeader, TaggedFrameGivesItsMacsAndVid) {
  const auto f = TaggedFrame();
  const auto h = EthernetHeader::Parse(f);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->dst, Mac(kDst));
  EXPECT_EQ(h->src, Mac(kSrc));
  EXPECT_TRUE(h->tagged);
  EXPECT_EQ(h->vid, 10);
}

TEST(EthernetHeader, BareHeaderOf14BytesIsEnoughForAnUntaggedFrame) {
  const auto f = Frame({0x86, 0xdd}, 0);
  ASSERT_EQ(f.size(), kEthHeaderBytes);
  EXPECT_TRUE(EthernetHeader::Parse(f).has_value());
}

TEST(EthernetHeader, TagWithInnerEthertypeOf18BytesIsEnoughForATaggedFrame) {
  const auto f = Frame({0x81, 0x00, 0x00, 0x05, 0x08, 0x00}, 0);
  ASSERT_EQ(f.size(), kEthHeaderBytes + kVlanTagBytes);
  const auto h = EthernetHeader::Parse(f);
  ASSERT_TRUE(h.has_value());
  EXPECT_TRUE(h->tagged);
  EXPECT_EQ(h->vid, 5);
}

TEST(EthernetHeader, EveryTruncationOfAnUntaggedHeaderIsRejected) {
  const auto f = UntaggedFrame();
  for (std::size_t n = 0; n < kEthHeaderBytes; ++n)
    EXPECT_FALSE(EthernetHeader::Parse(std::span(f).first(n)).has_value()) << "n=" << n;
}

TEST(EthernetHeader, EveryTruncationOfATaggedHeaderIsRejected) {
  const auto f = TaggedFrame();
  for (std::size_t n = 0; n < kEthHeaderBytes + kVlanTagBytes; ++n)
    EXPECT_FALSE(EthernetHeader::Parse(std::span(f).first(n)).has_value()) << "n=" << n;
}

TEST(EthernetHeader, VidIgnoresPriorityAndDropEligibleBits) {
  // PCP 7 and DEI 1 set around every VID bit pattern that matters.
  for (const std::uint16_t vid : {0, 1, 10, 0x0800, 0x0fff}) {
    const std::uint16_t tci = static_cast<std::uint16_t>(0xf000 | vid);
    const auto f = Frame({0x81, 0x00, static_cast<std::uint8_t>(tci >> 8),
                          static_cast<std::uint8_t>(tci & 0xff), 0x08, 0x00},
                         60);
    const auto h = EthernetHeader::Parse(f);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->vid, vid) << "tci=" << tci;
  }
}

TEST(EthernetHeader, PriorityTagIsTaggedWithVidZero) {
  const auto f = Frame({0x81, 0x00, 0xa0, 0x00, 0x08, 0x00}, 60);
  const auto h = EthernetHeader::Parse(f);
  ASSERT_TRUE(h.has_value());
  EXPECT_TRUE(h->tagged);
  EXPECT_EQ(h->vid, 0);
}

TEST(EthernetHeader, OtherTpidsAreNotTreatedAsAn8021QTag) {
  // 802.1ad (0x88a8) and a byte-swapped 0x0081 are plain ethertypes to this switch.
  const std::vector<std::vector<std::uint8_t>> types = {{0x88, 0xa8}, {0x00, 0x81}, {0x81, 0x01}};
  for (const auto& type : types) {
    const auto f = Frame(type, 60);
    const auto h = EthernetHeader::Parse(f);
    ASSERT_TRUE(h.has_value());
    EXPECT_FALSE(h->tagged);
  }
}

TEST(EthernetHeader, ShortUntaggedFrameWithOtherEthertypeIsAccepted) {
  // Only 0x8100 asks for the 4 extra bytes: 14 bytes of 802.1ad are a complete header.
  const auto f = Frame({0x88, 0xa8}, 0);
  EXPECT_TRUE(EthernetHeader::Parse(f).has_value());
}

TEST(WriteVlanTag, WritesTpidAndVidWithPriorityZero) {
  std::uint8_t tag[kVlanTagBytes] = {0xff, 0xff, 0xff, 0xff};
  WriteVlanTag(0x0abc, tag);
  EXPECT_EQ(tag[0], 0x81);
  EXPECT_EQ(tag[1], 0x00);
  EXPECT_EQ(tag[2], 0x0a);
  EXPECT_EQ(tag[3], 0xbc);
}

TEST(WriteVlanTag, TagInsertedAfterTheMacsParsesBackToTheSameVid) {
  for (std::uint16_t vid = 1; vid <= 4094; ++vid) {
    auto f = UntaggedFrame();
    std::uint8_t tag[kVlanTagBytes];
    WriteVlanTag(vid, tag);
    f.insert(f.begin() + kMacPairBytes, tag, tag + kVlanTagBytes);
    const auto h = EthernetHeader::Parse(f);
    ASSERT_TRUE(h.has_value());
    ASSERT_TRUE(h->tagged);
    ASSERT_EQ(h->vid, vid);
    ASSERT_EQ(h->src, Mac(kSrc));
  }
}

}  // namespace
}  // namespace vdemesh::core
