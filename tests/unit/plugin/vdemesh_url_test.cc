// vdemesh_url_test.cc: what the vdemesh:// plugin makes of a URL (vdeplug-plugin/vdemesh_url.h).
#include "vdeplug-plugin/vdemesh_url.h"

#include <gtest/gtest.h>

#include <string>

namespace vdemesh::plugin {
namespace {

VdemeshUrl Parse(const std::string& url) {
  std::string err;
  const auto parsed = ParseVdemeshUrl(url, &err);
  EXPECT_TRUE(parsed) << url << ": " << err;
  return parsed.value_or(VdemeshUrl{});
}

std::string Refusal(const std::string& url) {
  std::string err;
  const auto parsed = ParseVdemeshUrl(url, &err);
  EXPECT_FALSE(parsed) << url << " was accepted";
  return err;
}

TEST(VdemeshUrl, ANameIsTheNetworkUnderRunVdemesh) {
  const VdemeshUrl u = Parse("lab");
  EXPECT_EQ(u.dir, "/run/vdemesh/lab");
  EXPECT_FALSE(u.port);
  EXPECT_EQ(u.switch_options, "");
}

TEST(VdemeshUrl, AnythingWithASlashIsASwitchDirectory) {
  EXPECT_EQ(Parse("/run/vdemesh/lab").dir, "/run/vdemesh/lab");
  EXPECT_EQ(Parse("/tmp/sw[3]").dir, "/tmp/sw");
  EXPECT_EQ(Parse("./sw").dir, "./sw");
}

TEST(VdemeshUrl, PortIsABareNumberOrPortEqualsAndZeroMeansPortZero) {
  EXPECT_EQ(Parse("lab[7]").port, 7u);
  EXPECT_EQ(Parse("lab[port=7]").port, 7u);
  EXPECT_EQ(Parse("lab[0]").port, 0u);
  EXPECT_EQ(Parse("lab[16777215]").port, 16777215u);  // the request's 24 bits
}

TEST(VdemeshUrl, VlanOptionsGoToTheSwitchSpaceSeparatedInTheirOrder) {
  EXPECT_EQ(Parse("lab[vlan=10]").switch_options, "vlan=10");
  const VdemeshUrl u = Parse("/run/vdemesh/lab[trunk=10,20-30/5/native=7]");
  EXPECT_EQ(u.switch_options, "trunk=10,20-30 native=7");
  EXPECT_EQ(u.port, 5u);
}

TEST(VdemeshUrl, EmptyOptionsAndEmptyBracketsAreHarmless) {
  EXPECT_EQ(Parse("lab[]").switch_options, "");
  EXPECT_EQ(Parse("lab[vlan=3//]").switch_options, "vlan=3");
}

TEST(VdemeshUrl, RefusesWhatItCannotMeanAndSaysWhy) {
  EXPECT_NE(Refusal("").find("name a network"), std::string::npos);
  EXPECT_NE(Refusal("[vlan=3]").find("name a network"), std::string::npos);
  EXPECT_NE(Refusal("..").find("not a network name"), std::string::npos);
  EXPECT_NE(Refusal("lab[vlna=3]").find("unknown option 'vlna=3'"), std::string::npos);
  EXPECT_NE(Refusal("lab[vlan=3").find("']'"), std::string::npos);
  EXPECT_NE(Refusal("lab[port=x]").find("bad port 'x'"), std::string::npos);
  EXPECT_NE(Refusal("lab[16777216]").find("bad port"), std::string::npos);
  EXPECT_NE(Refusal("lab[-1]").find("unknown option"), std::string::npos);
  EXPECT_NE(Refusal("lab[3/port=4]").find("port given twice"), std::string::npos);
  EXPECT_NE(Refusal("lab[vlan=]").find("needs a value"), std::string::npos);
  EXPECT_NE(Refusal("lab[vlan]").find("needs a value"), std::string::npos);
  EXPECT_NE(Refusal("lab[vlan=1 0]").find("without spaces"), std::string::npos);
}

}  // namespace
}  // namespace vdemesh::plugin
