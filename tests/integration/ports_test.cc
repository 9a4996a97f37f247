// ports_test.cc: the kinds of port a switch offers: a TAP port (-t, for host bridges), fixed
// port numbers shared by one user's clients, and sockets restricted by mode and group (-m/-g).
//
//   +---------------------------------------------------------------------------+
//   | root namespace: vswitchd -s swN -t vdm<pid>tN [-m 0660 -g nogroup]         |
//   |   port 1: the TAP (moved into netns T)   port 5: vde_plug 'vde://swN[5]'  |
//   +-----------+-------------------------------------+-------------------------+
//               | tap fd (vswitchd)                   | unix datagrams
//   +-----------+-----------+             +-----------+-----------+
//   | netns T: vdm<pid>tN   |             | netns G: tap0 (vde_plug)|
//   | 10.99.7.1/24          |             | 10.99.7.2/24            |
//   +-----------------------+             +-------------------------+
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "netns_fixture.h"

namespace vdemesh::itest {
namespace {

using PortKinds = NetnsTest;

// The TAP is created by vswitchd in the root namespace and then moved into a namespace of its
// own, where it plays the host side of a bridge: the fd vswitchd holds stays attached.
TEST_F(PortKinds, TapPortCarriesFramesBetweenTheHostInterfaceAndAVdeGuest) {
  const std::string tap = "vdm" + std::to_string(getpid() % 100000) + "t";
  const Switch sw = StartSwitch({"-t", tap});
  const std::string ns = NewNamespace();
  ASSERT_TRUE(RunCommand({"ip", "link", "set", tap, "netns", ns}).ok());
  ASSERT_TRUE(InNamespace(ns, {"ip", "addr", "add", "10.99.7.1/24", "dev", tap}).ok());
  ASSERT_TRUE(InNamespace(ns, {"ip", "link", "set", tap, "up"}).ok());
  const Guest g = AddGuest(sw.url(), "10.99.7.2/24");

  const PingResult p = Ping(g.ns, "10.99.7.1", 3);
  EXPECT_EQ(p.received, 3) << p.out;
  const control::PortList ports = Ports();
  bool found_tap = false;
  for (const auto& port : ports.ports()) {
    if (port.kind() != "tap") continue;
    found_tap = true;
    EXPECT_NE(port.description().find(tap), std::string::npos) << port.description();
    EXPECT_GT(port.counters().rx_frames(), 0u);
    EXPECT_GT(port.counters().tx_frames(), 0u);
  }
  EXPECT_TRUE(found_tap) << "no port of kind tap";
  const std::string tap_mac = MacOf(ns, tap);
  bool learned = false;
  const control::FdbList fdb = Fdb();
  for (const auto& e : fdb.entries()) learned |= e.mac() == tap_mac;
  EXPECT_TRUE(learned) << "the TAP's MAC " << tap_mac << " is not in the fdb";
  // The status says how the TAP is read: io_uring batches, or read() where io_uring is missing.
  const control::Status status = Status();
  ASSERT_EQ(status.networks_size(), 1);
  const std::string reads = status.networks(0).tap_reads();
  EXPECT_TRUE(reads == "io_uring" || reads == "read") << status.DebugString();
  EXPECT_EQ(status.networks(0).datapath_thread(), 0u);
  EXPECT_EQ(status.networks(0).busy_poll_us(), 150u) << "the default --busy-poll";
  const CommandResult text = Ctl({"status"});
  EXPECT_NE(text.out.find("datapath thread: 0 (busy-polls 150 us after traffic)"),
            std::string::npos)
      << text.out;
}

// With busy polling off the datapath thread sleeps as soon as it is idle; frames still flow.
TEST_F(PortKinds, WithBusyPollOffTheSwitchStillForwardsAndSaysItSleeps) {
  const Switch sw = StartSwitch({"--busy-poll", "0"});
  const Guest a = AddGuest(sw.url(), "10.99.9.1/24");
  const Guest b = AddGuest(sw.url(), "10.99.9.2/24");
  const PingResult p = Ping(a.ns, b.ip, 3);
  EXPECT_EQ(p.received, 3) << p.out;
  EXPECT_EQ(Status().networks(0).busy_poll_us(), 0u);
  const CommandResult text = Ctl({"status"});
  EXPECT_NE(text.out.find("datapath thread: 0 (sleeps when idle)"), std::string::npos) << text.out;
}

TEST_F(PortKinds, RequestedPortNumberIsHonouredAndSharedByTheSameUsersClients) {
  const Switch sw = StartSwitch();
  const std::string ns = NewNamespace();
  const pid_t first = PlugTap(ns, "vde://" + sw.dir + "[5]", "tap0", "10.99.8.1/24", "first");
  const pid_t second = PlugTap(ns, "vde://" + sw.dir + "[5]", "tap1", "10.99.8.2/24", "second");
  EXPECT_EQ(PortOf(first).number(), 5u);
  EXPECT_EQ(PortOf(second).number(), 5u);
  control::Port port5;
  WaitUntil([&] { return (port5 = PortOf(first)).endpoints_size() == 2; }, 5s);
  EXPECT_EQ(port5.endpoints_size(), 2) << port5.DebugString();
  // Out of range: the switch refuses, and vde_plug gives up.
  const CommandResult r = RunCommand({"vde_plug", "vde://" + sw.dir + "[999]", "null://"}, 5s);
  EXPECT_NE(r.exit_code, 0) << r;
}

class SocketPermissions : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    const passwd* nobody = getpwnam("nobody");
    const group* nogroup = getgrnam("nogroup");
    if (nobody == nullptr || nogroup == nullptr) GTEST_SKIP() << "no user nobody / group nogroup";
    // Let an unprivileged client walk down to the switch directory.
    chmod(tmp().c_str(), 0711);
  }

