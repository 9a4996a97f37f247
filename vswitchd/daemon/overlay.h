// overlay.h: the daemon's encrypted overlay: UDP sockets, the shard's Tunnel, and the control
// thread's PeerManager, set up from the options and torn down in the right order.
//
// Thread affinity: created and destroyed on the control thread; the Tunnel is created and
// destroyed on the shard (through posted work), as everything that lives there.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "transport/peer_manager.h"
#include "transport/tunnel.h"
#include "transport/udp_sockets.h"
#include "vswitchd/daemon/options.h"
#include "vswitchd/datapath/shard.h"

namespace vdemesh::daemon {

class Overlay {
 public:
  // Loads (or creates, mode 0600) the host key, opens the UDP sockets, starts the Tunnel on
  // `shard` and the PeerManager on `control`. Throws std::runtime_error naming the option.
  Overlay(const DaemonOptions& options, datapath::Shard& shard, boost::asio::io_context& control);
  ~Overlay();  // the shard must still be running

  // Joins network `o` (which has a network key); `sink` is its datapath on the shard.
  void AddNetwork(const NetworkOptions& o, transport::FrameSink* sink);
  void Start() { peers_->Start(); }

  // On the shard, after peers().Stop(): no more packets in or out.
  void DestroyTunnelOnShard() { tunnel_.reset(); }

  transport::Tunnel* tunnel() { return tunnel_.get(); }
  transport::PeerManager& peers() { return *peers_; }
  const transport::UdpSockets& sockets() const { return sockets_; }

 private:
  datapath::Shard& shard_;
  transport::UdpSockets sockets_;
  std::unique_ptr<transport::Tunnel> tunnel_;  // lives on the shard
  std::unique_ptr<transport::PeerManager> peers_;
};

// Reads the host key at `path`, or creates one there (mode 0600, parent directory 0700).
crypto::PrivateKey LoadOrCreateHostKey(const std::string& path);

}  // namespace vdemesh::daemon
