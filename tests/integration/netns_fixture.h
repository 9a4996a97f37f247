// netns_fixture.h: the test host of the integration tests: a switch (vswitchd, or the stock
// vde_switch for comparison) in the root namespace and guests in network namespaces.
//
//   +------------------------------------------------------------------------------------+
//   | root namespace: the test process; every path in a fresh /tmp/vdm-it.PID.XXXXXX     |
//   |                                                                                    |
//   |   vswitchd -s swN --control ctlN.sock    (or: vde_switch -s vswN -M vswN.mgmt)     |
//   |   swN/ctl <-- request_v3 -- vde_plug, vde_frame_tool, raw test clients             |
//   |   vswitchctl --control ctlN.sock [--json] status | ports | fdb | port set N ...    |
//   +--------------+----------------------------------+----------------------------------+
//                  | unix datagrams                   |
//   +--------------+-----------------+  +-------------+------------------+
//   | netns vdm<pid>g1               |  | netns vdm<pid>g2               |  one per guest; vde_plug
//   | vde_plug vde://swN tap://tap0  |  | vde_plug swN tap://tap0        |  runs inside it
//   | tap0 10.99.1.1/24              |  | tap0 10.99.1.2/24              |
//   +--------------------------------+  +--------------------------------+
//
// Ownership and cleanup: every process the fixture starts is its child (forked here, with
// PR_SET_PDEATHSIG so that a killed test process takes them along) and is stopped by PID at
// TearDown: SIGTERM, a bounded wait, then SIGKILL. The test process is a child subreaper, so a
// daemon that forks (vswitchd --daemon) is reaped here too. Namespaces are named
// vdm<pid>g<counter> and deleted at TearDown; SetUp removes those of dead test processes.
// Traffic stays inside the namespaces this fixture creates.
//
// Errors: setup helpers (Spawn, StartSwitch, AddGuest, Ports...) throw FixtureError, which
// GoogleTest reports as a failure of the test with the message; behaviour is checked with
// EXPECT/ASSERT in the tests. Every wait and loop is bounded in count and time.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "control.pb.h"

#ifndef VSWITCHD_BIN
#error "VSWITCHD_BIN must name the vswitchd binary under test"
#endif
#ifndef VSWITCHCTL_BIN
#error "VSWITCHCTL_BIN must name the vswitchctl binary under test"
#endif
#ifndef VDEMESH_PLUGIN_DIR
#error "VDEMESH_PLUGIN_DIR must name the directory of libvdeplug_vdemesh.so under test"
#endif
#ifndef VDE_FRAME_TOOL_BIN
#error "VDE_FRAME_TOOL_BIN must name the vde_frame_tool binary"
#endif

namespace vdemesh::itest {

using namespace std::chrono_literals;
using Millis = std::chrono::milliseconds;

struct FixtureError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CommandResult {
  int exit_code = -1;  // exit status; 128 + signal if killed by one; -1 if it could not start
  bool timed_out = false;
  std::string out;
  std::string err;
  bool ok() const { return !timed_out && exit_code == 0; }
};
std::ostream& operator<<(std::ostream& os, const CommandResult& r);

// Runs argv (no shell, stdin from /dev/null) and kills it after `timeout`. Output that a
// daemonizing command leaves to its children is read for at most 200 ms after it exits.
CommandResult RunCommand(const std::vector<std::string>& argv, Millis timeout = 10s);

// Calls `cond` every `interval` until it is true (true) or `timeout` has passed (false). A
// FixtureError thrown by `cond` counts as "not yet".
bool WaitUntil(const std::function<bool()>& cond, Millis timeout, Millis interval = 50ms);

std::string ReadFile(const std::string& path);
std::string Tail(const std::string& path, int lines);
bool CanConnect(const std::string& unix_stream_path);  // something listens there
std::optional<long> RssKiB(pid_t pid);                 // VmRSS of /proc/PID/status
std::uint64_t Drops(const google::protobuf::Map<std::string, std::uint64_t>& drops,
                    const std::string& reason);

struct Switch {
  pid_t pid = -1;
  std::string dir;      // -s DIR
  std::string control;  // --control PATH (vswitchd only)
  std::string mgmt;     // -M PATH (vde_switch only)
  std::string log;      // its stdout and stderr
  std::string url() const { return "vde://" + dir; }
};

struct Guest {
  std::string ns;
  std::string ip;     // tap0's address, without the prefix length
  std::string descr;  // what vde_plug -D was given; the switch shows it plus " user=… pid=…"
  std::string mac;    // tap0's MAC, lower case
  pid_t plug_pid = -1;
};

struct PingResult {
  int sent = 0;
  int received = 0;
  std::string out;
};

struct SpawnOptions {
  std::string netns{};      // run inside this namespace (ip netns exec)
  bool stdin_pipe = false;  // keep a pipe on stdin open (vde_switch exits on stdin EOF)
};

class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  ~NetnsTest() override;

