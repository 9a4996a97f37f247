#include "transport/tunnel.h"

#include "common/check.h"
#include "transport/udp_tx_queue.h"

namespace vdemesh::transport {

const char* TunnelDropName(TunnelDrop d) noexcept {
  switch (d) {
    case TunnelDrop::kMalformed:
      return "malformed";
    case TunnelDrop::kUnknownReceiver:
      return "unknown_receiver";
    case TunnelDrop::kKeyExpired:
      return "key_expired";
    case TunnelDrop::kBadTag:
      return "bad_tag";
    case TunnelDrop::kReplayed:
      return "replayed";
    case TunnelDrop::kBadInner:
      return "bad_inner";
    case TunnelDrop::kHandshakeBusy:
      return "handshake_busy";
    case TunnelDrop::kNoSession:
      return "no_session";
    case TunnelDrop::kTxFull:
      return "tx_full";
    case TunnelDrop::kTxError:
      return "tx_error";
    case TunnelDrop::kCount:
      break;
  }
  return "unknown";
}

Tunnel::Tunnel(EventLoop& loop, const UdpSockets& sockets)
    : loop_(loop),
      sockets_(sockets),
      peers_(std::make_unique<Peer[]>(kMaxPeers)),
      tx_(std::make_unique<UdpTxQueue>()),
      gro_(std::make_unique<GroBatch>()) {
  sinks_in_batch_.reserve(64);
  by_index_.reserve(4 * kMaxPeers);  // rehashing happens at handshakes, never per packet
}

void Tunnel::Start(TunnelEvents* events) {
  events_ = events;
  for (int fd : sockets_.fds()) watchers_.push_back(std::make_unique<SocketWatch>(*this, fd));
}

// The socket watches unwatch themselves (a pending event of the current turn is dropped too), and
// nothing else runs on the loop meanwhile: no packet is handled after this.
Tunnel::~Tunnel() = default;

void Tunnel::AddPeer(PeerId id, FrameSink* sink, const Endpoint& endpoint) {
  VDEMESH_CHECK(id < kMaxPeers && !peers_[id].used);
  Peer& p = peers_[id];
  p.used = true;
  p.sink = sink;
  p.endpoint = endpoint;
  p.counters = {};
}

void Tunnel::RemovePeer(PeerId id) {
  VDEMESH_CHECK(id < kMaxPeers);
  WipeKeys(id);
  peers_[id].used = false;
  peers_[id].sink = nullptr;
}

void Tunnel::Forget(std::unique_ptr<Keypair>& kp) {
  if (!kp) return;
  by_index_.erase(kp->local_index);
  kp.reset();
}

void Tunnel::PublishCurrent(Peer& p) noexcept {
  const auto created = p.current ? p.current->created.time_since_epoch().count() : 0;
  p.clock.current_created.store(created, std::memory_order_relaxed);
  p.clock.current_initiator.store(p.current && p.current->initiator, std::memory_order_relaxed);
  p.clock.current_sent.store(p.current ? p.current->send_counter : 0, std::memory_order_relaxed);
}

void Tunnel::InstallKeypair(PeerId id, std::unique_ptr<Keypair> kp, const Endpoint& endpoint) {
  VDEMESH_CHECK(id < kMaxPeers && peers_[id].used);
  Peer& p = peers_[id];
  p.endpoint = endpoint;
  by_index_[kp->local_index] = kp.get();
  if (kp->initiator) {
    Forget(p.next);
    p.next = std::move(kp);
    return;
  }
  Forget(p.previous);
  p.previous = std::move(p.current);
  p.current = std::move(kp);
  PublishCurrent(p);
  SendKeepalive(id);
  Flush();
}

void Tunnel::Promote(Peer& p) noexcept {
  Forget(p.previous);
  p.previous = std::move(p.current);
  p.current = std::move(p.next);
  PublishCurrent(p);
}

void Tunnel::ExpireKeys(PeerId id, Clock::time_point now) {
  Peer& p = peers_[id];
  for (auto* kp : {&p.current, &p.previous, &p.next})
    if (*kp && now - (*kp)->created >= kRejectAfterTime) Forget(*kp);
  PublishCurrent(p);
}

void Tunnel::WipeKeys(PeerId id) {
  Peer& p = peers_[id];
  Forget(p.current);
  Forget(p.previous);
  Forget(p.next);
  PublishCurrent(p);
}

std::vector<PeerSnapshot> Tunnel::Snapshot() const {
  std::vector<PeerSnapshot> out;
  for (PeerId id = 0; id < kMaxPeers; ++id) {
    const Peer& p = peers_[id];
    if (p.used) out.push_back({id, p.endpoint, p.counters, p.current != nullptr});
  }
  return out;
}

}  // namespace vdemesh::transport
