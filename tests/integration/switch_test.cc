// switch_test.cc: vswitchd as a learning switch, seen from real guests and real VDE clients.
//
//   +------------------------------------------------------------------------------------+
//   | root namespace                                                                     |
//   |   vswitchd -s swN --control ctlN.sock          vde_switch -s vswN (comparison; and  |
//   |     ports 1..n: vde_plug guests,                 the 802.1Q far end of the trunk)   |
//   |     vde_frame_tool flood|sizes|churn|stall|recv                                    |
//   +--------+-------------------+-------------------+-------------------+---------------+
//            |                   |                   |                   | trunk 10,20
//   +--------+--------+ +--------+--------+ +--------+--------+ +--------+-------------+
//   | vdm<pid>g1      | | vdm<pid>g2      | | vdm<pid>g3      | | vdm<pid>g4           |
//   | tap0 10.99.x.1  | | tap0 10.99.x.2  | | tap0 10.99.x.3  | | t10/t20/t30 via the  |
//   | (VLAN 10)       | | (VLAN 10)       | | (VLAN 20)       | | vde_switch tagger    |
//   +-----------------+ +-----------------+ +-----------------+ +----------------------+
//
// Every test starts its own switch and guests; see netns_fixture.h for cleanup.
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "netns_fixture.h"

namespace vdemesh::itest {
namespace {

namespace fs = std::filesystem;

class SwitchTest : public NetnsTest {
 protected:
  // Two guests on 10.99.1.0/24: the first plugged as vde://DIR, the second as plain DIR.
  std::pair<Guest, Guest> TwoGuests(const Switch& sw) {
    Guest a = AddGuest(sw.url(), "10.99.1.1/24");
    Guest b = AddGuest(sw.dir, "10.99.1.2/24");
    return {a, b};
  }

  void ExpectReachable(const Guest& from, const std::string& ip, int count = 3) {
    const PingResult p = Ping(from.ns, ip, count);
    EXPECT_EQ(p.received, count) << from.ns << " -> " << ip << ":\n" << p.out;
  }

  void ExpectUnreachable(const Guest& from, const std::string& ip, int count = 3) {
    const PingResult p = Ping(from.ns, ip, count);
    EXPECT_EQ(p.sent, count) << "ping did not run: " << p.out;
    EXPECT_EQ(p.received, 0) << from.ns << " -> " << ip << " must not get through:\n" << p.out;
  }

  // `vswitchctl port set N MODE...` on the port of process `client`.
  void SetPort(pid_t client, const std::vector<std::string>& mode) {
    std::vector<std::string> args = {"port", "set", std::to_string(PortOf(client).number())};
    args.insert(args.end(), mode.begin(), mode.end());
    const CommandResult r = Ctl(args);
    if (!r.ok()) throw FixtureError("vswitchctl port set: " + ::testing::PrintToString(r));
  }

  void VdeSwitchOk(const Switch& sw, const std::string& command) {
    const std::string reply = VdeSwitchCommand(sw, command);
    if (reply.find("1000 Success") == std::string::npos)
      throw FixtureError("vde_switch " + command + ": " + reply);
  }

  // The port of `client` once `done` holds for it, or as it is after 5 s.
  control::Port SettledPort(pid_t client, const std::function<bool(const control::Port&)>& done) {
    control::Port port;
    WaitUntil([&] { return done(port = PortOf(client)); }, 5s);
    return port;
  }

  void ExpectCleanExitOn(int sig) {
    const Switch sw = StartSwitch();
    AddGuest(sw.url(), "10.99.1.1/24");  // so that a data socket exists
    EXPECT_EQ(Stop(sw.pid, sig), std::optional<int>(0)) << Tail(sw.log, 20);
    EXPECT_FALSE(fs::exists(sw.dir + "/ctl"));
    EXPECT_FALSE(fs::exists(sw.control));
    EXPECT_EQ(SocketsIn(sw.dir), std::vector<std::string>{});
  }