  // Processes. `name` names the log file (stdout and stderr) in the temp dir.
  pid_t Spawn(const std::vector<std::string>& argv, const std::string& name,
              const SpawnOptions& opts = SpawnOptions());
  bool Running(pid_t pid);
  // Exit code (128 + signal if killed) once `pid` ends within `timeout`.
  std::optional<int> WaitExit(pid_t pid, Millis timeout);
  // Sends `sig`, waits `grace`, then SIGKILLs; the exit code, if it could be collected.
  std::optional<int> Stop(pid_t pid, int sig = SIGTERM, Millis grace = 5s);
  // A process this fixture did not fork (a daemon's child): stopped at TearDown like the others.
  void Adopt(pid_t pid);
  std::string LogPath(const std::string& name) const;
  const std::string& tmp() const { return tmp_; }

  // Namespaces and guests.
  std::string NewNamespace();
  CommandResult InNamespace(const std::string& ns, const std::vector<std::string>& argv,
                            Millis timeout = 10s);
  // A namespace whose tap0 is plugged into `url` by vde_plug running inside it; `cidr` is
  // tap0's address, e.g. "10.99.1.1/24".
  Guest AddGuest(const std::string& url, const std::string& cidr);
  // Creates `ifname` with vde_plug in `ns` (which must exist) and gives it `cidr`.
  pid_t PlugTap(const std::string& ns, const std::string& url, const std::string& ifname,
                const std::string& cidr, const std::string& descr);
  std::string MacOf(const std::string& ns, const std::string& ifname);  // lower case
  PingResult Ping(const std::string& from_ns, const std::string& ip, int count = 3);

  // Switches.
  Switch StartSwitch(const std::vector<std::string>& extra_args = {});
  Switch StartSwitchAt(const std::string& dir, const std::string& control,
                       const std::vector<std::string>& extra_args = {});
  // vswitchd inside namespace `netns` ("" for the root namespace), e.g. one host of an overlay
  // topology: its UDP sockets use that namespace's addresses, while its switch dir and control
  // socket are paths that every namespace reaches. `name` names its log. An empty `dir`: no
  // -s, the networks come from a --config in `extra_args`.
  Switch StartSwitchInNamespace(const std::string& netns, const std::string& dir,
                                const std::string& control, const std::string& name,
                                const std::vector<std::string>& extra_args = {});
  Switch StartVdeSwitch();
  // One command on vde_switch's management socket; the reply up to the next prompt.
  std::string VdeSwitchCommand(const Switch& sw, const std::string& command);

  // vswitchctl against the last vswitchd started (its --control), or the one given here.
  void UseControl(const std::string& control) { control_ = control; }
  CommandResult Ctl(const std::vector<std::string>& args);
  control::PortList Ports();
  control::FdbList Fdb();
  control::Status Status();
  // The port whose endpoint was opened by process `client_pid` (libvdeplug puts "pid=N" in
  // the description); waits up to 5 s for it to appear.
  control::Port PortOf(pid_t client_pid);
  std::optional<control::Port> FindPort(const control::PortList& ports, pid_t client_pid);

  // Overlay (several hosts on one machine, overlay_test.cc).
  control::PeerList Peers(const std::string& network = "");  // vswitchctl --json peers
  // A new file `name` in the temp dir, mode 0600, holding a fresh network key (vswitchctl
  // netkey); its path.
  std::string NewNetworkKeyFile(const std::string& name);

 private:
  struct Child {
    pid_t pid = -1;
    std::string name;
    int stdin_fd = -1;
    bool adopted = false;
    std::string comm;  // of an adopted process, so that a reused PID is left alone
    std::optional<int> exit_code;
  };
  Child* FindChild(pid_t pid);
  void StopAll();
  void Cleanup();

  std::string tmp_;
  std::string control_;  // of the last vswitchd started
  std::vector<Child> children_;
  std::vector<std::string> namespaces_;
  int switches_ = 0;
  bool cleaned_ = false;
};

}  // namespace vdemesh::itest
