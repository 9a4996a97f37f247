// overlay_test.cc: hosts joined into one L2 segment by vswitchd's encrypted UDP overlay, seen
// from real guests on three simulated hosts and from a hostile UDP client on the underlay.
//
//                 netns "ul" (the underlay): bridge br0, veth ports p1..p4, MTU 1500
//        +------------------+------------------+------------------+------------------+
//        | veth             | veth             | veth             | veth
//  +-----+--------------+ +-+----------------+ +-+----------------+ +-+----------------+
//  | host hA            | | host hB          | | host hC          | | probe            |
//  | ul0 10.98.0.1/24   | | ul0 10.98.0.2/24 | | ul0 10.98.0.3/24 | | ul0 10.98.0.9/24 |
//  | vswitchd :6655     | | vswitchd :6655   | | vswitchd :6655   | | overlay_probe,   |
//  |  -s swA            | |  -s swB          | |  -s swC          | | tcpdump          |
//  |  (no --peer)       | |  --peer 10.98.0.1| |  --peer 10.98.0.1| +------------------+
//  +-----+--------------+ +-+----------------+ +-+----------------+
//        | swA (a path)     | swB              | swC        B and C learn of each other by
//  +-----+--------------+ +-+----------------+ +-+----------------+ peer exchange through A.
//  | guest gA           | | guest gB         | | guest gC         |
//  | vde_plug swA tap0  | | vde_plug swB tap0| | vde_plug swC tap0|  one namespace each; IPv6
//  | 10.97.0.1/24       | | 10.97.0.2/24     | | 10.97.0.3/24     |  off, so a quiet guest sends
//  | 02:00:00:97:00:01  | | ..:02            | | ..:03            |  nothing at all
//  +--------------------+ +------------------+ +------------------+
//
// Each daemon runs inside its host namespace (so its UDP socket is on that host's underlay
// address); switch dirs and control sockets are paths in the fixture's temp dir. Every test
// builds its own topology (2 or 3 hosts); namespaces and processes are removed by name and PID
// at TearDown, even on failure (netns_fixture.h).
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "netns_fixture.h"

#ifndef OVERLAY_PROBE_BIN
#error "OVERLAY_PROBE_BIN must name the overlay_probe binary"
#endif

namespace vdemesh::itest {
namespace {

using Clock = std::chrono::steady_clock;
using Argv = std::vector<std::string>;

constexpr char kPort[] = "6655";
constexpr char kProbeIp[] = "10.98.0.9";
constexpr char kPattern[] = "deadbeefcafebabe0123456789abcdef";  // ping -p: 16 bytes at most
constexpr auto kMeshTimeout = 20s;

struct Host {
  std::string name;  // "A"
  std::string ns;
  std::string ip;  // on the underlay
  Argv flags;      // the overlay flags, kept for a restart
  Switch sw;
  std::string public_key;
  std::string fingerprint;
};

// What overlay_probe sent, by the class the daemon will see (transport::Classify).
struct ProbeRun {
  std::uint64_t sent = 0, malformed = 0, handshake = 0, data = 0;
};

std::string Unhex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::string MacBytes(const std::string& mac) {
  std::string hex = mac;
  hex.erase(std::remove(hex.begin(), hex.end(), ':'), hex.end());
  return Unhex(hex);
}

class OverlayTest : public NetnsTest {
 protected:
  void Must(const Argv& argv) {
    const CommandResult r = RunCommand(argv, 10s);
    if (!r.ok())
      throw FixtureError(argv[0] + " " + argv[1] + "...: " + ::testing::PrintToString(r));
  }

  // A namespace on the underlay bridge with ul0 = `ip`/24 (the bridge namespace comes first).
  std::string UnderlayNode(const std::string& ip) {
    if (ul_.empty()) {
      ul_ = NewNamespace();
      Must({"ip", "-n", ul_, "link", "add", "br0", "type", "bridge"});
      Must({"ip", "-n", ul_, "link", "set", "br0", "up"});
    }
    const std::string ns = NewNamespace();
    const std::string port = "p" + std::to_string(++ul_ports_);
    Must({"ip", "-n", ns, "link", "add", "ul0", "mtu", "1500", "type", "veth", "peer", "name", port,
          "netns", ul_});
    Must({"ip", "-n", ul_, "link", "set", port, "mtu", "1500", "master", "br0", "up"});
    Must({"ip", "-n", ns, "addr", "add", ip + "/24", "dev", "ul0"});
    Must({"ip", "-n", ns, "link", "set", "ul0", "up"});
    return ns;
  }

  Host& AddHost(const std::string& name, int octet, const std::string& network_key,
                const Argv& extra = {}) {
    Host& h = hosts_.emplace_back();
    h.name = name;
    h.ip = "10.98.0." + std::to_string(octet);
    h.ns = UnderlayNode(h.ip);
    h.flags = {"--network-key", network_key, "--host-key", tmp() + "/host" + name + ".key"};
    h.flags.insert(h.flags.end(), extra.begin(), extra.end());
    StartDaemon(h);
    return h;
  }

  void StartDaemon(Host& h) {
    h.sw = StartSwitchInNamespace(h.ns, tmp() + "/sw" + h.name, tmp() + "/ctl" + h.name + ".sock",
                                  "vswitchd-h" + h.name, h.flags);
    const control::Status s = StatusOf(h);
    h.public_key = s.overlay().public_key();
    h.fingerprint = s.overlay().fingerprint();
  }

  // A guest namespace with IPv6 off (so it sends nothing unasked) and a fixed MAC.
  Guest& AddGuestOn(const Host& h, int n) {
    Guest& g = guests_.emplace_back();
    g.ns = NewNamespace();
    g.ip = "10.97.0." + std::to_string(n);
    g.mac = "02:00:00:97:00:0" + std::to_string(n);
    g.descr = "vdm-guest-" + h.name + std::to_string(n);
    Must({"ip", "netns", "exec", g.ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
          "net.ipv6.conf.default.disable_ipv6=1"});
    Plug(h, g);
    return g;
  }

  // (Re)attaches g's tap0 to h's switch, keeping g's MAC as a restarted VM would.
  void Plug(const Host& h, Guest& g) {
    g.plug_pid = PlugTap(g.ns, h.sw.url(), "tap0", g.ip + "/24", g.descr);
    Must({"ip", "-n", g.ns, "link", "set", "tap0", "address", g.mac});
  }

  // n hosts A, B, C... with one guest each; all but A bootstrap from A. Waits for a full mesh.
  void StartMesh(int n) {
    const std::string key = NewNetworkKeyFile("network.key");
    AddHost("A", 1, key);
    for (int i = 1; i < n; ++i) {
      AddHost(std::string(1, static_cast<char>('A' + i)), i + 1, key, {"--peer", hosts_[0].ip});
    }
    for (int i = 0; i < n; ++i) AddGuestOn(hosts_[i], i + 1);
    if (!WaitUntil(
            [&] {
              return std::all_of(hosts_.begin(), hosts_.end(),
                                 [&](const Host& h) { return PeersUp(h) == n - 1; });
            },
            kMeshTimeout, 200ms)) {
      std::string peers;
      for (const Host& h : hosts_) peers += h.name + ": " + PeersOf(h).DebugString();
      throw FixtureError("no full mesh of " + std::to_string(n) + " hosts within 20 s:\n" + peers);
    }
  }

  control::Status StatusOf(const Host& h) {
    UseControl(h.sw.control);
    return Status();
  }
  control::PeerList PeersOf(const Host& h) {
    UseControl(h.sw.control);
    return Peers();
  }
  control::PortList PortsOf(const Host& h) {
    UseControl(h.sw.control);
    return Ports();
  }
  control::FdbList FdbOf(const Host& h) {
    UseControl(h.sw.control);
    return Fdb();
  }

  int PeersUp(const Host& h) {
    const control::PeerList list = PeersOf(h);
    return static_cast<int>(
        std::count_if(list.peers().begin(), list.peers().end(),
                      [](const control::Peer& p) { return p.state() == "up"; }));
  }

  std::optional<control::Peer> PeerOf(const Host& at, const Host& who) {
    const control::PeerList list = PeersOf(at);
    for (const control::Peer& p : list.peers())
      if (p.public_key() == who.public_key) return p;
    return std::nullopt;
  }

  void ExpectReachable(const Guest& from, const Guest& to, int count = 3) {
    const PingResult p = Ping(from.ns, to.ip, count);
    EXPECT_EQ(p.received, count) << from.ns << " -> " << to.ip << ":\n" << p.out;
  }

  void ExpectUnreachable(const Guest& from, const Guest& to, int count = 3) {
    const PingResult p = Ping(from.ns, to.ip, count);
    EXPECT_EQ(p.sent, count) << "ping did not run: " << p.out;
    EXPECT_EQ(p.received, 0) << from.ns << " -> " << to.ip << " must not get through:\n" << p.out;
  }

