// plugin_test.cc: the vdemesh:// plugin (vdeplug-plugin/) loaded by the stock vde_plug, as QEMU
// loads it: the URL names the network and chooses the port and its VLAN; refusals say why.
//
//   +----------------------------------------------------------------------------------+
//   | root namespace: vswitchd -s swN (or /run/vdemesh/NAME), or a stock vde_switch      |
//   +--------+-------------------------+-------------------------+---------------------+
//            | vdemesh://swN[vlan=10]  | vdemesh://swN[vlan=10]  | vdemesh://swN[vlan=20],
//            vde://swN
//   +--------+---------+     +---------+---------+     +---------+---------+
//   | netns A: tap0    |     | netns B: tap0     |     | netns C, D: tap0  |
//   +------------------+     +-------------------+     +-------------------+
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "netns_fixture.h"

namespace vdemesh::itest {
namespace {

class Plugin : public NetnsTest {
 protected:
  // vde_plug URL null://: opens the switch and holds the port until stopped, or exits at once
  // with the plugin's message when the open fails.
  CommandResult PlugExpectingRefusal(const std::string& url) {
    return RunCommand({"vde_plug", url, "null://"}, 5s);
  }
};

std::string VlanOf(const control::Port& p) {
  if (p.vlan_mode() == "access") return "access " + std::to_string(p.access_vlan());
  std::string out = "trunk";
  for (const std::uint32_t v : p.trunk_vlans()) out += " " + std::to_string(v);
  return out + " native " + std::to_string(p.native_vlan());
}

TEST_F(Plugin, VlanChosenInTheUrlSeparatesGuests) {
  const Switch sw = StartSwitch();
  const std::string url = "vdemesh://" + sw.dir;
  const Guest a = AddGuest(url + "[vlan=10]", "10.99.8.1/24");
  const Guest b = AddGuest(url + "[vlan=10]", "10.99.8.2/24");
  const Guest c = AddGuest(url + "[vlan=20]", "10.99.8.3/24");
  const Guest d = AddGuest(sw.url(), "10.99.8.4/24");  // a stock vde:// client: VLAN 1

  EXPECT_EQ(VlanOf(PortOf(a.plug_pid)), "access 10");
  EXPECT_EQ(VlanOf(PortOf(b.plug_pid)), "access 10");
  EXPECT_EQ(VlanOf(PortOf(c.plug_pid)), "access 20");
  EXPECT_EQ(VlanOf(PortOf(d.plug_pid)), "access 1");

  const PingResult same = Ping(a.ns, b.ip);
  EXPECT_EQ(same.received, 3) << same.out;
  for (const Guest* other : {&c, &d}) {
    const PingResult p = Ping(a.ns, other->ip);
    EXPECT_EQ(p.sent, 3) << p.out;
    EXPECT_EQ(p.received, 0) << "VLAN 10 reached " << other->ip << ":\n" << p.out;
  }
}

TEST_F(Plugin, PortAndTrunkComeFromTheUrlAndTheSwitchLogsThem) {
  const Switch sw = StartSwitch();
  const std::string url = "vdemesh://" + sw.dir;
  const Guest a = AddGuest(url + "[port=9/trunk=10,20-22/native=5]", "10.99.8.1/24");
  const control::Port port = PortOf(a.plug_pid);
  EXPECT_EQ(port.number(), 9u);
  EXPECT_EQ(VlanOf(port), "trunk 10 20 21 22 native 5");
  // The untagged side of the trunk is VLAN 5: a guest there answers.
  const Guest b = AddGuest(url + "[vlan=5]", "10.99.8.2/24");
  const PingResult p = Ping(a.ns, b.ip);
  EXPECT_EQ(p.received, 3) << p.out;
  EXPECT_TRUE(
      WaitUntil([&] { return ReadFile(sw.log).find("port 9 plugged") != std::string::npos; }, 5s));
  EXPECT_NE(ReadFile(sw.log).find("trunk VLANs 10,20-22 native 5"), std::string::npos)
      << Tail(sw.log, 20);
}

TEST_F(Plugin, ANetworkNameMeansItsSwitchUnderRunVdemesh) {
  const std::string name = "vdm-it-" + std::to_string(getpid());
  if (mkdir("/run/vdemesh", 0755) != 0 && errno != EEXIST)
    GTEST_SKIP() << "cannot create /run/vdemesh: " << std::strerror(errno);
  const Switch sw = StartSwitchAt("/run/vdemesh/" + name, tmp() + "/ctl.sock");
  const Guest a = AddGuest("vdemesh://" + name + "[vlan=7]", "10.99.8.1/24");
  const Guest b = AddGuest("vdemesh://" + name + "[7]", "10.99.8.2/24");
  EXPECT_EQ(VlanOf(PortOf(a.plug_pid)), "access 7");
  // Port 7 keeps its default VLAN 1: b is not on a's VLAN.
  EXPECT_EQ(PortOf(b.plug_pid).number(), 7u);
  EXPECT_EQ(VlanOf(PortOf(b.plug_pid)), "access 1");
  EXPECT_EQ(Ping(a.ns, b.ip, 2).received, 0);
  Stop(sw.pid);  // vswitchd removes the directory it created
}

TEST_F(Plugin, RefusalsSayWhyAndLeaveTheSwitchServing) {
  const Switch sw = StartSwitch({"-n", "8"});
  const std::string url = "vdemesh://" + sw.dir;
  const Guest a = AddGuest(url + "[5]", "10.99.8.1/24");

  const std::vector<std::pair<std::string, std::string>> cases = {
      {url + "[vlan=5000]", "bad VLAN id '5000'"},
      {url + "[trunk=10/vlan=3]", "vlan= excludes trunk="},
      {url + "[native=3]", "native= needs trunk="},
      {url + "[5/vlan=3]", "port 5 is in use; a VLAN can be chosen only for a free port"},
      {url + "[99]", "port 99 does not exist"},
      {url + "[vlna=3]", "unknown option 'vlna=3'"},
      {"vdemesh://" + tmp() + "/nothing-here", "no switch at " + tmp() + "/nothing-here"},
  };
  for (const auto& [bad, reason] : cases) {
    const CommandResult r = PlugExpectingRefusal(bad);
    EXPECT_FALSE(r.timed_out) << bad;
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_NE(r.err.find("vdemesh: "), std::string::npos) << bad << ": " << r;
    EXPECT_NE(r.err.find(reason), std::string::npos) << bad << ": " << r;
  }
  // Port 5 is a's as before, on VLAN 1, and a new client still gets a port.
  EXPECT_EQ(VlanOf(PortOf(a.plug_pid)), "access 1");
  const Guest b = AddGuest(url, "10.99.8.2/24");
  EXPECT_EQ(Ping(a.ns, b.ip).received, 3);
}

std::string VlanOfPort(const control::PortList& ports, std::uint32_t number) {
  for (const control::Port& p : ports.ports())
    if (p.number() == number) return VlanOf(p);
  return "access 1";  // a port the switch does not list has the default
}

// A client's VLAN is its own: when it leaves, the port's setting (vswitchctl's, or the
// default) comes back, so that the next client of that port is not put on it unawares; a
// setting made by vswitchctl in the meantime stays.
TEST_F(Plugin, AChosenVlanLastsWhileItsClientIsPluggedIn) {
  const Switch sw = StartSwitch();
  const std::string url = "vdemesh://" + sw.dir;
  ASSERT_TRUE(Ctl({"port", "set", "3", "--vlan", "42"}).ok());
  const Guest preset = AddGuest(url + "[3/vlan=10]", "10.99.8.1/24");
  const Guest plain = AddGuest(url + "[vlan=10]", "10.99.8.2/24");
  const Guest changed = AddGuest(url + "[5/vlan=10]", "10.99.8.3/24");
  const std::uint32_t plain_port = PortOf(plain.plug_pid).number();
  EXPECT_EQ(VlanOf(PortOf(preset.plug_pid)), "access 10");
  EXPECT_EQ(VlanOf(PortOf(plain.plug_pid)), "access 10");
  EXPECT_TRUE(PortOf(plain.plug_pid).vlan_from_client());
  const CommandResult table = Ctl({"ports"});
  EXPECT_NE(table.out.find("10*"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("* chosen by the port's client"), std::string::npos) << table.out;
  ASSERT_TRUE(Ctl({"port", "set", "5", "--vlan", "30"}).ok());

  for (const Guest* g : {&preset, &plain, &changed}) Stop(g->plug_pid);
  EXPECT_TRUE(WaitUntil([&] { return VlanOfPort(Ports(), 3) == "access 42"; }, 5s))
      << Ports().DebugString();
  EXPECT_EQ(VlanOfPort(Ports(), plain_port), "access 1");
  EXPECT_EQ(VlanOfPort(Ports(), 5), "access 30");
  const control::PortList after = Ports();
  for (const control::Port& p : after.ports()) EXPECT_FALSE(p.vlan_from_client()) << p.number();

  // The next stock client on the freed port is on VLAN 1, as it would be on vde_switch.
  const Guest next = AddGuest(sw.url() + "[" + std::to_string(plain_port) + "]", "10.99.8.4/24");
  EXPECT_EQ(VlanOf(PortOf(next.plug_pid)), "access 1");
}

// The plugin is a VDE client first: a stock vde_switch serves it as it serves vde://, but a
// VLAN it cannot grant is refused rather than silently ignored.
TEST_F(Plugin, StockVdeSwitchServesItButCannotGrantAVlan) {
  const Switch vsw = StartVdeSwitch();
  const Guest a = AddGuest("vdemesh://" + vsw.dir, "10.99.8.1/24");
  const Guest b = AddGuest("vdemesh://" + vsw.dir + "[3]", "10.99.8.2/24");
  EXPECT_EQ(Ping(a.ns, b.ip).received, 3);
  const CommandResult r = PlugExpectingRefusal("vdemesh://" + vsw.dir + "[vlan=3]");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not vswitchd"), std::string::npos) << r;
}

}  // namespace
}  // namespace vdemesh::itest
