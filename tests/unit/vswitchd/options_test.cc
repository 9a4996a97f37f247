// options_test.cc: unit tests for vswitchd's command line and config file (ParseOptions,
// ApplyConfigText, FinishOptions).
//
// ParseOptions() reads /etc/vdemesh/vswitchd.conf when no network flag and no --config is given,
// so every ParseOptions() call here gives -s/--network or --config: the tests never depend on the
// machine's files. Config files that ParseOptions() must read are written to a fresh temporary
// directory that the fixture removes.

#include "vswitchd/daemon/options.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

namespace vdemesh::daemon {
namespace {

DaemonOptions Parse(std::initializer_list<std::string> args) {
  std::vector<const char*> argv{"vswitchd"};
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  return ParseOptions(static_cast<int>(argv.size() - 1), argv.data());
}

// The what() of the std::invalid_argument that `fn` throws, or a note that it threw nothing.
template <typename Fn>
std::string ErrorOf(Fn&& fn) {
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<no std::invalid_argument thrown>";
}

std::string ParseError(std::initializer_list<std::string> args) {
  return ErrorOf([&] { Parse(args); });
}

std::string ConfigError(const std::string& text) {
  return ErrorOf([&] {
    DaemonOptions opts;
    ApplyConfigText(text, "test.conf", &opts);
    FinishOptions(&opts);
  });
}

DaemonOptions Config(const std::string& text) {
  DaemonOptions opts;
  ApplyConfigText(text, "test.conf", &opts);
  FinishOptions(&opts);
  return opts;
}

#define EXPECT_MENTIONS(haystack, needle)                          \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) \
      << "expected '" << (needle) << "' in: " << (haystack)

// --- command line ---

TEST(ParseOptions, SockFlagGivesOneNetworkNamedAfterItsDirectoryWithDefaults) {
  const DaemonOptions o = Parse({"-s", "/tmp/x/lab"});
  ASSERT_EQ(o.networks.size(), 1u);
  const NetworkOptions& n = o.networks[0];
  EXPECT_EQ(n.name, "lab");
  EXPECT_EQ(n.dir, "/tmp/x/lab");
  EXPECT_EQ(n.numports, 32u);
  EXPECT_EQ(n.max_frame, 1514u);
  EXPECT_EQ(n.fdb_size, 65536u);
  EXPECT_EQ(n.fdb_aging_seconds, 300u);
  EXPECT_EQ(n.mode, 0600u);
  EXPECT_EQ(n.group, "");
  EXPECT_EQ(n.tap, "");
  EXPECT_EQ(o.control, kDefaultControlPath);
  EXPECT_EQ(o.config, "");
  EXPECT_FALSE(o.daemonize);
  EXPECT_EQ(o.pidfile, "");
  EXPECT_EQ(o.log_level, "info");
}

TEST(ParseOptions, TrailingSlashesDoNotHideTheNetworkName) {
  EXPECT_EQ(Parse({"-s", "/tmp/x/lab//"}).networks.at(0).name, "lab");
}

TEST(ParseOptions, NetworkFlagNamesTheNetwork) {
  const DaemonOptions o = Parse({"--network", "blue", "-s", "/tmp/x/lab"});
  ASSERT_EQ(o.networks.size(), 1u);
  EXPECT_EQ(o.networks[0].name, "blue");
  EXPECT_EQ(o.networks[0].dir, "/tmp/x/lab");
}

TEST(ParseOptions, NetworkWithoutSockLivesUnderTheRunDirectory) {
  const DaemonOptions o = Parse({"--network", "blue"});
  ASSERT_EQ(o.networks.size(), 1u);
  EXPECT_EQ(o.networks[0].dir, "/run/vdemesh/blue");
}

TEST(ParseOptions, LongOptionsAcceptAnInlineValue) {
  const DaemonOptions o = Parse({"--sock=/tmp/y/net", "--numports=8", "--control=/tmp/c.sock"});
  ASSERT_EQ(o.networks.size(), 1u);
  EXPECT_EQ(o.networks[0].dir, "/tmp/y/net");
  EXPECT_EQ(o.networks[0].name, "net");
  EXPECT_EQ(o.networks[0].numports, 8u);
  EXPECT_EQ(o.control, "/tmp/c.sock");
}

TEST(ParseOptions, ModeIsOctal) {
  EXPECT_EQ(Parse({"-s", "/tmp/x/lab", "-m", "0660"}).networks.at(0).mode, 0660u);
  EXPECT_EQ(Parse({"-s", "/tmp/x/lab", "--mode", "660"}).networks.at(0).mode, 0660u);
  EXPECT_EQ(Parse({"-s", "/tmp/x/lab", "-m", "0"}).networks.at(0).mode, 0u);
  EXPECT_EQ(Parse({"-s", "/tmp/x/lab", "-m", "777"}).networks.at(0).mode, 0777u);
}

TEST(ParseOptions, NetworkSettingsFromFlags) {
  const DaemonOptions o = Parse({"-s", "/tmp/x/lab", "-n", "8", "--max-frame", "9000", "--fdb-size",
                                 "1024", "--fdb-aging", "60", "-t", "tap0"});
  const NetworkOptions& n = o.networks.at(0);
  EXPECT_EQ(n.numports, 8u);
  EXPECT_EQ(n.max_frame, 9000u);
  EXPECT_EQ(n.fdb_size, 1024u);
  EXPECT_EQ(n.fdb_aging_seconds, 60u);
  EXPECT_EQ(n.tap, "tap0");
}

TEST(ParseOptions, LimitsThemselvesAreAccepted) {
  EXPECT_EQ(Parse({"-s", "/tmp/l", "-n", "1"}).networks.at(0).numports, 1u);
  EXPECT_EQ(Parse({"-s", "/tmp/l", "-n", "65535"}).networks.at(0).numports, 65535u);
  EXPECT_EQ(Parse({"-s", "/tmp/l", "--max-frame", "60"}).networks.at(0).max_frame, 60u);
  EXPECT_EQ(Parse({"-s", "/tmp/l", "--max-frame", "9230"}).networks.at(0).max_frame, 9230u);
}

TEST(ParseOptions, ExistingGroupIsAccepted) {
  const group* g = getgrgid(getgid());
  if (g == nullptr) GTEST_SKIP() << "the test's own group has no name";
  EXPECT_EQ(Parse({"-s", "/tmp/x/lab", "-g", g->gr_name}).networks.at(0).group, g->gr_name);
}

TEST(ParseOptions, ThreadsDefaultToOnePerCpuAndTakeACount) {
  EXPECT_EQ(Parse({"-s", "/tmp/x/lab"}).threads, 0u);
  EXPECT_EQ(Parse({"-s", "/tmp/x/lab", "--threads", "4"}).threads, 4u);
  EXPECT_EQ(Config("threads = 2\n[network a]\n[network b]\n").threads, 2u);
  EXPECT_EQ(Parse({"-s", "/tmp/x/lab"}).busy_poll_us, 150u);
  EXPECT_EQ(Parse({"-s", "/tmp/x/lab", "--busy-poll", "0"}).busy_poll_us, 0u);
  EXPECT_EQ(Config("busy-poll = 400\n[network a]\n").busy_poll_us, 400u);
}

TEST(ParseOptions, DaemonGetsADefaultPidfile) {
  const DaemonOptions o = Parse({"-s", "/tmp/x/lab", "-d"});
  EXPECT_TRUE(o.daemonize);
  EXPECT_EQ(o.pidfile, "/run/vdemesh/vswitchd.pid");
  EXPECT_EQ(Parse({"-s", "/tmp/x/lab", "-d", "-p", "/tmp/p.pid"}).pidfile, "/tmp/p.pid");
}

TEST(ParseOptions, HelpAndVersionNeedNoNetwork) {
  EXPECT_TRUE(Parse({"--help"}).help);
  EXPECT_TRUE(Parse({"-V"}).version);
}

TEST(ParseOptions, BadValuesThrowNamingTheOption) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"-s", "/tmp/x/lab", "--numports", "0"}, "numports"},
      {{"-s", "/tmp/x/lab", "--numports", "70000"}, "numports"},
      {{"-s", "/tmp/x/lab", "-n", "-1"}, "numports"},
      {{"-s", "/tmp/x/lab", "-n", "8x"}, "numports"},
      {{"-s", "/tmp/x/lab", "--max-frame", "10"}, "max-frame"},
      {{"-s", "/tmp/x/lab", "--max-frame", "59"}, "max-frame"},
      {{"-s", "/tmp/x/lab", "--max-frame", "9231"}, "max-frame"},
      {{"-s", "/tmp/x/lab", "--fdb-size", "abc"}, "fdb-size"},
      {{"-s", "/tmp/x/lab", "--fdb-size", ""}, "fdb-size"},
      {{"-s", "/tmp/x/lab", "--fdb-size", "99999999999999999999999"}, "fdb-size"},
      {{"-s", "/tmp/x/lab", "--fdb-aging", "0"}, "fdb-aging"},
      {{"-s", "/tmp/x/lab", "-m", "999"}, "mode"},
      {{"-s", "/tmp/x/lab", "-m", "1000"}, "mode"},
      {{"-s", "/tmp/x/lab", "--bogus"}, "--bogus"},
      {{"-s", "/tmp/x/lab", "-z"}, "-z"},
      {{"-s", "/tmp/x/lab", "stray"}, "stray"},
      {{"-s"}, "sock"},
      {{"-s", "/tmp/x/lab", "--max-frame"}, "max-frame"},
      {{"-s", "/tmp/x/lab", "--group", "nosuchgroup_xyz"}, "group"},
      {{"-s", "/"}, "network"},
      {{"-s", "/tmp/x/lab", "--threads", "65"}, "threads"},
      {{"-s", "/tmp/x/lab", "--threads", "two"}, "threads"},
      {{"-s", "/tmp/x/lab", "--busy-poll", "10001"}, "busy-poll"},
      {{"-s", "/tmp/x/lab", "--busy-poll", "-1"}, "busy-poll"},
  };
  for (const auto& [args, name] : cases) {
    std::vector<const char*> argv{"vswitchd"};
    for (const auto& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    const std::string err =
        ErrorOf([&] { ParseOptions(static_cast<int>(argv.size() - 1), argv.data()); });
    EXPECT_MENTIONS(err, name) << " (args end with '" << args.back() << "')";
  }
}

