// rx.cc: the receive half of the per-packet path (see network_datapath.h for the pipeline).
// Per-packet rules apply: noexcept, no allocation, no logging, every drop counted.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "vswitchd/datapath/network_datapath.h"

namespace vdemesh::datapath {

using core::Forwarding;

void NetworkDatapath::ArmEndpoint(const std::shared_ptr<Endpoint>& ep) {
  ep->sd.async_wait(boost::asio::posix::descriptor_base::wait_read,
                    [this, weak = std::weak_ptr<Endpoint>(ep)](boost::system::error_code ec) {
                      auto ep = weak.lock();
                      if (ec || !ep || !ep->sd.is_open()) return;
                      DrainEndpoint(*ep);
                      ArmEndpoint(ep);
                    });
}

void NetworkDatapath::ArmTap(const std::shared_ptr<Tap>& tap) {
  tap->sd.async_wait(boost::asio::posix::descriptor_base::wait_read,
                     [this, weak = std::weak_ptr<Tap>(tap)](boost::system::error_code ec) {
                       auto tap = weak.lock();
                       if (ec || !tap || !tap->sd.is_open()) return;
                       DrainTap(*tap);
                       ArmTap(tap);
                     });
}

void NetworkDatapath::DrainEndpoint(Endpoint& ep) noexcept {
  const int fd = ep.sd.native_handle();
  for (int round = 0; round < kRxBudget; ++round) {
    const int n = recvmmsg(fd, batch_->msgs(), transport::kBatchSize, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;  // EAGAIN: drained. Other errors: the ctl stream's EOF will unplug it.
    ProcessBatch(ep.port, static_cast<std::size_t>(n));
    if (static_cast<std::size_t>(n) < transport::kBatchSize) return;
  }
}

void NetworkDatapath::DrainTap(Tap& tap) noexcept {
  const int fd = tap.sd.native_handle();
  for (int round = 0; round < kRxBudget; ++round) {
    std::size_t n = 0;
    for (; n < transport::kBatchSize; ++n) {
      const ssize_t len = read(fd, batch_->slot(n), transport::kMaxFrameBytes);
      if (len < 0) break;
      batch_->set_length(n, static_cast<std::size_t>(len));
    }
    if (n > 0) ProcessBatch(tap.port, n);
    if (n < transport::kBatchSize) return;
  }
}

void NetworkDatapath::ProcessBatch(std::uint32_t in, std::size_t n) noexcept {
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
