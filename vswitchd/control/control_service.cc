#include "vswitchd/control/control_service.h"

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <map>

#include "crypto/keys.h"
#include "transport/peer_manager.h"
#include "transport/udp_sockets.h"
#include "vswitchd/core/vlan.h"
#include "vswitchd/datapath/network_datapath.h"
#include "vswitchd/vde/vde_server.h"

namespace vdemesh::control {

namespace {

constexpr auto kShardTimeout = std::chrono::seconds(2);

// Runs fn on the shard and waits for its result; nullopt if the shard does not answer in time.
template <typename Fn>
auto RunOnShard(EventLoop& shard, Fn fn) -> std::optional<decltype(fn())> {
  auto task = std::make_shared<std::packaged_task<decltype(fn())()>>(std::move(fn));
  auto result = task->get_future();
  shard.Post([task] { (*task)(); });
  if (result.wait_for(kShardTimeout) != std::future_status::ready) return std::nullopt;
  return result.get();
}

Response Error(const std::string& message) {
  Response r;
  r.set_error(message);
  return r;
}

// Puts every counter of an enum-indexed drop array into a proto map under its reason's name;
// zero counters only with `with_zeros` (switch-wide drops list every reason).
template <typename Reason, std::size_t N, typename NameFn>
void FillDrops(const std::array<std::uint64_t, N>& drops, NameFn name,
               google::protobuf::Map<std::string, std::uint64_t>* out, bool with_zeros = false) {
  for (std::size_t d = 0; d < N; ++d)
    if (with_zeros || drops[d] != 0) (*out)[name(static_cast<Reason>(d))] = drops[d];
}

void FillCounters(const core::PortCounters& c, Counters* out) {
  out->set_rx_frames(c.rx_frames);
  out->set_rx_bytes(c.rx_bytes);
  out->set_tx_frames(c.tx_frames);
  out->set_tx_bytes(c.tx_bytes);
  FillDrops<core::Drop>(c.drops, core::DropName, out->mutable_drops());
}

void FillVlan(const core::PortVlan& v, Port* out) {
  out->set_vlan_mode(v.is_trunk() ? "trunk" : "access");
  out->set_access_vlan(v.access_vlan());
  out->set_native_vlan(v.native_vlan());
  for (auto vid : v.allowed().ToVector()) out->add_trunk_vlans(vid);
}

void FillPort(const NetworkHandle& net, const datapath::PortSnapshot& snap,
              const std::vector<vde::EndpointInfo>& endpoints, Port* out) {
  out->set_number(snap.number);
  const bool is_tap = net.tap_port && *net.tap_port == snap.number;
  out->set_kind(is_tap ? "tap" : snap.active ? "vde" : "unused");
  if (is_tap) out->set_description("tap " + net.options->tap);
  for (const auto& e : endpoints) {
    if (e.port != snap.number) continue;
    if (out->description().empty()) out->set_description(e.description);
    Endpoint* ep = out->add_endpoints();
    ep->set_description(e.description);
    ep->set_uid(e.uid);
    ep->set_pid(static_cast<std::uint32_t>(e.pid));
    ep->set_data_socket(e.data_path);
  }
  FillVlan(snap.vlan, out);
  out->set_vlan_from_client(snap.vlan_from_client);
  FillCounters(snap.counters, out->mutable_counters());
}

}  // namespace

const NetworkHandle* ControlService::Find(const std::string& name, std::string* err) const {
  if (name.empty()) {
    if (networks_.size() == 1) return &networks_.front();
    *err = "this daemon runs several networks: name one with --network";
    return nullptr;
  }
  for (const auto& n : networks_)
    if (n.options->name == name) return &n;
  *err = "no network named '" + name + "'";
  return nullptr;
}

Response ControlService::Handle(const Request& request) {
  if (request.command_case() == Request::kStatus) return Status();
  std::string err;
  const NetworkHandle* net = Find(request.network(), &err);
  if (net == nullptr) return Error(err);
  switch (request.command_case()) {
    case Request::kPorts:
      return Ports(*net);
    case Request::kFdb:
      return Fdb(*net);
    case Request::kPortSet:
      return PortSet(*net, request.port_set());
    case Request::kPeers:
      return Peers(*net);
    default:
      return Error("unknown command");
  }
}

Response ControlService::Status() {
  Response r;
  vdemesh::control::Status* s = r.mutable_status();
  s->set_version(VDEMESH_VERSION);
  s->set_pid(static_cast<std::uint32_t>(getpid()));
  s->set_uptime_seconds(static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start_)
          .count()));
  for (const auto& net : networks_) {
    auto snap = RunOnShard(*net.shard, [dp = net.datapath] { return dp->TakeSnapshot(false); });
    if (!snap) return Error("the datapath did not answer in time");
    NetworkStatus* n = s->add_networks();
    const auto& o = *net.options;
    n->set_name(o.name);
    n->set_switch_dir(o.dir);
    n->set_tap(o.tap);
    n->set_ports_in_use(net.vde->ports_in_use());
    n->set_numports(o.numports);
    n->set_fdb_entries(snap->fdb_entries);
    n->set_fdb_max_entries(o.fdb_size);
    n->set_fdb_aging_seconds(o.fdb_aging_seconds);
    n->set_max_frame(o.max_frame);
    FillDrops<core::SwitchDrop>(snap->switch_drops, core::SwitchDropName, n->mutable_drops(),
                                /*with_zeros=*/true);
    n->set_overlay(!o.network_key.empty());
    n->set_datapath_thread(net.thread);
    n->set_busy_poll_us(static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(net.shard->busy_poll()).count()));
    if (snap->tap) n->set_tap_reads(snap->tap_batched ? "io_uring" : "read");
    if (overlay_.peers != nullptr && n->overlay()) {
      for (const auto& p : overlay_.peers->Peers(o.name)) {
        n->set_peers_total(n->peers_total() + 1);
        if (p.up) n->set_peers_up(n->peers_up() + 1);
      }
    }
  }
  if (overlay_.peers != nullptr) FillOverlay(s);
  return r;
}

