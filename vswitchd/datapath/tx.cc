// tx.cc: the transmit half of the per-packet path (see network_datapath.h for the pipeline).
// Per-packet rules apply: noexcept, no allocation, no logging, every drop counted.
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

#include "vswitchd/core/mss_clamp.h"
#include "vswitchd/datapath/network_datapath.h"

namespace vdemesh::datapath {

void NetworkDatapath::Output(std::uint32_t port, std::span<const std::uint8_t> frame,
                             std::uint16_t vlan) noexcept {
  if (!core_.Carries(port, vlan)) return;
  const std::uint16_t tag = core_.EgressTagged(port, vlan) ? vlan : 0;
  PortIo& io = ports_[port];
  for (auto& ep : io.endpoints) {
    if (ep->tx.full()) Flush(*ep);
    ep->tx.Push(frame, tag);
    if (!ep->dirty) {
      ep->dirty = true;
      dirty_.push_back(ep.get());
    }
  }
  if (io.tap) ToTap(*io.tap, frame, tag);
}

void NetworkDatapath::Forward(const core::Forwarding& fwd, std::span<std::uint8_t> frame) noexcept {
  if (fwd.to.kind == core::Location::Kind::kPort) {
    Output(fwd.to.index, frame, fwd.vlan);
  } else if (tunnel_ != nullptr) {
    ToPeer(fwd.to.index, fwd.vlan, frame);
  }
}

void NetworkDatapath::ToPeer(transport::PeerId peer, std::uint16_t vlan,
                             std::span<std::uint8_t> frame) noexcept {
  core::ClampTcpMss(frame, tunnel_->PathFrameLimit(peer));
  tunnel_->SendFrame(peer, vlan, frame);
}

void NetworkDatapath::Flood(std::uint32_t in, std::span<std::uint8_t> frame, std::uint16_t vlan,
                            bool to_peers) noexcept {
  for (std::uint32_t port : active_ports_)
    if (port != in) Output(port, frame, vlan);
  if (to_peers && tunnel_ != nullptr)
    for (transport::PeerId peer : peers_) ToPeer(peer, vlan, frame);
}

void NetworkDatapath::Flush(Endpoint& ep) noexcept {
  TxQueue& q = ep.tx;
  core::PortCounters& c = core_.counters(ep.port);
  std::size_t sent = 0;
  int enobufs = 0;
  while (sent < q.size()) {
    const int n = sendmmsg(ep.fd, q.msgs() + sent, static_cast<unsigned>(q.size() - sent),
                           MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      for (int i = 0; i < n; ++i) c.tx_bytes += q.bytes(sent + i);
      c.tx_frames += static_cast<std::uint64_t>(n);
      sent += static_cast<std::size_t>(n);
      continue;
    }
    // ENOBUFS is transient memory pressure: retry a little, then give up on this batch.
    if (n < 0 && errno == ENOBUFS && ++enobufs <= kEnobufsRetries) continue;
    if (n < 0 && errno == EINTR) continue;
    // A full client queue (EAGAIN) means a slow reader: drop rather than wait for it.
    const bool full = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS);
    c.drops[static_cast<std::size_t>(full ? core::Drop::kTxFull : core::Drop::kTxError)] +=
        q.size() - sent;
    break;
  }
  q.Clear();
}

void NetworkDatapath::FlushAll() noexcept {
  for (Endpoint* ep : dirty_) {
    Flush(*ep);
    ep->dirty = false;
  }
  dirty_.clear();
  for (Tap* tap : dirty_taps_) FlushTap(*tap);
  dirty_taps_.clear();
  if (tunnel_ != nullptr) tunnel_->Flush();
}

void NetworkDatapath::WriteTap(Tap& tap, std::span<const std::uint8_t> frame,
                               std::uint16_t tag) noexcept {
  core::PortCounters& c = core_.counters(tap.port);
  // An all-zero virtio_net_hdr: a plain frame with its checksums complete.
  static constexpr std::uint8_t kPlainFrame[core::VnetHeader::kBytes] = {};
  std::uint8_t tag_bytes[core::kVlanTagBytes];
  iovec iov[4];
  iov[0] = {const_cast<std::uint8_t*>(kPlainFrame), sizeof kPlainFrame};
  const auto parts = static_cast<int>(1 + FrameIovecs(frame, tag, iov + 1, tag_bytes));
  const ssize_t n = writev(tap.fd, iov, parts);
  if (n < 0) {
    c.Count(errno == EAGAIN || errno == ENOBUFS ? core::Drop::kTxFull : core::Drop::kTxError);
    return;
  }
  ++c.tx_frames;
  c.tx_bytes += static_cast<std::uint64_t>(n) - sizeof kPlainFrame;
}

void NetworkDatapath::ToTap(Tap& tap, std::span<const std::uint8_t> frame,
                            std::uint16_t tag) noexcept {
  if (tag == 0 && tap.coalescer.Append(frame)) return;
  FlushTap(tap);
  if (tag == 0 && tap.coalescer.Start(frame)) {
    if (!tap.dirty) {
      tap.dirty = true;
      dirty_taps_.push_back(&tap);
    }
    return;
  }
  WriteTap(tap, frame, tag);
}

void NetworkDatapath::FlushTap(Tap& tap) noexcept {
  tap.dirty = false;
  if (tap.coalescer.empty()) return;
  const std::size_t segments = tap.coalescer.segments();
  core::VnetHeader h;
  const std::span<const std::uint8_t> frame = tap.coalescer.Finish(&h);
  std::uint8_t hdr[core::VnetHeader::kBytes];
  h.Write(hdr);
  const iovec iov[2] = {{hdr, sizeof hdr}, {const_cast<std::uint8_t*>(frame.data()), frame.size()}};
  core::PortCounters& c = core_.counters(tap.port);
  if (writev(tap.fd, iov, 2) < 0) {
    c.drops[static_cast<std::size_t>(errno == EAGAIN || errno == ENOBUFS ? core::Drop::kTxFull
                                                                         : core::Drop::kTxError)] +=
        segments;
    return;
  }
  c.tx_frames += segments;
  c.tx_bytes += frame.size();
}

}  // namespace vdemesh::datapath
