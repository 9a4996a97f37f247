// endpoint_test.cc: the HOST[:PORT] parser, Endpoint's text form, equality and host hash.
// Resolve() is only given numeric addresses here, which getaddrinfo() answers without DNS.
#include "transport/endpoint.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "transport/constants.h"

namespace vdemesh::transport {
namespace {

constexpr std::uint16_t kDefault = 4242;

HostPort Parse(const std::string& text) {
  std::string err;
  const auto hp = ParseHostPort(text, kDefault, &err);
  EXPECT_TRUE(hp.has_value()) << text << ": " << err;
  return hp.value_or(HostPort{"<error>", 0});
}

// The error for `text`, or "<accepted>" if it parses.
std::string ParseError(const std::string& text) {
  std::string err;
  if (ParseHostPort(text, kDefault, &err)) return "<accepted>";
  return err.empty() ? "<no message>" : err;
}

Endpoint Numeric(const std::string& host, std::uint16_t port) {
  std::string err;
  const auto eps = Resolve({host, port}, &err);
  EXPECT_EQ(eps.size(), 1u) << host << ": " << err;
  return eps.empty() ? Endpoint{} : eps.front();
}

TEST(ParseHostPort, HostAloneGetsTheDefaultPort) {
  const HostPort hp = Parse("host");
  EXPECT_EQ(hp.host, "host");
  EXPECT_EQ(hp.port, kDefault);
}

TEST(ParseHostPort, HostAndPort) {
  const HostPort hp = Parse("host:1");
  EXPECT_EQ(hp.host, "host");
  EXPECT_EQ(hp.port, 1);
}

TEST(ParseHostPort, HighestPortIsAccepted) {
  const HostPort hp = Parse("1.2.3.4:65535");
  EXPECT_EQ(hp.host, "1.2.3.4");
  EXPECT_EQ(hp.port, 65535);
}

TEST(ParseHostPort, BracketedIpv6WithPort) {
  const HostPort hp = Parse("[::1]:7");
  EXPECT_EQ(hp.host, "::1");
  EXPECT_EQ(hp.port, 7);
}

TEST(ParseHostPort, BracketedIpv6WithoutPortGetsTheDefault) {
  const HostPort hp = Parse("[2001:db8::1]");
  EXPECT_EQ(hp.host, "2001:db8::1");
  EXPECT_EQ(hp.port, kDefault);
}

TEST(ParseHostPort, BareIpv6IsAllHostAndGetsTheDefaultPort) {
  const HostPort hp = Parse("::1");
  EXPECT_EQ(hp.host, "::1");
  EXPECT_EQ(hp.port, kDefault);
  EXPECT_EQ(Parse("2001:db8::1:80").host, "2001:db8::1:80");  // never a port: use brackets
}

TEST(ParseHostPort, PortAloneMeansAnyAddress) {
  const HostPort hp = Parse(":6655");
  EXPECT_EQ(hp.host, "");
  EXPECT_EQ(hp.port, 6655);
}

TEST(ParseHostPort, RejectsBadPorts) {
  for (const char* text : {"x:0", "x:65536", "x:abc", "x:", "x:-1", "x:+1", "x: 1", "x:1 ",
                           "x:99999999999999999999", "[::1]:", "[::1]:0", "[::1]:65536"})
    EXPECT_NE(ParseError(text), "<accepted>") << text;
}

TEST(ParseHostPort, RejectsJunkAfterTheBracket) {
  EXPECT_NE(ParseError("[::1]x"), "<accepted>");
  EXPECT_NE(ParseError("[::1]7"), "<accepted>");
}

TEST(ParseHostPort, RejectsAMissingBracket) { EXPECT_NE(ParseError("[::1:7"), "<accepted>"); }

TEST(ParseHostPort, ErrorQuotesTheInput) {
  EXPECT_NE(ParseError("x:65536").find("x:65536"), std::string::npos);
  EXPECT_NE(ParseError("[::1]x").find("[::1]x"), std::string::npos);
}

TEST(Endpoint, ToStringOfIpv4IsAddressColonPort) {
  EXPECT_EQ(Numeric("10.98.0.1", kDefaultPort).ToString(), "10.98.0.1:6655");
  EXPECT_EQ(Numeric("192.0.2.1", 1).ToString(), "192.0.2.1:1");
}

TEST(Endpoint, ToStringOfIpv6PutsTheAddressInBrackets) {
  EXPECT_EQ(Numeric("2001:db8::1", 6655).ToString(), "[2001:db8::1]:6655");
  EXPECT_EQ(Numeric("::1", 65535).ToString(), "[::1]:65535");
}

TEST(Endpoint, DefaultIsInvalidAndPrintsAsNone) {
  const Endpoint e;
  EXPECT_FALSE(e.valid());
  EXPECT_EQ(e.ToString(), "(none)");
}

TEST(Endpoint, ResolvedEndpointsAreValidWithTheirFamilyPortAndLength) {
  const Endpoint v4 = Numeric("10.98.0.1", 7);
  EXPECT_TRUE(v4.valid());
  EXPECT_EQ(v4.family(), AF_INET);
  EXPECT_EQ(v4.port(), 7);
  EXPECT_EQ(v4.length(), sizeof(sockaddr_in));
  const Endpoint v6 = Numeric("fd00::1", 8);
  EXPECT_TRUE(v6.valid());
  EXPECT_EQ(v6.family(), AF_INET6);
  EXPECT_EQ(v6.port(), 8);
  EXPECT_EQ(v6.length(), sizeof(sockaddr_in6));
}

TEST(Endpoint, FromSockaddrKeepsAddressAndPort) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(6655);
  ASSERT_EQ(inet_pton(AF_INET, "10.98.0.9", &sin.sin_addr), 1);
  const Endpoint e = Endpoint::FromSockaddr(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
  EXPECT_EQ(e.ToString(), "10.98.0.9:6655");
  EXPECT_EQ(e, Numeric("10.98.0.9", 6655));
}

TEST(Endpoint, EqualityComparesAddressAndPort) {
  EXPECT_EQ(Numeric("10.98.0.1", 6655), Numeric("10.98.0.1", 6655));
  EXPECT_NE(Numeric("10.98.0.1", 6655), Numeric("10.98.0.1", 6656));
  EXPECT_NE(Numeric("10.98.0.1", 6655), Numeric("10.98.0.2", 6655));
  EXPECT_EQ(Numeric("fd00::1", 6655), Numeric("fd00::1", 6655));
  EXPECT_NE(Numeric("fd00::1", 6655), Numeric("fd00::1", 6656));
  EXPECT_NE(Numeric("fd00::1", 6655), Numeric("fd00::2", 6655));
  EXPECT_EQ(Endpoint{}, Endpoint{});
}

TEST(Endpoint, DifferentFamiliesAreNeverEqual) {
  EXPECT_NE(Numeric("10.98.0.1", 6655), Numeric("::ffff:10.98.0.1", 6655));
  EXPECT_NE(Numeric("10.98.0.1", 6655), Endpoint{});
}

TEST(Endpoint, HostHashIgnoresThePort) {
  EXPECT_EQ(Numeric("10.98.0.1", 1).HostHash(), Numeric("10.98.0.1", 65535).HostHash());
  EXPECT_EQ(Numeric("fd00::1", 1).HostHash(), Numeric("fd00::1", 65535).HostHash());
}

TEST(Endpoint, HostHashTellsHostsApart) {
  EXPECT_NE(Numeric("10.98.0.1", 6655).HostHash(), Numeric("10.98.0.2", 6655).HostHash());
  EXPECT_NE(Numeric("fd00::1", 6655).HostHash(), Numeric("fd00::2", 6655).HostHash());
  EXPECT_NE(Numeric("10.98.0.1", 6655).HostHash(), Numeric("fd00::1", 6655).HostHash());
}

}  // namespace
}  // namespace vdemesh::transport