void ControlService::FillOverlay(vdemesh::control::Status* status) {
  Overlay* o = status->mutable_overlay();
  o->set_public_key(crypto::EncodePublicKey(overlay_.peers->public_key()));
  o->set_fingerprint(crypto::Fingerprint(overlay_.peers->public_key()));
  std::array<std::uint64_t, transport::kTunnelDropCount> tunnel_drops{};
  for (transport::Tunnel* t : overlay_.tunnels) {
    for (const auto& e : t->sockets().LocalEndpoints()) o->add_listen(e.ToString());
    if (auto drops = RunOnShard(t->loop(), [t] { return t->drops(); }))
      for (std::size_t i = 0; i < drops->size(); ++i) tunnel_drops[i] += (*drops)[i];
  }
  FillDrops<transport::TunnelDrop>(tunnel_drops, transport::TunnelDropName, o->mutable_drops());
  FillDrops<transport::HandshakeDrop>(overlay_.peers->handshaker().drops(),
                                      transport::HandshakeDropName, o->mutable_drops());
}

Response ControlService::Peers(const NetworkHandle& net) {
  if (overlay_.peers == nullptr || net.options->network_key.empty())
    return Error("network " + net.options->name + " has no overlay (no --network-key)");
  Response r;
  PeerList* list = r.mutable_peers();
  list->set_network(net.options->name);
  for (const auto& info : overlay_.peers->Peers(net.options->name)) {
    vdemesh::control::Peer* p = list->add_peers();
    if (info.key) {
      p->set_public_key(crypto::EncodePublicKey(*info.key));
      p->set_fingerprint(crypto::Fingerprint(*info.key));
    }
    p->set_endpoint(info.endpoint.ToString());
    p->set_peer_name(info.peer_name);
    p->set_state(info.up ? "up" : "down");
    p->set_last_handshake_seconds(
        info.since_handshake
            ? std::chrono::duration_cast<std::chrono::seconds>(*info.since_handshake).count()
            : -1);
    const auto& c = info.counters;
    p->set_rx_packets(c.rx_packets);
    p->set_rx_bytes(c.rx_bytes);
    p->set_tx_packets(c.tx_packets);
    p->set_tx_bytes(c.tx_bytes);
    p->set_rx_frames(c.rx_frames);
    p->set_tx_frames(c.tx_frames);
    FillDrops<transport::TunnelDrop>(c.drops, transport::TunnelDropName, p->mutable_drops());
  }
  return r;
}