  // tcpdump writing `file` (name it *.pcap); returns once it is listening.
  pid_t StartCapture(const std::string& ns, const std::string& ifname, const std::string& file,
                     const Argv& filter = {}) {
    // --immediate-mode: without it, packets still in the kernel's ring when tcpdump stops are
    // counted but never written.
    Argv argv = {"tcpdump", "-i", ifname, "-n",   "-U", "--immediate-mode",
                 "-s",      "0",  "-Z",   "root", "-w", file};
    argv.insert(argv.end(), filter.begin(), filter.end());
    const std::string name = "tcpdump-" + std::to_string(++captures_);
    const pid_t pid = Spawn(argv, name, {.netns = ns});
    if (!WaitUntil(
            [&] {
              return !Running(pid) ||
                     ReadFile(LogPath(name)).find("listening on") != std::string::npos;
            },
            10s) ||
        !Running(pid))
      throw FixtureError("tcpdump did not start: " + Tail(LogPath(name), 5));
    return pid;
  }

  void StopCapture(pid_t pid) {
    std::this_thread::sleep_for(200ms);  // the last packets of the test are still on their way
    Stop(pid, SIGINT, 5s);
  }

  // The packets of a capture as tcpdump prints them, one per line.
  std::vector<std::string> CapturedLines(const std::string& file, const Argv& filter = {}) {
    Argv argv = {"tcpdump", "-n", "-r", file};
    argv.insert(argv.end(), filter.begin(), filter.end());
    const CommandResult r = RunCommand(argv, 10s);
    if (!r.ok()) throw FixtureError("tcpdump -r " + file + ": " + ::testing::PrintToString(r));
    std::vector<std::string> lines;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) lines.push_back(line);
    return lines;
  }

