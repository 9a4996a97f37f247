// vde_server.h: the vde_switch-compatible port server of one network (the control half).
//
// Serves DIR/ctl: accepts a client, reads its request_v3, gives it a port, creates the
// switch-side data socket DIR/NNN.ID connected to the client's socket, replies with its
// address, and then watches the control stream: EOF unplugs the endpoint. A vdemesh:// client
// (wire.h's extension) may also choose its port's VLAN, and hears why it was refused. The data
// socket itself is handed to the datapath through EndpointSink; this class never moves frames.
//
// Thread affinity: the control thread's io_context (file-system work happens here, never on a
// datapath shard). Port numbers are allocated here and owned by one uid while in use; several
// endpoints of the same uid (or root) may share a port, as in vde_switch.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/system/result.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vswitchd/core/vlan.h"

namespace vdemesh::vde {

struct EndpointInfo {
  std::uint64_t id = 0;
  std::uint32_t port = 0;
  std::string description;
  uid_t uid = 0;
  pid_t pid = 0;
  std::string data_path;  // the switch-side data socket
  // The VLAN mode a vdemesh:// client asked for; its port, which it has to itself, takes it
  // before the first frame moves.
  std::optional<core::PortVlan> vlan;
};

// Receives endpoints as they come and go; implemented by the daemon (which posts to a shard).
class EndpointSink {
 public:
  virtual ~EndpointSink() = default;
  // Takes ownership of data_fd (connected, non-blocking SOCK_DGRAM).
  virtual void OnEndpointOpened(const EndpointInfo& info, int data_fd) = 0;
  virtual void OnEndpointClosed(const EndpointInfo& info) = 0;
};

class VdeServer {
 public:
  struct Options {
    std::string dir;
    mode_t mode = 0600;          // sockets; the directory gets x where it has r
    std::optional<gid_t> group;  // chown of the directory and sockets
    std::uint32_t numports = 32;
    std::size_t max_connections = 4096;  // pending + plugged clients
  };

  // Prepares DIR (refusing one that a live switch serves, clearing a dead one's sockets) and
  // starts listening on DIR/ctl.
  static boost::system::result<std::unique_ptr<VdeServer>> Create(boost::asio::io_context& io,
                                                                  const Options& options,
                                                                  EndpointSink* sink);
  ~VdeServer();  // closes every client and removes the sockets it created
  VdeServer(const VdeServer&) = delete;
  VdeServer& operator=(const VdeServer&) = delete;

  // Reserves the first free port for a non-VDE port (a TAP); nullopt if none is free.
  std::optional<std::uint32_t> ReservePort();
  std::vector<EndpointInfo> Endpoints() const;
  std::uint32_t ports_in_use() const;

 private:
  struct Impl;
  explicit VdeServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;  // shared with the coroutines serving clients
};

}  // namespace vdemesh::vde
