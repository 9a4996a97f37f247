// rx.cc: the receive half of the tunnel's per-packet path (pipeline in tunnel.h).
// Per-packet rules apply: noexcept, no allocation, no logging, every drop counted.
#include <sys/socket.h>

#include <algorithm>

#include "transport/tunnel.h"

namespace vdemesh::transport {

void Tunnel::Drain(int fd) noexcept {
  for (int round = 0; round < kRxBudget; ++round) {
    const int n = recvmmsg(fd, gro_->Prepare(), GroBatch::kEntries, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;
    loop_.NoteTraffic();
    ProcessBatch(static_cast<std::size_t>(n));
    if (static_cast<std::size_t>(n) < GroBatch::kEntries) return;
  }
  loop_.YieldAfterTurn();  // the budget ran out before the socket's queue did
}

void Tunnel::ProcessBatch(std::size_t n) noexcept {
  now_ = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    const Endpoint from = Endpoint::FromSockaddr(gro_->source(i), gro_->source_length(i));
    const std::span<std::uint8_t> data = gro_->data(i);
    if (gro_->truncated(i)) {
      Drop(TunnelDrop::kMalformed);
      continue;
    }
    // GRO: equal-sized datagrams back to back (the last may be shorter); else just one.
    const std::size_t seg = gro_->segment_size(i);
    if (seg == 0 || seg >= data.size()) {
      ProcessDatagram(data, from);
      continue;
    }
    for (std::size_t off = 0; off < data.size(); off += seg)
      ProcessDatagram(data.subspan(off, std::min(seg, data.size() - off)), from);
  }
  for (FrameSink* sink : sinks_in_batch_) sink->OnTunnelBatchDone();
  sinks_in_batch_.clear();
  Flush();
}

void Tunnel::ProcessDatagram(std::span<std::uint8_t> pkt, const Endpoint& from) noexcept {
  const auto type = Classify(pkt);
  if (!type) {
    Drop(TunnelDrop::kMalformed);
  } else if (*type == MessageType::kData) {
    ProcessData(pkt, from);
  } else if (pending_handshakes_.load(std::memory_order_relaxed) >= kMaxPendingHandshakes) {
    Drop(TunnelDrop::kHandshakeBusy);  // the control thread is behind: shed load here
  } else {
    pending_handshakes_.fetch_add(1, std::memory_order_relaxed);
    events_->OnHandshakePacket(*this, from, pkt);
  }
}

void Tunnel::ProcessData(std::span<std::uint8_t> pkt, const Endpoint& from) noexcept {
  const DataHeader hdr = DataHeader::Read(pkt.data());
  const auto it = by_index_.find(hdr.receiver);
  if (it == by_index_.end()) return Drop(TunnelDrop::kUnknownReceiver);
  Keypair* kp = it->second;
  Peer& peer = peers_[kp->peer];
  if (hdr.counter >= kRejectAfterMessages) return Drop(peer, TunnelDrop::kKeyExpired);
  // Cheap test first; the authoritative one follows the tag check (a forged counter must not
  // move the window).
  if (!kp->replay.WouldAccept(hdr.counter)) return Drop(peer, TunnelDrop::kReplayed);
  const std::size_t body_len = pkt.size() - kDataHeaderBytes - kTagBytes;
  std::span<std::uint8_t> plain(pkt.data() + kDataHeaderBytes, body_len);
  if (!kp->recv_key.Open(hdr.counter, pkt.first(kDataHeaderBytes), plain,
                         pkt.data() + kDataHeaderBytes + body_len))
    return Drop(peer, TunnelDrop::kBadTag);
  if (!kp->replay.Accept(hdr.counter)) return Drop(peer, TunnelDrop::kReplayed);

  ++peer.counters.rx_packets;
  peer.counters.rx_bytes += pkt.size();
  peer.clock.last_rx.store(now_.time_since_epoch().count(), std::memory_order_relaxed);
  peer.clock.unanswered_since.store(0, std::memory_order_relaxed);
  if (kp == peer.next.get()) Promote(peer);
  // SECURITY: roaming only after the tag and the replay window passed, so a replayed packet
  // from another address cannot redirect the peer's traffic.
  if (!(from == peer.endpoint)) {
    peer.endpoint = from;
    events_->OnEndpointChanged(kp->peer, from);
  }
  Deliver(peer, kp->peer, plain);
}

void Tunnel::Deliver(Peer& peer, PeerId id, std::span<std::uint8_t> plain) noexcept {
  if (plain.empty()) return;  // a keepalive: the timestamps above were its whole point
  if (plain.size() < kInnerHeaderBytes || plain[1] != 0) return Drop(peer, TunnelDrop::kBadInner);
  const std::uint16_t vlan = static_cast<std::uint16_t>(plain[2] << 8 | plain[3]);
  const auto body = plain.subspan(kInnerHeaderBytes);
  switch (static_cast<InnerKind>(plain[0])) {
    case InnerKind::kFrame:
      ++peer.counters.rx_frames;
      peer.clock.last_rx_frame.store(now_.time_since_epoch().count(), std::memory_order_relaxed);
      peer.sink->OnTunnelFrame(id, vlan, body, now_);
      if (std::find(sinks_in_batch_.begin(), sinks_in_batch_.end(), peer.sink) ==
          sinks_in_batch_.end())
        sinks_in_batch_.push_back(peer.sink);
      return;
    case InnerKind::kPeers:
      events_->OnPeerExchange(id, body);
      return;
  }
  Drop(peer, TunnelDrop::kBadInner);
}

}  // namespace vdemesh::transport
