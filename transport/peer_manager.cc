#include "transport/peer_manager.h"

#include <netinet/in.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstring>
#include <future>

#include "common/log_budget.h"
#include "transport/constants.h"
#include "transport/timers.h"

namespace vdemesh::transport {

namespace asio = boost::asio;
using TimePoint = std::chrono::steady_clock::time_point;

namespace {

constexpr auto kExchangeInterval = std::chrono::seconds(30);
constexpr std::size_t kRecordBytes = kKeyBytes + 1 + 16 + 2;  // key, family, address, port
constexpr std::size_t kRecordsPerMessage = 24;                // keeps a message under 1300 bytes

std::uint64_t WallNanoseconds() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

// A --peer written as an address: it names nothing that the endpoint does not show.
bool IsAddress(const std::string& peer_text) {
  std::string err;
  const auto hp = ParseHostPort(peer_text, kDefaultPort, &err);
  return hp && IsNumericHost(*hp);
}

std::optional<TimePoint> FromNs(std::int64_t ns) {
  if (ns == 0) return std::nullopt;
  return TimePoint(std::chrono::steady_clock::duration(ns));
}

void AppendRecord(const crypto::PublicKey& key, const Endpoint& e, std::vector<std::uint8_t>* out) {
  out->insert(out->end(), key.bytes.begin(), key.bytes.end());
  std::uint8_t addr[16] = {};
  const auto* sa = e.sockaddr_ptr();
  if (e.family() == AF_INET6) {
    std::memcpy(addr, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
  } else {
    std::memcpy(addr, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
  }
  out->push_back(e.family() == AF_INET6 ? 6 : 4);
  out->insert(out->end(), addr, addr + 16);
  out->push_back(static_cast<std::uint8_t>(e.port() >> 8));
  out->push_back(static_cast<std::uint8_t>(e.port() & 0xff));
}

std::optional<std::pair<crypto::PublicKey, Endpoint>> ReadRecord(const std::uint8_t* r) {
  std::pair<crypto::PublicKey, Endpoint> out;
  std::memcpy(out.first.bytes.data(), r, kKeyBytes);
  const std::uint8_t family = r[kKeyBytes];
  const std::uint8_t* addr = r + kKeyBytes + 1;
  const std::uint16_t port = static_cast<std::uint16_t>(r[kKeyBytes + 17] << 8 | r[kKeyBytes + 18]);
  if (port == 0) return std::nullopt;
  if (family == 4) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    std::memcpy(&in.sin_addr, addr, 4);
    in.sin_port = htons(port);
    out.second = Endpoint::FromSockaddr(reinterpret_cast<sockaddr*>(&in), sizeof in);
  } else if (family == 6) {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    std::memcpy(&in6.sin6_addr, addr, 16);
    in6.sin6_port = htons(port);
    out.second = Endpoint::FromSockaddr(reinterpret_cast<sockaddr*>(&in6), sizeof in6);
  } else {
    return std::nullopt;
  }
  return out;
}

}  // namespace

PeerManager::PeerManager(asio::io_context& control, const crypto::PrivateKey& host_key)
    : control_(control),
      handshaker_(host_key),
      tick_(control),
      jitter_rng_(std::random_device{}()),
      log_(spdlog::get("tunnel") ? spdlog::get("tunnel") : spdlog::default_logger()),
      alive_(std::make_shared<bool>(true)) {}

PeerManager::~PeerManager() { Stop(); }

int PeerManager::AddNetwork(NetworkConfig config) {
  const int n = static_cast<int>(networks_.size());
  const int h = handshaker_.AddNetwork(config.key.Clone(), config.allowed);
  networks_.push_back({std::move(config), h});
  for (const Endpoint& e : networks_.back().config.bootstrap) AddPeer(n, std::nullopt, e, true);
  return n;
}

void PeerManager::Start() { Tick(); }

void PeerManager::SetBootstrapAddress(int network, const std::string& name,
                                      const Endpoint& endpoint) {
  for (auto& [id, p] : peers_) {
    if (p.network == network && p.endpoint == endpoint) {
      p.bootstrap = true;  // e.g. a remembered address: now never forgotten
      return;
    }
  }
  if (const auto slot = named_.find({network, name}); slot != named_.end()) {
    const PeerId old_id = slot->second;
    if (const auto old = peers_.find(old_id); old != peers_.end() && !old->second.key)
      RemovePeer(old_id);
  }
  if (peers_.size() >= kMaxPeers) return;
  Peer& p = AddPeer(network, std::nullopt, endpoint, true);
  named_[{network, name}] = p.id;
  TickPeer(p, std::chrono::steady_clock::now());  // its first handshake now, not at the next tick
  log_->info("network {}: --peer {} is at {}", networks_[network].config.name, name,
             endpoint.ToString());
}

void PeerManager::AddRememberedAddress(int network, const Endpoint& endpoint) {
  for (const auto& [id, p] : peers_)
    if (p.network == network && p.endpoint == endpoint) return;
  if (peers_.size() < kMaxPeers) AddPeer(network, std::nullopt, endpoint, false);
}

std::vector<std::vector<Endpoint>> PeerManager::UpEndpoints() const {
  std::vector<std::vector<Endpoint>> out(networks_.size());
  for (const auto& [id, p] : peers_)
    if (p.up && p.key && p.endpoint.valid()) out[p.network].push_back(p.endpoint);
  return out;
}

bool PeerManager::UpAt(int network, const Endpoint& endpoint) const {
  for (const auto& [id, p] : peers_)
    if (p.network == network && p.up && p.endpoint == endpoint) return true;
  return false;
}

void PeerManager::Stop() {
  *alive_ = false;
  tick_.cancel();
}

std::string PeerManager::Name(const Peer& p) const {
  return (p.key ? crypto::Fingerprint(*p.key) : std::string("(unknown)")) + " at " +
         p.endpoint.ToString();
}

PeerManager::Peer& PeerManager::AddPeer(int network, std::optional<crypto::PublicKey> key,
                                        const Endpoint& endpoint, bool bootstrap) {
  PeerId id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
  } else {
    id = next_id_++;
  }
  Peer& p = peers_[id];
  p = Peer{};
  p.id = id;
  p.network = network;
  p.key = key;
  p.endpoint = endpoint;
  p.bootstrap = bootstrap;
  OnShard(network, [sink = networks_[network].config.sink, id, endpoint](Tunnel& t) {
    t.AddPeer(id, sink, endpoint);
    sink->OnPeerAdded(id);
  });
  return p;
}

void PeerManager::RemovePeer(PeerId id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  FrameSink* sink = networks_[it->second.network].config.sink;
  OnShard(it->second.network, [sink, id](Tunnel& t) {
    sink->OnPeerRemoved(id);
    t.RemovePeer(id);
  });
  std::erase_if(initiated_, [id](const auto& kv) { return kv.second == id; });
  std::erase_if(named_, [id](const auto& kv) { return kv.second == id; });  // ids are reused
  peers_.erase(it);
  free_ids_.push_back(id);
}

void PeerManager::Tick() {
  const auto now = std::chrono::steady_clock::now();
  handshaker_.Expire(now);
  std::vector<PeerId> ids;
  for (auto& [id, p] : peers_) ids.push_back(id);
  for (PeerId id : ids)
    if (auto it = peers_.find(id); it != peers_.end()) TickPeer(it->second, now);
  if (now >= next_exchange_) {
    for (int n = 0; n < static_cast<int>(networks_.size()); ++n) SendPeerExchange(n);
    next_exchange_ = now + kExchangeInterval;
  }
  tick_.expires_after(kTick);
  tick_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec) {
    auto live = alive.lock();
    if (!ec && live && *live) Tick();
  });
}

