// peer_cache_test.cc: the on-disk list of peer addresses (vswitchd/daemon/peer_cache.h).
#include "vswitchd/daemon/peer_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace vdemesh::daemon {
namespace {

class PeerCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/vdm-peer-cache.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/host.key.peers";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void WriteFile(const std::string& text) { std::ofstream(path_) << text; }

  static transport::Endpoint At(const std::string& text) {
    std::string err;
    return transport::Resolve(*transport::ParseHostPort(text, 6655, &err), &err).at(0);
  }

  std::string dir_, path_;
};

TEST_F(PeerCacheTest, WhatIsSavedLoadsBackByNetwork) {
  const PeerAddresses peers = {{"lab", {At("192.0.2.7:6655"), At("[2001:db8::7]:7000")}},
                               {"class1", {At("198.51.100.1:6655")}}};
  std::string err;
  ASSERT_TRUE(SavePeerCache(path_, peers, &err)) << err;
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
  std::size_t skipped = 99;
  EXPECT_EQ(LoadPeerCache(path_, &skipped), peers);
  EXPECT_EQ(skipped, 0u);
}

TEST_F(PeerCacheTest, AMissingFileIsEmpty) {
  std::size_t skipped = 99;
  EXPECT_TRUE(LoadPeerCache(path_, &skipped).empty());
  EXPECT_EQ(skipped, 0u);
}

TEST_F(PeerCacheTest, BadLinesAndNamesAreSkippedNeverResolved) {
  WriteFile(
      "# comments and empty lines are not bad lines\n\n"
      "lab 192.0.2.7:6655\n"
      "lab\n"
      "lab 192.0.2.8:6655 extra\n"
      "lab server.example.org:6655\n"  // a name: never looked up from this file
      "lab cafe\n"                     // hex letters, still a name
      "lab 192.0.2.9:99999\n"
      "lab 300.1.1.1\n"
      "\x01\xff garbage\n"
      "lab 192.0.2.10\n");
  std::size_t skipped = 0;
  const PeerAddresses got = LoadPeerCache(path_, &skipped);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got.at("lab"), (std::vector{At("192.0.2.7:6655"), At("192.0.2.10:6655")}));
  EXPECT_EQ(skipped, 7u);
}

TEST_F(PeerCacheTest, AtMostSixtyFourAddressesPerNetworkAreTaken) {
  std::string text;
  for (int i = 1; i <= 100; ++i) text += "lab 10.0.0." + std::to_string(i) + ":6655\n";
  WriteFile(text);
  std::size_t skipped = 0;
  const PeerAddresses got = LoadPeerCache(path_, &skipped);
  EXPECT_EQ(got.at("lab").size(), kMaxCachedPeers);
  EXPECT_EQ(skipped, 100 - kMaxCachedPeers);
}

TEST_F(PeerCacheTest, AnUnwritableDirectoryIsAnErrorNotACrash) {
  std::string err;
  EXPECT_FALSE(SavePeerCache(dir_ + "/no/such/dir/peers", {{"lab", {At("192.0.2.7")}}}, &err));
  EXPECT_NE(err.find("cannot write"), std::string::npos) << err;
}

}  // namespace
}  // namespace vdemesh::daemon
