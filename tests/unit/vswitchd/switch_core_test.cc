// switch_core_test.cc: unit tests for SwitchCore, the forwarding decisions of one network.
//
// Time is a plain variable (`now_`) that tests move forward by hand; nothing sleeps. Each test
// builds frames byte by byte, feeds them to Ingress() on a port and checks the verdict, the
// frame span (tag stripping happens in place) and the per-port and switch-wide counters.

#include "vswitchd/core/switch_core.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vswitchd/core/ethernet.h"

namespace vdemesh::core {
namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;
using Action = Forwarding::Action;
using Bytes = std::vector<std::uint8_t>;

const MacAddress kBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

MacAddress Mac(std::uint64_t v) {
  MacAddress m;
  for (int i = 5; i >= 0; --i, v >>= 8) m.bytes[i] = static_cast<std::uint8_t>(v);
  return m;
}

Location Port(std::uint32_t n) { return {Location::Kind::kPort, n}; }

const MacAddress kA = Mac(0x0200'0000'000a);
const MacAddress kB = Mac(0x0200'0000'000b);
const MacAddress kC = Mac(0x0200'0000'000c);

// An untagged IPv4 frame of `size` bytes; the payload is a counting pattern, so a frame that
// was moved or truncated does not compare equal by accident.
Bytes Untagged(const MacAddress& dst, const MacAddress& src, std::size_t size = 60) {
  Bytes f(dst.bytes.begin(), dst.bytes.end());
  f.insert(f.end(), src.bytes.begin(), src.bytes.end());
  f.push_back(0x08);
  f.push_back(0x00);
  for (std::size_t i = f.size(); i < size; ++i) f.push_back(static_cast<std::uint8_t>(i));
  f.resize(size);
  return f;
}

// The same frame with an 802.1Q tag (PCP 5, so the VID has to be masked out) after the MACs;
// `size` counts the tag.
Bytes Tagged(const MacAddress& dst, const MacAddress& src, std::uint16_t vid,
             std::size_t size = 64) {
  Bytes f = Untagged(dst, src, size - kVlanTagBytes);
  const std::uint16_t tci = static_cast<std::uint16_t>(0xa000 | vid);
  const std::uint8_t tag[] = {0x81, 0x00, static_cast<std::uint8_t>(tci >> 8),
                              static_cast<std::uint8_t>(tci & 0xff)};
  f.insert(f.begin() + kMacPairBytes, std::begin(tag), std::end(tag));
  return f;
}

std::uint64_t DropCount(const PortCounters& c, Drop d) {
  return c.drops[static_cast<std::size_t>(d)];
}

std::uint64_t TotalDrops(const PortCounters& c) {
  std::uint64_t n = 0;
  for (auto d : c.drops) n += d;
  return n;
}

class SwitchCoreTest : public ::testing::Test {
 protected:
  static constexpr std::uint32_t kPorts = 8;

  static SwitchCore::Options Opts(std::size_t fdb_max = 1024) {
    SwitchCore::Options o;
    o.numports = kPorts;
    o.max_frame = 1514;
    o.fdb.max_entries = fdb_max;
    o.fdb.aging = seconds(300);
    return o;
  }

  explicit SwitchCoreTest(SwitchCore::Options o = Opts()) : sw_(o) {
    for (std::uint32_t p = 0; p < kPorts; ++p) sw_.SetActive(p, true);
  }

  // Ingress of a copy of `frame`; the span after Ingress() is left in last_.
  Forwarding In(std::uint32_t port, const Bytes& frame) {
    buf_ = frame;
    last_ = std::span<std::uint8_t>(buf_);
    return sw_.Ingress(port, &last_, now_);
  }

  // Sends from `src` on `port` to broadcast, so the switch learns src there.
  void Teach(std::uint32_t port, const MacAddress& src, std::uint16_t tag_vid = 0) {
    const Forwarding f =
        In(port, tag_vid ? Tagged(kBroadcast, src, tag_vid) : Untagged(kBroadcast, src));
    ASSERT_EQ(f.action, Action::kFlood);
  }