void PeerManager::TickPeer(Peer& p, TimePoint now) {
  PeerClock& clock = TunnelOf(p.network).clock(p.id);
  PeerTimes t;
  t.last_rx = FromNs(clock.last_rx.load(std::memory_order_relaxed));
  t.last_rx_frame = FromNs(clock.last_rx_frame.load(std::memory_order_relaxed));
  t.last_tx = FromNs(clock.last_tx.load(std::memory_order_relaxed));
  t.unanswered_since = FromNs(clock.unanswered_since.load(std::memory_order_relaxed));
  t.current_created = FromNs(clock.current_created.load(std::memory_order_relaxed));
  // The datapath switched to the keys we initiated: the responder has them.
  if (p.unconfirmed && t.current_created == p.unconfirmed) {
    p.unconfirmed.reset();
    OnConfirmed(p, now);
  }
  t.current_initiator = clock.current_initiator.load(std::memory_order_relaxed);
  t.current_sent = clock.current_sent.load(std::memory_order_relaxed);
  t.last_handshake = p.last_handshake;
  t.next_attempt = p.next_attempt;
  t.has_endpoint = p.endpoint.valid();
  t.up = p.up;
  t.unconfirmed_since = p.unconfirmed;
  const PeerAction a = NextAction(t, now);
  const PeerId id = p.id;
  if (a.expire_keys) OnShard(p.network, [id, now](Tunnel& t) { t.ExpireKeys(id, now); });
  if (a.wipe_keys) {
    OnShard(p.network, [id](Tunnel& t) { t.WipeKeys(id); });
    p.last_handshake.reset();
  }
  if (a.send_keepalive)
    OnShard(p.network, [id](Tunnel& t) {
      t.SendKeepalive(id);
      t.Flush();
    });
  if (a.declare_down) SetUp(p, false, "no packet for 30 s");
  if (a.start_handshake) {
    p.unconfirmed.reset();
    StartHandshake(p, now);
  }
  // A peer learned only through exchange that stays unreachable is forgotten.
  if (!p.bootstrap && !p.up && !p.last_handshake && p.attempts > 8) RemovePeer(id);
}