  ProbeRun Probe(const std::string& ns, const Argv& args) {
    Argv argv = {OVERLAY_PROBE_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandResult r = InNamespace(ns, argv, 60s);
    static const std::regex re("sent ([0-9]+) malformed ([0-9]+) handshake ([0-9]+) data ([0-9]+)");
    std::smatch m;
    if (!r.ok() || !std::regex_search(r.out, m, re))
      throw FixtureError("overlay_probe " + args[0] + ": " + ::testing::PrintToString(r));
    std::cout << "[overlay_probe " << args[0] << "] " << m[0] << "\n";
    return {std::stoull(m[1]), std::stoull(m[2]), std::stoull(m[3]), std::stoull(m[4])};
  }

  // tx_frames of every port of every host, by "host/port".
  std::map<std::string, std::uint64_t> GuestPortTx() {
    std::map<std::string, std::uint64_t> tx;
    for (const Host& h : hosts_) {
      const control::PortList ports = PortsOf(h);
      for (const control::Port& p : ports.ports())
        tx[h.name + "/" + std::to_string(p.number())] = p.counters().tx_frames();
    }
    return tx;
  }

  void SetVlan(const Host& h, const Guest& g, int vlan) {
    UseControl(h.sw.control);
    const CommandResult r = Ctl({"port", "set", std::to_string(PortOf(g.plug_pid).number()),
                                 "--vlan", std::to_string(vlan)});
    if (!r.ok()) throw FixtureError("vswitchctl port set: " + ::testing::PrintToString(r));
  }

  // SIGKILLs h's daemon while `from` pings g every 0.1 s, restarts it with the same flags and
  // host key, re-plugs g (vde_plug leaves with its switch), and returns how long after the
  // restart a ping from `from` got through again; nullopt if not within 20 s.
  // `forget_peers`: h's peer cache (HOST-KEY.peers) is deleted before it restarts.
  std::optional<Millis> KillAndRestart(Host& h, Guest& g, const Guest& from,
                                       bool forget_peers = false) {
    const std::string flow = "flow-" + from.ns + "-" + h.name;
    const pid_t ping =
        Spawn({"ping", "-n", "-i", "0.1", "-w", "90", g.ip}, flow, {.netns = from.ns});
    std::this_thread::sleep_for(1s);
    const std::string key_before = h.public_key;
    kill(h.sw.pid, SIGKILL);
    EXPECT_EQ(WaitExit(h.sw.pid, 5s), std::optional<int>(128 + SIGKILL));
    EXPECT_TRUE(WaitExit(g.plug_pid, 5s).has_value()) << "vde_plug stayed after its switch died";
    Stop(g.plug_pid);
    if (forget_peers) std::filesystem::remove(tmp() + "/host" + h.name + ".key.peers");
    const auto restarted = Clock::now();
    StartDaemon(h);
    EXPECT_EQ(h.public_key, key_before) << "the host key file was not reused";
    Plug(h, g);
    const auto left = 20s - std::chrono::duration_cast<Millis>(Clock::now() - restarted);
    const bool back = WaitUntil([&] { return Ping(from.ns, g.ip, 1).received == 1; }, left, 0ms);
    const auto took = std::chrono::duration_cast<Millis>(Clock::now() - restarted);
    Stop(ping, SIGINT, 3s);
    std::cout << "[restart of " << h.name << "] pings back after " << took.count() << " ms; "
              << Tail(LogPath(flow), 2);
    if (!back) {
      std::cout << "[restart of " << h.name << "] not back; the overlay now:\n" << OverlayState();
      return std::nullopt;
    }
    return took;
  }

  // Whether a socket listens on `port` in `ns` within 10 s (`ss_flags`: -Hltn TCP, -Hlun UDP).
  // A TCP sink in `ns` on ip:port: one connection, then "BYTES SHA256" of what it read in
  // `digest_file`. Wait for it with Listening().
  pid_t StartDigestSink(const std::string& ns, const std::string& ip, int port,
                        const std::string& digest_file) {
    return Spawn({"python3", "-c",
                  "import socket,hashlib,sys\n"
                  "s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                  "s.bind((sys.argv[2],int(sys.argv[3])));s.listen(1);c,_=s.accept()\n"
                  "h=hashlib.sha256();t=0\n"
                  "while True:\n d=c.recv(1<<20)\n if not d: break\n h.update(d);t+=len(d)\n"
                  "open(sys.argv[1],'w').write('%d %s'%(t,h.hexdigest()))\n",
                  digest_file, ip, std::to_string(port)},
                 "tcp-sink-" + ip, {.netns = ns});
  }
  // Sends `mib` MiB of a repeating 251-byte pattern from `ns` to ip:port, then writes
  // "BYTES SHA256" of what it sent in `digest_file`.
  pid_t StartDigestSender(const std::string& ns, const std::string& ip, int port, int mib,
                          const std::string& digest_file) {
    return Spawn(
        {"python3", "-c",
         "import socket,hashlib,sys\n"
         "chunk=bytes(range(251))*4096;n=int(sys.argv[4])*1024*1024;h=hashlib.sha256()\n"
         "s=socket.create_connection((sys.argv[2],int(sys.argv[3])));sent=0\n"
         "while sent<n:\n d=chunk[:min(len(chunk),n-sent)];s.sendall(d);h.update(d);sent+=len(d)\n"
         "s.close();open(sys.argv[1],'w').write('%d %s'%(sent,h.hexdigest()))\n",
         digest_file, ip, std::to_string(port), std::to_string(mib)},
        "tcp-send-" + ip, {.netns = ns});
  }

  bool Listening(const std::string& ns, const std::string& ss_flags, int port) {
    const std::string sport = ":" + std::to_string(port);
    const auto listening = [&] {
      return !InNamespace(ns, {"ss", ss_flags, "sport", "=", sport}).out.empty();
    };
    return WaitUntil(listening, 10s);
  }

  // Every host's overlay drops and peers, for failure messages.
  std::string OverlayState() {
    std::string out;
    for (const Host& h : hosts_) {
      try {
        out += h.name + " drops: " + StatusOf(h).overlay().ShortDebugString() + "\n";
        out += h.name + " peers: " + PeersOf(h).ShortDebugString() + "\n";
      } catch (const FixtureError& e) {
        out += h.name + ": " + e.what() + "\n";
      }
    }
    return out;
  }

  // Like AddHost, but ul0 keeps only the IPv6 address fd00:98::`n`/64 (nodad: usable at once):
  // no IPv4 address at all on the underlay.
  Host& AddHostV6(const std::string& name, int n, const std::string& network_key,
                  const Argv& extra = {}) {
    Host& h = hosts_.emplace_back();
    h.name = name;
    h.ip = "fd00:98::" + std::to_string(n);
    h.ns = UnderlayNode("10.98.0." + std::to_string(n));
    Must({"ip", "-n", h.ns, "-4", "addr", "flush", "dev", "ul0"});
    Must({"ip", "-n", h.ns, "addr", "add", h.ip + "/64", "dev", "ul0", "nodad"});
    h.flags = {"--network-key", network_key, "--host-key", tmp() + "/host" + name + ".key"};
    h.flags.insert(h.flags.end(), extra.begin(), extra.end());
    StartDaemon(h);
    return h;
  }

  // Host `name`'s key file (the one AddHost passes as --host-key), made beforehand with
  // vswitchctl genkey, mode 0600; returns its public key (vswitchctl pubkey).
  std::string NewHostKey(const std::string& name) {
    const std::string file = tmp() + "/host" + name + ".key";
    Must({"sh", "-c", std::string("umask 077 && ") + VSWITCHCTL_BIN + " genkey > " + file});
    const CommandResult pub =
        RunCommand({"sh", "-c", std::string(VSWITCHCTL_BIN) + " pubkey < " + file}, 5s);
    if (!pub.ok() || pub.out.size() < 44)
      throw FixtureError("vswitchctl pubkey: " + ::testing::PrintToString(pub));
    return pub.out.substr(0, pub.out.find('\n'));
  }

  // Every host lists `up` peers up (bounded by kMeshTimeout); false, with the peers, if not.
  ::testing::AssertionResult AllHostsHavePeersUp(int up) {
    if (WaitUntil(
            [&] {
              return std::all_of(hosts_.begin(), hosts_.end(),
                                 [&](const Host& h) { return PeersUp(h) == up; });
            },
            kMeshTimeout, 200ms))
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "not every host has " << up << " peers up:\n"
                                         << OverlayState();
  }

  // ping -M do (no fragmentation in the guest) with `size` bytes of payload; packets received.
  int BigPing(const Guest& from, const Guest& to, int size, int count = 3) {
    const CommandResult r = InNamespace(from.ns,
                                        {"ping", "-n", "-M", "do", "-s", std::to_string(size), "-c",
                                         std::to_string(count), "-i", "0.2", "-W", "2", to.ip},
                                        Millis(count * 2000 + 5000));
    static const std::regex re("([0-9]+) packets transmitted, ([0-9]+) (packets )?received");
    std::smatch m;
    if (!std::regex_search(r.out, m, re))
      throw FixtureError("ping -s " + std::to_string(size) + ": " + ::testing::PrintToString(r));
    if (std::stoi(m[1]) != count)
      throw FixtureError("ping sent " + std::string(m[1]) + ": " + ::testing::PrintToString(r));
    return std::stoi(m[2]);
  }

  static long long MsSince(Clock::time_point t) {
    return std::chrono::duration_cast<Millis>(Clock::now() - t).count();
  }

  std::string ul_;
  int ul_ports_ = 0;
  int captures_ = 0;
  std::deque<Host> hosts_;    // deque: references stay valid as hosts are added
  std::deque<Guest> guests_;  // guests_[i] is on hosts_[i] unless a test says otherwise
};

TEST_F(OverlayTest, ThreeHostsFormOneSegmentAndUnicastReachesOnlyItsPeer) {
  StartMesh(3);
  for (const Guest& from : guests_)
    for (const Guest& to : guests_)
      if (&from != &to) ExpectReachable(from, to);

  // ARP went across the overlay: every guest knows the others' MACs.
  for (const Guest& g : guests_) {
    const CommandResult neigh = InNamespace(g.ns, {"ip", "neigh", "show", "dev", "tap0"});
    for (const Guest& other : guests_) {
      if (&g == &other) continue;
      EXPECT_NE(neigh.out.find(other.ip + " lladdr " + other.mac), std::string::npos)
          << g.ns << " has no ARP entry for " << other.ip << ": " << neigh.out;
    }
  }
  // Each host sees the other two up, by their real keys and underlay endpoints.
  for (const Host& h : hosts_) {
    EXPECT_EQ(PeersUp(h), 2) << h.name << ": " << PeersOf(h).DebugString();
    for (const Host& other : hosts_) {
      if (&h == &other) continue;
      const auto p = PeerOf(h, other);
      ASSERT_TRUE(p.has_value()) << h.name << " does not list " << other.name;
      EXPECT_EQ(p->state(), "up");
      EXPECT_EQ(p->fingerprint(), other.fingerprint);
      EXPECT_EQ(p->endpoint(), other.ip + ":" + kPort);
    }
    const control::Status s = StatusOf(h);
    ASSERT_EQ(s.networks_size(), 1);
    EXPECT_EQ(s.networks(0).peers_up(), 2u);
  }
  // A's FDB has B's and C's guests behind those peers.
  const control::FdbList fdb = FdbOf(hosts_[0]);
  for (int i = 1; i < 3; ++i) {
    const auto e =
        std::find_if(fdb.entries().begin(), fdb.entries().end(),
                     [&](const control::FdbEntry& e) { return e.mac() == guests_[i].mac; });
    ASSERT_NE(e, fdb.entries().end()) << "A did not learn " << guests_[i].mac << fdb.DebugString();
    EXPECT_EQ(e->peer(), hosts_[i].fingerprint);
  }

  // Learned unicast between A and B is not flooded to C (keepalives are packets, not frames).
  const auto c_from_a = PeerOf(hosts_[2], hosts_[0]), c_from_b = PeerOf(hosts_[2], hosts_[1]);
  const auto a_to_b = PeerOf(hosts_[0], hosts_[1]);
  ASSERT_TRUE(c_from_a && c_from_b && a_to_b);
  const CommandResult flow = InNamespace(
      guests_[0].ns, {"ping", "-n", "-q", "-c", "50", "-i", "0.01", "-W", "1", guests_[1].ip}, 20s);
  EXPECT_NE(flow.out.find(" 0% packet loss"), std::string::npos) << flow;
  EXPECT_EQ(PeerOf(hosts_[2], hosts_[0])->rx_frames(), c_from_a->rx_frames());
  EXPECT_EQ(PeerOf(hosts_[2], hosts_[1])->rx_frames(), c_from_b->rx_frames());
  EXPECT_GE(PeerOf(hosts_[0], hosts_[1])->tx_frames(), a_to_b->tx_frames() + 50);
}

TEST_F(OverlayTest, HostWithAnotherNetworkKeyGetsNoSessionAndALogLineSaysWhy) {
  const std::string key = NewNetworkKeyFile("network.key");
  const std::string other_key = NewNetworkKeyFile("other.key");
  Host& a = AddHost("A", 1, key);
  Host& b = AddHost("B", 2, key, {"--peer", a.ip});
  Host& c = AddHost("C", 3, other_key, {"--peer", a.ip});
  for (int i = 0; i < 3; ++i) AddGuestOn(hosts_[i], i + 1);
  ASSERT_TRUE(WaitUntil([&] { return PeersUp(a) == 1 && PeersUp(b) == 1; }, kMeshTimeout, 200ms))
      << PeersOf(a).DebugString();

  const bool said_why = WaitUntil(
      [&] {
        return ReadFile(a.sw.log).find("no network key") != std::string::npos ||
               ReadFile(c.sw.log).find("different network key") != std::string::npos;
      },
      15s, 200ms);
  EXPECT_TRUE(said_why) << "A:\n" << Tail(a.sw.log, 20) << "C:\n" << Tail(c.sw.log, 20);
  EXPECT_GT(Drops(StatusOf(a).overlay().drops(), "no_network"), 0u);

  const control::PeerList c_peers = PeersOf(c);
  EXPECT_EQ(PeersUp(c), 0) << c_peers.DebugString();
  ASSERT_GE(c_peers.peers_size(), 1) << "C should list its configured peer, down";
  for (const control::Peer& p : c_peers.peers()) EXPECT_EQ(p.state(), "down");
  for (const Host* h : {&a, &b}) {
    const auto seen = PeerOf(*h, c);
    EXPECT_TRUE(!seen || seen->state() == "down")
        << h->name << " has C up: " << seen->DebugString();
  }

  ExpectReachable(guests_[0], guests_[1]);
  ExpectUnreachable(guests_[2], guests_[0]);
  ExpectUnreachable(guests_[2], guests_[1], 2);
}

// Host `ns`'s own /etc/hosts: `ip netns exec` mounts /etc/netns/NS/hosts over /etc/hosts for
// the processes it starts. Rewritten in place (the mount holds the inode); removed at the end.
class NetnsHostsFile {
 public:
  explicit NetnsHostsFile(const std::string& ns)
      : dir_("/etc/netns/" + ns), made_parent_(!std::filesystem::exists("/etc/netns")) {
    std::filesystem::create_directories(dir_);
    Write("");
  }
  ~NetnsHostsFile() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    if (made_parent_) std::filesystem::remove("/etc/netns", ignored);  // only if empty
  }
  void Write(const std::string& lines) {
    std::ofstream(dir_ + "/hosts", std::ios::trunc) << "127.0.0.1 localhost\n" << lines;
  }