  // vde_plug as nobody:nogroup, plugging a null cable into `url`; its exit code after at most
  // 3 s, or nullopt while it is still plugged in.
  std::optional<int> PlugAsNobody(const std::string& url, pid_t* pid) {
    *pid = Spawn({"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "vde_plug", url,
                  "null://"},
                 "nobody-plug");
    return WaitExit(*pid, 3s);
  }
};

TEST_F(SocketPermissions, DefaultModeKeepsOtherUsersOut) {
  const Switch sw = StartSwitch();
  struct stat st;
  ASSERT_EQ(stat((sw.dir + "/ctl").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  pid_t plug;
  const auto code = PlugAsNobody(sw.url(), &plug);
  EXPECT_TRUE(code.has_value() && *code != 0) << "nobody plugged into a 0600 switch";
}

TEST_F(SocketPermissions, ModeAndGroupLetThatGroupPlugIn) {
  const Switch sw = StartSwitch({"-m", "0660", "-g", "nogroup"});
  struct stat st;
  ASSERT_EQ(stat((sw.dir + "/ctl").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_gid, getgrnam("nogroup")->gr_gid);
  pid_t plug;
  const auto code = PlugAsNobody(sw.url(), &plug);
  EXPECT_FALSE(code.has_value()) << "vde_plug as nobody:nogroup exited " << code.value_or(-1)
                                 << ": " << Tail(LogPath("nobody-plug"), 5);
  const control::Port port = PortOf(plug);
  ASSERT_EQ(port.endpoints_size(), 1);
  EXPECT_EQ(port.endpoints(0).uid(), getpwnam("nobody")->pw_uid);
}

// The vdemesh:// plugin binds its socket in the switch directory as the client, which -m/-g
// let that group write to: an unprivileged client gets its port and chooses its VLAN.
TEST_F(SocketPermissions, ThatGroupMayChooseItsVlanThroughThePlugin) {
  const Switch sw = StartSwitch({"-m", "0660", "-g", "nogroup"});
  pid_t plug;
  const auto code = PlugAsNobody("vdemesh://" + sw.dir + "[vlan=12]", &plug);
  EXPECT_FALSE(code.has_value()) << "vde_plug as nobody:nogroup exited " << code.value_or(-1)
                                 << ": " << Tail(LogPath("nobody-plug"), 5);
  const control::Port port = PortOf(plug);
  EXPECT_EQ(port.access_vlan(), 12u);
  ASSERT_EQ(port.endpoints_size(), 1);
  EXPECT_EQ(port.endpoints(0).uid(), getpwnam("nobody")->pw_uid);
}

// A switch run by an ordinary user (nobody) serving a client of another user (root): the
// plugin shares its data socket with the switch's group, as vde:// does, or the switch could
// not reach it.
TEST_F(SocketPermissions, SwitchOfAnotherUserReachesThePluginsSocket) {
  const std::string home = tmp() + "/nobody";
  ASSERT_EQ(mkdir(home.c_str(), 0755), 0);
  ASSERT_EQ(chown(home.c_str(), getpwnam("nobody")->pw_uid, getgrnam("nogroup")->gr_gid), 0);
  const std::string dir = home + "/sw", control = home + "/ctl.sock";
  const pid_t sw = Spawn({"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                          VSWITCHD_BIN, "-s", dir, "--control", control, "-m", "0660"},
                         "vswitchd-nobody");
  ASSERT_TRUE(WaitUntil([&] { return !Running(sw) || (CanConnect(dir + "/ctl")); }, 10s));
  ASSERT_TRUE(Running(sw)) << Tail(LogPath("vswitchd-nobody"), 10);
  UseControl(control);
  const Guest g = AddGuest("vdemesh://" + dir + "[vlan=4]", "10.99.7.2/24");
  const control::Port port = PortOf(g.plug_pid);
  EXPECT_EQ(port.access_vlan(), 4u);
  ASSERT_EQ(port.endpoints_size(), 1);
  EXPECT_EQ(port.endpoints(0).uid(), 0u);
  // A stock vde:// client too: the switch, which cannot give its side's socket to another
  // user, leaves it its own, and -m admits the client.
  const Guest h = AddGuest("vde://" + dir, "10.99.7.3/24");
  ASSERT_TRUE(
      Ctl({"port", "set", std::to_string(PortOf(h.plug_pid).number()), "--vlan", "4"}).ok());
  EXPECT_EQ(Ping(g.ns, h.ip).received, 3);
}

}  // namespace
}  // namespace vdemesh::itest
