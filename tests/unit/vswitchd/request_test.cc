// request_test.cc: unit tests for ParseRequest, the validation of a client's request_v3.
//
// Requests are built here byte by byte at the offsets libvdeplug's packed struct gives them
// (magic 0, version 4, type 8, sockaddr_un 12, description 122), in host byte order, and sent
// the way libvdeplug_vde.c sends them: without the unused tail of the description. Building
// them independently of wire.h means a layout slip in wire.h fails here. The damage tests
// follow leveldb's log_test.cc: every truncation, every corrupted magic byte.

#include "vswitchd/vde/request.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "vswitchd/vde/wire.h"

namespace vdemesh::vde {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t kMagicAt = 0;
constexpr std::size_t kVersionAt = 4;
constexpr std::size_t kTypeAt = 8;
constexpr std::size_t kFamilyAt = 12;
constexpr std::size_t kPathAt = 14;
constexpr std::size_t kPathBytes = 108;
constexpr std::size_t kDescrAt = 122;

void PutU32(Bytes& b, std::size_t at, std::uint32_t v) { std::memcpy(&b[at], &v, sizeof v); }

// A request as libvdeplug sends it: 122 fixed bytes plus strlen(descr) (at most 128).
Bytes Request3(std::uint32_t type, const std::string& path, const std::string& descr,
               std::uint32_t magic = 0xfeedface, std::uint32_t version = 3) {
  const std::size_t dlen = std::min<std::size_t>(descr.size(), 128);
  Bytes b(kDescrAt + dlen, 0);
  PutU32(b, kMagicAt, magic);
  PutU32(b, kVersionAt, version);
  PutU32(b, kTypeAt, type);
  const std::uint16_t family = AF_UNIX;
  std::memcpy(&b[kFamilyAt], &family, sizeof family);
  std::memcpy(&b[kPathAt], path.data(), std::min(path.size(), kPathBytes));
  std::memcpy(&b[kDescrAt], descr.data(), dlen);
  return b;
}

Bytes ValidRequest() { return Request3(5u << 8, "/run/vdemesh/lab/.01234-00000", "qemu vm1"); }

RequestError Parse(const Bytes& msg, Request* out = nullptr) {
  Request scratch;
  return ParseRequest(msg, out ? out : &scratch);
}

TEST(RequestWire, LayoutMatchesLibvdeplug) {
  EXPECT_EQ(offsetof(RequestV3, magic), kMagicAt);
  EXPECT_EQ(offsetof(RequestV3, version), kVersionAt);
  EXPECT_EQ(offsetof(RequestV3, type), kTypeAt);
  EXPECT_EQ(offsetof(RequestV3, sock), kFamilyAt);
  EXPECT_EQ(offsetof(RequestV3, description), kDescrAt);
  EXPECT_EQ(kRequestFixedBytes, 122u);
  EXPECT_EQ(kRequestMaxBytes, 250u);
  EXPECT_EQ(kReplyBytes, sizeof(sockaddr_un));
}

TEST(ParseRequest, AcceptsARequestAsLibvdeplugSendsIt) {
  const Bytes msg = ValidRequest();
  ASSERT_EQ(msg.size(), 122u + std::strlen("qemu vm1"));
  Request r;
  ASSERT_EQ(Parse(msg, &r), RequestError::kNone);
  EXPECT_EQ(r.port, 5u);
  EXPECT_FALSE(r.wants_port0);
  EXPECT_FALSE(r.abstract);
  EXPECT_EQ(r.client.sun_family, AF_UNIX);
  EXPECT_STREQ(r.client.sun_path, "/run/vdemesh/lab/.01234-00000");
  EXPECT_EQ(r.ClientName(), "/run/vdemesh/lab/.01234-00000");
  EXPECT_EQ(r.description, "qemu vm1");
}

TEST(ParseRequest, TypeZeroAsksForAnyPort) {
  Request r;
  ASSERT_EQ(Parse(Request3(0, "/tmp/c", "x"), &r), RequestError::kNone);
  EXPECT_EQ(r.port, 0u);
  EXPECT_FALSE(r.wants_port0);
}

TEST(ParseRequest, PortNumberIsTakenFromTheBitsAboveTheType) {
  for (const std::uint32_t port : {1u, 2u, 31u, 255u, 256u, 65535u, 0xffffffu}) {
    Request r;
    ASSERT_EQ(Parse(Request3(port << 8, "/tmp/c", "x"), &r), RequestError::kNone) << port;
    EXPECT_EQ(r.port, port);
    EXPECT_FALSE(r.wants_port0);
  }
}

TEST(ParseRequest, NewPort0AsksForPortZeroItself) {
  Request r;
  ASSERT_EQ(Parse(Request3(kReqNewPort0, "/tmp/c", "x"), &r), RequestError::kNone);
  EXPECT_TRUE(r.wants_port0);
  EXPECT_EQ(r.port, 0u);
}

TEST(ParseRequest, EmptyDescriptionIsAccepted) {
  Request r;
  const Bytes msg = Request3(0, "/tmp/c", "");
  ASSERT_EQ(msg.size(), 122u);
  ASSERT_EQ(Parse(msg, &r), RequestError::kNone);
  EXPECT_EQ(r.description, "");
}

// --- damage tests ---

TEST(ParseRequest, EveryTruncationOfTheFixedPartIsTooShort) {
  const Bytes msg = ValidRequest();
  for (std::size_t n = 0; n < kRequestFixedBytes; ++n) {
    Request r;
    EXPECT_EQ(ParseRequest(std::span(msg).first(n), &r), RequestError::kTooShort) << "n=" << n;
  }
}

TEST(ParseRequest, MessageLongerThanARequestIsTooLong) {
  Bytes msg = Request3(0, "/tmp/c", std::string(128, 'd'));
  ASSERT_EQ(msg.size(), 250u);
  msg.push_back('d');
  EXPECT_EQ(Parse(msg), RequestError::kTooLong);
  msg.resize(4096, 'd');
  EXPECT_EQ(Parse(msg), RequestError::kTooLong);
}

TEST(ParseRequest, EverySingleByteCorruptionOfTheMagicIsBadMagic) {
  const Bytes good = ValidRequest();
  for (std::size_t i = 0; i < 4; ++i) {
    for (unsigned v = 0; v < 256; ++v) {
      if (v == good[kMagicAt + i]) continue;
      Bytes msg = good;
      msg[kMagicAt + i] = static_cast<std::uint8_t>(v);
      ASSERT_EQ(Parse(msg), RequestError::kBadMagic) << "byte " << i << " = " << v;
    }
  }
}

TEST(ParseRequest, ByteSwappedMagicIsBadMagic) {
  EXPECT_EQ(Parse(Request3(0, "/tmp/c", "x", 0xcefaedfe)), RequestError::kBadMagic);
}

TEST(ParseRequest, VersionOtherThan3IsBadVersion) {
  for (const std::uint32_t version : {0u, 1u, 2u, 4u, 0x03000000u})
    EXPECT_EQ(Parse(Request3(0, "/tmp/c", "x", 0xfeedface, version)), RequestError::kBadVersion)
        << version;
}

TEST(ParseRequest, EveryUnknownRequestTypeIsBadType) {
  for (std::uint32_t type = 2; type <= 255; ++type) {
    EXPECT_EQ(Parse(Request3(type, "/tmp/c", "x")), RequestError::kBadType) << type;
    EXPECT_EQ(Parse(Request3((7u << 8) | type, "/tmp/c", "x")), RequestError::kBadType) << type;
  }
}

TEST(ParseRequest, NonUnixSocketFamilyIsBadSocket) {
  for (const std::uint16_t family : {AF_UNSPEC, AF_INET, AF_INET6, AF_NETLINK, 0x0100}) {
    Bytes msg = ValidRequest();
    std::memcpy(&msg[kFamilyAt], &family, sizeof family);
    EXPECT_EQ(Parse(msg), RequestError::kBadSocket) << family;
  }
}

TEST(ParseRequest, EmptySocketPathIsBadSocket) {
  EXPECT_EQ(Parse(Request3(0, "", "x")), RequestError::kBadSocket);
}

TEST(ParseRequest, PathFillingSunPathWithoutNulIsBadSocket) {
  EXPECT_EQ(Parse(Request3(0, "/" + std::string(kPathBytes - 1, 'p'), "x")),
            RequestError::kBadSocket);
}

TEST(ParseRequest, LongestNulTerminatedPathIsAccepted) {
  const std::string path = "/" + std::string(kPathBytes - 2, 'p');
  Request r;
  ASSERT_EQ(Parse(Request3(0, path, "x"), &r), RequestError::kNone);
  EXPECT_EQ(r.ClientName(), path);
}

TEST(ParseRequest, AbstractSocketNameIsAcceptedAndShownWithAnAt) {
  Request r;
  ASSERT_EQ(Parse(Request3(0, std::string("\0vde-client", 11), "x"), &r), RequestError::kNone);
  EXPECT_TRUE(r.abstract);
  EXPECT_EQ(r.ClientName(), "@vde-client");
  EXPECT_EQ(std::memcmp(r.client.sun_path, "\0vde-client", 12), 0);
}

TEST(ParseRequest, AbstractNameFillingSunPathIsAccepted) {
  const std::string name(kPathBytes - 1, 'a');
  Request r;
  ASSERT_EQ(Parse(Request3(0, std::string(1, '\0') + name, "x"), &r), RequestError::kNone);
  EXPECT_TRUE(r.abstract);
  EXPECT_EQ(r.ClientName(), "@" + name);
}

// --- description ---

TEST(ParseRequest, DescriptionOf128BytesWithoutNulIsAcceptedWhole) {
  std::string descr(128, 'x');
  descr.back() = 'Z';
  Request r;
  const Bytes msg = Request3(0, "/tmp/c", descr);
  ASSERT_EQ(msg.size(), kRequestMaxBytes);
  ASSERT_EQ(Parse(msg, &r), RequestError::kNone);
  EXPECT_EQ(r.description, descr);
  EXPECT_EQ(r.description.size(), kMaxDescription);
}

TEST(ParseRequest, DescriptionEndsAtTheMessageEnd) {
  // Bytes a buggy client leaves after the message must not leak in: the parser only sees msg.
  Bytes msg = Request3(0, "/tmp/c", "abcdef");
  Request r;
  ASSERT_EQ(ParseRequest(std::span(msg).first(kDescrAt + 3), &r), RequestError::kNone);
  EXPECT_EQ(r.description, "abc");
}

TEST(ParseRequest, DescriptionStopsAtTheFirstNul) {
  Request r;
  ASSERT_EQ(Parse(Request3(0, "/tmp/c", std::string("vm1\0secret", 10)), &r), RequestError::kNone);
  EXPECT_EQ(r.description, "vm1");
}

TEST(ParseRequest, NonPrintableDescriptionBytesBecomeQuestionMarks) {
  // Tab, newline, an ANSI escape, DEL and two bytes with the high bit set.
  const std::string descr = "a\tb\nc\x1b[31md\x7f" + std::string("e\x80\xff") + "f";
  Request r;
  ASSERT_EQ(Parse(Request3(0, "/tmp/c", descr), &r), RequestError::kNone);
  EXPECT_EQ(r.description, "a?b?c?[31md?e??f");
}

// ---- the vdemesh extension: options after the description's NUL (wire.h) ----

// What the vdemesh:// plugin sends: the description, a NUL, the marker and its options.
Bytes Extended(const std::string& descr, const std::string& extension) {
  return Request3(0, "/tmp/c", descr + std::string(1, '\0') + extension);
}

TEST(ParseRequestExtension, AStockRequestIsNotExtended) {
  Request r;
  ASSERT_EQ(Parse(ValidRequest(), &r), RequestError::kNone);
  EXPECT_FALSE(r.extended);
  EXPECT_FALSE(r.vlan);
}

TEST(ParseRequestExtension, ZerosOrOtherBytesAfterTheNulAreNotOurs) {
  for (const std::string& tail :
       {std::string(60, '\0'), std::string("secret"), std::string("vdemesh/10 vlan=3"),
        std::string("vdemesh/1x"), std::string("VDEMESH/1 vlan=3")}) {
    Request r;
    ASSERT_EQ(Parse(Extended("vm1", tail), &r), RequestError::kNone) << tail;
    EXPECT_FALSE(r.extended) << tail;
    EXPECT_FALSE(r.vlan) << tail;
    EXPECT_EQ(r.description, "vm1");
  }
}

TEST(ParseRequestExtension, TheMarkerAloneAsksForNoVlan) {
  Request r;
  ASSERT_EQ(Parse(Extended("vm1", "vdemesh/1"), &r), RequestError::kNone);
  EXPECT_TRUE(r.extended);
  EXPECT_FALSE(r.vlan);
  EXPECT_EQ(r.description, "vm1");
}

TEST(ParseRequestExtension, VlanAsksForAnAccessPort) {
  Request r;
  ASSERT_EQ(Parse(Extended("", "vdemesh/1 vlan=4094"), &r), RequestError::kNone);
  ASSERT_TRUE(r.vlan);
  EXPECT_FALSE(r.vlan->is_trunk());
  EXPECT_EQ(r.vlan->access_vlan(), 4094);
}

TEST(ParseRequestExtension, TrunkAndNativeAskForATrunk) {
  Request r;
  ASSERT_EQ(Parse(Extended("vm1", "vdemesh/1 trunk=10,20-22  native=5"), &r), RequestError::kNone);
  ASSERT_TRUE(r.vlan);
  EXPECT_TRUE(r.vlan->is_trunk());
  EXPECT_EQ(r.vlan->allowed().ToVector(), (std::vector<std::uint16_t>{10, 20, 21, 22}));
  EXPECT_EQ(r.vlan->native_vlan(), 5);
  EXPECT_EQ(r.vlan->ToString(), "trunk VLANs 10,20-22 native 5");
}

TEST(ParseRequestExtension, OptionsEndAtTheNextNul) {
  Request r;
  ASSERT_EQ(Parse(Extended("vm1", std::string("vdemesh/1 vlan=3\0vlan=4", 24)), &r),
            RequestError::kNone);
  ASSERT_TRUE(r.vlan);
  EXPECT_EQ(r.vlan->access_vlan(), 3);
}

TEST(ParseRequestExtension, EveryBadOptionIsRefusedWithItsReason) {
  const std::pair<std::string, std::string> cases[] = {
      {"vlan=0", "bad VLAN id '0'"},
      {"vlan=4095", "bad VLAN id '4095'"},
      {"vlan=10x", "bad VLAN id '10x'"},
      {"vlan=", "bad VLAN id ''"},
      {"vlan", "bad VLAN id ''"},
      {"trunk=10,5000", "bad VLAN id '5000'"},
      {"trunk=20-10", "bad VLAN range"},
      {"vlan=3 vlan=4", "given twice"},
      {"trunk=3 trunk=4", "given twice"},
      {"vlan=3 trunk=4", "excludes"},
      {"vlan=3 native=4", "excludes"},
      {"native=4", "needs trunk="},
      {"colour=blue", "unknown option 'colour=blue'"},
      {"x\x1b[31m", "unknown option 'x?[31m'"},
  };
  for (const auto& [options, reason] : cases) {
    Request r;
    EXPECT_EQ(Parse(Extended("vm1", "vdemesh/1 " + options), &r), RequestError::kBadOption)
        << options;
    EXPECT_TRUE(r.extended) << options;  // so the client hears why
    EXPECT_NE(r.option_error.find(reason), std::string::npos) << options << ": " << r.option_error;
  }
}

TEST(ParseRequestExtension, ExtensionFillingTheDescriptionIsRead) {
  std::string options = "vdemesh/1 trunk=";
  while (options.size() < 124) options += "10,";
  options += "200";
  ASSERT_EQ(options.size(), 127u);  // with the NUL before it: all 128 description bytes
  Request r;
  ASSERT_EQ(Parse(Extended("", options), &r), RequestError::kNone);
  ASSERT_TRUE(r.vlan);
  EXPECT_EQ(r.vlan->allowed().ToVector(), (std::vector<std::uint16_t>{10, 200}));
}

TEST(RequestErrorText, EveryErrorHasAText) {
  for (const RequestError e :
       {RequestError::kNone, RequestError::kTooShort, RequestError::kTooLong,
        RequestError::kBadMagic, RequestError::kBadVersion, RequestError::kBadType,
        RequestError::kBadSocket, RequestError::kBadOption}) {
    EXPECT_STRNE(RequestErrorText(e), "unknown");
    EXPECT_STRNE(RequestErrorText(e), "");
  }
}

}  // namespace
}  // namespace vdemesh::vde
