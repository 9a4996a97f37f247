// peer_manager.h: the control half of the overlay: who the peers are, handshakes, timers,
// keepalives, peer exchange, and peers going up and down.
//
// Thread affinity: the control thread. It drives the shard's Tunnel only by posting, and reads
// the Tunnel's PeerClock atomics on every tick (kTick). Handshake packets reach it from the
// shard as posted copies (TunnelEvents), bounded by the Tunnel.
//
// Peers are identified by their host public key. A `--peer HOST[:PORT]` is a bootstrap
// address: a peer without a key until its first handshake names it. Peers of peers arrive by
// peer exchange (inside the encrypted sessions) so that a full mesh forms from one address.
// Log lines: one info line when a peer comes up or goes down, with the reason; never a key.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "crypto/keys.h"
#include "transport/endpoint.h"
#include "transport/handshaker.h"
#include "transport/tunnel.h"
#include "transport/udp_sockets.h"

namespace spdlog {
class logger;
}

namespace vdemesh::transport {

struct NetworkConfig {
  std::string name;
  crypto::NetworkKey key;
  std::vector<crypto::PublicKey> allowed;  // empty: every holder of the key
  std::vector<Endpoint> bootstrap;         // resolved --peer addresses
  FrameSink* sink = nullptr;               // the network's datapath (lives on the shard)
  // The tunnel of the network's shard: its sessions, and the socket its handshakes leave by,
  // so that peers send the network's packets to the shard that serves it.
  Tunnel* tunnel = nullptr;
};

struct PeerInfo {
  PeerId id;
  std::string network;
  std::optional<crypto::PublicKey> key;
  Endpoint endpoint;
  bool up = false;
  std::optional<std::chrono::steady_clock::duration> since_handshake;
  PeerCounters counters;
  std::string peer_name;  // the --peer it was found by, if any
};

class PeerManager final : public TunnelEvents {
 public:
  // Each network's tunnel (NetworkConfig) must outlive this object.
  PeerManager(boost::asio::io_context& control, const crypto::PrivateKey& host_key);
  ~PeerManager() override;

  int AddNetwork(NetworkConfig config);
  void Start();  // begins the tick; bootstrap peers get their first handshake at once
  void Stop();

  // A `--peer NAME` of `network` (re)resolved to `endpoint`: a bootstrap peer there, unless a
  // peer of the network has that address already. The keyless peer that NAME's previous
  // address made, never reached, goes; one that was reached keeps its key and takes the new
  // address when its handshake completes (OnCompleted merges the two).
  void SetBootstrapAddress(int network, const std::string& name, const Endpoint& endpoint);
  // Whether a peer of `network` at `endpoint` is up.
  bool UpAt(int network, const Endpoint& endpoint) const;
  // An address where a peer of `network` was before a restart (peer_cache.h): tried like one
  // learned by peer exchange, and forgotten after a few unanswered handshakes.
  void AddRememberedAddress(int network, const Endpoint& endpoint);
  // Each network's up peers' addresses, by network index.
  std::vector<std::vector<Endpoint>> UpEndpoints() const;

  // For the control API (control thread; waits briefly for the shards' counters).
  std::vector<PeerInfo> Peers(const std::string& network);
  const crypto::PublicKey& public_key() const { return handshaker_.public_key(); }
  const Handshaker& handshaker() const { return handshaker_; }

  // TunnelEvents: called on the shard; each posts to the control thread.
  void OnHandshakePacket(Tunnel& via, const Endpoint& from,
                         std::span<const std::uint8_t> pkt) override;
  void OnPeerExchange(PeerId peer, std::span<const std::uint8_t> body) override;
  void OnEndpointChanged(PeerId peer, const Endpoint& endpoint) override;

 private:
  struct Peer {
    PeerId id;
    int network;
    std::optional<crypto::PublicKey> key;
    Endpoint endpoint;
    bool bootstrap = false;  // from the configuration: never forgotten
    bool up = false;
    unsigned attempts = 0;  // handshakes since the last success (backoff)
    std::chrono::steady_clock::time_point next_attempt{};
    std::optional<std::chrono::steady_clock::time_point> last_handshake;
    std::uint64_t last_init_timestamp = 0;  // freshest initiation accepted from it
    // Keys we initiated that the responder has not confirmed yet (their creation time).
    std::optional<std::chrono::steady_clock::time_point> unconfirmed;
  };
  struct Network {
    NetworkConfig config;
    int handshaker_index;
  };

  void Tick();
  void TickPeer(Peer& p, std::chrono::steady_clock::time_point now);
  void StartHandshake(Peer& p, std::chrono::steady_clock::time_point now);
  void HandleHandshake(const Endpoint& from, const std::vector<std::uint8_t>& pkt);
  Tunnel& TunnelOf(int network) { return *networks_[network].config.tunnel; }
  // Runs fn(tunnel) on the shard of `network`.
  template <typename Fn>
  void OnShard(int network, Fn fn) {
    Tunnel* t = &TunnelOf(network);
    t->loop().Post([t, fn = std::move(fn)]() mutable { fn(*t); });
  }
  void OnCompleted(Handshaker::Completed c, std::vector<std::uint8_t> final_msg);
  // The peer proved it holds our newest keys: it is up, and the retry back-off resets.
  void OnConfirmed(Peer& p, std::chrono::steady_clock::time_point now);
  Peer* PeerFor(const Handshaker::Completed& c);
  Peer& AddPeer(int network, std::optional<crypto::PublicKey> key, const Endpoint& endpoint,
                bool bootstrap);
  void RemovePeer(PeerId id);
  void SetUp(Peer& p, bool up, const char* reason);
  void SendPeerExchange(int network);
  void HandlePeerExchange(PeerId from, const std::vector<std::uint8_t>& body);
  std::string Name(const Peer& p) const;

  boost::asio::io_context& control_;
  Handshaker handshaker_;
  std::vector<Network> networks_;
  std::unordered_map<PeerId, Peer> peers_;
  std::unordered_map<std::uint32_t, PeerId> initiated_;  // our handshake index -> peer
  // (network, --peer name) -> the peer its latest address made. Kept exact: a merge re-points
  // it, RemovePeer drops it (a PeerId is reused once its peer goes).
  std::map<std::pair<int, std::string>, PeerId> named_;
  std::vector<PeerId> free_ids_;
  PeerId next_id_ = 0;
  boost::asio::steady_timer tick_;
  std::chrono::steady_clock::time_point next_exchange_{};
  std::minstd_rand jitter_rng_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<bool> alive_;
};

}  // namespace vdemesh::transport