void PeerManager::StartHandshake(Peer& p, TimePoint now) {
  std::uint32_t index = 0;
  const auto pkt = handshaker_.Initiate(networks_[p.network].handshaker_index, p.endpoint, now,
                                        WallNanoseconds(), &index);
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  p.next_attempt = now + RetryDelay(p.attempts, jitter(jitter_rng_));
  ++p.attempts;
  if (p.attempts == 4 && !p.up)
    log_->warn(
        "network {}: no answer from peer {} after {} handshakes (host down, or a different "
        "network key, or not on its allow-list?)",
        networks_[p.network].config.name, Name(p), p.attempts);
  if (pkt.empty()) return;
  initiated_[index] = p.id;
  std::erase_if(initiated_, [&](const auto& kv) {  // keep only handshakes that can still answer
    return kv.second == p.id && kv.first != index && p.attempts > 3;
  });
  TunnelOf(p.network).sockets().SendTo(p.endpoint, pkt);
}

void PeerManager::OnHandshakePacket(Tunnel& via, const Endpoint& from,
                                    std::span<const std::uint8_t> pkt) {
  asio::post(control_, [this, alive = std::weak_ptr<bool>(alive_), via = &via, from,
                        data = std::vector<std::uint8_t>(pkt.begin(), pkt.end())] {
    auto live = alive.lock();
    if (!live || !*live) return;
    via->HandshakeDone();
    HandleHandshake(from, data);
  });
}

void PeerManager::HandleHandshake(const Endpoint& from, const std::vector<std::uint8_t>& pkt) {
  auto r = handshaker_.OnPacket(from, pkt, std::chrono::steady_clock::now(), WallNanoseconds());
  if (r.drop) {
    // Silence on the wire; a line in the log (rate-limited) says why.
    if (*r.drop == HandshakeDrop::kNoNetwork)
      VDEMESH_LOG_LIMITED(log_, spdlog::level::warn,
                          "handshake from {} opened by no network key (a different network key?)",
                          from.ToString());
    else if (*r.drop == HandshakeDrop::kSameKey)
      VDEMESH_LOG_LIMITED(log_, spdlog::level::warn,
                          "the host at {} uses this host's own key, a copy of its key file (from a "
                          "cloned disk image?); the two cannot connect until it has a key of its "
                          "own: delete its host key file and restart its vswitchd",
                          from.ToString());
    else if (*r.drop == HandshakeDrop::kNotAllowed || *r.drop == HandshakeDrop::kStaleTimestamp)
      VDEMESH_LOG_LIMITED(log_, spdlog::level::warn, "handshake from {} refused: {}",
                          from.ToString(), HandshakeDropName(*r.drop));
    return;
  }
  if (r.completed) {
    // As initiator, r.reply is the final message: it goes out only after our keys are in the
    // datapath, or the responder's confirming keepalive could arrive before them and be lost.
    OnCompleted(std::move(*r.completed), std::move(r.reply));
  } else if (!r.reply.empty()) {
    // From the network's own shard, whatever socket the initiation came in by: the initiator
    // takes our address from this response.
    TunnelOf(r.network).sockets().SendTo(from, r.reply);
  }
}

