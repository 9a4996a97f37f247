// network_datapath.h: the packet path of one network on one shard: its VDE endpoints' data
// sockets, its TAP port, and the SwitchCore that decides where each frame goes.
//
// Thread affinity: every method runs on the shard's thread. The control thread reaches it only
// through EventLoop::Post (AddEndpoint, RemoveEndpoint, AddTap, Snapshot...).
//
// Per batch (rx.cc, tx.cc): wake on a readable fd -> recvmmsg up to 64 frames into the shard's
// RxBatch -> SwitchCore::Ingress per frame -> frames queued on each destination endpoint
// (pointers into the batch, no copy) -> one sendmmsg per dirty endpoint -> re-arm. The work per
// wake-up is bounded (kRxBudget batches) so one busy client cannot starve the others.
// Invariant: no TxQueue holds entries between batches.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/event_loop.h"
#include "transport/batch.h"
#include "transport/tunnel.h"
#include "vswitchd/core/gso_coalescer.h"
#include "vswitchd/core/switch_core.h"
#include "vswitchd/core/tso.h"
#include "vswitchd/datapath/tap_reader.h"
#include "vswitchd/datapath/tx_queue.h"

namespace vdemesh::datapath {

inline constexpr int kRxBudget = 8;  // batches per wake-up of one fd
inline constexpr int kEnobufsRetries = 3;
inline constexpr std::uint32_t kNoPort = 0xffffffff;

// A copy of the switch's state for the control plane.
struct PortSnapshot {
  std::uint32_t number;
  bool active;
  core::PortVlan vlan;
  core::PortCounters counters;
  bool vlan_from_client = false;  // `vlan` is what the port's client chose, for its stay
};
struct Snapshot {
  std::vector<PortSnapshot> ports;  // every active port, plus inactive ones with a non-default VLAN
  std::vector<core::MacTable::Entry> fdb;
  std::array<std::uint64_t, core::kSwitchDropCount> switch_drops{};
  std::size_t fdb_entries = 0;
  bool tap = false;          // has a TAP port
  bool tap_batched = false;  // ... whose reads go through io_uring (tap_reader.h)
};

class NetworkDatapath final : public transport::FrameSink {
 public:
  // `tunnel` (may be null: no overlay) must outlive this object.
  NetworkDatapath(EventLoop& loop, const core::SwitchCore::Options& options,
                  transport::RxBatch* batch, transport::Tunnel* tunnel);
  ~NetworkDatapath();
  NetworkDatapath(const NetworkDatapath&) = delete;
  NetworkDatapath& operator=(const NetworkDatapath&) = delete;

  // Takes ownership of `fd`, a connected, non-blocking SOCK_DGRAM socket. `vlan`: the VLAN
  // mode the client chose (vdemesh://...[vlan=V]); it holds while the port has clients, and
  // the port's own setting returns when the last one leaves, unless SetPortVlan() came since.
  void AddEndpoint(std::uint32_t port, std::uint64_t id, int fd,
                   const std::optional<core::PortVlan>& vlan = std::nullopt);
  void RemoveEndpoint(std::uint32_t port, std::uint64_t id);
  // Takes ownership of `fd`, a non-blocking TAP file descriptor; `udp_offload`: it takes and
  // gives UDP GSO frames.
  void AddTap(std::uint32_t port, int fd, bool udp_offload);
  // The port's own setting (vswitchctl port set): it outlives the port's clients.
  void SetPortVlan(std::uint32_t port, const core::PortVlan& vlan) {
    ports_[port].vlan_before_client.reset();
    core_.SetPortVlan(port, vlan);
  }
  // transport::FrameSink: overlay peers of this network come and go (tunnel PeerIds); a
  // removed or silent peer's MACs are forgotten.
  void OnPeerAdded(transport::PeerId peer) override;
  void OnPeerRemoved(transport::PeerId peer) override;
  void OnPeerDown(transport::PeerId peer) override { core_.ForgetPeer(peer); }
  // (rx.cc)
  void OnTunnelFrame(transport::PeerId peer, std::uint16_t vlan, std::span<std::uint8_t> frame,
                     transport::Clock::time_point now) noexcept override;
  void OnTunnelBatchDone() noexcept override { FlushAll(); }
  void RemoveAll();
  Snapshot TakeSnapshot(bool with_fdb) const;

  const core::SwitchCore& core() const { return core_; }