// --- config text ---

constexpr const char* kTwoNetworks = R"(# vswitchd.conf
control = /tmp/ctl.sock
log-level = debug

[network a]
numports = 8
mode = 0660

[network b]
sock = /srv/vde/b   # a comment after a value
max-frame = 9000
fdb-size = 2048
fdb-aging = 30
)";

TEST(ApplyConfigText, GlobalsAndTwoNetworkSections) {
  const DaemonOptions o = Config(kTwoNetworks);
  EXPECT_EQ(o.control, "/tmp/ctl.sock");
  EXPECT_EQ(o.log_level, "debug");
  ASSERT_EQ(o.networks.size(), 2u);
  const NetworkOptions& a = o.networks[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.dir, "/run/vdemesh/a");
  EXPECT_EQ(a.numports, 8u);
  EXPECT_EQ(a.mode, 0660u);
  EXPECT_EQ(a.max_frame, 1514u);
  const NetworkOptions& b = o.networks[1];
  EXPECT_EQ(b.name, "b");
  EXPECT_EQ(b.dir, "/srv/vde/b");
  EXPECT_EQ(b.numports, 32u);
  EXPECT_EQ(b.mode, 0600u);
  EXPECT_EQ(b.max_frame, 9000u);
  EXPECT_EQ(b.fdb_size, 2048u);
  EXPECT_EQ(b.fdb_aging_seconds, 30u);
}

