#include "vswitchd/datapath/network_datapath.h"

#include <algorithm>

#include "common/check.h"

namespace vdemesh::datapath {

namespace {
constexpr auto kAgingTick = std::chrono::seconds(1);
// Slots of the FDB swept per tick (128 KiB): the default table goes round in 32 s.
constexpr std::size_t kAgingSlotsPerTick = 4096;
}  // namespace

NetworkDatapath::NetworkDatapath(EventLoop& loop, const core::SwitchCore::Options& options,
                                 transport::RxBatch* batch, transport::Tunnel* tunnel)
    : loop_(loop),
      core_(options),
      batch_(batch),
      tunnel_(tunnel),
      ports_(options.numports),
      aging_timer_(loop, kAgingTick,
                   [this] { core_.ExpireSome(core::Clock::now(), kAgingSlotsPerTick); }) {}

NetworkDatapath::~NetworkDatapath() { RemoveAll(); }

void NetworkDatapath::AddEndpoint(std::uint32_t port, std::uint64_t id, int fd,
                                  const std::optional<core::PortVlan>& vlan) {
  VDEMESH_CHECK(port < ports_.size());
  if (vlan) {
    auto& before = ports_[port].vlan_before_client;
    if (!before) before = core_.port_vlan(port);
    core_.SetPortVlan(port, *vlan);
  }
  ports_[port].endpoints.push_back(std::make_unique<Endpoint>(*this, port, id, fd));
  dirty_.reserve(++endpoint_count_);  // Flood() never reallocates mid-batch
  OnPortChanged(port);
}

void NetworkDatapath::RemoveEndpoint(std::uint32_t port, std::uint64_t id) {
  VDEMESH_CHECK(port < ports_.size());
  auto& eps = ports_[port].endpoints;
  auto it = std::find_if(eps.begin(), eps.end(), [id](const auto& e) { return e->id == id; });
  if (it == eps.end()) return;
  eps.erase(it);  // unwatches and closes it
  --endpoint_count_;
  auto& before = ports_[port].vlan_before_client;
  if (eps.empty() && before) {
    core_.SetPortVlan(port, *before);
    before.reset();
  }
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
  ports_[port].tap = std::make_unique<Tap>(*this, port, fd, udp_offload);
  dirty_taps_.reserve(dirty_taps_.capacity() + 1);  // never reallocates mid-batch
  OnPortChanged(port);
}

void NetworkDatapath::RemoveAll() {
  for (std::uint32_t p = 0; p < ports_.size(); ++p) {
    ports_[p] = PortIo{};  // unwatches and closes every fd
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
      s.ports.push_back(
          {p, core_.active(p), v, core_.counters(p), ports_[p].vlan_before_client.has_value()});
  }
  const auto now = core::Clock::now();
  if (with_fdb) core_.fdb().ForEach(now, [&](const auto& e) { s.fdb.push_back(e); });
  s.fdb_entries = core_.fdb().size();
  s.switch_drops = core_.switch_drops();
  for (const PortIo& io : ports_) {
    if (!io.tap) continue;
    s.tap = true;
    s.tap_batched = io.tap->reader.batched();
  }
  return s;
}

}  // namespace vdemesh::datapath
