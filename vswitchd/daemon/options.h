// options.h: vswitchd's settings from the command line and the config file.
//
// One option table serves both, so the config file covers everything the flags cover: a flag
// `--fdb-size 1024` is the line `fdb-size = 1024`. Global options go at the top of the file;
// network options go in `[network NAME]` sections, or on the command line for a single
// network, vde_switch style. Errors throw std::invalid_argument naming the option (and the
// file and line), for the one catch in main().
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vdemesh::daemon {

inline constexpr const char* kDefaultControlPath = "/run/vdemesh/vswitchd.sock";
inline constexpr const char* kDefaultConfigPath = "/etc/vdemesh/vswitchd.conf";
inline constexpr const char* kRunDir = "/run/vdemesh";
inline constexpr const char* kDefaultHostKeyPath = "/var/lib/vdemesh/host.key";

struct NetworkOptions {
  std::string name;  // default: the switch directory's basename
  std::string dir;   // default: /run/vdemesh/NAME
  mode_t mode = 0600;
  std::string group;  // empty: the daemon's group
  std::string tap;    // empty: no TAP port
  std::uint32_t numports = 32;
  std::uint32_t max_frame = 1514;
  std::uint32_t fdb_size = 65536;
  std::uint32_t fdb_aging_seconds = 300;
  // The overlay (empty network_key: a switch on this host only).
  std::string network_key;                 // path of the network key file
  std::vector<std::string> peers;          // HOST[:PORT] bootstrap addresses
  std::vector<std::string> allowed_peers;  // base64 host public keys; empty: any key holder
};

struct DaemonOptions {
  std::string control = kDefaultControlPath;
  std::string config;  // the file read, if any
  bool daemonize = false;
  std::string pidfile;  // default with --daemon: /run/vdemesh/vswitchd.pid
  std::string log_level = "info";
  std::string listen = ":6655";  // [ADDR]:PORT of the overlay's UDP sockets
  std::string host_key = kDefaultHostKeyPath;
  std::uint32_t underlay_mtu = 1500;  // TCP MSS is clamped so segments fit it unfragmented
  // Datapath threads; 0: one per CPU. Networks are spread over them, so no more are started
  // than there are networks.
  std::uint32_t threads = 0;
  // Microseconds a datapath thread keeps polling after traffic before it sleeps (EventLoop::
  // SetBusyPoll): a ping's answer then finds it awake. 0: off.
  std::uint32_t busy_poll_us = 150;
  bool help = false;
  bool version = false;
  std::vector<NetworkOptions> networks;
};

// Parses argv, reads the config file (--config, or the default one if it exists and no network
// is given by flags), and validates the result.
DaemonOptions ParseOptions(int argc, const char* const* argv);
// Applies a config file's text on top of `opts` (exposed for tests).
void ApplyConfigText(const std::string& text, const std::string& filename, DaemonOptions* opts);
// Fills defaults and checks the networks (names and directories unique, at least one).
void FinishOptions(DaemonOptions* opts);
std::string UsageText();

}  // namespace vdemesh::daemon