TEST(ApplyConfigText, WhitespaceCommentsAndCrLfAreIgnored) {
  const DaemonOptions o = Config(
      "\r\n  # only a comment\r\n\t control\t=\t/tmp/c.sock \r\n[network  lab ]\r\n"
      "numports=4\r\n\r\n");
  EXPECT_EQ(o.control, "/tmp/c.sock");
  ASSERT_EQ(o.networks.size(), 1u);
  EXPECT_EQ(o.networks[0].name, "lab");
  EXPECT_EQ(o.networks[0].numports, 4u);
}

TEST(ApplyConfigText, FlagWithoutValueIsASettingWithoutValue) {
  EXPECT_TRUE(Config("daemon\n[network a]\n").daemonize);
}

TEST(ApplyConfigText, UnknownKeyNamesFileLineAndKey) {
  const std::string err = ConfigError("control = /x\n\n[network a]\nnumprots = 8\n");
  EXPECT_MENTIONS(err, "test.conf:4");
  EXPECT_MENTIONS(err, "numprots");
}

TEST(ApplyConfigText, CommandOnlyOptionsAreUnknownInAFile) {
  for (const char* key : {"config", "help", "version"}) {
    const std::string err = ConfigError(std::string(key) + " = x\n[network a]\n");
    EXPECT_MENTIONS(err, "test.conf:1");
    EXPECT_MENTIONS(err, key);
  }
}