 private:
  template <typename Io>
  struct Watched;
  struct Endpoint;
  struct Tap;
  struct PortIo {
    std::vector<std::unique_ptr<Endpoint>> endpoints;
    std::unique_ptr<Tap> tap;
    // While a client's chosen VLAN is in force: the setting it replaced.
    std::optional<core::PortVlan> vlan_before_client;
    bool empty() const { return endpoints.empty() && !tap; }
  };

  void OnPortChanged(std::uint32_t port);
  // rx.cc
  void Drain(Endpoint& ep) noexcept;
  void Drain(Tap& tap) noexcept;
  // Adds one TAP read (virtio_net_hdr + frame) to the batch, which holds `n` frames; returns
  // the new count. Processes the batch first when the frame would not fit.
  std::size_t AddTapRead(Tap& tap, std::span<std::uint8_t> read, std::size_t n) noexcept;
  void ProcessBatch(std::uint32_t in, std::size_t n) noexcept;
  // tx.cc
  void Output(std::uint32_t port, std::span<const std::uint8_t> frame, std::uint16_t vlan) noexcept;
  void Forward(const core::Forwarding& fwd, std::span<std::uint8_t> frame) noexcept;
  // Into the tunnel; a TCP SYN's MSS is clamped to the peer's path first (mss_clamp.h).
  void ToPeer(transport::PeerId peer, std::uint16_t vlan, std::span<std::uint8_t> frame) noexcept;
  // To every local port of the VLAN except `in` (kNoPort: none), and to the peers if asked.
  void Flood(std::uint32_t in, std::span<std::uint8_t> frame, std::uint16_t vlan,
             bool to_peers) noexcept;
  void Flush(Endpoint& ep) noexcept;
  void FlushAll() noexcept;
  void WriteTap(Tap& tap, std::span<const std::uint8_t> frame, std::uint16_t vlan) noexcept;
  // To a TAP through its coalescer: TCP segments of one flow leave as one GSO write.
  void ToTap(Tap& tap, std::span<const std::uint8_t> frame, std::uint16_t vlan) noexcept;
  void FlushTap(Tap& tap) noexcept;

  EventLoop& loop_;
  core::SwitchCore core_;
  transport::RxBatch* batch_;
  transport::Tunnel* tunnel_;
  std::vector<transport::PeerId> peers_;
  std::vector<PortIo> ports_;
  std::vector<std::uint32_t> active_ports_;  // ports with at least one endpoint or a TAP
  std::vector<Endpoint*> dirty_;             // endpoints with queued frames in this batch
  std::vector<Tap*> dirty_taps_;             // TAPs with a pending coalesced run
  std::uint64_t batches_ = 0;                // batches processed, for per-wake-up budgets
  std::size_t endpoint_count_ = 0;
  PeriodicTimer aging_timer_;
};

// A file descriptor this datapath owns and watches on its loop: readable -> Drain(*this).
template <typename Io>
struct NetworkDatapath::Watched : EventLoop::Readable {
  Watched(NetworkDatapath& d, int f) : dp(d), fd(f) { dp.loop_.Watch(fd, this); }
  ~Watched() {
    dp.loop_.Unwatch(fd, this);
    close(fd);
  }
  Watched(const Watched&) = delete;
  Watched& operator=(const Watched&) = delete;
  void OnReadable() noexcept override { dp.Drain(static_cast<Io&>(*this)); }
  NetworkDatapath& dp;
  const int fd;
};

// One client connection of a VDE port (a port may have several, as in vde_switch).
struct NetworkDatapath::Endpoint final : Watched<Endpoint> {
  Endpoint(NetworkDatapath& d, std::uint32_t p, std::uint64_t i, int f)
      : Watched(d, f), port(p), id(i) {}
  std::uint32_t port;
  std::uint64_t id;
  TxQueue tx;
  bool dirty = false;
};

// A TAP port. Reads hold a virtio_net_hdr and up to a 64 KiB TSO super-frame, so they land in
// buffers of their own (tap_reader.h) and are cut into the shard's batch (tso.h); UDP GSO
// reads too.
struct NetworkDatapath::Tap final : Watched<Tap> {
  Tap(NetworkDatapath& d, std::uint32_t p, int f, bool udp_offload)
      : Watched(d, f), port(p), reader(f), coalescer(udp_offload) {}
  std::uint32_t port;
  TapReader reader;
  core::GsoCoalescer coalescer;  // segments for this TAP, written as one GSO frame
  bool dirty = false;            // the coalescer holds a run to write at the end of the batch
};

}  // namespace vdemesh::datapath
