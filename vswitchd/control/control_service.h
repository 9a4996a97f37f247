// control_service.h: answers control requests (proto/control.proto) from the daemon's state.
//
// Thread affinity: runs on the control thread. Datapath state (counters, FDB, VLANs) lives on a
// shard, so it is read by posting a snapshot request there and waiting briefly; the shard never
// waits for the control thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/event_loop.h"
#include "control.pb.h"
#include "vswitchd/daemon/options.h"

namespace vdemesh::datapath {
class NetworkDatapath;
}
namespace vdemesh::vde {
class VdeServer;
}

namespace vdemesh::transport {
class PeerManager;
class Tunnel;
class UdpSockets;
}  // namespace vdemesh::transport

namespace vdemesh::control {

// What the control plane may see of one network. The pointers outlive the ControlService.
struct NetworkHandle {
  const daemon::NetworkOptions* options;
  vde::VdeServer* vde;
  datapath::NetworkDatapath* datapath;  // only touched on `shard`
  EventLoop* shard;
  std::uint32_t thread;  // K of vdemesh-dpK, the thread of `shard`
  std::optional<std::uint32_t> tap_port;
};

// The overlay, if the daemon runs one (null and empty otherwise): a tunnel per datapath shard
// that carries an encrypted network, each touched only on its own loop.
struct OverlayHandle {
  transport::PeerManager* peers;
  std::vector<transport::Tunnel*> tunnels;
};

class ControlService {
 public:
  ControlService(std::vector<NetworkHandle> networks, OverlayHandle overlay,
                 std::chrono::steady_clock::time_point start)
      : networks_(std::move(networks)), overlay_(overlay), start_(start) {}

  Response Handle(const Request& request);

 private:
  const NetworkHandle* Find(const std::string& name, std::string* err) const;
  Response Status();
  Response Ports(const NetworkHandle& net);
  Response Fdb(const NetworkHandle& net);
  Response PortSet(const NetworkHandle& net, const PortSetRequest& req);
  Response Peers(const NetworkHandle& net);
  void FillOverlay(vdemesh::control::Status* status);

  std::vector<NetworkHandle> networks_;
  OverlayHandle overlay_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace vdemesh::control
