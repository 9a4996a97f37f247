// overlay.h: the daemon's encrypted overlay: a Tunnel with its own UDP sockets on each datapath
// shard that carries an encrypted network, and the control thread's PeerManager, set up from
// the options and torn down in the right order.
//
// Each shard's tunnel listens on a port of its own (the listen port, +1, +2...), and a
// network's handshakes leave by its shard's socket, so peers send each network's packets
// straight to the shard that serves it: the kernel steers, no thread hands packets to another,
// and UDP GRO never merges two shards' datagrams (it merges by address and port).
//
// Thread affinity: created and destroyed on the control thread; each Tunnel is created and
// destroyed on its shard (through posted work), as everything that lives there.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>
#include <vector>

#include "transport/peer_manager.h"
#include "transport/tunnel.h"
#include "transport/udp_sockets.h"
#include "vswitchd/daemon/options.h"
#include "vswitchd/daemon/peer_cache.h"
#include "vswitchd/daemon/peer_names.h"
#include "vswitchd/datapath/shard.h"

namespace vdemesh::daemon {

class Overlay {
 public:
  // Loads (or creates, mode 0600) the host key and makes the PeerManager on `control`. Throws
  // std::runtime_error naming the option.
  Overlay(const DaemonOptions& options, boost::asio::io_context& control);
  ~Overlay();  // the shards must still be running

  // The tunnel on `shard`, made on first use with sockets on the next listen port.
  transport::Tunnel* TunnelOn(datapath::Shard& shard);
  // Joins network `o` (which has a network key); `sink` is its datapath on `tunnel`'s shard.
  void AddNetwork(const NetworkOptions& o, transport::FrameSink* sink, transport::Tunnel* tunnel);
  void Start();
  // No more handshakes, timers or lookups (the peer cache is written one last time); the
  // tunnels stay until DestroyTunnelOn().
  void Stop();

  // On `shard`, after peers().Stop(): no more packets in or out there.
  void DestroyTunnelOn(const datapath::Shard& shard);

  std::vector<transport::Tunnel*> tunnels() const;
  transport::PeerManager& peers() { return *peers_; }

 private:
  struct Lane {
    datapath::Shard* shard;
    transport::UdpSockets sockets;
    std::unique_ptr<transport::Tunnel> tunnel;  // lives on the shard; refers to `sockets`
  };

  const DaemonOptions& options_;
  transport::HostPort listen_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::unique_ptr<transport::PeerManager> peers_;
  std::unique_ptr<PeerNames> names_;  // refers to *peers_
  // The peer cache (peer_cache.h): the file, what it held at start, what was last written.
  std::string cache_path_;
  PeerAddresses remembered_;
  PeerAddresses saved_;
  std::vector<std::string> network_names_;  // by PeerManager network index
  boost::asio::steady_timer cache_timer_;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once stopped

  void SaveCacheIfChanged();
  void ScheduleCacheSave();
};

// Reads the host key at `path`, or creates one there (mode 0600, parent directory 0700).
crypto::PrivateKey LoadOrCreateHostKey(const std::string& path);

}  // namespace vdemesh::daemon
