// handshaker.h: the overlay's handshakes (Noise XXpsk0, crypto/noise.h) for every network of
// the daemon: starting them, answering them, and turning completed ones into Keypairs.
//
//   initiator                               responder
//   Initiate()      --- initiation --->     OnPacket(): which network's PSK opens it? fresh
//                                           timestamp? not seen before? -> pending, reply
//   OnPacket()      <--- response ----      (allow-list check of the responder's host key)
//     -> keys (initiator), reply final
//                   ---- final ------->     OnPacket(): allow-list check -> keys (responder)
//
// Silence to strangers: anything that does not authenticate is dropped and counted by reason,
// with no reply. Work per source address is rate-limited before any cryptography.
// Thread affinity: the control thread only. No sockets and no clock: the caller passes `now`
// (steady, for timeouts) and `wall_ns` (the initiation timestamp) and sends the replies.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "crypto/keys.h"
#include "crypto/noise.h"
#include "transport/endpoint.h"
#include "transport/keypair.h"
#include "transport/rate_limiter.h"

namespace vdemesh::transport {

enum class HandshakeDrop : std::uint8_t {
  kRateLimited,      // too many handshake packets from this source address
  kNoNetwork,        // an initiation no network key opens: a stranger or a wrong key
  kStaleTimestamp,   // an initiation too far from our clock
  kReplayedInit,     // an initiation seen before
  kUnknownReceiver,  // a response or final for no handshake of ours
  kBadMessage,       // a response or final that does not authenticate
  kNotAllowed,       // the peer's host key is not on the network's allow-list
  kSelf,             // we reached ourselves (our own response came back)
  kSameKey,          // another host holds our host key: a copied key file (a cloned image)
  kTooMany,          // too many handshakes pending
  kCount
};
inline constexpr std::size_t kHandshakeDropCount = static_cast<std::size_t>(HandshakeDrop::kCount);
const char* HandshakeDropName(HandshakeDrop d) noexcept;

class Handshaker {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static constexpr auto kPendingTimeout = std::chrono::seconds(10);
  static constexpr std::size_t kMaxPending = 1024;

  struct Completed {
    int network;
    crypto::PublicKey remote;
    Endpoint endpoint;
    std::unique_ptr<Keypair> keys;
    std::uint64_t init_timestamp;  // the initiation's timestamp, for per-peer freshness
  };
  struct Result {
    std::optional<HandshakeDrop> drop;   // set: silently dropped
    std::vector<std::uint8_t> reply;     // non-empty: send to the packet's source
    int network = -1;                    // the network the reply or completion belongs to
    std::optional<Completed> completed;  // a session is ready
  };

  explicit Handshaker(const crypto::PrivateKey& host_key);

  // Adds a network; returns its index. `allowed` empty: any holder of the key may join.
  int AddNetwork(crypto::NetworkKey psk, std::vector<crypto::PublicKey> allowed);
  // The initiation message for a new handshake of `network` with whoever answers at `to`;
  // *index is our index for it (Completed::keys->local_index when it completes). Empty if too
  // many handshakes are pending.
  std::vector<std::uint8_t> Initiate(int network, const Endpoint& to, TimePoint now,
                                     std::uint64_t wall_ns, std::uint32_t* index);
  Result OnPacket(const Endpoint& from, std::span<const std::uint8_t> pkt, TimePoint now,
                  std::uint64_t wall_ns);
  // Forgets handshakes that got no answer in kPendingTimeout.
  void Expire(TimePoint now);

  const crypto::PublicKey& public_key() const { return public_key_; }
  const std::array<std::uint64_t, kHandshakeDropCount>& drops() const { return drops_; }

 private:
  struct Network {
    crypto::NetworkKey psk;
    std::vector<crypto::PublicKey> allowed;
  };
  struct Pending {
    int network;
    crypto::Handshake noise;
    Endpoint peer;
    TimePoint started;
    std::uint32_t remote_index = 0;  // responder side: the initiator's index
    crypto::Cipher cipher = crypto::Cipher::kChaCha20Poly1305;
    std::uint8_t initiator_ciphers = 0;  // initiator side: what we offered
    std::uint64_t init_timestamp = 0;
  };

  Result OnInitiation(const Endpoint& from, std::span<const std::uint8_t> pkt, TimePoint now,
                      std::uint64_t wall_ns);
  Result OnResponse(const Endpoint& from, std::span<const std::uint8_t> pkt, TimePoint now);
  Result OnFinal(const Endpoint& from, std::span<const std::uint8_t> pkt, TimePoint now);
  Result Dropped(HandshakeDrop d);
  bool Allowed(const Network& net, const crypto::PublicKey& key) const;
  bool SeenInitiation(std::span<const std::uint8_t> ephemeral);
  std::uint32_t NewIndex(TimePoint now);
  std::unique_ptr<Keypair> MakeKeypair(Pending& p, std::uint32_t local_index, TimePoint now);

  crypto::PrivateKey host_key_;
  crypto::PublicKey public_key_;
  std::uint8_t our_ciphers_;
  std::vector<Network> networks_;
  std::unordered_map<std::uint32_t, Pending> pending_;   // by our index
  std::unordered_map<std::uint32_t, TimePoint> issued_;  // indices in use, kept past the keys' life
  std::deque<std::array<std::uint8_t, 32>> seen_order_;  // replay cache of initiations, FIFO
  std::unordered_set<std::string> seen_;
  RateLimiter limiter_;
  std::array<std::uint64_t, kHandshakeDropCount> drops_{};
};

}  // namespace vdemesh::transport
