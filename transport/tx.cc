// tx.cc: the transmit half of the tunnel's per-packet path (pipeline in tunnel.h).
// Per-packet rules apply: noexcept, no allocation, no logging, every drop counted.
#include <netinet/udp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "transport/tunnel.h"
#include "transport/udp_tx_queue.h"

namespace vdemesh::transport {

void Tunnel::SendFrame(PeerId id, std::uint16_t vlan,
                       std::span<const std::uint8_t> frame) noexcept {
  const std::uint8_t inner[kInnerHeaderBytes] = {static_cast<std::uint8_t>(InnerKind::kFrame), 0,
                                                 static_cast<std::uint8_t>(vlan >> 8),
                                                 static_cast<std::uint8_t>(vlan & 0xff)};
  Enqueue(id, inner, frame, true);
}

void Tunnel::SendKeepalive(PeerId id) noexcept { Enqueue(id, nullptr, {}, false); }

void Tunnel::SendPeerExchange(PeerId id, std::span<const std::uint8_t> body) noexcept {
  const std::uint8_t inner[kInnerHeaderBytes] = {static_cast<std::uint8_t>(InnerKind::kPeers), 0, 0,
                                                 0};
  Enqueue(id, inner, body, false);
}

void Tunnel::Enqueue(PeerId id, const std::uint8_t* inner_header,
                     std::span<const std::uint8_t> body, bool is_frame) noexcept {
  Peer& p = peers_[id];
  Keypair* kp = p.current.get();
  if (!p.used || kp == nullptr || kp->send_counter >= kRejectAfterMessages) {
    Drop(p, TunnelDrop::kNoSession);
    return;
  }
  UdpTxQueue::Family& q = tx_->For(p.endpoint.family());
  if (q.n == kBatchSize) FlushFamily(p.endpoint.family());
  std::uint8_t* pkt = q.slot(q.n);
  std::uint8_t* const inner = pkt + kDataHeaderBytes;
  std::size_t head_len = 0;
  if (inner_header != nullptr) {
    std::memcpy(inner, inner_header, kInnerHeaderBytes);
    head_len = kInnerHeaderBytes;
  } else {
    body = {};  // a keepalive: nothing inside
  }
  const std::size_t inner_len = head_len + body.size();
  const DataHeader hdr{kp->remote_index, kp->send_counter++};
  hdr.Write(pkt);
  // The body is sealed from where it lies into the packet: no copy of its own.
  kp->send_key.SealGather(hdr.counter, std::span<const std::uint8_t>(pkt, kDataHeaderBytes),
                          std::span<std::uint8_t>(inner, head_len), body, inner + head_len,
                          inner + inner_len);
  const std::size_t len = kDataHeaderBytes + inner_len + kTagBytes;
  q.iov[q.n] = {pkt, len};
  q.dest[q.n] = p.endpoint;
  q.peer[q.n] = id;
  q.is_frame[q.n] = is_frame;
  ++q.n;
  if (is_frame) ++p.counters.tx_frames;
}

void Tunnel::Flush() noexcept {
  FlushFamily(AF_INET);
  FlushFamily(AF_INET6);
}

// Packs entries from `i` on into messages: with GSO, a run of datagrams for one destination of
// one length (the last may be shorter) becomes one message; without, one message each.
// Returns the number of messages.
std::size_t Tunnel::PackMessages(UdpTxQueue::Family& q, std::size_t i) noexcept {
  std::size_t m = 0;
  while (i < q.n) {
    std::size_t end = i + 1;
    std::size_t total = q.iov[i].iov_len;
    if (gso_) {
      const std::size_t seg = q.iov[i].iov_len;
      while (end < q.n && end - i < kMaxGsoSegments && q.dest[end] == q.dest[i] &&
             q.iov[end].iov_len <= seg && total + q.iov[end].iov_len <= kMaxGsoBytes &&
             q.iov[end - 1].iov_len == seg) {
        total += q.iov[end].iov_len;
        ++end;
      }
    }
    mmsghdr& out = q.out[m];
    out = {};
    out.msg_hdr.msg_iov = &q.iov[i];
    out.msg_hdr.msg_iovlen = end - i;
    out.msg_hdr.msg_name = const_cast<sockaddr*>(q.dest[i].sockaddr_ptr());
    out.msg_hdr.msg_namelen = q.dest[i].length();
    if (end - i > 1) {
      out.msg_hdr.msg_control = q.cmsg[m].data();
      out.msg_hdr.msg_controllen = q.cmsg[m].size();
      cmsghdr* c = CMSG_FIRSTHDR(&out.msg_hdr);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
      const auto seg = static_cast<std::uint16_t>(q.iov[i].iov_len);
      std::memcpy(CMSG_DATA(c), &seg, sizeof seg);
    }
    q.first[m++] = i;
    i = end;
  }
  q.first[m] = q.n;
  return m;
}

void Tunnel::Sent(UdpTxQueue::Family& q, std::size_t from, std::size_t to,
                  std::int64_t now) noexcept {
  for (std::size_t k = from; k < to; ++k) {
    Peer& p = peers_[q.peer[k]];
    ++p.counters.tx_packets;
    p.counters.tx_bytes += q.iov[k].iov_len;
    p.clock.last_tx.store(now, std::memory_order_relaxed);
    if (q.is_frame[k] && p.clock.unanswered_since.load(std::memory_order_relaxed) == 0)
      p.clock.unanswered_since.store(now, std::memory_order_relaxed);
  }
}

void Tunnel::FlushFamily(int family) noexcept {
  UdpTxQueue::Family& q = tx_->For(family);
  if (q.n == 0) return;
  const int fd = sockets_.FdFor(family);
  const std::int64_t now = Clock::now().time_since_epoch().count();
  std::size_t i = 0;  // first entry not yet sent or dropped
  while (i < q.n) {
    const std::size_t msgs = PackMessages(q, i);
    // PackMessages numbers messages from 0 for entries from i on.
    const int sent =
        fd < 0 ? -1 : sendmmsg(fd, q.out.data(), static_cast<unsigned>(msgs), MSG_DONTWAIT);
    if (sent > 0) {
      const std::size_t upto = q.first[static_cast<std::size_t>(sent)];
      Sent(q, i, upto, now);
      i = upto;
      continue;
    }
    if (fd >= 0 && errno == EINTR) continue;
    if (fd >= 0 && gso_ && q.first[1] - q.first[0] > 1 &&
        (errno == EIO || errno == EINVAL || errno == EOPNOTSUPP)) {
      gso_ = false;  // the kernel or device cannot segment: send datagram by datagram
      continue;
    }
    if (fd >= 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      for (; i < q.n; ++i) Drop(peers_[q.peer[i]], TunnelDrop::kTxFull);
      break;
    }
    // One unreachable destination must not hold back the others' packets.
    for (const std::size_t end = q.first[1]; i < end; ++i)
      Drop(peers_[q.peer[i]], TunnelDrop::kTxError);
  }
  q.n = 0;
}

}  // namespace vdemesh::transport
