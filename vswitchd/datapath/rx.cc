// rx.cc: the receive half of the per-packet path (see network_datapath.h for the pipeline).
// Per-packet rules apply: noexcept, no allocation, no logging, every drop counted.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "vswitchd/datapath/network_datapath.h"

namespace vdemesh::datapath {

static_assert(TapReader::kReadBytes == core::VnetHeader::kBytes + 65536 + 14);

// Reads of this size or less on average are batched (Drain(Tap&)): ordinary frames, not TSO.
constexpr std::size_t kSmallRead = 2048;

using core::Forwarding;

void NetworkDatapath::Drain(Endpoint& ep) noexcept {
  const int fd = ep.fd;
  for (int round = 0; round < kRxBudget; ++round) {
    const int n = recvmmsg(fd, batch_->msgs(), transport::kBatchSize, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;  // EAGAIN: drained. Other errors: the ctl stream's EOF will unplug it.
    loop_.NoteTraffic();
    ProcessBatch(ep.port, static_cast<std::size_t>(n));
    if (static_cast<std::size_t>(n) < transport::kBatchSize) return;
  }
  loop_.YieldAfterTurn();  // the budget ran out before the client's queue did
}

void NetworkDatapath::Drain(Tap& tap) noexcept {
  // The budget counts batches, not reads: one read of a TSO super-frame fills most of a batch.
  const std::uint64_t first_batch = batches_;
  std::size_t n = 0;
  // The first read of a wake-up is alone and goes out before we look for more: at low rates
  // that look finds nothing, and a ping should not wait for it. The look is a plain read() too,
  // the cheapest call that finds nothing (1.3 us here, against 2.1 for four reads in one
  // io_uring submission). Then small frames are read in growing batches (tap_reader.h), 4, then
  // 16 at a time, until one comes back short: the queue is empty. TSO super-frames are read one
  // at a time: a system call per 64 KiB costs nothing, and each is cut and sealed while it is
  // still in the cache.
  std::size_t want = 1;
  bool drained = false;
  for (std::size_t reads = 0;
       reads < kRxBudget * transport::kBatchSize && batches_ - first_batch < kRxBudget;) {
    const auto frames = tap.reader.Read(want);
    std::size_t bytes = 0;
    for (const auto frame : frames) {
      n = AddTapRead(tap, frame, n);
      bytes += frame.size();
    }
    if (reads == 0 && n > 0) {
      ProcessBatch(tap.port, n);
      n = 0;
    }
    reads += frames.size();
    if (frames.size() < want) {
      drained = true;
      break;
    }
    const bool first_look = reads == frames.size();  // 1 frame so far: the next call looks
    want = bytes > want * kSmallRead || first_look ? 1 : std::min(want * 4, TapReader::kMaxBatch);
  }
  if (n > 0) ProcessBatch(tap.port, n);
  if (batches_ != first_batch) loop_.NoteTraffic();
  if (!drained) loop_.YieldAfterTurn();  // a guest sending faster than we carry
}

std::size_t NetworkDatapath::AddTapRead(Tap& tap, std::span<std::uint8_t> read,
                                        std::size_t n) noexcept {
  core::PortCounters& c = core_.counters(tap.port);
  if (read.size() < core::VnetHeader::kBytes) {
    c.Count(core::Drop::kTooShort);
    return n;
  }
  const core::VnetHeader h = core::VnetHeader::Read(read.data());
  std::span<std::uint8_t> frame = read.subspan(core::VnetHeader::kBytes);
  const std::uint8_t gso = h.gso_type & static_cast<std::uint8_t>(~core::VnetHeader::kGsoEcn);
  const bool tcp = gso == core::VnetHeader::kGsoTcpV4 || gso == core::VnetHeader::kGsoTcpV6;
  if (tcp || gso == core::VnetHeader::kGsoUdpL4) {
    // A TSO super-frame: the guest's gso_size already fits the tunnel (its MSS was clamped on
    // the way out), so cutting at gso_size within the frame limit gives ordinary frames. A USO
    // one is cut into the datagrams the application wrote.
    const auto segment = tcp ? core::SegmentTcp : core::SegmentUdp;
    std::array<std::uint8_t*, transport::kBatchSize> slots;
    std::array<std::size_t, transport::kBatchSize> lens;
    for (int attempt = 0; attempt < 2; ++attempt) {
      for (std::size_t i = n; i < transport::kBatchSize; ++i) slots[i - n] = batch_->slot(i);
      const std::size_t room = transport::kBatchSize - n;
      const std::size_t k =
          segment(frame, h.gso_size, core_.max_frame(), {slots.data(), room}, {lens.data(), room});
      if (k > 0) {
        for (std::size_t i = 0; i < k; ++i) batch_->set_length(n + i, lens[i]);
        return n + k;
      }
      if (n == 0) break;  // it does not fit even an empty batch: not segmentable
      ProcessBatch(tap.port, n);
      n = 0;
    }
    c.Count(core::Drop::kTooLong);
    return n;
  }
  if ((h.flags & core::VnetHeader::kNeedsCsum) != 0 &&
      !core::CompleteChecksum(frame, h.csum_start, h.csum_offset)) {
    c.Count(core::Drop::kTooShort);
    return n;
  }
  if (frame.size() > transport::kMaxFrameBytes) {
    c.Count(core::Drop::kTooLong);
    return n;
  }
  std::memcpy(batch_->slot(n), frame.data(), frame.size());
  batch_->set_length(n, frame.size());
  if (++n < transport::kBatchSize) return n;
  ProcessBatch(tap.port, n);
  return 0;
}

void NetworkDatapath::ProcessBatch(std::uint32_t in, std::size_t n) noexcept {
  ++batches_;
  const auto now = core::Clock::now();  // one clock read per batch, not per frame
  for (std::size_t i = 0; i < n; ++i) {
    std::span<std::uint8_t> frame = batch_->frame(i);
    if (batch_->truncated(i)) {
      core::PortCounters& c = core_.counters(in);
      ++c.rx_frames;
      c.rx_bytes += frame.size();
      c.Count(core::Drop::kTooLong);
      continue;
    }
    const Forwarding fwd = core_.Ingress(in, &frame, now);
    if (fwd.action == Forwarding::Action::kFlood) {
      Flood(in, frame, fwd.vlan, /*to_peers=*/true);
    } else if (fwd.action == Forwarding::Action::kUnicast) {
      Forward(fwd, frame);
    }
  }
  FlushAll();
}

void NetworkDatapath::OnTunnelFrame(transport::PeerId peer, std::uint16_t vlan,
                                    std::span<std::uint8_t> frame,
                                    transport::Clock::time_point now) noexcept {
  const Forwarding fwd = core_.IngressFromPeer(peer, vlan, frame, now);
  if (fwd.action == Forwarding::Action::kFlood) {
    Flood(kNoPort, frame, vlan, /*to_peers=*/false);  // split horizon
  } else if (fwd.action == Forwarding::Action::kUnicast) {
    Forward(fwd, frame);
  }
}

}  // namespace vdemesh::datapath