  static std::vector<std::string> SocketsIn(const std::string& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_socket(ec)) out.push_back(e.path().filename());
    return out;
  }
};

using Forwarding = SwitchTest;
using Vlan = SwitchTest;
using Differential = SwitchTest;
using Robustness = SwitchTest;
using Lifecycle = SwitchTest;
using Flags = SwitchTest;

// ---- forwarding ----

TEST_F(Forwarding, GuestsPluggedByUrlAndByPathPingEachOtherBothWays) {
  const Switch sw = StartSwitch();
  const auto [g1, g2] = TwoGuests(sw);
  ExpectReachable(g1, g2.ip);
  ExpectReachable(g2, g1.ip);
}

TEST_F(Forwarding, PortsShowBothGuestsWithTheirDescriptionAndMovingCounters) {
  const Switch sw = StartSwitch();
  const auto [g1, g2] = TwoGuests(sw);
  ExpectReachable(g1, g2.ip);

  const control::PortList ports = Ports();
  ASSERT_EQ(ports.ports_size(), 2) << ports.DebugString();
  EXPECT_EQ(ports.network(), fs::path(sw.dir).filename().string());
  for (const Guest* g : {&g1, &g2}) {
    const std::optional<control::Port> port = FindPort(ports, g->plug_pid);
    ASSERT_TRUE(port) << "no port for " << g->descr << ": " << ports.DebugString();
    EXPECT_EQ(port->kind(), "vde");
    EXPECT_EQ(port->vlan_mode(), "access");
    EXPECT_EQ(port->access_vlan(), 1u);
    EXPECT_EQ(port->description().rfind(g->descr + " ", 0), 0u)
        << "vde_plug sent \"" << g->descr << " user=... pid=...\"; the port shows \""
        << port->description() << "\"";
    ASSERT_EQ(port->endpoints_size(), 1);
    EXPECT_EQ(port->endpoints(0).pid(), static_cast<std::uint32_t>(g->plug_pid));
    const control::Counters& c = port->counters();
    EXPECT_GT(c.rx_frames(), 0u);
    EXPECT_GT(c.rx_bytes(), 0u);
    EXPECT_GT(c.tx_frames(), 0u);
    EXPECT_GT(c.tx_bytes(), 0u);
  }
}

TEST_F(Forwarding, FdbHasEachGuestMacOnceOnItsOwnPortInVlan1) {
  const Switch sw = StartSwitch();
  const auto [g1, g2] = TwoGuests(sw);
  ExpectReachable(g1, g2.ip);

  const control::FdbList fdb = Fdb();
  for (const Guest* g : {&g1, &g2}) {
    const std::uint32_t port = PortOf(g->plug_pid).number();
    int found = 0;
    for (const control::FdbEntry& e : fdb.entries()) {
      if (e.mac() != g->mac) continue;
      ++found;
      EXPECT_EQ(e.port(), port) << g->mac;
      EXPECT_EQ(e.vlan(), 1u) << g->mac;
      EXPECT_TRUE(e.peer().empty()) << g->mac;
    }
    EXPECT_EQ(found, 1) << "FDB entries for " << g->mac << ": " << fdb.DebugString();
  }
}

TEST_F(Forwarding, StatusNamesTheNetworkAfterItsDirectoryAndCountsPortsAndMacs) {
  const Switch sw = StartSwitch();
  const auto [g1, g2] = TwoGuests(sw);
  ExpectReachable(g1, g2.ip);

  const control::Status status = Status();
  ASSERT_EQ(status.networks_size(), 1) << status.DebugString();
  const control::NetworkStatus& net = status.networks(0);
  EXPECT_EQ(net.name(), fs::path(sw.dir).filename().string());
  EXPECT_EQ(net.switch_dir(), sw.dir);
  EXPECT_EQ(net.ports_in_use(), 2u);
  EXPECT_EQ(net.numports(), 32u);
  EXPECT_EQ(net.fdb_entries(), static_cast<std::uint64_t>(Fdb().entries_size()));
  EXPECT_GE(net.fdb_entries(), 2u);
  EXPECT_EQ(net.fdb_max_entries(), 65536u);
  EXPECT_EQ(net.fdb_aging_seconds(), 300u);
  EXPECT_EQ(net.max_frame(), 1514u);
  EXPECT_EQ(status.pid(), static_cast<std::uint32_t>(sw.pid));
}

// ---- VLANs ----

TEST_F(Vlan, AccessPortsInVlan10ReachEachOtherButNotVlan20) {
  const Switch sw = StartSwitch();
  const Guest g1 = AddGuest(sw.url(), "10.99.1.1/24");
  const Guest g2 = AddGuest(sw.url(), "10.99.1.2/24");
  const Guest g3 = AddGuest(sw.url(), "10.99.1.3/24");  // same subnet: only the switch separates
  SetPort(g1.plug_pid, {"--vlan", "10"});
  SetPort(g2.plug_pid, {"--vlan", "10"});
  SetPort(g3.plug_pid, {"--vlan", "20"});
  for (const auto& [g, vlan] : {std::pair{&g1, 10u}, {&g2, 10u}, {&g3, 20u}}) {
    const control::Port port = PortOf(g->plug_pid);
    EXPECT_EQ(port.vlan_mode(), "access");
    EXPECT_EQ(port.access_vlan(), vlan);
  }

  ExpectReachable(g1, g2.ip);
  ExpectReachable(g2, g1.ip);
  ExpectUnreachable(g1, g3.ip);
  ExpectUnreachable(g3, g2.ip);

  // Flooding that stops at the VLAN's edge is not a drop; nothing here is malformed.
  const control::PortList ports = Ports();
  for (const control::Port& port : ports.ports())
    for (const char* reason : {"too_short", "too_long", "vlan_not_allowed", "untagged_on_trunk",
                               "bad_source_mac", "tx_error"})
      EXPECT_EQ(Drops(port.counters().drops(), reason), 0u)
          << "port " << port.number() << " " << reason << ": " << port.DebugString();
  EXPECT_EQ(Drops(Status().networks(0).drops(), "fdb_full"), 0u);
  const control::FdbList fdb = Fdb();
  for (const control::FdbEntry& e : fdb.entries()) {
    if (e.mac() == g3.mac) {
      EXPECT_EQ(e.vlan(), 20u);
    } else if (e.mac() == g1.mac || e.mac() == g2.mac) {
      EXPECT_EQ(e.vlan(), 10u);
    }
  }
}

// The far end of a trunk: a stock vde_switch whose port 1 (the cable to vswitchd) is a tagged
// member of VLANs 10, 20 and 30 and whose ports 2..4 are access ports with TAPs t10, t20, t30 in
// one namespace. It stands in for tap0.10/.20/.30 sub-interfaces, because the kernels we run
// on may lack 802.1Q (CONFIG_VLAN_8021Q) and with it VLAN filtering on bridges.
class Trunk : public SwitchTest {
 protected:
  // Returns the PID of the cable (vde_plug between the two switches). `by_url`: the cable asks
  // for its trunk itself (vdemesh://DIR[trunk=...]) instead of vswitchctl setting it.
  pid_t PlugTagger(const Switch& sw, const std::string& trunk_vlans, std::string* ns,
                   bool by_url = false) {
    const Switch tagger = StartVdeSwitch();
    for (const char* vlan : {"10", "20", "30"})
      VdeSwitchOk(tagger, std::string("vlan/create ") + vlan);
    const std::string url =
        by_url ? "vdemesh://" + sw.dir + "[trunk=" + trunk_vlans + "]" : sw.url();
    const pid_t cable =
        Spawn({"vde_plug", "-D", "vdm-trunk-cable", tagger.url() + "[1]", url}, "trunk-cable");
    if (by_url) {
      if (!WaitUntil([&] { return !Running(cable) || FindPort(Ports(), cable); }, 5s) ||
          !Running(cable))
        throw FixtureError("the cable did not plug in:\n" + Tail(LogPath("trunk-cable"), 20));
    } else {
      SetPort(cable, {"--trunk", trunk_vlans});
    }
    for (const char* vlan : {"10", "20", "30"})
      VdeSwitchOk(tagger, std::string("vlan/addport ") + vlan + " 1");
    *ns = NewNamespace();
    int port = 2;
    for (const std::string& vlan : {std::string("10"), std::string("20"), std::string("30")}) {
      PlugTap(*ns, tagger.url() + "[" + std::to_string(port) + "]", "t" + vlan,
              "10.99." + vlan + ".4/24", "vdm-trunk-t" + vlan);
      VdeSwitchOk(tagger, "port/setvlan " + std::to_string(port++) + " " + vlan);
    }
    return cable;
  }
};

TEST_F(Trunk, CarriesVlans10And20TaggedAndDropsVlan30AsNotAllowed) {
  const Switch sw = StartSwitch();
  const Guest g1 = AddGuest(sw.url(), "10.99.10.1/24");
  const Guest g3 = AddGuest(sw.url(), "10.99.20.3/24");
  SetPort(g1.plug_pid, {"--vlan", "10"});
  SetPort(g3.plug_pid, {"--vlan", "20"});
  Guest g4;
  const pid_t cable = PlugTagger(sw, "10,20", &g4.ns);

  const control::Port trunk = PortOf(cable);
  EXPECT_EQ(trunk.vlan_mode(), "trunk");
  EXPECT_EQ(std::vector<std::uint32_t>(trunk.trunk_vlans().begin(), trunk.trunk_vlans().end()),
            (std::vector<std::uint32_t>{10, 20}));
  EXPECT_EQ(trunk.native_vlan(), 0u);

  ExpectReachable(g4, g1.ip);
  ExpectReachable(g4, g3.ip);
  ExpectReachable(g1, "10.99.10.4");
  ExpectUnreachable(g4, "10.99.30.1");
  const control::Port after = PortOf(cable);
  EXPECT_GT(Drops(after.counters().drops(), "vlan_not_allowed"), 0u) << after.DebugString();
}

// The same trunk, asked for by the cable's own URL: tagged frames of 10 and 20 cross at once.
TEST_F(Trunk, CableAskingForTheTrunkInItsUrlCarriesTaggedVlans) {
  const Switch sw = StartSwitch();
  const Guest g1 = AddGuest("vdemesh://" + sw.dir + "[vlan=10]", "10.99.10.1/24");
  const Guest g3 = AddGuest("vdemesh://" + sw.dir + "[vlan=20]", "10.99.20.3/24");
  Guest g4;
  const pid_t cable = PlugTagger(sw, "10,20", &g4.ns, /*by_url=*/true);
  const control::Port trunk = PortOf(cable);
  EXPECT_EQ(trunk.vlan_mode(), "trunk");
  EXPECT_EQ(std::vector<std::uint32_t>(trunk.trunk_vlans().begin(), trunk.trunk_vlans().end()),
            (std::vector<std::uint32_t>{10, 20}));
  ExpectReachable(g4, g1.ip);
  ExpectReachable(g4, g3.ip);
  ExpectUnreachable(g4, "10.99.30.1");
}

TEST_F(Trunk, LearnsTaggedSourcesInTheirVlanOnTheTrunkPort) {
  const Switch sw = StartSwitch();
  const Guest g1 = AddGuest(sw.url(), "10.99.10.1/24");
  SetPort(g1.plug_pid, {"--vlan", "10"});
  std::string ns;
  const pid_t cable = PlugTagger(sw, "10,20", &ns);
  ExpectReachable(g1, "10.99.10.4");

  const std::string t10_mac = MacOf(ns, "t10");
  const std::uint32_t trunk = PortOf(cable).number();
  const control::FdbList fdb = Fdb();
  int found = 0;
  for (const control::FdbEntry& e : fdb.entries()) {
    if (e.mac() != t10_mac) continue;
    ++found;
    EXPECT_EQ(e.vlan(), 10u);
    EXPECT_EQ(e.port(), trunk);
  }
  EXPECT_EQ(found, 1) << t10_mac << " in VLAN 10 on port " << trunk << ": " << fdb.DebugString();
}

// ---- the same scenario on the stock vde_switch and on vswitchd ----

struct ScenarioView {
  std::vector<int> ports;          // port of guest 1 and guest 2
  std::map<std::string, int> fdb;  // MAC -> port
  std::vector<std::string> macs;
};

std::map<pid_t, int> VdeSwitchPortsByPid(const std::string& port_print) {
  static const std::regex port_re("^Port ([0-9]+) ");
  static const std::regex pid_re("prog *:.*[Pp][Ii][Dd]=([0-9]+)");
  std::map<pid_t, int> out;
  std::istringstream in(port_print);
  std::string line;
  int port = -1;
  for (int i = 0; i < 10000 && std::getline(in, line); ++i) {
    std::smatch m;
    if (std::regex_search(line, m, port_re)) port = std::stoi(m[1]);
    if (std::regex_search(line, m, pid_re)) out[std::stoi(m[1])] = port;
  }
  return out;
}

std::map<std::string, int> VdeSwitchFdb(const std::string& hash_print) {
  static const std::regex re("Addr: ([0-9a-f:]{17}) VLAN [0-9]+ to port: ([0-9]+)");
  std::map<std::string, int> out;
  for (auto it = std::sregex_iterator(hash_print.begin(), hash_print.end(), re);
       it != std::sregex_iterator(); ++it)
    out[(*it)[1]] = std::stoi((*it)[2]);
  return out;
}

TEST_F(Differential, TwoGuestScenarioBehavesTheSameOnVdeSwitchAndVswitchd) {
  ScenarioView stock;
  {
    const Switch sw = StartVdeSwitch();
    const auto [g1, g2] = TwoGuests(sw);
    ExpectReachable(g1, g2.ip);
    ExpectReachable(g2, g1.ip);
    const std::map<pid_t, int> ports = VdeSwitchPortsByPid(VdeSwitchCommand(sw, "port/print"));
    stock.fdb = VdeSwitchFdb(VdeSwitchCommand(sw, "hash/print"));
    for (const Guest* g : {&g1, &g2}) {
      ASSERT_TRUE(ports.count(g->plug_pid)) << VdeSwitchCommand(sw, "port/print");
      stock.ports.push_back(ports.at(g->plug_pid));
      stock.macs.push_back(g->mac);
    }
  }
  ScenarioView ours;
  {
    const Switch sw = StartSwitch();
    const auto [g1, g2] = TwoGuests(sw);
    ExpectReachable(g1, g2.ip);
    ExpectReachable(g2, g1.ip);
    const control::FdbList fdb = Fdb();
    for (const control::FdbEntry& e : fdb.entries()) ours.fdb[e.mac()] = e.port();
    for (const Guest* g : {&g1, &g2}) {
      ours.ports.push_back(PortOf(g->plug_pid).number());
      ours.macs.push_back(g->mac);
    }
  }
  // Both hand out the lowest free port, in the order the guests plugged in.
  EXPECT_EQ(ours.ports, stock.ports);
  // Both learned each guest's MAC on that guest's port.
  for (const ScenarioView* v : {&stock, &ours})
    for (std::size_t i = 0; i < 2; ++i) {
      ASSERT_TRUE(v->fdb.count(v->macs[i]))
          << (v == &ours ? "vswitchd" : "vde_switch") << " did not learn " << v->macs[i];
      EXPECT_EQ(v->fdb.at(v->macs[i]), v->ports[i]) << (v == &ours ? "vswitchd" : "vde_switch");
    }
}

// ---- hostile and heavy clients ----

TEST_F(Robustness, MacFloodFillsTheFdbToItsLimitWithoutGrowingMemory) {
  const Switch sw = StartSwitch({"--fdb-size", "1024"});
  const auto [g1, g2] = TwoGuests(sw);
  ExpectReachable(g1, g2.ip);
  const std::optional<long> rss_before = RssKiB(sw.pid);
  ASSERT_TRUE(rss_before);

  // The flooder stays plugged in for a while after its last frame: the switch may forget the
  // MACs of a port once it is gone, and the test wants to see the table full.
  const pid_t flood =
      Spawn({VDE_FRAME_TOOL_BIN, "--hold", "8", "flood", sw.url(), "50000"}, "flood");
  control::NetworkStatus net;
  const bool full = WaitUntil(
      [&] {
        net = Status().networks(0);
        return net.fdb_entries() == 1024 && Drops(net.drops(), "fdb_full") >= 50000 - 1024;
      },
      6s);
  EXPECT_TRUE(full) << "every frame from an unlearnable source is counted:\n" << net.DebugString();
  EXPECT_EQ(net.fdb_max_entries(), 1024u);
  EXPECT_TRUE(Running(flood)) << "the flood ended early:\n" << Tail(LogPath("flood"), 10);

  const std::optional<long> rss_after = RssKiB(sw.pid);
  ASSERT_TRUE(rss_after) << "vswitchd died during the flood:\n" << Tail(sw.log, 30);
  EXPECT_LT(*rss_after - *rss_before, 8 * 1024)
      << "RSS grew from " << *rss_before << " KiB to " << *rss_after << " KiB";
  EXPECT_EQ(WaitExit(flood, 20s), std::optional<int>(0)) << Tail(LogPath("flood"), 10);
  ExpectReachable(g1, g2.ip);
  ExpectReachable(g2, g1.ip);
}

TEST_F(Robustness, TwoThousandConnectAndCloseCyclesLeaveOnlyTheLivePorts) {
  const Switch sw = StartSwitch();
  const auto [g1, g2] = TwoGuests(sw);
  const CommandResult churn = RunCommand({VDE_FRAME_TOOL_BIN, "churn", sw.url(), "2000"}, 120s);
  EXPECT_TRUE(churn.ok()) << churn;

  control::PortList ports;
  EXPECT_TRUE(WaitUntil([&] { return (ports = Ports()).ports_size() == 2; }, 5s))
      << ports.DebugString();
  EXPECT_TRUE(FindPort(ports, g1.plug_pid)) << ports.DebugString();
  EXPECT_TRUE(FindPort(ports, g2.plug_pid)) << ports.DebugString();
  EXPECT_EQ(Status().networks(0).ports_in_use(), 2u);
  ExpectReachable(g1, g2.ip);
  ExpectReachable(g2, g1.ip);
}

TEST_F(Robustness, AClientThatNeverReadsDoesNotHoldUpTheOthers) {
  const Switch sw = StartSwitch();
  const auto [g1, g2] = TwoGuests(sw);
  const pid_t stall = Spawn({VDE_FRAME_TOOL_BIN, "stall", sw.url(), "10"}, "stall");
  PortOf(stall);
  // 20000 broadcasts fill the stalled client's socket many times over.
  const CommandResult flood = RunCommand({VDE_FRAME_TOOL_BIN, "flood", sw.url(), "20000"}, 60s);
  ASSERT_TRUE(flood.ok()) << flood;
  // Let the switch work off the flood: every frame sent to g1 is sent or counted as dropped.
  WaitUntil(
      [&, pid = g1.plug_pid] {  // (clang < 16 cannot capture a structured binding)
        const control::Counters c = PortOf(pid).counters();
        std::uint64_t drops = 0;
        for (const auto& [reason, n] : c.drops()) drops += n;
        return c.tx_frames() + drops >= 20000;
      },
      10s);

  ASSERT_TRUE(Running(stall)) << "the stalled client is to stay plugged in during the pings";
  ExpectReachable(g1, g2.ip, 10);
  ExpectReachable(g2, g1.ip, 5);
  EXPECT_TRUE(Running(sw.pid));
  EXPECT_TRUE(Ctl({"status"}).ok());
  if (const auto port = FindPort(Ports(), stall))
    RecordProperty("stalled_client_tx_full",
                   std::to_string(Drops(port->counters().drops(), "tx_full")));
  EXPECT_EQ(WaitExit(stall, 20s), std::optional<int>(0)) << Tail(LogPath("stall"), 10);
}

// ---- frame sizes ----

class FrameSize : public SwitchTest {
 protected:
  // Sends one broadcast of each size from one client while another counts what arrives.
  void SendSizes(const Switch& sw, const std::vector<std::string>& sizes, std::uint64_t too_short,
                 std::uint64_t too_long, long delivered) {
    const pid_t recv = Spawn({VDE_FRAME_TOOL_BIN, "recv", sw.url(), "6"}, "recv");
    PortOf(recv);
    std::vector<std::string> argv = {VDE_FRAME_TOOL_BIN, "--hold", "3", "sizes", sw.url()};
    argv.insert(argv.end(), sizes.begin(), sizes.end());
    const pid_t sender = Spawn(argv, "sizes");
    const control::Port port = SettledPort(sender, [&](const control::Port& p) {
      return Drops(p.counters().drops(), "too_short") >= too_short &&
             Drops(p.counters().drops(), "too_long") >= too_long;
    });
    EXPECT_EQ(Drops(port.counters().drops(), "too_short"), too_short) << port.DebugString();
    EXPECT_EQ(Drops(port.counters().drops(), "too_long"), too_long) << port.DebugString();
    EXPECT_EQ(WaitExit(sender, 10s), std::optional<int>(0)) << Tail(LogPath("sizes"), 10);
    ASSERT_EQ(WaitExit(recv, 15s), std::optional<int>(0)) << Tail(LogPath("recv"), 10);
    EXPECT_EQ(std::stol(ReadFile(LogPath("recv"))), delivered)
        << "frames that reached the receiver";
  }
};

TEST_F(FrameSize, DefaultMaximumDrops13And1515ByteFramesAndCountsThemExactly) {
  const Switch sw = StartSwitch();
  SendSizes(sw, {"13", "14", "1514", "1515"}, 1, 1, 2);
}

TEST_F(FrameSize, JumboMaximumOf9000PassesUpTo9000Bytes) {
  const Switch sw = StartSwitch({"--max-frame", "9000"});
  SendSizes(sw, {"13", "14", "1514", "1515", "9000", "9001"}, 1, 1, 4);
  EXPECT_EQ(Status().networks(0).max_frame(), 9000u);
}

// ---- lifecycle ----

TEST_F(Lifecycle, SecondDaemonOnTheSameDirectoryFailsAndTheFirstKeepsServing) {
  const Switch sw = StartSwitch();
  const CommandResult second =
      RunCommand({VSWITCHD_BIN, "-s", sw.dir, "--control", tmp() + "/second.sock"}, 10s);
  EXPECT_FALSE(second.timed_out) << "the second daemon kept running";
  EXPECT_NE(second.exit_code, 0) << second;
  EXPECT_FALSE(second.err.empty()) << "no message says why";
  EXPECT_TRUE(Running(sw.pid));
  EXPECT_TRUE(Ctl({"status"}).ok());
  const CommandResult churn = RunCommand({VDE_FRAME_TOOL_BIN, "churn", sw.url(), "3"}, 30s);
  EXPECT_TRUE(churn.ok()) << "the first daemon no longer takes clients: " << churn;
}

TEST_F(Lifecycle, NewDaemonReplacesTheStaleSocketsOfAKilledOne) {
  const Switch killed = StartSwitch();
  ASSERT_EQ(Stop(killed.pid, SIGKILL), std::optional<int>(128 + SIGKILL));
  ASSERT_TRUE(fs::exists(killed.dir + "/ctl")) << "SIGKILL should leave the socket behind";
  const Switch sw = StartSwitchAt(killed.dir, killed.control);
  const auto [g1, g2] = TwoGuests(sw);
  ExpectReachable(g1, g2.ip);
}

TEST_F(Lifecycle, SigtermExitsZeroAndRemovesEverySocket) { ExpectCleanExitOn(SIGTERM); }

TEST_F(Lifecycle, SigintExitsZeroAndRemovesEverySocket) { ExpectCleanExitOn(SIGINT); }

TEST_F(Lifecycle, DaemonModeWritesThePidfileAndSigtermCleansUp) {
  const std::string dir = tmp() + "/swd";
  const std::string control = tmp() + "/ctld.sock";
  const std::string pidfile = tmp() + "/vswitchd.pid";
  const CommandResult start = RunCommand(
      {VSWITCHD_BIN, "--daemon", "--pidfile", pidfile, "-s", dir, "--control", control}, 10s);
  ASSERT_TRUE(start.ok()) << start;
  pid_t pid = -1;
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::istringstream in(ReadFile(pidfile));
        return static_cast<bool>(in >> pid) && pid > 1;
      },
      5s))
      << "no pid in " << pidfile;
  Adopt(pid);
  EXPECT_NE(ReadFile("/proc/" + std::to_string(pid) + "/cmdline").find("vswitchd"),
            std::string::npos);
  ASSERT_TRUE(WaitUntil([&] { return CanConnect(dir + "/ctl") && CanConnect(control); }, 10s));
  UseControl(control);
  EXPECT_EQ(Status().pid(), static_cast<std::uint32_t>(pid));

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_TRUE(WaitExit(pid, 5s)) << "the daemon ignored SIGTERM";
  EXPECT_FALSE(fs::exists(dir + "/ctl"));
  EXPECT_FALSE(fs::exists(control));
}

// ---- flags ----

TEST_F(Flags, BadOptionValuesExitNonZeroNamingTheOption) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--numports", "0"}, "numports"},
      {{"--max-frame", "10"}, "max-frame"},
      {{"--max-frame", "9231"}, "max-frame"},
      {{"--fdb-size", "abc"}, "fdb-size"},
      {{"--bogus"}, "bogus"},
  };
  for (const auto& [flags, name] : cases) {
    std::vector<std::string> argv = {VSWITCHD_BIN, "-s", tmp() + "/bad", "--control",
                                     tmp() + "/bad.sock"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    const CommandResult r = RunCommand(argv, 10s);
    EXPECT_FALSE(r.timed_out) << flags[0] << ": the daemon started anyway";
    EXPECT_GT(r.exit_code, 0) << flags[0] << " " << r;
    EXPECT_LT(r.exit_code, 128) << flags[0] << " crashed: " << r;
    EXPECT_NE(r.err.find(name), std::string::npos) << "stderr does not name " << name << ": " << r;
    EXPECT_FALSE(fs::exists(tmp() + "/bad/ctl")) << flags[0];
  }
}

}  // namespace
}  // namespace vdemesh::itest
