// switch_answer_test.cc: the plugin's reading of the switch's answer (switch_answer.h), built
// byte by byte as vswitchd and vde_switch send it.
#include "vdeplug-plugin/switch_answer.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <string>

namespace vdemesh::plugin {
namespace {

using Kind = SwitchAnswer::Kind;

std::string AddressBytes(const std::string& path) {
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  path.copy(sun.sun_path, sizeof sun.sun_path);
  return std::string(reinterpret_cast<const char*>(&sun), sizeof sun);
}

std::string Status(const std::string& text) {
  std::string s = text;
  s.resize(128, '\0');
  return s;
}

SwitchAnswer Parse(const std::string& bytes, bool asked_options = false) {
  return ParseSwitchAnswer({bytes.data(), bytes.size()}, asked_options);
}

TEST(SwitchAnswer, AsksForTwoBytesThenAsMuchAsTheKindOfAnswerNeeds) {
  EXPECT_EQ(Parse("").need, 2u);
  EXPECT_EQ(Parse("v").need, 2u);
  EXPECT_EQ(Parse("vd").need, 128u);                             // vswitchd's status
  EXPECT_EQ(Parse(AddressBytes("/s").substr(0, 2)).need, 110u);  // a stock switch's address
  EXPECT_EQ(Parse(Status("vdemesh/1 ok")).need, 238u);
}

TEST(SwitchAnswer, VswitchdsOkThenTheAddress) {
  const SwitchAnswer a = Parse(Status("vdemesh/1 ok") + AddressBytes("/run/vdemesh/lab/001.7"));
  ASSERT_EQ(a.kind, Kind::kAddress);
  EXPECT_STREQ(a.address.sun_path, "/run/vdemesh/lab/001.7");
}

TEST(SwitchAnswer, VswitchdsRefusalWithItsReasonMadePrintable) {
  const SwitchAnswer a = Parse(Status("vdemesh/1 error: port 5 is in use\x1b[31m"));
  ASSERT_EQ(a.kind, Kind::kRefused);
  EXPECT_EQ(a.reason, "port 5 is in use?[31m");
}

TEST(SwitchAnswer, AStockSwitchIsFineUnlessOptionsWereAsked) {
  const std::string stock = AddressBytes("/tmp/vsw/.01234-00000");
  const SwitchAnswer plain = Parse(stock);
  ASSERT_EQ(plain.kind, Kind::kAddress);
  EXPECT_STREQ(plain.address.sun_path, "/tmp/vsw/.01234-00000");
  EXPECT_EQ(Parse(stock.substr(0, 2), true).kind, Kind::kNotVswitchd);
}

TEST(SwitchAnswer, AnythingElseIsBad) {
  EXPECT_EQ(Parse(Status("vdemesh/1 maybe")).kind, Kind::kBad);
  EXPECT_EQ(Parse(Status("vdemesh/1 ok ")).kind, Kind::kBad);
  EXPECT_EQ(Parse(std::string(128, 'x')).kind, Kind::kBad);
  EXPECT_EQ(Parse(Status("vdemesh/1 ok") + AddressBytes("")).kind, Kind::kBad);  // empty path
  std::string unterminated = AddressBytes("");
  std::memset(unterminated.data() + 2, 'a', 108);  // a path without its NUL
  EXPECT_EQ(Parse(unterminated).kind, Kind::kBad);
  std::string inet = Status("vdemesh/1 ok") + AddressBytes("/s");
  inet[128] = AF_INET;
  EXPECT_EQ(Parse(inet).kind, Kind::kBad);
}

}  // namespace
}  // namespace vdemesh::plugin