TEST(ApplyConfigText, NetworkKeyAboveTheFirstSectionNamesFileLineAndKey) {
  const std::string err = ConfigError("# globals\nnumports = 8\n[network a]\n");
  EXPECT_MENTIONS(err, "test.conf:2");
  EXPECT_MENTIONS(err, "numports");
}

TEST(ApplyConfigText, GlobalKeyInsideASectionNamesFileLineAndKey) {
  const std::string err = ConfigError("[network a]\nnumports = 8\ncontrol = /x\n");
  EXPECT_MENTIONS(err, "test.conf:3");
  EXPECT_MENTIONS(err, "control");
}

TEST(ApplyConfigText, BadSectionHeadersNameFileAndLine) {
  for (const char* header : {"[network]", "[network ]", "[network a", "[networka]", "[net a]", "[]",
                             "[", "[Network a]"}) {
    const std::string err = ConfigError(std::string("\n") + header + "\n");
    EXPECT_MENTIONS(err, "test.conf:2") << " header " << header;
    EXPECT_MENTIONS(err, "section") << " header " << header;
  }
}

TEST(ApplyConfigText, DuplicateNetworkNamesNameFileLineAndNetwork) {
  const std::string err = ConfigError("[network a]\n[network b]\n[network a]\n");
  EXPECT_MENTIONS(err, "test.conf:3");
  EXPECT_MENTIONS(err, "'a'");
}

TEST(ApplyConfigText, TwoNetworksInOneDirectoryAreRejected) {
  const std::string err =
      ConfigError("[network a]\nsock = /srv/vde/x\n[network b]\nsock = /srv/vde/x\n");
  EXPECT_MENTIONS(err, "/srv/vde/x");
}

TEST(ApplyConfigText, MissingEqualsNamesFileLineAndKey) {
  const std::string bare = ConfigError("[network a]\nsock\n");
  EXPECT_MENTIONS(bare, "test.conf:2");
  EXPECT_MENTIONS(bare, "sock");
  const std::string spaced = ConfigError("[network a]\n\nnumports 8\n");
  EXPECT_MENTIONS(spaced, "test.conf:3");
  EXPECT_MENTIONS(spaced, "numports");
}

TEST(ApplyConfigText, BadValueNamesFileLineAndKey) {
  const std::string err = ConfigError("[network a]\nmax-frame = 9231\n");
  EXPECT_MENTIONS(err, "test.conf:2");
  EXPECT_MENTIONS(err, "max-frame");
}

TEST(FinishOptions, NoNetworkAtAllIsAnError) {
  EXPECT_MENTIONS(ConfigError("control = /x\n"), "no network");
}

// --- config file through ParseOptions ---