 private:
  std::string dir_;
  bool made_parent_;
};

// --peer by name: a name that does not resolve yet does not stop the daemon (DNS may come up
// after it at boot), and a name whose address changes (dynamic DNS) is followed.
TEST_F(OverlayTest, PeerNamedByHostnameIsResolvedOnceItCanBeAndFollowedWhenItMoves) {
  const std::string key = NewNetworkKeyFile("network.key");
  Host& a = AddHost("A", 1, key);
  Host& b = hosts_.emplace_back();
  b.name = "B";
  b.ip = "10.98.0.2";
  b.ns = UnderlayNode(b.ip);
  NetnsHostsFile hosts(b.ns);  // the name is not in it yet
  b.flags = {"--network-key", key, "--host-key", tmp() + "/hostB.key", "--peer", "vdm-peer-a"};
  StartDaemon(b);
  ASSERT_TRUE(WaitUntil(
      [&] { return ReadFile(b.sw.log).find("vdm-peer-a: cannot resolve") != std::string::npos; },
      10s))
      << Tail(b.sw.log, 10);
  EXPECT_TRUE(Running(b.sw.pid));

  hosts.Write("10.98.0.99 vdm-peer-a\n");  // a wrong address first: nobody answers there
  ASSERT_TRUE(WaitUntil(
      [&] { return ReadFile(b.sw.log).find("vdm-peer-a is at 10.98.0.99") != std::string::npos; },
      10s))
      << Tail(b.sw.log, 10);
  EXPECT_EQ(PeersUp(b), 0);

  hosts.Write("10.98.0.1 vdm-peer-a\n");  // the name moves to A
  EXPECT_TRUE(WaitUntil([&] { return PeersUp(a) == 1 && PeersUp(b) == 1; }, 20s, 200ms))
      << Tail(b.sw.log, 20);
  // The old address, never reached, is not kept and tried forever; the peer shows its name.
  const control::PeerList b_peers = PeersOf(b);
  ASSERT_EQ(b_peers.peers_size(), 1) << b_peers.DebugString();
  EXPECT_EQ(b_peers.peers(0).peer_name(), "vdm-peer-a");
  const CommandResult table = RunCommand({VSWITCHCTL_BIN, "--control", b.sw.control, "peers"});
  EXPECT_NE(table.out.find("10.98.0.1:6655 (vdm-peer-a)"), std::string::npos) << table;
  AddGuestOn(a, 1);
  AddGuestOn(b, 2);
  ExpectReachable(guests_[0], guests_[1]);
}

// The first server, the one every --peer names, is gone for good, and the others restart: they
// find each other again from the addresses they kept (HOST-KEY.peers, peer_cache.h).
TEST_F(OverlayTest, HostsWhoseOnlyPeerIsGoneFindEachOtherAfterARestart) {
  StartMesh(3);  // B and C have --peer A; they met through peer exchange
  Host &a = hosts_[0], &b = hosts_[1], &c = hosts_[2];
  for (const auto& [h, other] : {std::pair{&b, &c}, std::pair{&c, &b}}) {
    const std::string cache = tmp() + "/host" + h->name + ".key.peers";
    EXPECT_TRUE(WaitUntil(
        [&] { return ReadFile(cache).find(" " + other->ip + ":") != std::string::npos; }, 20s))
        << cache << ":\n"
        << ReadFile(cache);
  }
  Stop(a.sw.pid);
  for (int i : {1, 2}) {
    Stop(hosts_[i].sw.pid);
    Stop(guests_[i].plug_pid);
    StartDaemon(hosts_[i]);
    Plug(hosts_[i], guests_[i]);
  }
  EXPECT_TRUE(WaitUntil([&] { return PeersUp(b) == 1 && PeersUp(c) == 1; }, 20s, 200ms))
      << "B:\n"
      << Tail(b.sw.log, 20) << "C:\n"
      << Tail(c.sw.log, 20);
  ExpectReachable(guests_[1], guests_[2]);
}

// A classroom's machines cloned from one disk image, host key file included: the clones
// cannot be told apart, so they must not connect, and each says why in its log and counters.
TEST_F(OverlayTest, HostsWithACopiedHostKeyDoNotConnectAndSaySo) {
  const std::string key = NewNetworkKeyFile("network.key");
  NewHostKey("A");
  Must({"cp", "-p", tmp() + "/hostA.key", tmp() + "/hostB.key"});
  Host& a = AddHost("A", 1, key);
  Host& b = AddHost("B", 2, key, {"--peer", a.ip});
  ASSERT_EQ(a.public_key, b.public_key);
  const bool said_why = WaitUntil(
      [&] {
        return ReadFile(b.sw.log).find("uses this host's own key") != std::string::npos &&
               Drops(StatusOf(b).overlay().drops(), "same_host_key") > 0;
      },
      15s, 200ms);
  EXPECT_TRUE(said_why) << Tail(b.sw.log, 20) << StatusOf(b).DebugString();
  EXPECT_EQ(Drops(StatusOf(b).overlay().drops(), "self"), 0u);
  EXPECT_EQ(PeersUp(a), 0) << PeersOf(a).DebugString();
  EXPECT_EQ(PeersUp(b), 0) << PeersOf(b).DebugString();
}

// A soak of 140 s, behind VDEMESH_SOAK=1 (too long for every run): steady traffic through the
// first rekey (120 s, docs/PROTOCOL.md). The new session must take over without a lost ping.
TEST_F(OverlayTest, SoakTrafficFlowsThroughARekeyWithoutLoss) {
  if (std::getenv("VDEMESH_SOAK") == nullptr)
    GTEST_SKIP() << "a 140 s soak through a rekey; run it with VDEMESH_SOAK=1";
  StartMesh(2);
  const int count = 700;  // one every 0.2 s: 140 s
  const PingResult p = Ping(guests_[0].ns, guests_[1].ip, count);
  EXPECT_EQ(p.sent, count) << p.out.substr(p.out.size() > 2000 ? p.out.size() - 2000 : 0);
  EXPECT_EQ(p.received, count) << p.out.substr(p.out.size() > 2000 ? p.out.size() - 2000 : 0);
  for (const Host* h : {&hosts_[0], &hosts_[1]}) {
    const auto other = PeerOf(*h, h == &hosts_[0] ? hosts_[1] : hosts_[0]);
    ASSERT_TRUE(other) << PeersOf(*h).DebugString();
    EXPECT_EQ(other->state(), "up");
    // The first handshake was 140 s ago; a rekey made a newer one.
    EXPECT_GE(other->last_handshake_seconds(), 0);
    EXPECT_LT(other->last_handshake_seconds(), 60) << h->name << ": " << other->DebugString();
  }
}

TEST_F(OverlayTest, HostileUdpReachesNoGuestGetsNoAnswerAndIsCountedByReason) {
  StartMesh(3);
  Host& a = hosts_[0];
  const std::string probe = UnderlayNode(kProbeIp);

  // A valid session on the wire, to replay later: what reaches A while the guests talk.
  const std::string session = tmp() + "/session.pcap";
  const pid_t cap = StartCapture(a.ns, "ul0", session,
                                 {"udp", "and", "dst", "host", a.ip, "and", "dst", "port", kPort});
  ExpectReachable(guests_[1], guests_[0], 5);
  ExpectReachable(guests_[0], guests_[1], 5);
  ExpectReachable(guests_[2], guests_[0], 5);
  StopCapture(cap);
  ASSERT_GE(CapturedLines(session).size(), 15u);

  // From here on the guests are silent, so nothing at all may reach one.
  const auto tx_before = GuestPortTx();
  const control::Status before = StatusOf(a);
  const auto from_b = PeerOf(a, hosts_[1]), from_c = PeerOf(a, hosts_[2]);
  ASSERT_TRUE(from_b && from_c);
  const std::string replies = tmp() + "/replies.pcap";
  const pid_t watch = StartCapture(
      probe, "ul0", replies, {"ip", "and", "src", "host", a.ip, "and", "dst", "host", kProbeIp});

  const ProbeRun runs[] = {
      Probe(probe, {"garbage", a.ip, kPort, "400"}),
      Probe(probe, {"truncated", a.ip, kPort}),
      Probe(probe, {"badtag", a.ip, kPort, "200", "random"}),
      Probe(probe, {"badtag", a.ip, kPort, "100", "pcap:" + session}),
      Probe(probe, {"replay", a.ip, kPort, session}),
      Probe(probe, {"wrongpsk", a.ip, kPort, "100"}),
  };
  const ProbeRun &garbage = runs[0], &truncated = runs[1], &random_receiver = runs[2],
                 &live_receiver = runs[3], &replay = runs[4], &wrongpsk = runs[5];
  EXPECT_EQ(truncated.malformed, 68u + 112u + 72u + 32u);
  EXPECT_GT(replay.data, 10u);

  std::uint64_t malformed = 0, handshakes = 0;
  for (const ProbeRun& r : runs) malformed += r.malformed, handshakes += r.handshake;
  const auto delta = [&](const control::Status& now, const std::string& reason) {
    return Drops(now.overlay().drops(), reason) - Drops(before.overlay().drops(), reason);
  };
  const auto handshake_drops = [&](const control::Status& now) {
    std::uint64_t n = 0;
    for (const char* r : {"no_network", "rate_limited", "stale_timestamp", "replayed_initiation",
                          "unknown_handshake", "bad_handshake", "handshake_busy", "not_allowed",
                          "too_many_handshakes"})
      n += delta(now, r);
    return n;
  };
  // Handshake packets are judged on the control thread, a little later.
  control::Status after;
  WaitUntil([&] { return handshake_drops(after = StatusOf(a)) >= handshakes; }, 5s, 100ms);
  EXPECT_EQ(delta(after, "malformed"), malformed);
  EXPECT_EQ(delta(after, "bad_tag"), live_receiver.data);
  const bool rekeyed =
      PeerOf(a, hosts_[1])->last_handshake_seconds() < from_b->last_handshake_seconds() ||
      PeerOf(a, hosts_[2])->last_handshake_seconds() < from_c->last_handshake_seconds();
  if (!rekeyed) {
    EXPECT_EQ(delta(after, "replayed"), replay.data);
    EXPECT_EQ(delta(after, "unknown_receiver"), random_receiver.data + garbage.data);
  }
  EXPECT_EQ(delta(after, "replayed") + delta(after, "unknown_receiver"),
            replay.data + random_receiver.data + garbage.data);
  EXPECT_EQ(handshake_drops(after), handshakes);
  if (replay.handshake == 0 && garbage.handshake == 0) {
    EXPECT_EQ(delta(after, "no_network") + delta(after, "rate_limited"), wrongpsk.handshake);
    EXPECT_GT(delta(after, "rate_limited"), 0u) << "100 initiations at once from one source";
  }
  std::cout << "[A's overlay drops after the attack] " << after.overlay().ShortDebugString()
            << "\n";

  // Nothing reached a guest, no peer counted a frame, and no replay moved a peer's endpoint.
  EXPECT_EQ(GuestPortTx(), tx_before);
  for (const auto& [host, was] : {std::pair{&hosts_[1], from_b}, std::pair{&hosts_[2], from_c}}) {
    const auto now = PeerOf(a, *host);
    EXPECT_EQ(now->rx_frames(), was->rx_frames());
    EXPECT_EQ(now->endpoint(), host->ip + ":" + kPort) << "a replay redirected the peer";
  }
  // Not one packet from A to the probe; the echo reply at the end shows the capture works.
  EXPECT_TRUE(InNamespace(probe, {"ping", "-n", "-c", "1", "-W", "2", a.ip}).ok());
  StopCapture(watch);
  const auto answers = CapturedLines(replies);
  ASSERT_EQ(answers.size(), 1u) << ::testing::PrintToString(answers);
  EXPECT_NE(answers[0].find("ICMP echo reply"), std::string::npos) << answers[0];

  EXPECT_TRUE(Running(a.sw.pid));
  ExpectReachable(guests_[1], guests_[0]);
}

TEST_F(OverlayTest, GuestPayloadAndMacsNeverCrossTheUnderlayInClear) {
  StartMesh(2);
  const std::string underlay = tmp() + "/underlay.pcap", tap = tmp() + "/tap.pcap";
  const pid_t ul_cap = StartCapture(hosts_[0].ns, "ul0", underlay);
  const pid_t tap_cap = StartCapture(guests_[1].ns, "tap0", tap);
  const CommandResult ping = InNamespace(
      guests_[0].ns,
      {"ping", "-n", "-c", "5", "-i", "0.2", "-W", "1", "-s", "100", "-p", kPattern, guests_[1].ip},
      15s);
  EXPECT_NE(ping.out.find(" 0% packet loss"), std::string::npos) << ping;
  StopCapture(ul_cap);
  StopCapture(tap_cap);

  const std::string pattern = Unhex(kPattern);
  const std::string clear = ReadFile(tap), wire = ReadFile(underlay);
  EXPECT_NE(clear.find(pattern), std::string::npos) << "the control capture must see the payload";
  EXPECT_EQ(wire.find(pattern), std::string::npos) << "the payload crossed the underlay in clear";
  for (const Guest& g : guests_)
    EXPECT_EQ(wire.find(MacBytes(g.mac)), std::string::npos) << g.mac << " is visible";
  EXPECT_GE(CapturedLines(underlay, {"udp", "port", kPort}).size(), 10u)
      << "the underlay capture saw no overlay traffic";
}

TEST_F(OverlayTest, KilledDaemonRestartedWithItsHostKeyIsBackWithinTwentySeconds) {
  StartMesh(2);  // B has --peer A; A learns B only from B's handshakes
  ExpectReachable(guests_[0], guests_[1]);
  // B restarts and reaches its configured peer itself.
  const auto b_back = KillAndRestart(hosts_[1], guests_[1], guests_[0]);
  EXPECT_TRUE(b_back.has_value()) << "B:\n" << Tail(hosts_[1].sw.log, 20);
  // A restarts with no --peer: it tries the addresses it kept (HOST-KEY.peers).
  const auto a_back = KillAndRestart(hosts_[0], guests_[0], guests_[1]);
  EXPECT_TRUE(a_back.has_value()) << "A:\n"
                                  << Tail(hosts_[0].sw.log, 20) << "B:\n"
                                  << Tail(hosts_[1].sw.log, 20);
  // Without them (a lost file): B must notice that its traffic goes unanswered and rehandshake.
  const auto a_back_blind = KillAndRestart(hosts_[0], guests_[0], guests_[1], true);
  EXPECT_TRUE(a_back_blind.has_value()) << "A:\n"
                                        << Tail(hosts_[0].sw.log, 20) << "B:\n"
                                        << Tail(hosts_[1].sw.log, 20);
  // Frames may flow a tick (250 ms) before the control thread sees the new keys confirmed.
  EXPECT_TRUE(WaitUntil([&] { return PeersUp(hosts_[0]) == 1 && PeersUp(hosts_[1]) == 1; }, 5s))
      << PeersOf(hosts_[0]).DebugString() << PeersOf(hosts_[1]).DebugString();
}

// Shutdown tears the tunnel and the datapaths down on the shard; a packet handled between the
// two once reached a freed datapath (a segfault seen in a bench teardown). Frames flood in from
// the peer the whole time, so such a packet is always waiting.
TEST_F(OverlayTest, DaemonStoppedWhileItsPeerFloodsItExitsCleanly) {
  StartMesh(2);
  Host& a = hosts_[0];
  for (int round = 0; round < 3; ++round) {
    const pid_t flood = Spawn({"ping", "-n", "-q", "-f", "-s", "1000", "-w", "6", guests_[0].ip},
                              "flood" + std::to_string(round), {.netns = guests_[1].ns});
    ASSERT_TRUE(WaitUntil([&] { return PeerOf(a, hosts_[1])->rx_frames() > 1000; }, 5s))
        << "the flood did not reach host A";
    EXPECT_EQ(Stop(a.sw.pid, SIGTERM, 5s), std::optional<int>(0)) << "round " << round << ":\n"
                                                                  << Tail(a.sw.log, 20);
    Stop(flood, SIGINT, 3s);
    Stop(guests_[0].plug_pid);
    StartDaemon(a);
    Plug(a, guests_[0]);
    ASSERT_TRUE(WaitUntil([&] { return PeersUp(a) == 1; }, kMeshTimeout)) << OverlayState();
  }
}

TEST_F(OverlayTest, FullSizeFramesCrossA1500ByteUnderlayAndTcpFlows) {
  StartMesh(2);
  const CommandResult link = InNamespace(hosts_[0].ns, {"ip", "-j", "link", "show", "ul0"});
  ASSERT_NE(link.out.find("\"mtu\":1500"), std::string::npos) << link;
  // 1472 + 8 ICMP + 20 IP = 1500, a 1514-byte frame; -M do: no fragmentation inside the guest.
  const CommandResult big = InNamespace(
      guests_[0].ns,
      {"ping", "-n", "-M", "do", "-s", "1472", "-c", "3", "-i", "0.2", "-W", "2", guests_[1].ip},
      15s);
  EXPECT_NE(big.out.find(" 0% packet loss"), std::string::npos) << big;

  const pid_t server =
      Spawn({"iperf3", "-s", "-1", "-B", guests_[1].ip}, "iperf3-server", {.netns = guests_[1].ns});
  // iperf3 buffers its output in a file, so ask the kernel whether it listens yet.
  ASSERT_TRUE(WaitUntil(
      [&] {
        return !InNamespace(guests_[1].ns, {"ss", "-Hltn", "sport", "=", ":5201"}).out.empty();
      },
      10s))
      << Tail(LogPath("iperf3-server"), 10);
  const CommandResult client =
      InNamespace(guests_[0].ns, {"iperf3", "-c", guests_[1].ip, "-t", "3", "-J"}, 30s);
  EXPECT_TRUE(client.ok()) << client;
  static const std::regex re("\"sum_received\":\\s*\\{[^}]*\"bits_per_second\":\\s*([0-9.eE+]+)");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(client.out, m, re)) << client.out.substr(0, 2000);
  const double mbit = std::stod(m[1]) / 1e6;
  EXPECT_GT(mbit, 0.0);
  std::cout << "[iperf3] guest A -> guest B over the overlay: " << mbit << " Mbit/s\n";
  RecordProperty("iperf3_mbit_per_s", std::to_string(mbit));
  Stop(server);
}

