// tunnel.h: the per-packet half of the overlay: UDP in and out, session keys, peers' endpoints.
//
// Thread affinity: one datapath shard. The control thread (handshakes, timers, peer exchange)
// reaches it only by posting: AddPeer, InstallKeypair, SendKeepalive... The shard reports back
// through TunnelEvents, whose implementation posts to the control thread. Timestamps the
// control thread needs every tick (last rx/tx, age of the current keys) are relaxed atomics in
// PeerClock, written here and only read there.
//
// Receive pipeline (rx.cc): recvmmsg a batch of UDP GRO buffers (many datagrams of one flow
// each, split by the GRO segment size) -> Classify -> handshake packets are copied to the
// control thread (bounded) -> data: find keys by receiver index -> replay pre-check -> open in
// place (header = AD) -> replay window -> roam the endpoint -> inner message: a frame goes to the
// peer's network (FrameSink), a keepalive only refreshes timers, peer exchange goes to control.
// Transmit (tx.cc): a frame is copied into a tx slot behind room for the header, sealed in
// place, and sent with the rest of the batch by one sendmmsg per socket, in which each run of
// equal-sized datagrams to one peer is one UDP GSO message (UDP_SEGMENT).
//
// Transport knows nothing of MAC addresses; frames are bytes plus a VLAN number.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/event_loop.h"
#include "transport/batch.h"
#include "transport/constants.h"
#include "transport/endpoint.h"
#include "transport/gro_batch.h"
#include "transport/keypair.h"
#include "transport/udp_sockets.h"
#include "transport/udp_tx_queue.h"
#include "transport/wire.h"

namespace vdemesh::transport {

using PeerId = std::uint32_t;
using Clock = std::chrono::steady_clock;
class Tunnel;

// Where the frames of one network go up; implemented by vswitchd's NetworkDatapath.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // `frame` is an untagged Ethernet frame of `vlan` (unchecked: the sink validates it). It
  // stays valid until OnTunnelBatchDone().
  virtual void OnTunnelFrame(PeerId peer, std::uint16_t vlan, std::span<std::uint8_t> frame,
                             Clock::time_point now) noexcept = 0;
  virtual void OnTunnelBatchDone() noexcept = 0;
  // Control events, on the shard: a peer joins or leaves the network, or went silent (its MACs
  // must be forgotten so traffic floods until they are learned again).
  virtual void OnPeerAdded(PeerId peer) = 0;
  virtual void OnPeerRemoved(PeerId peer) = 0;
  virtual void OnPeerDown(PeerId peer) = 0;
};

// Things the control thread must hear; called on the shard, implementations post.
class TunnelEvents {
 public:
  virtual ~TunnelEvents() = default;
  // `via` received it; it waits for via.HandshakeDone() (a bound on the packets in flight).
  virtual void OnHandshakePacket(Tunnel& via, const Endpoint& from,
                                 std::span<const std::uint8_t> pkt) = 0;
  virtual void OnPeerExchange(PeerId peer, std::span<const std::uint8_t> body) = 0;
  virtual void OnEndpointChanged(PeerId peer, const Endpoint& endpoint) = 0;
};

enum class TunnelDrop : std::uint8_t {
  kMalformed,        // not one of our packet types and sizes
  kUnknownReceiver,  // no session with that index (stale, forged, or after our restart)
  kKeyExpired,       // a session too old or too used to accept
  kBadTag,           // failed authentication
  kReplayed,         // counter already seen or too old for the window
  kBadInner,         // authenticated, but an inner message we do not understand
  kHandshakeBusy,    // too many handshake packets waiting for the control thread
  kNoSession,        // a frame for a peer with no usable session yet
  kTxFull,           // the UDP socket's buffer was full
  kTxError,
  kCount
};
inline constexpr std::size_t kTunnelDropCount = static_cast<std::size_t>(TunnelDrop::kCount);
const char* TunnelDropName(TunnelDrop d) noexcept;

struct PeerCounters {
  std::uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
  std::uint64_t rx_frames = 0, tx_frames = 0;
  std::array<std::uint64_t, kTunnelDropCount> drops{};
};

// Written by the shard, read by the control thread's tick. Nanoseconds of Clock; 0 = never.
struct PeerClock {
  std::atomic<std::int64_t> last_rx{0};        // any authenticated packet
  std::atomic<std::int64_t> last_rx_frame{0};  // an authenticated frame (not a keepalive)
  std::atomic<std::int64_t> last_tx{0};        // any packet sent
  // The first frame sent since the last authenticated packet received; 0 once answered.
  std::atomic<std::int64_t> unanswered_since{0};
  std::atomic<std::int64_t> current_created{0};  // the keys in use for sending
  std::atomic<bool> current_initiator{false};
  std::atomic<std::uint64_t> current_sent{0};
};

struct PeerSnapshot {
  PeerId id;
  Endpoint endpoint;
  PeerCounters counters;
  bool has_session;
};

class Tunnel {
 public:
  static constexpr std::size_t kMaxPeers = 1024;
  static constexpr int kRxBudget = 8;
  static constexpr int kMaxPendingHandshakes = 256;
  static constexpr std::size_t kMaxGsoSegments = 64;  // UDP_MAX_SEGMENTS of Linux 6.1
  static constexpr std::size_t kMaxGsoBytes = 65000;  // one IP packet's worth