class ConfigFileTest : public ::testing::Test {
 protected:
  ConfigFileTest() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "options_test.XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
  }
  ~ConfigFileTest() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& text) {
    const std::string path = (dir_ / "vswitchd.conf").string();
    std::ofstream(path) << text;
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(ConfigFileTest, ConfigFileGivesItsNetworks) {
  const std::string path = Write(kTwoNetworks);
  const DaemonOptions o = Parse({"--config", path});
  EXPECT_EQ(o.config, path);
  EXPECT_EQ(o.control, "/tmp/ctl.sock");
  ASSERT_EQ(o.networks.size(), 2u);
  EXPECT_EQ(o.networks[0].name, "a");
  EXPECT_EQ(o.networks[1].dir, "/srv/vde/b");
}

TEST_F(ConfigFileTest, ErrorsNameTheConfigFile) {
  const std::string path = Write("[network a]\nbogus = 1\n");
  const std::string err = ParseError({"-f", path});
  EXPECT_MENTIONS(err, path + ":2");
  EXPECT_MENTIONS(err, "bogus");
}

TEST_F(ConfigFileTest, DuplicateNetworkInTheFileNamesFileAndLine) {
  const std::string path = Write("[network a]\n\n[network a]\n");
  EXPECT_MENTIONS(ParseError({"--config", path}), path + ":3");
}

TEST_F(ConfigFileTest, NetworkFlagsCannotBeCombinedWithSections) {
  const std::string path = Write(kTwoNetworks);
  const std::string err = ParseError({"--config", path, "-s", "/tmp/x/lab"});
  EXPECT_MENTIONS(err, "[network]");
  EXPECT_MENTIONS(err, path);
  EXPECT_MENTIONS(ParseError({"-n", "8", "--config", path}), path);
}

TEST_F(ConfigFileTest, NetworkFlagsCombineWithAFileOfGlobalsOnly) {
  const std::string path = Write("control = /tmp/from-file.sock\nlog-level = warn\n");
  const DaemonOptions o = Parse({"--config", path, "-s", "/tmp/x/lab"});
  EXPECT_EQ(o.control, "/tmp/from-file.sock");
  EXPECT_EQ(o.log_level, "warn");
  ASSERT_EQ(o.networks.size(), 1u);
  EXPECT_EQ(o.networks[0].name, "lab");
}

TEST_F(ConfigFileTest, FlagsOverrideConfigGlobals) {
  const std::string path = Write(kTwoNetworks);
  // Before and after --config: the flag wins either way.
  EXPECT_EQ(Parse({"--control", "/tmp/flag.sock", "--config", path}).control, "/tmp/flag.sock");
  EXPECT_EQ(Parse({"--config", path, "--control=/tmp/flag.sock"}).control, "/tmp/flag.sock");
  EXPECT_EQ(Parse({"--config", path, "--log-level", "trace"}).log_level, "trace");
}

TEST_F(ConfigFileTest, UnreadableConfigFileIsAnErrorNamingIt) {
  const std::string missing = (dir_ / "missing.conf").string();
  const std::string err = ParseError({"--config", missing});
  EXPECT_MENTIONS(err, "config");
  EXPECT_MENTIONS(err, missing);
}

TEST(UsageText, ListsEveryOption) {
  const std::string usage = UsageText();
  for (const char* opt : {"--sock", "--network", "--mode", "--group", "--tap", "--numports",
                          "--max-frame", "--fdb-size", "--fdb-aging", "--control", "--config",
                          "--daemon", "--pidfile", "--log-level", "--help", "--version"})
    EXPECT_MENTIONS(usage, opt);
}

}  // namespace
}  // namespace vdemesh::daemon