TEST_F(OverlayTest, VlanStaysIsolatedAcrossHosts) {
  StartMesh(3);
  SetVlan(hosts_[0], guests_[0], 10);
  SetVlan(hosts_[1], guests_[1], 10);
  SetVlan(hosts_[2], guests_[2], 20);
  const auto tx_before = GuestPortTx();
  ExpectReachable(guests_[0], guests_[1]);
  ExpectReachable(guests_[1], guests_[0]);
  // A's and B's ARP broadcasts on VLAN 10 reached no port of C.
  for (const auto& [port, tx] : GuestPortTx()) {
    if (!port.starts_with("C/")) continue;
    EXPECT_EQ(tx, tx_before.at(port)) << port;
  }
  const control::FdbList fdb = FdbOf(hosts_[0]);
  const auto e =
      std::find_if(fdb.entries().begin(), fdb.entries().end(),
                   [&](const control::FdbEntry& e) { return e.mac() == guests_[1].mac; });
  ASSERT_NE(e, fdb.entries().end()) << fdb.DebugString();
  EXPECT_EQ(e->vlan(), 10u);
  EXPECT_EQ(e->peer(), hosts_[1].fingerprint);

  ExpectUnreachable(guests_[2], guests_[0]);
  ExpectUnreachable(guests_[2], guests_[1], 2);
}