  // `sockets` must outlive the Tunnel.
  Tunnel(EventLoop& loop, const UdpSockets& sockets);
  // Starts receiving; `events` must outlive the Tunnel.
  void Start(TunnelEvents* events);
  ~Tunnel();
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  // --- control plane, on the shard (posted) ---
  void AddPeer(PeerId id, FrameSink* sink, const Endpoint& endpoint);
  void RemovePeer(PeerId id);  // wipes its keys
  // Initiator keys wait as `next` until the first packet proves the responder has them;
  // responder keys are used at once, and a keepalive tells the initiator so.
  void InstallKeypair(PeerId id, std::unique_ptr<Keypair> kp, const Endpoint& endpoint);
  void ExpireKeys(PeerId id, Clock::time_point now);  // drops keys past kRejectAfterTime
  void WipeKeys(PeerId id);
  void SendKeepalive(PeerId id) noexcept;
  void SendPeerExchange(PeerId id, std::span<const std::uint8_t> body) noexcept;
  void HandshakeDone() { pending_handshakes_.fetch_sub(1, std::memory_order_relaxed); }
  std::vector<PeerSnapshot> Snapshot() const;
  const std::array<std::uint64_t, kTunnelDropCount>& drops() const { return drops_; }
  PeerClock& clock(PeerId id) { return peers_[id].clock; }
  EventLoop& loop() const { return loop_; }
  const UdpSockets& sockets() const { return sockets_; }

  // The largest frame that reaches `peer` in one unfragmented UDP datagram.
  std::size_t PathFrameLimit(PeerId peer) const noexcept {
    const std::size_t ip_udp = peers_[peer].endpoint.family() == AF_INET6 ? 48 : 28;
    return underlay_mtu_ - ip_udp - kTunnelOverhead;
  }
  void set_underlay_mtu(std::size_t mtu) { underlay_mtu_ = mtu; }

  // --- data path ---
  // Seals and queues one frame for `peer`; sent at Flush() or when the batch fills.
  void SendFrame(PeerId peer, std::uint16_t vlan, std::span<const std::uint8_t> frame) noexcept;
  void Flush() noexcept;

 private:
  struct Peer {
    bool used = false;
    FrameSink* sink = nullptr;
    Endpoint endpoint;
    std::unique_ptr<Keypair> current, previous, next;
    PeerCounters counters;
    PeerClock clock;
  };

  // One UDP socket on the loop: readable -> Drain(fd).
  struct SocketWatch final : EventLoop::Readable {
    SocketWatch(Tunnel& t, int f) : tunnel(t), fd(f) { tunnel.loop_.Watch(fd, this); }
    ~SocketWatch() { tunnel.loop_.Unwatch(fd, this); }  // the fd belongs to UdpSockets
    SocketWatch(const SocketWatch&) = delete;
    SocketWatch& operator=(const SocketWatch&) = delete;
    void OnReadable() noexcept override { tunnel.Drain(fd); }
    Tunnel& tunnel;
    const int fd;
  };
  void Drain(int fd) noexcept;
  void ProcessBatch(std::size_t n) noexcept;
  void ProcessDatagram(std::span<std::uint8_t> pkt, const Endpoint& from) noexcept;
  void ProcessData(std::span<std::uint8_t> pkt, const Endpoint& from) noexcept;
  void Deliver(Peer& peer, PeerId id, std::span<std::uint8_t> plain) noexcept;
  void Promote(Peer& peer) noexcept;
  void PublishCurrent(Peer& peer) noexcept;
  void Drop(TunnelDrop d) noexcept { ++drops_[static_cast<std::size_t>(d)]; }
  void Drop(Peer& peer, TunnelDrop d) noexcept {
    Drop(d);
    ++peer.counters.drops[static_cast<std::size_t>(d)];
  }
  void Forget(std::unique_ptr<Keypair>& kp);
  // tx.cc
  // Seals [inner header][body] (or nothing at all: a keepalive) for the peer's current keys.
  void Enqueue(PeerId id, const std::uint8_t* inner_header, std::span<const std::uint8_t> body,
               bool is_frame) noexcept;
  void FlushFamily(int family) noexcept;
  std::size_t PackMessages(UdpTxQueue::Family& q, std::size_t first_entry) noexcept;
  void Sent(UdpTxQueue::Family& q, std::size_t from, std::size_t to, std::int64_t now) noexcept;

  EventLoop& loop_;
  const UdpSockets& sockets_;
  TunnelEvents* events_ = nullptr;
  std::vector<std::unique_ptr<SocketWatch>> watchers_;
  std::unique_ptr<Peer[]> peers_;
  std::unordered_map<std::uint32_t, Keypair*> by_index_;  // local index -> keys
  std::vector<FrameSink*> sinks_in_batch_;
  std::unique_ptr<UdpTxQueue> tx_;
  std::unique_ptr<GroBatch> gro_;
  std::array<std::uint64_t, kTunnelDropCount> drops_{};
  std::atomic<int> pending_handshakes_{0};
  Clock::time_point now_{};  // read once per received batch
  std::size_t underlay_mtu_ = 1500;
  bool gso_ = true;  // UDP_SEGMENT works here (cleared on the first refusal)
};

}  // namespace vdemesh::transport