namespace vdemesh::daemon {
namespace {

constexpr const char* kSomePublicKey = "t8QVl2wVxgF8yD7RUyMtHL624ddHvd6DqqSwTacju2w=";

TEST(ParseOptions, OverlayFlagsGiveKeyPeersAndAllowList) {
  const DaemonOptions o = Parse({"-s", "/tmp/x/lab", "--network-key", "/tmp/k", "--peer",
                                 "192.0.2.1", "-P", "[2001:db8::1]:7000", "--allow-peer",
                                 kSomePublicKey, "--listen", "127.0.0.1:7001", "--host-key",
                                 "/tmp/h.key"});
  const NetworkOptions& n = o.networks.at(0);
  EXPECT_EQ(n.network_key, "/tmp/k");
  EXPECT_EQ(n.peers, (std::vector<std::string>{"192.0.2.1", "[2001:db8::1]:7000"}));
  EXPECT_EQ(n.allowed_peers, std::vector<std::string>{kSomePublicKey});
  EXPECT_EQ(o.listen, "127.0.0.1:7001");
  EXPECT_EQ(o.host_key, "/tmp/h.key");
}

TEST(ParseOptions, OverlayDefaultsAreThePortAndTheHostKeyPath) {
  const DaemonOptions o = Parse({"-s", "/tmp/x/lab"});
  EXPECT_EQ(o.listen, ":6655");
  EXPECT_EQ(o.host_key, kDefaultHostKeyPath);
  EXPECT_TRUE(o.networks.at(0).network_key.empty());
}

TEST(ParseOptions, BadOverlayValuesThrowNamingTheOption) {
  EXPECT_MENTIONS(ParseError({"-s", "/tmp/l", "--peer", "host:0"}), "peer");
  EXPECT_MENTIONS(ParseError({"-s", "/tmp/l", "--peer", ""}), "peer");
  EXPECT_MENTIONS(ParseError({"-s", "/tmp/l", "--allow-peer", "not-a-key"}), "allow-peer");
  EXPECT_MENTIONS(ParseError({"-s", "/tmp/l", "--listen", "[::1"}), "listen");
  EXPECT_MENTIONS(ParseError({"-s", "/tmp/l", "--listen", "x:70000"}), "listen");
}

TEST(ApplyConfigText, OverlaySettingsInSectionsAndGlobals) {
  const DaemonOptions o = Config(std::string("listen = :7000\nhost-key = /tmp/h\n[network a]\n") +
                                 "network-key = /tmp/a.key\npeer = 192.0.2.1\npeer = 192.0.2.2:9\n" +
                                 "allow-peer = " + kSomePublicKey + "\n");
  EXPECT_EQ(o.listen, ":7000");
  EXPECT_EQ(o.host_key, "/tmp/h");
  ASSERT_EQ(o.networks.size(), 1u);
  EXPECT_EQ(o.networks[0].network_key, "/tmp/a.key");
  EXPECT_EQ(o.networks[0].peers.size(), 2u);
  EXPECT_EQ(o.networks[0].allowed_peers.size(), 1u);
  EXPECT_MENTIONS(ConfigError("[network a]\nlisten = :1\n"), "listen");
  EXPECT_MENTIONS(ConfigError("peer = 192.0.2.1\n"), "peer");
}

}  // namespace
}  // namespace vdemesh::daemon

namespace vdemesh::daemon {
namespace {

// The example shipped in dist/ must stay a valid config file.
TEST(ApplyConfigText, TheShippedExampleConfigParses) {
  std::ifstream f(std::string(VDEMESH_SOURCE_DIR) + "/dist/vswitchd.conf.example");
  ASSERT_TRUE(f) << "dist/vswitchd.conf.example not found";
  std::stringstream text;
  text << f.rdbuf();
  DaemonOptions opts;
  ApplyConfigText(text.str(), "vswitchd.conf.example", &opts);
  ASSERT_EQ(opts.networks.size(), 1u);
  EXPECT_EQ(opts.networks[0].name, "lab");
  EXPECT_EQ(opts.networks[0].dir, "/run/vdemesh/lab");
  EXPECT_EQ(opts.networks[0].mode, 0660u);
  EXPECT_EQ(opts.networks[0].network_key, "/etc/vdemesh/lab.key");
  EXPECT_EQ(opts.networks[0].peers, std::vector<std::string>{"192.0.2.10"});
}

}  // namespace
}  // namespace vdemesh::daemon

namespace vdemesh::daemon {
namespace {

TEST(ApplyConfigText, ANetworkIsNamedOnlyByItsSectionHeader) {
  EXPECT_MENTIONS(ConfigError("[network a]\nnetwork = b\n"), "test.conf:2");
  EXPECT_MENTIONS(ConfigError("[network a]\nnetwork = b\n"), "section header");
}

}  // namespace
}  // namespace vdemesh::daemon