TEST_F(OverlayTest, HostThatMovesToANewUnderlayAddressIsFollowedAndTrafficResumes) {
  StartMesh(2);
  Host &a = hosts_[0], &b = hosts_[1];
  const Guest &ga = guests_[0], &gb = guests_[1];
  ExpectReachable(ga, gb);
  ASSERT_EQ(PeerOf(a, b)->endpoint(), b.ip + ":" + kPort);

  // B's guest keeps talking, as a roaming laptop does; B's daemon listens on the wildcard.
  const pid_t flow =
      Spawn({"ping", "-n", "-i", "0.2", "-w", "30", ga.ip}, "flow-roam", {.netns = gb.ns});
  std::this_thread::sleep_for(600ms);
  // B moves: 10.98.0.22 becomes its only address (promoted from secondary, so the subnet
  // route stays and B's packets leave from it).
  const std::string new_ip = "10.98.0.22";
  Must({"ip", "netns", "exec", b.ns, "sysctl", "-qw", "net.ipv4.conf.ul0.promote_secondaries=1"});
  Must({"ip", "-n", b.ns, "addr", "add", new_ip + "/24", "dev", "ul0"});
  Must({"ip", "-n", b.ns, "addr", "del", b.ip + "/24", "dev", "ul0"});
  const auto moved = Clock::now();
  const CommandResult addrs = InNamespace(b.ns, {"ip", "-4", "-o", "addr", "show", "dev", "ul0"});
  ASSERT_NE(addrs.out.find(new_ip + "/24"), std::string::npos) << addrs;
  ASSERT_EQ(addrs.out.find(b.ip + "/"), std::string::npos) << addrs;

  const std::string new_endpoint = new_ip + ":" + kPort;
  const bool followed = WaitUntil(
      [&] {
        const auto p = PeerOf(a, b);
        return p && p->endpoint() == new_endpoint && p->state() == "up";
      },
      15s, 100ms);
  const long long followed_ms = MsSince(moved);
  EXPECT_TRUE(followed) << "A still has B at its old address:\n" << OverlayState();
  const bool resumed = WaitUntil([&] { return Ping(ga.ns, gb.ip, 1).received == 1; },
                                 15s - Millis(MsSince(moved)), 0ms);
  const long long resumed_ms = MsSince(moved);
  EXPECT_TRUE(resumed) << OverlayState();
  Stop(flow, SIGINT, 3s);
  std::cout << "[roaming] A's peer B at " << new_endpoint << " after " << followed_ms
            << " ms; A's guest reaches B's after " << resumed_ms
            << " ms; B's flow: " << Tail(LogPath("flow-roam"), 2);
  ExpectReachable(ga, gb);
  ExpectReachable(gb, ga);
  const auto now_b = PeerOf(a, b);
  ASSERT_TRUE(now_b.has_value());
  EXPECT_EQ(now_b->endpoint(), new_endpoint);
  EXPECT_EQ(now_b->fingerprint(), b.fingerprint) << "the same peer, not a new one";
  EXPECT_EQ(PeersOf(a).peers_size(), 1) << PeersOf(a).DebugString();
  EXPECT_EQ(PeerOf(b, a)->endpoint(), a.ip + ":" + kPort);
}

TEST_F(OverlayTest, PeerThatGoesSilentIsDeclaredDownAndItsMacsAreFlushed) {
  StartMesh(2);
  Host &a = hosts_[0], &b = hosts_[1];
  ExpectReachable(guests_[0], guests_[1]);
  ExpectReachable(guests_[1], guests_[0]);
  const auto behind_b = [&] {
    const control::FdbList fdb = FdbOf(a);
    return std::count_if(fdb.entries().begin(), fdb.entries().end(),
                         [&](const control::FdbEntry& e) { return e.peer() == b.fingerprint; });
  };
  const control::FdbList before = FdbOf(a);
  ASSERT_TRUE(std::any_of(before.entries().begin(), before.entries().end(),
                          [&](const control::FdbEntry& e) {
                            return e.mac() == guests_[1].mac && e.peer() == b.fingerprint;
                          }))
      << "A did not learn B's guest behind B: " << before.DebugString();

  kill(b.sw.pid, SIGKILL);
  const auto killed = Clock::now();
  ASSERT_EQ(WaitExit(b.sw.pid, 5s), std::optional<int>(128 + SIGKILL));
  // kDeadAfter (30 s) without an authenticated packet, checked on a 250 ms tick.
  const bool down = WaitUntil(
      [&] {
        const auto p = PeerOf(a, b);
        return p && p->state() == "down";
      },
      40s, 250ms);
  const long long down_ms = MsSince(killed);
  ASSERT_TRUE(down) << "B still up on A 40 s after B died:\n" << OverlayState();
  EXPECT_GE(down_ms, 25000) << "declared down before 30 s of silence";
  // The flush runs on the datapath right after the state change.
  EXPECT_TRUE(WaitUntil([&] { return behind_b() == 0; }, 2s, 50ms)) << FdbOf(a).DebugString();
  EXPECT_EQ(StatusOf(a).networks(0).peers_up(), 0u);
  std::cout << "[dead peer] B down on A " << down_ms << " ms after SIGKILL; A's FDB now "
            << FdbOf(a).ShortDebugString() << "\n";
  EXPECT_TRUE(Running(a.sw.pid));
}

TEST_F(OverlayTest, JumboFramesOfMtu9000GuestsCrossHostsAndAreCountedWhereTooLong) {
  // --max-frame counts the whole untagged frame (the default 1514 is MTU 1500 + 14), so MTU
  // 9000 guests need 9014; with --max-frame 9000, ping -s 8958 passes and -s 8959 is too_long.
  const std::string key = NewNetworkKeyFile("network.key");
  Host& a = AddHost("A", 1, key, {"--max-frame", "9014"});
  Host& b = AddHost("B", 2, key, {"--peer", a.ip, "--max-frame", "9014"});
  Host& c = AddHost("C", 3, key, {"--peer", a.ip});  // the default, 1514
  for (int i = 0; i < 3; ++i) {
    Guest& g = AddGuestOn(hosts_[i], i + 1);
    Must({"ip", "-n", g.ns, "link", "set", "tap0", "mtu", "9000"});
  }
  ASSERT_TRUE(AllHostsHavePeersUp(2));
  EXPECT_EQ(StatusOf(a).networks(0).max_frame(), 9014u);
  EXPECT_EQ(StatusOf(c).networks(0).max_frame(), 1514u);
  const Guest &ga = guests_[0], &gb = guests_[1], &gc = guests_[2];

  // 8972 + 8 ICMP + 20 IP = 9000, a 9014-byte frame, ~9078 bytes of IP on a 1500-byte underlay.
  EXPECT_EQ(BigPing(ga, gb, 8972), 3);
  EXPECT_EQ(BigPing(gb, ga, 8972), 3);
  EXPECT_GE(PeerOf(b, a)->rx_frames(), 6u);

  // C keeps 1514: a jumbo frame from A arrives and is refused as a bad frame from a peer.
  ExpectReachable(ga, gc);  // the path works and ARP is resolved
  const auto bad_frames = [&] { return Drops(StatusOf(c).networks(0).drops(), "peer_bad_frame"); };
  const std::uint64_t bad_before = bad_frames();
  EXPECT_EQ(BigPing(ga, gc, 8972), 0);
  EXPECT_TRUE(WaitUntil([&] { return bad_frames() == bad_before + 3; }, 2s, 50ms))
      << "peer_bad_frame on C went from " << bad_before << " to " << bad_frames();

  // And C's own guest cannot send one: its port counts too_long, nothing leaves for A.
  UseControl(c.sw.control);
  const control::Port port_before = PortOf(gc.plug_pid);
  const auto a_from_c = PeerOf(a, c)->rx_bytes();  // an ARP probe from gC may still pass
  EXPECT_EQ(BigPing(gc, ga, 8972), 0);
  UseControl(c.sw.control);
  const control::Port port_after = PortOf(gc.plug_pid);
  EXPECT_EQ(Drops(port_after.counters().drops(), "too_long") -
                Drops(port_before.counters().drops(), "too_long"),
            3u)
      << port_after.DebugString();
  EXPECT_LT(PeerOf(a, c)->rx_bytes() - a_from_c, 9000u) << "a jumbo frame left C";
  EXPECT_EQ(bad_frames(), bad_before + 3);
  ExpectReachable(gc, ga);  // ordinary frames still pass
}