Response ControlService::Ports(const NetworkHandle& net) {
  auto snap = RunOnShard(*net.shard, [dp = net.datapath] { return dp->TakeSnapshot(false); });
  if (!snap) return Error("the datapath did not answer in time");
  const auto endpoints = net.vde->Endpoints();
  Response r;
  PortList* list = r.mutable_ports();
  list->set_network(net.options->name);
  for (const auto& p : snap->ports) FillPort(net, p, endpoints, list->add_ports());
  return r;
}

Response ControlService::Fdb(const NetworkHandle& net) {
  auto snap = RunOnShard(*net.shard, [dp = net.datapath] { return dp->TakeSnapshot(true); });
  if (!snap) return Error("the datapath did not answer in time");
  std::map<std::uint32_t, std::string> peer_names;  // tunnel PeerId -> fingerprint
  if (overlay_.peers != nullptr)
    for (const auto& p : overlay_.peers->Peers(net.options->name))
      peer_names[p.id] = p.key ? crypto::Fingerprint(*p.key) : p.endpoint.ToString();
  const auto now = core::Clock::now();
  Response r;
  FdbList* list = r.mutable_fdb();
  list->set_network(net.options->name);
  for (const auto& e : snap->fdb) {
    FdbEntry* out = list->add_entries();
    out->set_vlan(e.vlan);
    out->set_mac(e.mac.ToString());
    if (e.where.kind == core::Location::Kind::kPort) out->set_port(e.where.index);
    if (e.where.kind == core::Location::Kind::kPeer) out->set_peer(peer_names[e.where.index]);
    out->set_age_seconds(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(now - e.last_seen).count()));
  }
  return r;
}

Response ControlService::PortSet(const NetworkHandle& net, const PortSetRequest& req) {
  const std::uint32_t port = req.port();
  if (port > net.options->numports)
    return Error("no port " + std::to_string(port) + " (ports are 0.." +
                 std::to_string(net.options->numports) + ")");
  core::PortVlan vlan;
  if (req.mode_case() == PortSetRequest::kAccessVlan) {
    if (!core::IsValidVlan(req.access_vlan())) return Error("VLAN must be 1..4094");
    vlan = core::PortVlan::Access(static_cast<std::uint16_t>(req.access_vlan()));
  } else if (req.mode_case() == PortSetRequest::kTrunk) {
    core::VlanSet allowed;
    for (auto v : req.trunk().vlans()) {
      if (!core::IsValidVlan(v)) return Error("VLAN " + std::to_string(v) + " is not in 1..4094");
      allowed.Add(static_cast<std::uint16_t>(v));
    }
    const auto native = req.trunk().native_vlan();
    if (native != 0 && !core::IsValidVlan(native)) return Error("native VLAN must be 1..4094");
    if (allowed.empty() && native == 0) return Error("a trunk needs at least one VLAN");
    vlan = core::PortVlan::Trunk(allowed, static_cast<std::uint16_t>(native));
  } else {
    return Error("port set needs --vlan or --trunk");
  }
  auto snap = RunOnShard(*net.shard, [dp = net.datapath, port, vlan] {
    dp->SetPortVlan(port, vlan);
    return dp->TakeSnapshot(false);
  });
  if (!snap) return Error("the datapath did not answer in time");
  Response r;
  datapath::PortSnapshot ps{port, false, vlan, {}, false};
  for (const auto& p : snap->ports)
    if (p.number == port) ps = p;
  FillPort(net, ps, net.vde->Endpoints(), r.mutable_port());
  return r;
}

}  // namespace vdemesh::control