PeerManager::Peer* PeerManager::PeerFor(const Handshaker::Completed& c) {
  // A keyless bootstrap peer we initiated to comes first, even if the key is known already:
  // OnCompleted() then merges the two. (The key may have come with a handshake from another
  // port of that host: each of its datapath threads has its own.)
  if (auto it = initiated_.find(c.keys->local_index); it != initiated_.end())
    if (auto p = peers_.find(it->second); p != peers_.end() && !p->second.key) return &p->second;
  for (auto& [id, p] : peers_)
    if (p.network == c.network && p.key && *p.key == c.remote) return &p;
  for (auto& [id, p] : peers_)  // a bootstrap peer that reached us before we reached it
    if (p.network == c.network && !p.key && p.endpoint == c.endpoint) return &p;
  return nullptr;
}

void PeerManager::OnCompleted(Handshaker::Completed c, std::vector<std::uint8_t> final_msg) {
  Peer* p = PeerFor(c);
  if (p == nullptr) {
    if (peers_.size() >= kMaxPeers) return;
    p = &AddPeer(c.network, c.remote, c.endpoint, false);
  }
  // An initiation older than one already accepted from this host is a replay that came
  // through the cache's window; it cannot complete, but do not let it rekey either.
  if (c.init_timestamp != 0) {
    if (c.init_timestamp <= p->last_init_timestamp) return;
    p->last_init_timestamp = c.init_timestamp;
  }
  // A keyless bootstrap peer just got its key; if that key already had a peer entry (it
  // reached us first), keep that one and drop the duplicate.
  if (!p->key) {
    for (auto& [id, other] : peers_) {
      if (id != p->id && other.network == c.network && other.key && *other.key == c.remote) {
        other.bootstrap |= p->bootstrap;
        const PeerId dup = p->id;
        for (auto& [slot, named] : named_)
          if (named == dup) named = other.id;
        p = &other;
        RemovePeer(dup);
        break;
      }
    }
    p->key = c.remote;
  }
  p->endpoint = c.endpoint;
  c.keys->peer = p->id;
  // Our own keys as initiator are only proven once the responder uses them (its keepalive):
  // it may still refuse us (allow-list) after answering. Until then the peer is not up and
  // the retry back-off keeps running; as responder, the final message was that proof.
  const bool initiator = c.keys->initiator;
  if (initiator) p->unconfirmed = c.keys->created;
  OnShard(p->network, [id = p->id, kp = std::move(c.keys), e = c.endpoint,
                       final_msg = std::move(final_msg)](Tunnel& t) mutable {
    t.InstallKeypair(id, std::move(kp), e);
    if (!final_msg.empty()) t.sockets().SendTo(e, final_msg);
  });
  log_->debug("network {}: handshake with {} complete{}", networks_[p->network].config.name,
              Name(*p), initiator ? ", waiting for confirmation" : "");
  if (!initiator) OnConfirmed(*p, std::chrono::steady_clock::now());
}

void PeerManager::OnConfirmed(Peer& p, TimePoint now) {
  p.attempts = 0;
  p.next_attempt = now + kHandshakeRetryMin;
  p.last_handshake = now;
  if (!p.up) {
    SetUp(p, true, "handshake complete");
    next_exchange_ = {};  // tell everyone about the newcomer soon
  }
}

void PeerManager::SetUp(Peer& p, bool up, const char* reason) {
  p.up = up;
  log_->info("network {}: peer {} {} ({})", networks_[p.network].config.name, Name(p),
             up ? "up" : "down", reason);
  if (!up) {
    FrameSink* sink = networks_[p.network].config.sink;
    OnShard(p.network, [sink, id = p.id](Tunnel&) { sink->OnPeerDown(id); });
  }
}