TEST_F(OverlayTest, HostsWithOnlyIpv6OnTheUnderlayFormOneSegment) {
  const std::string key = NewNetworkKeyFile("network.key");
  Host& a = AddHostV6("A", 1, key);
  Host& b = AddHostV6("B", 2, key, {"--peer", "[fd00:98::1]:6655"});
  for (int i = 0; i < 2; ++i) AddGuestOn(hosts_[i], i + 1);
  for (const Host& h : hosts_) {
    const CommandResult v4 = InNamespace(h.ns, {"ip", "-4", "-o", "addr", "show", "dev", "ul0"});
    ASSERT_TRUE(v4.ok() && v4.out.empty()) << h.name << " has IPv4 on the underlay: " << v4;
  }
  ASSERT_TRUE(AllHostsHavePeersUp(1));
  ExpectReachable(guests_[0], guests_[1]);
  ExpectReachable(guests_[1], guests_[0]);
  const auto b_at_a = PeerOf(a, b), a_at_b = PeerOf(b, a);
  ASSERT_TRUE(b_at_a && a_at_b) << OverlayState();
  EXPECT_EQ(b_at_a->endpoint(), "[fd00:98::2]:6655");
  EXPECT_EQ(a_at_b->endpoint(), "[fd00:98::1]:6655");
  EXPECT_EQ(b_at_a->fingerprint(), b.fingerprint);
  EXPECT_GE(b_at_a->rx_frames(), 3u);
  const control::FdbList fdb = FdbOf(a);
  EXPECT_TRUE(std::any_of(fdb.entries().begin(), fdb.entries().end(),
                          [&](const control::FdbEntry& e) {
                            return e.mac() == guests_[1].mac && e.peer() == b.fingerprint;
                          }))
      << fdb.DebugString();
}

TEST_F(OverlayTest, AllowListAdmitsListedHostKeyAndRefusesAnotherHoldingTheNetworkKey) {
  const std::string key = NewNetworkKeyFile("network.key");
  NewHostKey("A");
  const std::string b_key = NewHostKey("B");
  const std::string c_key = NewHostKey("C");
  ASSERT_NE(b_key, c_key);
  Host& a = AddHost("A", 1, key, {"--allow-peer", b_key});
  Host& b = AddHost("B", 2, key, {"--peer", a.ip});
  Host& c = AddHost("C", 3, key, {"--peer", a.ip});
  EXPECT_EQ(b.public_key, b_key) << "B does not use the key file made for it";
  EXPECT_EQ(c.public_key, c_key);
  for (int i = 0; i < 3; ++i) AddGuestOn(hosts_[i], i + 1);
  ASSERT_TRUE(WaitUntil([&] { return PeersUp(a) == 1 && PeersUp(b) == 1; }, kMeshTimeout, 200ms))
      << OverlayState();
  ExpectReachable(guests_[1], guests_[0]);
  ExpectReachable(guests_[0], guests_[1]);

  // C holds the network key, so A answers its initiation, but refuses C's identity.
  EXPECT_TRUE(WaitUntil([&] { return Drops(StatusOf(a).overlay().drops(), "not_allowed") > 0; },
                        10s, 200ms))
      << OverlayState();
  ExpectUnreachable(guests_[2], guests_[0]);
  const auto c_at_a = PeerOf(a, c);
  EXPECT_TRUE(!c_at_a || c_at_a->state() == "down") << "A admitted C: " << c_at_a->DebugString();
  EXPECT_EQ(PeersUp(a), 1);
  EXPECT_EQ(PeerOf(a, b)->state(), "up");
  const auto a_at_c = PeerOf(c, a);
  std::cout << "[allow-list] A's overlay drops " << StatusOf(a).overlay().ShortDebugString()
            << "\n[allow-list] C's view of A: "
            << (a_at_c ? a_at_c->ShortDebugString() : std::string("none")) << "\n";
  EXPECT_TRUE(!PeerOf(b, c).has_value() || PeerOf(b, c)->state() == "down")
      << "B learned C through A: " << OverlayState();
}

// KNOWN BUG, disabled until fixed: an initiator counts its handshake complete (peer "up", retry
// count reset) when the response arrives, before the responder confirmed it. A responder's
// allow-list refuses the initiator only at the final message, so the refused host lists its
// refuser "up" for good and rehandshakes every ~1.25 s without backing off (and A logs a
// warning each time). Expected: the refused host shows the peer down and backs off.
TEST_F(OverlayTest, HostRefusedByAnAllowListShowsThePeerDownAndBacksOff) {
  const std::string key = NewNetworkKeyFile("network.key");
  const std::string someone_else = NewHostKey("X");
  Host& a = AddHost("A", 1, key, {"--allow-peer", someone_else});
  Host& c = AddHost("C", 3, key, {"--peer", a.ip});
  ASSERT_TRUE(WaitUntil([&] { return Drops(StatusOf(a).overlay().drops(), "not_allowed") > 0; },
                        10s, 100ms))
      << OverlayState();
  const auto first_refusal = Clock::now();
  int seen_up = 0;
  while (Clock::now() - first_refusal < 10s) {
    const auto p = PeerOf(c, a);
    if (p && p->state() == "up") ++seen_up;
    std::this_thread::sleep_for(250ms);
  }
  EXPECT_EQ(seen_up, 0) << "C lists A up although A refuses it:\n" << OverlayState();
  // Retries 1 s doubling: about 4 more attempts in 10 s, not one every ~1.25 s.
  EXPECT_LE(Drops(StatusOf(a).overlay().drops(), "not_allowed"), 6u) << OverlayState();
}

// Datapath CPU ticks (utime + stime) of each thread of `pid` named vdemesh-dp*.
std::map<std::string, long> DatapathTicks(pid_t pid) {
  std::map<std::string, long> out;
  const std::string task = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& t : std::filesystem::directory_iterator(task)) {
    std::string comm = ReadFile(t.path().string() + "/comm");
    comm.erase(comm.find_last_not_of('\n') + 1);
    if (comm.rfind("vdemesh-dp", 0) != 0) continue;
    const std::string stat = ReadFile(t.path().string() + "/stat");
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));  // fields from 3 (state) on
    std::string f;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
      if (i == 14) utime = std::stol(f);
      if (i == 15) stime = std::stol(f);
    }
    out[comm] = utime + stime;
  }
  return out;
}

// Two networks on two datapath threads per host: each thread's tunnel has a port of its own
// (6655, 6656), peers learn the network's port from its handshake, traffic stays in its
// network, and each network's bytes are carried by its own thread, both at once.
TEST_F(OverlayTest, TwoNetworksRunOnTwoDatapathThreadsEachWithItsOwnPort) {
  const std::string red_key = NewNetworkKeyFile("red.key");
  const std::string blue_key = NewNetworkKeyFile("blue.key");
  std::map<std::string, Switch> blue_switch;  // by host name; hosts_[i].sw is the red one
  for (int i = 0; i < 2; ++i) {
    Host& h = hosts_.emplace_back();
    h.name = i == 0 ? "A" : "B";
    h.ip = "10.98.0." + std::to_string(i + 1);
    h.ns = UnderlayNode(h.ip);
    std::string conf = "threads = 2\nhost-key = " + tmp() + "/host" + h.name + ".key\n";
    for (const auto& [net, key] : {std::pair{"red", red_key}, std::pair{"blue", blue_key}}) {
      conf += std::string("[network ") + net + "]\nsock = " + tmp() + "/" + net + h.name +
              "\nnetwork-key = " + key + "\n" + (i == 1 ? "peer = 10.98.0.1\n" : "");
    }
    const std::string conf_path = tmp() + "/two" + h.name + ".conf";
    std::ofstream(conf_path) << conf;
    h.sw = StartSwitchInNamespace(h.ns, "", tmp() + "/ctl" + h.name + ".sock",
                                  "vswitchd-h" + h.name, {"--config", conf_path});
    h.sw.dir = tmp() + "/red" + h.name;
    blue_switch[h.name] = h.sw;
    blue_switch[h.name].dir = tmp() + "/blue" + h.name;
    const control::Status s = StatusOf(h);
    h.public_key = s.overlay().public_key();
    std::vector<std::string> listen(s.overlay().listen().begin(), s.overlay().listen().end());
    EXPECT_TRUE(std::count_if(listen.begin(), listen.end(),
                              [](const std::string& l) { return l.ends_with(":6656"); }) >= 1)
        << "the second thread's tunnel listens on the next port: "
        << ::testing::PrintToString(listen);
    ASSERT_EQ(s.networks_size(), 2) << s.DebugString();
    EXPECT_NE(s.networks(0).datapath_thread(), s.networks(1).datapath_thread())
        << "each network has a thread of its own: " << s.DebugString();
    EXPECT_LT(std::max(s.networks(0).datapath_thread(), s.networks(1).datapath_thread()), 2u);
  }
  const Host& a = hosts_[0];
  const Host& b = hosts_[1];
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (const Host& h : hosts_) {
          const control::Status status = StatusOf(h);
          for (const auto& n : status.networks())
            if (n.peers_up() != 1) return false;
        }
        return true;
      },
      kMeshTimeout, 200ms))
      << StatusOf(a).DebugString() << StatusOf(b).DebugString();
  // Each network reaches A at the port of the thread that serves it there (the log says which).
  const std::string log = ReadFile(a.sw.log);
  for (const std::string net : {"red", "blue"}) {
    const auto at = log.find("network " + net + ": switch");
    ASSERT_NE(at, std::string::npos) << log;
    const std::string line = log.substr(at, log.find('\n', at) - at);
    const std::string port = line.ends_with("datapath thread 1") ? "6656" : "6655";
    UseControl(b.sw.control);
    const control::PeerList peers = Peers(net);
    ASSERT_EQ(peers.peers_size(), 1) << peers.DebugString();
    EXPECT_EQ(peers.peers(0).endpoint(), a.ip + ":" + port) << line;
  }

  // Guests: red 1 (A) and 2 (B), blue 3 (A) and 4 (B), all in one IPv4 subnet.
  Host blue_a = a, blue_b = b;
  blue_a.sw = blue_switch["A"];
  blue_b.sw = blue_switch["B"];
  const Guest& red1 = AddGuestOn(a, 1);
  const Guest& red2 = AddGuestOn(b, 2);
  const Guest& blue3 = AddGuestOn(blue_a, 3);
  const Guest& blue4 = AddGuestOn(blue_b, 4);
  ExpectReachable(red1, red2);
  ExpectReachable(blue3, blue4);
  ExpectUnreachable(red1, blue4);
  ExpectUnreachable(blue3, red2);

  // 48 MiB each way at once, red 1 -> 2 and blue 3 -> 4, checked byte for byte.
  const auto ticks_before = std::pair{DatapathTicks(a.sw.pid), DatapathTicks(b.sw.pid)};
  ASSERT_EQ(ticks_before.first.size(), 2u) << "two datapath threads on A";
  std::vector<pid_t> sinks, senders;
  std::vector<std::string> digests, sent;
  for (const auto& [from, to] : {std::pair{&red1, &red2}, std::pair{&blue3, &blue4}}) {
    digests.push_back(tmp() + "/digest-" + to->ip);
    sinks.push_back(StartDigestSink(to->ns, to->ip, 5303, digests.back()));
    ASSERT_TRUE(Listening(to->ns, "-Hltn", 5303));
  }
  for (const auto& [from, to] : {std::pair{&red1, &red2}, std::pair{&blue3, &blue4}}) {
    sent.push_back(tmp() + "/sent-" + to->ip);
    senders.push_back(StartDigestSender(from->ns, to->ip, 5303, 48, sent.back()));
  }
  for (std::size_t i = 0; i < 2; ++i) {
    ASSERT_EQ(WaitExit(senders[i], 90s), 0) << "stream " << i;
    ASSERT_TRUE(WaitExit(sinks[i], 30s).has_value());
    EXPECT_EQ(ReadFile(digests[i]), ReadFile(sent[i])) << "stream " << i << " changed on the way";
  }
  for (const auto& [host, before] :
       {std::pair{&a, ticks_before.first}, std::pair{&b, ticks_before.second}}) {
    const auto after = DatapathTicks(host->sw.pid);
    for (const auto& [thread, ticks] : after) {
      const long used = ticks - (before.contains(thread) ? before.at(thread) : 0);
      std::cout << "[threads] host " << host->name << " " << thread << ": " << used
                << " ticks for its network's 48 MiB\n";
      // Each thread carried one stream; a thread that stayed idle would mean one did both.
      EXPECT_GE(used, 2) << host->name << " " << thread;
    }
  }
}

}  // namespace
}  // namespace vdemesh::itest

