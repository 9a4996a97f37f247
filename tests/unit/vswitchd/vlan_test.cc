// vlan_test.cc: unit tests for VlanSet (parsing of "10,20,30-40" lists) and PortVlan (ingress
// classification and egress rules of access and trunk ports).

#include "vswitchd/core/vlan.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vdemesh::core {
namespace {

using Vids = std::vector<std::uint16_t>;

VlanSet Set(std::string_view text) {
  std::string err;
  auto set = VlanSet::Parse(text, &err);
  EXPECT_TRUE(set.has_value()) << text << ": " << err;
  return set.value_or(VlanSet{});
}

VlanSet SetOf(const Vids& vids) {
  VlanSet s;
  for (auto v : vids) s.Add(v);
  return s;
}

// --- VlanSet::Parse ---

TEST(VlanSet, ParsesASingleId) { EXPECT_EQ(Set("10").ToVector(), Vids{10}); }

TEST(VlanSet, ParsesACommaSeparatedList) {
  EXPECT_EQ(Set("30,10,20").ToVector(), (Vids{10, 20, 30}));
}

TEST(VlanSet, ParsesAnInclusiveRange) {
  EXPECT_EQ(Set("30-33").ToVector(), (Vids{30, 31, 32, 33}));
}

TEST(VlanSet, ParsesListsMixingIdsAndRanges) {
  EXPECT_EQ(Set("1,5-7,100").ToVector(), (Vids{1, 5, 6, 7, 100}));
}

TEST(VlanSet, RangeOfOneIdIsThatId) { EXPECT_EQ(Set("7-7").ToVector(), Vids{7}); }

TEST(VlanSet, OverlappingItemsAreMerged) {
  EXPECT_EQ(Set("5-7,6,7-8").ToVector(), (Vids{5, 6, 7, 8}));
}

TEST(VlanSet, AcceptsTheWholeValidRange) {
  const auto v = Set("1-4094").ToVector();
  ASSERT_EQ(v.size(), 4094u);
  EXPECT_EQ(v.front(), 1);
  EXPECT_EQ(v.back(), 4094);
}

TEST(VlanSet, RejectsBadInputAndExplainsWhy) {
  for (const char* text :
       {"0",    "4095", "4096",    "65536", "65537", "4294967296", "99999999999999999999",
        "a",    "10a",  " 10",     "10 ",   "+10",   "-1",         "0x10",
        "10-5", "0-10", "10-4095", "1-2-3", "10-",   "-10",        "",
        ",",    "1,,2", ",1",      "1,,",   "1;2",   "1 2"}) {
    std::string err;
    EXPECT_FALSE(VlanSet::Parse(text, &err).has_value()) << "'" << text << "'";
    EXPECT_FALSE(err.empty()) << "'" << text << "'";
  }
}

TEST(VlanSet, ErrorNamesTheOffendingItem) {
  std::string err;
  ASSERT_FALSE(VlanSet::Parse("10,4095,20", &err).has_value());
  EXPECT_NE(err.find("4095"), std::string::npos) << err;
  ASSERT_FALSE(VlanSet::Parse("10-5", &err).has_value());
  EXPECT_NE(err.find("10-5"), std::string::npos) << err;
}

TEST(VlanSet, AllIdsAreDistinct) {
  // One bit per id: no id aliases another modulo a power of two.
  for (std::uint16_t v = kMinVlan; v <= kMaxVlan; ++v) {
    const VlanSet s = SetOf({v});
    ASSERT_EQ(s.ToVector(), Vids{v});
    for (const std::uint16_t other : {v ^ 0x400, v ^ 0x800, v ^ 0x200, v ^ 0x100})
      if (other != v && other <= kMaxVlan) {
        ASSERT_FALSE(s.Contains(other)) << v << " " << other;
      }
  }
}

TEST(VlanSet, ContainsIsFalseOutsideTheBitset) {
  const VlanSet s = Set("1-4094");
  EXPECT_FALSE(s.Contains(0));
  EXPECT_FALSE(s.Contains(4095));
  EXPECT_FALSE(s.Contains(4096));
  EXPECT_FALSE(s.Contains(0xffff));
}

// --- PortVlan::Classify ---

struct Verdict {
  VlanVerdict verdict;
  std::uint16_t vlan;  // 0 when not accepted
};

Verdict Classify(const PortVlan& p, bool tagged, std::uint16_t vid) {
  std::uint16_t vlan = 0;
  const VlanVerdict v = p.Classify(tagged, vid, &vlan);
  return {v, v == VlanVerdict::kAccept ? vlan : std::uint16_t{0}};
}

void ExpectAccept(const PortVlan& p, bool tagged, std::uint16_t vid, std::uint16_t want) {
  const Verdict v = Classify(p, tagged, vid);
  EXPECT_EQ(v.verdict, VlanVerdict::kAccept) << "tagged=" << tagged << " vid=" << vid;
  EXPECT_EQ(v.vlan, want) << "tagged=" << tagged << " vid=" << vid;
}

void ExpectVerdict(const PortVlan& p, bool tagged, std::uint16_t vid, VlanVerdict want) {
  EXPECT_EQ(Classify(p, tagged, vid).verdict, want) << "tagged=" << tagged << " vid=" << vid;
}

TEST(PortVlan, DefaultsToAnAccessPortInVlan1) {
  const PortVlan p = PortVlan::Access(kDefaultVlan);
  EXPECT_FALSE(p.is_trunk());
  EXPECT_EQ(p.access_vlan(), 1);
  ExpectAccept(p, false, 0, 1);
}

TEST(PortVlan, AccessPortPutsUntaggedFramesInItsVlan) {
  ExpectAccept(PortVlan::Access(10), false, 0, 10);
}

TEST(PortVlan, AccessPortAcceptsFramesTaggedWithItsOwnVlan) {
  ExpectAccept(PortVlan::Access(10), true, 10, 10);
}

TEST(PortVlan, AccessPortRejectsFramesTaggedWithAnotherVlan) {
  const PortVlan p = PortVlan::Access(10);
  for (const std::uint16_t vid : {1, 9, 11, 20, 4094, 10 + 1024, 10 + 2048})
    ExpectVerdict(p, true, vid, VlanVerdict::kNotAllowed);
}

TEST(PortVlan, AccessPortTreatsAPriorityTagAsUntagged) {
  ExpectAccept(PortVlan::Access(10), true, 0, 10);
}

TEST(PortVlan, TrunkAcceptsTaggedFramesOfAllowedVlans) {
  const PortVlan p = PortVlan::Trunk(Set("10,20-22"), 0);
  EXPECT_TRUE(p.is_trunk());
  for (const std::uint16_t vid : {10, 20, 21, 22}) ExpectAccept(p, true, vid, vid);
}

TEST(PortVlan, TrunkRejectsTaggedFramesOfOtherVlans) {
  const PortVlan p = PortVlan::Trunk(Set("10,20-22"), 0);
  for (const std::uint16_t vid : {1, 11, 19, 23, 4094})
    ExpectVerdict(p, true, vid, VlanVerdict::kNotAllowed);
}

TEST(PortVlan, TrunkWithoutNativeVlanRejectsUntaggedFrames) {
  const PortVlan p = PortVlan::Trunk(Set("10"), 0);
  ExpectVerdict(p, false, 0, VlanVerdict::kUntaggedOnTrunk);
}

TEST(PortVlan, TrunkWithoutNativeVlanRejectsPriorityTaggedFrames) {
  const PortVlan p = PortVlan::Trunk(Set("10"), 0);
  ExpectVerdict(p, true, 0, VlanVerdict::kUntaggedOnTrunk);
}

TEST(PortVlan, TrunkPutsUntaggedFramesInItsNativeVlan) {
  const PortVlan p = PortVlan::Trunk(Set("10,20"), 30);
  EXPECT_EQ(p.native_vlan(), 30);
  ExpectAccept(p, false, 0, 30);
}

TEST(PortVlan, TrunkPutsPriorityTaggedFramesInItsNativeVlan) {
  ExpectAccept(PortVlan::Trunk(Set("10,20"), 30), true, 0, 30);
}

TEST(PortVlan, TrunkStillAcceptsTaggedFramesWhenItHasANativeVlan) {
  const PortVlan p = PortVlan::Trunk(Set("10,20"), 30);
  ExpectAccept(p, true, 20, 20);
  ExpectVerdict(p, true, 21, VlanVerdict::kNotAllowed);
}

TEST(PortVlan, TrunkAllowingVlan1DoesNotAcceptVlansThatAliasIt) {
  const PortVlan p = PortVlan::Trunk(Set("1"), 0);
  ExpectAccept(p, true, 1, 1);
  for (const std::uint16_t vid : {1 + 256, 1 + 512, 1 + 1024, 1 + 2048, 1 + 3072})
    ExpectVerdict(p, true, vid, VlanVerdict::kNotAllowed);
}

// --- Carries and EgressTagged ---

TEST(PortVlan, AccessPortCarriesOnlyItsVlanUntagged) {
  const PortVlan p = PortVlan::Access(10);
  EXPECT_TRUE(p.Carries(10));
  EXPECT_FALSE(p.EgressTagged(10));
  for (const std::uint16_t vid : {1, 9, 11, 4094, 10 + 1024, 10 + 2048})
    EXPECT_FALSE(p.Carries(vid)) << vid;
}

TEST(PortVlan, TrunkCarriesItsAllowedVlansTagged) {
  const PortVlan p = PortVlan::Trunk(Set("10,20"), 0);
  for (const std::uint16_t vid : {10, 20}) {
    EXPECT_TRUE(p.Carries(vid)) << vid;
    EXPECT_TRUE(p.EgressTagged(vid)) << vid;
  }
  for (const std::uint16_t vid : {1, 11, 30}) EXPECT_FALSE(p.Carries(vid)) << vid;
}

TEST(PortVlan, TrunkCarriesItsNativeVlanUntagged) {
  // The native VLAN need not be in the allowed set to leave through the port.
  const PortVlan p = PortVlan::Trunk(Set("10,20"), 30);
  EXPECT_TRUE(p.Carries(30));
  EXPECT_FALSE(p.EgressTagged(30));
  EXPECT_TRUE(p.EgressTagged(10));
}

TEST(PortVlan, TrunkAllowingVlan1DoesNotCarryVlansThatAliasIt) {
  const PortVlan p = PortVlan::Trunk(Set("1"), 0);
  EXPECT_TRUE(p.Carries(1));
  for (const std::uint16_t vid : {1 + 256, 1 + 512, 1 + 1024, 1 + 2048, 1 + 3072})
    EXPECT_FALSE(p.Carries(vid)) << vid;
}

TEST(PortVlan, TrunkOfEveryVlanCarriesEachOneExactlyOnce) {
  for (std::uint16_t v = kMinVlan; v <= kMaxVlan; ++v) {
    const PortVlan p = PortVlan::Trunk(SetOf({v}), 0);
    ASSERT_TRUE(p.Carries(v)) << v;
    ASSERT_FALSE(p.Carries(static_cast<std::uint16_t>(v == kMaxVlan ? 1 : v + 1))) << v;
    for (const unsigned alias : {(v + 1024u) % 4096, (v + 2048u) % 4096, (v + 3072u) % 4096})
      if (IsValidVlan(alias)) {
        ASSERT_FALSE(p.Carries(static_cast<std::uint16_t>(alias))) << v;
      }
  }
}

TEST(PortVlan, TrunkWithoutNativeVlanDoesNotCarryVlanZero) {
  // native 0 means "no native VLAN", not "VLAN 0 leaves untagged".
  const PortVlan p = PortVlan::Trunk(Set("1-4094"), 0);
  EXPECT_FALSE(p.Carries(0));
}

TEST(VlanSet, ToStringWritesRangesThatParseReadsBack) {
  for (const char* text : {"1", "1-4094", "10,20-30,4094", "1,3,5-6"}) {
    EXPECT_EQ(Set(text).ToString(), text);
  }
  EXPECT_EQ(Set("5,4,3,1").ToString(), "1,3-5");
  EXPECT_EQ(VlanSet().ToString(), "");
}

TEST(ParseVlanId, TakesOneDecimalIdInRange) {
  std::string err;
  EXPECT_EQ(ParseVlanId("1", &err), 1);
  EXPECT_EQ(ParseVlanId("4094", &err), 4094);
  for (const char* bad : {"0", "4095", "", "1-2", "+5", " 5", "5 ", "0x10", "99999999999"}) {
    err.clear();
    EXPECT_FALSE(ParseVlanId(bad, &err)) << bad;
    EXPECT_NE(err.find("bad VLAN id"), std::string::npos) << bad;
  }
}

TEST(PortVlan, ToStringSaysTheMode) {
  EXPECT_EQ(PortVlan::Access(7).ToString(), "access VLAN 7");
  EXPECT_EQ(PortVlan::Trunk(Set("10,11,12"), 0).ToString(), "trunk VLANs 10-12");
  EXPECT_EQ(PortVlan::Trunk(Set("10"), 3).ToString(), "trunk VLANs 10 native 3");
}

}  // namespace
}  // namespace vdemesh::core