void PeerManager::SendPeerExchange(int network) {
  std::vector<const Peer*> up;
  for (const auto& [id, p] : peers_)
    if (p.network == network && p.up && p.key) up.push_back(&p);
  for (const Peer* to : up) {
    std::vector<std::uint8_t> body;
    for (const Peer* other : up) {
      if (other == to || body.size() >= kRecordsPerMessage * kRecordBytes) continue;
      AppendRecord(*other->key, other->endpoint, &body);
    }
    if (body.empty()) continue;
    OnShard(network, [id = to->id, body = std::move(body)](Tunnel& t) {
      t.SendPeerExchange(id, body);
      t.Flush();
    });
  }
}

void PeerManager::OnPeerExchange(PeerId peer, std::span<const std::uint8_t> body) {
  if (body.size() % kRecordBytes != 0 || body.size() > kRecordsPerMessage * kRecordBytes) return;
  asio::post(control_, [this, alive = std::weak_ptr<bool>(alive_), peer,
                        data = std::vector<std::uint8_t>(body.begin(), body.end())] {
    auto live = alive.lock();
    if (live && *live) HandlePeerExchange(peer, data);
  });
}

void PeerManager::HandlePeerExchange(PeerId from, const std::vector<std::uint8_t>& body) {
  auto src = peers_.find(from);
  if (src == peers_.end()) return;
  const int network = src->second.network;
  for (std::size_t off = 0; off + kRecordBytes <= body.size(); off += kRecordBytes) {
    auto rec = ReadRecord(body.data() + off);
    if (!rec || rec->first == public_key() || peers_.size() >= kMaxPeers) continue;
    bool known = false;
    for (const auto& [id, p] : peers_)
      known |= p.network == network &&
               ((p.key && *p.key == rec->first) || (!p.key && p.endpoint == rec->second));
    const auto& allowed = networks_[network].config.allowed;
    if (known || (!allowed.empty() &&
                  std::find(allowed.begin(), allowed.end(), rec->first) == allowed.end()))
      continue;
    Peer& p = AddPeer(network, rec->first, rec->second, false);
    log_->debug("network {}: learned peer {} from peer exchange", networks_[network].config.name,
                Name(p));
  }
}

void PeerManager::OnEndpointChanged(PeerId peer, const Endpoint& endpoint) {
  asio::post(control_, [this, alive = std::weak_ptr<bool>(alive_), peer, endpoint] {
    auto live = alive.lock();
    if (!live || !*live) return;
    if (auto it = peers_.find(peer); it != peers_.end()) {
      log_->info("network {}: peer {} roamed to {}", networks_[it->second.network].config.name,
                 Name(it->second), endpoint.ToString());
      it->second.endpoint = endpoint;
    }
  });
}

std::vector<PeerInfo> PeerManager::Peers(const std::string& network) {
  // Peer ids are unique across tunnels; ask each shard with a matching network once.
  std::vector<Tunnel*> tunnels;
  for (const auto& n : networks_)
    if ((network.empty() || n.config.name == network) &&
        std::find(tunnels.begin(), tunnels.end(), n.config.tunnel) == tunnels.end())
      tunnels.push_back(n.config.tunnel);
  std::vector<PeerSnapshot> snaps;
  for (Tunnel* t : tunnels) {
    // The promise is shared: if the shard answers after we gave up, it still has a live target.
    auto done = std::make_shared<std::promise<std::vector<PeerSnapshot>>>();
    auto result = done->get_future();
    t->loop().Post([t, done] { done->set_value(t->Snapshot()); });
    if (result.wait_for(std::chrono::seconds(2)) != std::future_status::ready) continue;
    for (auto& s : result.get())
      if (peers_.contains(s.id) && networks_[peers_.at(s.id).network].config.tunnel == t)
        snaps.push_back(std::move(s));
  }
  const auto now = std::chrono::steady_clock::now();
  std::vector<PeerInfo> out;
  for (const auto& [id, p] : peers_) {
    const std::string& name = networks_[p.network].config.name;
    if (!network.empty() && name != network) continue;
    PeerInfo info{id, name, p.key, p.endpoint, p.up, std::nullopt, {}, {}};
    for (const auto& [slot, named] : named_)
      if (named == id && !IsAddress(slot.second)) info.peer_name = slot.second;
    if (p.last_handshake) info.since_handshake = now - *p.last_handshake;
    for (const auto& s : snaps)
      if (s.id == id) info.counters = s.counters;
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace vdemesh::transport