namespace vdemesh::itest {
namespace {

// TAP ports (-t) on both hosts, moved into guest namespaces: TCP between them takes the offload
// path (TSO super-frames cut in software, UDP GSO/GRO, segments coalesced into GSO writes). A
// transfer of 32 MiB of known bytes must arrive intact: a wrong checksum, length or sequence
// number anywhere on that path would stall or corrupt it.
TEST_F(OverlayTest, TapPortsCarryTcpAndUdpIntactThroughTheOffloadPaths) {
  const std::string key = NewNetworkKeyFile("network.key");
  const std::string tag = std::to_string(getpid() % 100000);
  const std::string tap_a = "vdm" + tag + "ta", tap_b = "vdm" + tag + "tb";
  Host& a = AddHost("A", 1, key, {"-t", tap_a});
  AddHost("B", 2, key, {"-t", tap_b, "--peer", a.ip});
  ASSERT_TRUE(AllHostsHavePeersUp(1)) << OverlayState();
  std::vector<std::string> ns;
  int n = 0;
  for (const auto& [host, tap] : {std::pair{hosts_[0], tap_a}, std::pair{hosts_[1], tap_b}}) {
    const std::string g = NewNamespace();
    Must({"ip", "-n", host.ns, "link", "set", tap, "netns", g});
    Must({"ip", "-n", g, "addr", "add", "10.96.0." + std::to_string(++n) + "/24", "dev", tap});
    Must({"ip", "-n", g, "link", "set", tap, "up"});
    ns.push_back(g);
  }
  const PingResult p = Ping(ns[0], "10.96.0.2", 3);
  ASSERT_EQ(p.received, 3) << p.out;

  // Receiver: sha256 of everything read. Sender: 32 MiB of a repeating 251-byte pattern.
  const std::string out = tmp() + "/tcp-digest", sent_digest = tmp() + "/tcp-sent";
  const pid_t server = StartDigestSink(ns[1], "10.96.0.2", 5301, out);
  ASSERT_TRUE(Listening(ns[1], "-Hltn", 5301));
  const pid_t sender = StartDigestSender(ns[0], "10.96.0.2", 5301, 32, sent_digest);
  ASSERT_EQ(WaitExit(sender, 60s), 0) << Tail(LogPath("tcp-send-10.96.0.2"), 10);
  ASSERT_TRUE(WaitExit(server, 30s).has_value()) << Tail(LogPath("tcp-sink-10.96.0.2"), 10);
  EXPECT_EQ(ReadFile(out), ReadFile(sent_digest)) << "sender and receiver saw different bytes";

  // UDP: bursts of small datagrams (coalesced into UDP GSO writes to B's TAP where the kernel
  // takes them) and UDP GSO sends (A's TAP hands those over whole, A cuts them). Every datagram
  // carries its number and a pattern derived from it; the receiver checks each one.
  const std::string udp_out = tmp() + "/udp-check";
  const pid_t udp_sink =
      Spawn({"python3", "-c",
             "import socket,sys\n"
             "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
             "s.setsockopt(socket.SOL_SOCKET,socket.SO_RCVBUF,1<<23);s.bind(('10.96.0.2',5302))\n"
             "s.settimeout(5);seen=set();bad=0;dup=0\n"
             "while True:\n"
             " try: d=s.recv(65536)\n"
             " except socket.timeout: break\n"
             " if d==b'END': break\n"
             " n=int.from_bytes(d[:4],'big')\n"
             " if d[4:]!=bytes((n*31+i)&255 for i in range(len(d)-4)): bad+=1\n"
             " elif n in seen: dup+=1\n"
             " else: seen.add(n)\n"
             "open(sys.argv[1],'w').write('%d %d %d'%(len(seen),bad,dup))\n",
             udp_out},
            "udp-sink", {.netns = ns[1]});
  ASSERT_TRUE(Listening(ns[1], "-Hlun", 5302));
  const CommandResult udp_send = InNamespace(
      ns[0],
      {"python3", "-c",
       "import socket,time\n"
       "def dg(n,size): return n.to_bytes(4,'big')+bytes((n*31+i)&255 for i in range(size-4))\n"
       "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.connect(('10.96.0.2',5302))\n"
       "g=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);g.connect(('10.96.0.2',5302))\n"
       "g.setsockopt(socket.IPPROTO_UDP,103,200)  # UDP_SEGMENT: 200-byte datagrams\n"
       "n=0\n"
       "for burst in range(200):\n"
       " for k in range(48): s.send(dg(n,64 if k<40 else 64+burst%900)); n+=1\n"
       " g.send(b''.join(dg(n+k,200) for k in range(10))); n+=10\n"
       " time.sleep(0.002)\n"
       "time.sleep(0.5);s.send(b'END');print(n)\n"},
      60s);
  ASSERT_TRUE(udp_send.ok()) << udp_send;
  ASSERT_TRUE(WaitExit(udp_sink, 15s).has_value()) << Tail(LogPath("udp-sink"), 10);
  const int sent = std::stoi(udp_send.out);
  int received = 0, bad = -1, dup = -1;
  std::istringstream(ReadFile(udp_out)) >> received >> bad >> dup;
  EXPECT_EQ(bad, 0) << "datagrams changed on the way";
  EXPECT_EQ(dup, 0);
  // A 2 ms pause after every 58 datagrams keeps the sockets from overflowing here; the bound
  // leaves room for a loaded machine without hiding a path that loses whole runs.
  EXPECT_GE(received, sent * 95 / 100) << "of " << sent;
  std::cout << "[udp] " << received << " of " << sent << " datagrams arrived intact\n";

  // For the record: frames (segments, however they were grouped into writes) out of B's TAP.
  const control::PortList ports = PortsOf(hosts_[1]);
  for (const auto& port : ports.ports()) {
    if (port.kind() != "tap") continue;
    std::cout << "[tap] B's TAP port: " << port.counters().tx_frames() << " frames, "
              << port.counters().tx_bytes() << " bytes out\n";
  }
}

}  // namespace
}  // namespace vdemesh::itest
