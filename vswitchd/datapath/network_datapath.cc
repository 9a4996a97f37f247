#include "vswitchd/datapath/network_datapath.h"

#include <algorithm>

#include "common/check.h"

namespace vdemesh::datapath {

namespace {
constexpr auto kAgingTick = std::chrono::seconds(1);
// Slots of the FDB swept per tick (128 KiB): the default table goes round in 32 s.
constexpr std::size_t kAgingSlotsPerTick = 4096;
}

NetworkDatapath::NetworkDatapath(boost::asio::io_context& io,
                                 const core::SwitchCore::Options& options,
                                 transport::RxBatch* batch, transport::Tunnel* tunnel)
    : io_(io),
      core_(options),
      batch_(batch),
      tunnel_(tunnel),
      ports_(options.numports),
      aging_timer_(io) {
  StartAgingTimer();
}

NetworkDatapath::~NetworkDatapath() { RemoveAll(); }

void NetworkDatapath::StartAgingTimer() {
  aging_timer_.expires_after(kAgingTick);
  aging_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    core_.ExpireSome(core::Clock::now(), kAgingSlotsPerTick);
    StartAgingTimer();
  });
}

void NetworkDatapath::AddEndpoint(std::uint32_t port, std::uint64_t id, int fd) {
  VDEMESH_CHECK(port < ports_.size());
  auto ep = std::make_shared<Endpoint>(io_, port, id, fd);
  ports_[port].endpoints.push_back(ep);
  dirty_.reserve(++endpoint_count_);  // Flood() never reallocates mid-batch
  OnPortChanged(port);
  Arm(ep);
}

void NetworkDatapath::RemoveEndpoint(std::uint32_t port, std::uint64_t id) {
  VDEMESH_CHECK(port < ports_.size());
  auto& eps = ports_[port].endpoints;
  auto it = std::find_if(eps.begin(), eps.end(), [id](const auto& e) { return e->id == id; });
  if (it == eps.end()) return;
  boost::system::error_code ignored;
  (*it)->sd.close(ignored);  // pending handlers see the weak_ptr expire or operation_aborted
  eps.erase(it);
  --endpoint_count_;
  OnPortChanged(port);
}

void NetworkDatapath::OnPeerAdded(transport::PeerId peer) {
  if (std::find(peers_.begin(), peers_.end(), peer) == peers_.end()) peers_.push_back(peer);
}

void NetworkDatapath::OnPeerRemoved(transport::PeerId peer) {
  peers_.erase(std::remove(peers_.begin(), peers_.end(), peer), peers_.end());
  core_.ForgetPeer(peer);
}

void NetworkDatapath::AddTap(std::uint32_t port, int fd, bool udp_offload) {
  VDEMESH_CHECK(port < ports_.size() && !ports_[port].tap);
  auto tap = std::make_shared<Tap>(io_, port, fd, udp_offload);
  ports_[port].tap = tap;
  dirty_taps_.reserve(dirty_taps_.capacity() + 1);  // never reallocates mid-batch
  OnPortChanged(port);
  Arm(tap);
}

void NetworkDatapath::RemoveAll() {
  boost::system::error_code ignored;
  aging_timer_.cancel();
  for (std::uint32_t p = 0; p < ports_.size(); ++p) {
    for (auto& ep : ports_[p].endpoints) ep->sd.close(ignored);
    if (ports_[p].tap) ports_[p].tap->sd.close(ignored);
    ports_[p] = PortIo{};
    if (core_.active(p)) core_.SetActive(p, false);
  }
  active_ports_.clear();
  endpoint_count_ = 0;
}

// Keeps SwitchCore's notion of an active port and the flood list in step with the I/O objects.
void NetworkDatapath::OnPortChanged(std::uint32_t port) {
  const bool active = !ports_[port].empty();
  if (active != core_.active(port)) core_.SetActive(port, active);
  auto it = std::find(active_ports_.begin(), active_ports_.end(), port);
  if (active && it == active_ports_.end()) {
    active_ports_.insert(std::upper_bound(active_ports_.begin(), active_ports_.end(), port), port);
  } else if (!active && it != active_ports_.end()) {
    active_ports_.erase(it);
  }
}

Snapshot NetworkDatapath::TakeSnapshot(bool with_fdb) const {
  Snapshot s;
  const core::PortVlan default_vlan = core::PortVlan::Access(core::kDefaultVlan);
  for (std::uint32_t p = 0; p < core_.numports(); ++p) {
    const core::PortVlan& v = core_.port_vlan(p);
    const bool configured = v.is_trunk() || v.access_vlan() != default_vlan.access_vlan();
    if (core_.active(p) || configured)
      s.ports.push_back({p, core_.active(p), v, core_.counters(p)});
  }
  const auto now = core::Clock::now();
  if (with_fdb) core_.fdb().ForEach(now, [&](const auto& e) { s.fdb.push_back(e); });
  s.fdb_entries = core_.fdb().size();
  s.switch_drops = core_.switch_drops();
  return s;
}

}  // namespace vdemesh::datapath