  SwitchCore sw_;
  Clock::time_point now_ = Clock::time_point{} + std::chrono::hours(1);
  Bytes buf_;
  std::span<std::uint8_t> last_;
};

// --- learning and forwarding ---

TEST_F(SwitchCoreTest, UnknownUnicastFloods) {
  const Forwarding f = In(1, Untagged(kB, kA));
  EXPECT_EQ(f.action, Action::kFlood);
  EXPECT_EQ(f.vlan, kDefaultVlan);
}

TEST_F(SwitchCoreTest, BroadcastFloods) {
  EXPECT_EQ(In(1, Untagged(kBroadcast, kA)).action, Action::kFlood);
}

TEST_F(SwitchCoreTest, MulticastDestinationFloods) {
  const MacAddress group = Mac(0x0100'5e00'0001);
  EXPECT_EQ(In(1, Untagged(group, kA)).action, Action::kFlood);
}

TEST_F(SwitchCoreTest, LearnedSourceIsUnicastToItsPort) {
  Teach(1, kA);
  const Forwarding f = In(2, Untagged(kA, kB));
  EXPECT_EQ(f.action, Action::kUnicast);
  EXPECT_EQ(f.to, Port(1));
  EXPECT_EQ(f.vlan, kDefaultVlan);
  // B was learned by that frame, so the answer goes straight back.
  const Forwarding back = In(1, Untagged(kB, kA));
  EXPECT_EQ(back.action, Action::kUnicast);
  EXPECT_EQ(back.to, Port(2));
}

TEST_F(SwitchCoreTest, MacThatMovesIsUnicastToItsNewPort) {
  Teach(1, kA);
  Teach(3, kA);
  const Forwarding f = In(2, Untagged(kA, kB));
  EXPECT_EQ(f.action, Action::kUnicast);
  EXPECT_EQ(f.to, Port(3));
}

TEST_F(SwitchCoreTest, DestinationOnTheIngressPortIsDroppedAsSamePort) {
  Teach(1, kA);
  const Forwarding f = In(1, Untagged(kA, kB));
  EXPECT_EQ(f.action, Action::kDrop);
  EXPECT_EQ(DropCount(sw_.counters(1), Drop::kSamePort), 1u);
  EXPECT_EQ(TotalDrops(sw_.counters(1)), 1u);
}

// --- size checks ---

TEST_F(SwitchCoreTest, FrameOf13BytesIsDroppedAsTooShortOnTheIngressPort) {
  const Bytes f = Untagged(kB, kA, 13);
  EXPECT_EQ(In(4, f).action, Action::kDrop);
  EXPECT_EQ(DropCount(sw_.counters(4), Drop::kTooShort), 1u);
  EXPECT_EQ(TotalDrops(sw_.counters(3)), 0u);
}

TEST_F(SwitchCoreTest, EveryTruncationBelowAHeaderIsDroppedAsTooShort) {
  const Bytes untagged = Untagged(kB, kA);
  for (std::size_t n = 0; n < kEthHeaderBytes; ++n)
    EXPECT_EQ(In(1, Bytes(untagged.begin(), untagged.begin() + n)).action, Action::kDrop)
        << "n=" << n;
  const Bytes tagged = Tagged(kB, kA, 1);
  for (std::size_t n = 0; n < kEthHeaderBytes + kVlanTagBytes; ++n)
    EXPECT_EQ(In(2, Bytes(tagged.begin(), tagged.begin() + n)).action, Action::kDrop) << "n=" << n;
  EXPECT_EQ(DropCount(sw_.counters(1), Drop::kTooShort), kEthHeaderBytes);
  EXPECT_EQ(DropCount(sw_.counters(2), Drop::kTooShort), kEthHeaderBytes + kVlanTagBytes);
}

TEST_F(SwitchCoreTest, UntaggedFrameOfMaxFrameBytesIsForwarded) {
  EXPECT_EQ(In(1, Untagged(kB, kA, sw_.max_frame())).action, Action::kFlood);
}

TEST_F(SwitchCoreTest, UntaggedFrameLongerThanMaxFrameIsDroppedAsTooLong) {
  EXPECT_EQ(In(1, Untagged(kB, kA, sw_.max_frame() + 1)).action, Action::kDrop);
  EXPECT_EQ(DropCount(sw_.counters(1), Drop::kTooLong), 1u);
  EXPECT_EQ(TotalDrops(sw_.counters(1)), 1u);
}

TEST_F(SwitchCoreTest, TaggedFrameMayBeFourBytesLongerThanMaxFrame) {
  VlanSet allowed;
  allowed.Add(10);
  sw_.SetPortVlan(1, PortVlan::Trunk(allowed, 0));
  const Forwarding f = In(1, Tagged(kB, kA, 10, sw_.max_frame() + kVlanTagBytes));
  EXPECT_EQ(f.action, Action::kFlood);
  EXPECT_EQ(last_.size(), sw_.max_frame());
  EXPECT_EQ(In(1, Tagged(kB, kA, 10, sw_.max_frame() + kVlanTagBytes + 1)).action, Action::kDrop);
  EXPECT_EQ(DropCount(sw_.counters(1), Drop::kTooLong), 1u);
}

TEST_F(SwitchCoreTest, MaxFrameComesFromTheOptions) {
  SwitchCore::Options o = Opts();
  o.max_frame = 9000;
  SwitchCore jumbo(o);
  jumbo.SetActive(0, true);
  Bytes ok = Untagged(kB, kA, 9000);
  std::span<std::uint8_t> s(ok);
  EXPECT_EQ(jumbo.Ingress(0, &s, now_).action, Action::kFlood);
  Bytes big = Untagged(kB, kA, 9001);
  s = std::span<std::uint8_t>(big);
  EXPECT_EQ(jumbo.Ingress(0, &s, now_).action, Action::kDrop);
  EXPECT_EQ(DropCount(jumbo.counters(0), Drop::kTooLong), 1u);
}

// --- source checks ---

TEST_F(SwitchCoreTest, MulticastSourceIsDroppedAsBadSourceMac) {
  EXPECT_EQ(In(1, Untagged(kB, Mac(0x0100'5e00'0001))).action, Action::kDrop);
  EXPECT_EQ(In(1, Untagged(kB, kBroadcast)).action, Action::kDrop);
  EXPECT_EQ(DropCount(sw_.counters(1), Drop::kBadSourceMac), 2u);
}

TEST_F(SwitchCoreTest, ZeroSourceIsDroppedAsBadSourceMac) {
  EXPECT_EQ(In(1, Untagged(kB, Mac(0))).action, Action::kDrop);
  EXPECT_EQ(DropCount(sw_.counters(1), Drop::kBadSourceMac), 1u);
}

TEST_F(SwitchCoreTest, BadSourceIsNotLearned) {
  const MacAddress group = Mac(0x0300'0000'0001);
  In(1, Untagged(kB, group));
  EXPECT_EQ(sw_.fdb().size(), 0u);
}

// --- VLANs on ingress ---

TEST_F(SwitchCoreTest, TrunkIngressStripsTheTagInPlaceAndGivesTheVlan) {
  VlanSet allowed;
  allowed.Add(42);
  sw_.SetPortVlan(1, PortVlan::Trunk(allowed, 0));
  const Bytes tagged = Tagged(kB, kA, 42, 100);
  const Forwarding f = In(1, tagged);
  EXPECT_EQ(f.action, Action::kFlood);
  EXPECT_EQ(f.vlan, 42);
  // Same buffer, 4 bytes later, holding the untagged frame with the MACs intact.
  EXPECT_EQ(last_.data(), buf_.data() + kVlanTagBytes);
  EXPECT_EQ(Bytes(last_.begin(), last_.end()), Untagged(kB, kA, 100 - kVlanTagBytes));
}

TEST_F(SwitchCoreTest, PriorityTagIsStrippedAndTheFrameTakesTheAccessVlan) {
  sw_.SetPortVlan(1, PortVlan::Access(7));
  const Forwarding f = In(1, Tagged(kB, kA, 0, 64));
  EXPECT_EQ(f.action, Action::kFlood);
  EXPECT_EQ(f.vlan, 7);
  EXPECT_EQ(last_.data(), buf_.data() + kVlanTagBytes);
  EXPECT_EQ(Bytes(last_.begin(), last_.end()), Untagged(kB, kA, 60));
}

TEST_F(SwitchCoreTest, UntaggedFrameIsLeftWhereItIs) {
  const Bytes frame = Untagged(kB, kA, 80);
  In(1, frame);
  EXPECT_EQ(last_.data(), buf_.data());
  EXPECT_EQ(Bytes(last_.begin(), last_.end()), frame);
}

TEST_F(SwitchCoreTest, AccessPortAcceptsItsOwnVlanTagAndStripsIt) {
  sw_.SetPortVlan(1, PortVlan::Access(10));
  const Forwarding f = In(1, Tagged(kB, kA, 10));
  EXPECT_EQ(f.action, Action::kFlood);
  EXPECT_EQ(f.vlan, 10);
  EXPECT_EQ(last_.size(), 60u);
}

TEST_F(SwitchCoreTest, AccessPortDropsAForeignTagAsVlanNotAllowed) {
  sw_.SetPortVlan(1, PortVlan::Access(10));
  EXPECT_EQ(In(1, Tagged(kB, kA, 20)).action, Action::kDrop);
  EXPECT_EQ(DropCount(sw_.counters(1), Drop::kVlanNotAllowed), 1u);
  EXPECT_EQ(sw_.fdb().size(), 0u);
}

TEST_F(SwitchCoreTest, TrunkDropsATagOutsideItsAllowedSet) {
  VlanSet allowed;
  allowed.Add(1);
  sw_.SetPortVlan(1, PortVlan::Trunk(allowed, 0));
  EXPECT_EQ(In(1, Tagged(kB, kA, 1 + 1024)).action, Action::kDrop);
  EXPECT_EQ(In(1, Tagged(kB, kA, 1 + 2048)).action, Action::kDrop);
  EXPECT_EQ(DropCount(sw_.counters(1), Drop::kVlanNotAllowed), 2u);
}

TEST_F(SwitchCoreTest, UntaggedFrameOnTrunkWithoutNativeVlanIsDropped) {
  VlanSet allowed;
  allowed.Add(10);
  sw_.SetPortVlan(1, PortVlan::Trunk(allowed, 0));
  EXPECT_EQ(In(1, Untagged(kB, kA)).action, Action::kDrop);
  EXPECT_EQ(DropCount(sw_.counters(1), Drop::kUntaggedOnTrunk), 1u);
  EXPECT_EQ(sw_.fdb().size(), 0u);
}

TEST_F(SwitchCoreTest, UntaggedFrameOnTrunkWithNativeVlanIsAcceptedInIt) {
  VlanSet allowed;
  allowed.Add(10);
  sw_.SetPortVlan(1, PortVlan::Trunk(allowed, 30));
  const Bytes frame = Untagged(kB, kA);
  const Forwarding f = In(1, frame);
  EXPECT_EQ(f.action, Action::kFlood);
  EXPECT_EQ(f.vlan, 30);
  EXPECT_EQ(Bytes(last_.begin(), last_.end()), frame);
}

TEST_F(SwitchCoreTest, MacLearnedInOneVlanIsUnknownInAnother) {
  sw_.SetPortVlan(1, PortVlan::Access(10));
  sw_.SetPortVlan(2, PortVlan::Access(10));
  sw_.SetPortVlan(3, PortVlan::Access(20));
  Teach(1, kA);
  const Forwarding same = In(2, Untagged(kA, kB));
  EXPECT_EQ(same.action, Action::kUnicast);
  EXPECT_EQ(same.to, Port(1));
  const Forwarding other = In(3, Untagged(kA, kC));
  EXPECT_EQ(other.action, Action::kFlood);
  EXPECT_EQ(other.vlan, 20);
}

TEST_F(SwitchCoreTest, SameMacInTwoVlansIsForwardedPerVlan) {
  VlanSet allowed;
  allowed.Add(10);
  allowed.Add(20);
  sw_.SetPortVlan(1, PortVlan::Trunk(allowed, 0));
  sw_.SetPortVlan(2, PortVlan::Access(10));
  sw_.SetPortVlan(3, PortVlan::Access(20));
  Teach(2, kA);  // A in VLAN 10 on port 2
  Teach(3, kA);  // A in VLAN 20 on port 3: a different entry, not a move
  const Forwarding f10 = In(1, Tagged(kA, kB, 10));
  EXPECT_EQ(f10.action, Action::kUnicast);
  EXPECT_EQ(f10.to, Port(2));
  const Forwarding f20 = In(1, Tagged(kA, kB, 20));
  EXPECT_EQ(f20.action, Action::kUnicast);
  EXPECT_EQ(f20.to, Port(3));
}

// --- port state changes ---

TEST_F(SwitchCoreTest, DeactivatingAPortForgetsItsMacs) {
  Teach(1, kA);
  Teach(3, kC);
  sw_.SetActive(1, false);
  EXPECT_FALSE(sw_.active(1));
  EXPECT_EQ(In(2, Untagged(kA, kB)).action, Action::kFlood);
  // Other ports keep theirs.
  const Forwarding f = In(2, Untagged(kC, kB));
  EXPECT_EQ(f.action, Action::kUnicast);
  EXPECT_EQ(f.to, Port(3));
}

TEST_F(SwitchCoreTest, ChangingAPortsVlanForgetsItsMacs) {
  Teach(1, kA);
  sw_.SetPortVlan(1, PortVlan::Access(kDefaultVlan));  // even an identical setting
  EXPECT_EQ(In(2, Untagged(kA, kB)).action, Action::kFlood);
}

TEST_F(SwitchCoreTest, ChangingAPortsVlanKeepsOtherPortsMacs) {
  Teach(1, kA);
  Teach(3, kC);
  sw_.SetPortVlan(1, PortVlan::Access(10));
  EXPECT_EQ(sw_.port_vlan(1).access_vlan(), 10);
  const Forwarding f = In(2, Untagged(kC, kB));
  EXPECT_EQ(f.action, Action::kUnicast);
  EXPECT_EQ(f.to, Port(3));
}

TEST_F(SwitchCoreTest, ReactivatedPortStartsWithZeroCounters) {
  In(1, Untagged(kB, kA, 13));
  sw_.SetActive(1, true);  // already active: counters stay
  EXPECT_EQ(sw_.counters(1).rx_frames, 1u);
  sw_.SetActive(1, false);
  sw_.SetActive(1, true);
  EXPECT_EQ(sw_.counters(1).rx_frames, 0u);
  EXPECT_EQ(TotalDrops(sw_.counters(1)), 0u);
}

// --- aging and the FDB bound ---

TEST_F(SwitchCoreTest, DestinationFloodsAgainOnceItsEntryHasAged) {
  Teach(1, kA);
  now_ += seconds(300) - nanoseconds(1);
  EXPECT_EQ(In(2, Untagged(kA, kB)).action, Action::kUnicast);
  now_ += nanoseconds(1);
  EXPECT_EQ(In(2, Untagged(kA, kB)).action, Action::kFlood);
}

TEST_F(SwitchCoreTest, TrafficFromASourceKeepsItsEntryAlive) {
  Teach(1, kA);
  for (int i = 0; i < 5; ++i) {
    now_ += seconds(200);
    Teach(1, kA);
  }
  EXPECT_EQ(In(2, Untagged(kA, kB)).action, Action::kUnicast);
}

TEST_F(SwitchCoreTest, ExpireRemovesAgedEntries) {
  Teach(1, kA);
  now_ += seconds(100);
  Teach(2, kB);
  now_ += seconds(200);
  EXPECT_EQ(sw_.Expire(now_), 1u);
  EXPECT_EQ(sw_.fdb().size(), 1u);
}

class SmallFdbTest : public SwitchCoreTest {
 protected:
  static constexpr std::size_t kFdbMax = 16;
  SmallFdbTest() : SwitchCoreTest(Opts(kFdbMax)) {}
};

TEST_F(SmallFdbTest, NewSourceOnAFullFdbIsCountedAndStillForwarded) {
  for (std::uint64_t i = 0; i < kFdbMax; ++i) Teach(1, Mac(0x0200'0000'1000 + i));
  EXPECT_EQ(sw_.switch_drops()[static_cast<std::size_t>(SwitchDrop::kFdbFull)], 0u);
  EXPECT_EQ(In(2, Untagged(kBroadcast, kB)).action, Action::kFlood);
  EXPECT_EQ(sw_.switch_drops()[static_cast<std::size_t>(SwitchDrop::kFdbFull)], 1u);
  EXPECT_EQ(sw_.fdb().size(), kFdbMax);
  // B was not learned, so a frame to it floods; known sources still refresh without a count.
  EXPECT_EQ(In(1, Untagged(kB, Mac(0x0200'0000'1000))).action, Action::kFlood);
  EXPECT_EQ(sw_.switch_drops()[static_cast<std::size_t>(SwitchDrop::kFdbFull)], 1u);
  // The port's own drop counters are for its traffic rules, not the FDB bound.
  EXPECT_EQ(TotalDrops(sw_.counters(2)), 0u);
}

TEST_F(SmallFdbTest, FullFdbLearnsAgainOnceEntriesHaveAged) {
  for (std::uint64_t i = 0; i < kFdbMax; ++i) Teach(1, Mac(0x0200'0000'1000 + i));
  now_ += seconds(300);
  Teach(2, kB);
  EXPECT_EQ(sw_.switch_drops()[static_cast<std::size_t>(SwitchDrop::kFdbFull)], 0u);
  const Forwarding f = In(3, Untagged(kB, kC));
  EXPECT_EQ(f.action, Action::kUnicast);
  EXPECT_EQ(f.to, Port(2));
}

// --- egress rules ---

TEST_F(SwitchCoreTest, CarriesAndEgressTaggedFollowEachPortsVlans) {
  VlanSet allowed;
  allowed.Add(10);
  allowed.Add(20);
  sw_.SetPortVlan(1, PortVlan::Access(10));
  sw_.SetPortVlan(2, PortVlan::Trunk(allowed, 0));
  sw_.SetPortVlan(3, PortVlan::Trunk(allowed, 30));

  EXPECT_TRUE(sw_.Carries(1, 10));
  EXPECT_FALSE(sw_.Carries(1, 20));
  EXPECT_FALSE(sw_.EgressTagged(1, 10));

  EXPECT_TRUE(sw_.Carries(2, 10));
  EXPECT_TRUE(sw_.Carries(2, 20));
  EXPECT_FALSE(sw_.Carries(2, 30));
  EXPECT_FALSE(sw_.Carries(2, 10 + 1024));
  EXPECT_TRUE(sw_.EgressTagged(2, 10));
  EXPECT_TRUE(sw_.EgressTagged(2, 20));

  EXPECT_TRUE(sw_.Carries(3, 30));
  EXPECT_FALSE(sw_.EgressTagged(3, 30));
  EXPECT_TRUE(sw_.EgressTagged(3, 10));

  EXPECT_TRUE(sw_.Carries(0, kDefaultVlan));
  EXPECT_FALSE(sw_.Carries(0, 10));
}

TEST_F(SwitchCoreTest, InactivePortCarriesNothing) {
  sw_.SetActive(4, false);
  EXPECT_FALSE(sw_.Carries(4, kDefaultVlan));
  SwitchCore fresh(Opts());
  EXPECT_FALSE(fresh.active(0));
  EXPECT_FALSE(fresh.Carries(0, kDefaultVlan));
}

// --- counters ---

TEST_F(SwitchCoreTest, RxCountersCountEveryFrameIncludingDroppedOnes) {
  sw_.SetPortVlan(1, PortVlan::Access(10));
  Teach(1, kA);                                  // 60 bytes, flooded
  In(1, Untagged(kB, kA, 13));                   // too short
  In(1, Untagged(kB, kA, sw_.max_frame() + 1));  // too long
  In(1, Tagged(kB, kA, 20, 64));                 // vlan not allowed
  In(1, Untagged(kB, Mac(0), 70));               // bad source
  In(1, Untagged(kA, kB, 80));                   // same port
  const PortCounters& c = sw_.counters(1);
  EXPECT_EQ(c.rx_frames, 6u);
  EXPECT_EQ(c.rx_bytes, 60u + 13u + (sw_.max_frame() + 1) + 64u + 70u + 80u);
  EXPECT_EQ(TotalDrops(c), 5u);
  EXPECT_EQ(c.tx_frames, 0u);
  EXPECT_EQ(sw_.counters(2).rx_frames, 0u);
}

TEST_F(SwitchCoreTest, RxBytesCountTheFrameAsReceivedWithItsTag) {
  VlanSet allowed;
  allowed.Add(10);
  sw_.SetPortVlan(1, PortVlan::Trunk(allowed, 0));
  In(1, Tagged(kB, kA, 10, 100));
  EXPECT_EQ(sw_.counters(1).rx_bytes, 100u);
}

TEST(SwitchCore, DropNamesAreTheDocumentedApiNames) {
  EXPECT_STREQ(DropName(Drop::kTooShort), "too_short");
  EXPECT_STREQ(DropName(Drop::kTooLong), "too_long");
  EXPECT_STREQ(DropName(Drop::kVlanNotAllowed), "vlan_not_allowed");
  EXPECT_STREQ(DropName(Drop::kUntaggedOnTrunk), "untagged_on_trunk");
  EXPECT_STREQ(DropName(Drop::kBadSourceMac), "bad_source_mac");
  EXPECT_STREQ(DropName(Drop::kSamePort), "same_port");
  EXPECT_STREQ(DropName(Drop::kTxFull), "tx_full");
  EXPECT_STREQ(DropName(Drop::kTxError), "tx_error");
  EXPECT_STREQ(SwitchDropName(SwitchDrop::kFdbFull), "fdb_full");
}

TEST(SwitchCore, HasTheConfiguredNumberOfPorts) {
  SwitchCore::Options o;
  o.numports = 5;
  SwitchCore sw(o);
  EXPECT_EQ(sw.numports(), 5u);
  EXPECT_TRUE(sw.IsValidPort(4));
  EXPECT_FALSE(sw.IsValidPort(5));
}

}  // namespace
}  // namespace vdemesh::core
