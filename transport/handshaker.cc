#include "transport/handshaker.h"

#include <sodium.h>

#include <algorithm>
#include <string>

#include "transport/wire.h"

namespace vdemesh::transport {

namespace {

constexpr std::string_view kPrologue = "vdemesh/1";
constexpr std::uint8_t kOfferChaCha = 1;
constexpr std::uint8_t kOfferAes = 2;

static_assert(kResponseHeaderBytes == kFinalHeaderBytes, "responses and finals share a header");

// A handshake packet: [type][0 0 0], then the receiver index for a response or final, then
// the Noise message (wire.h).
std::vector<std::uint8_t> Packet(MessageType type, std::uint32_t receiver,
                                 const std::vector<std::uint8_t>& noise_msg) {
  const std::size_t header =
      type == MessageType::kInitiation ? kInitiationHeaderBytes : kResponseHeaderBytes;
  std::vector<std::uint8_t> pkt(header, 0);
  pkt[0] = static_cast<std::uint8_t>(type);
  if (type != MessageType::kInitiation) StoreLe32(pkt.data() + 4, receiver);
  pkt.insert(pkt.end(), noise_msg.begin(), noise_msg.end());
  return pkt;
}

std::span<const std::uint8_t> Prologue() {
  return {reinterpret_cast<const std::uint8_t*>(kPrologue.data()), kPrologue.size()};
}

}  // namespace

const char* HandshakeDropName(HandshakeDrop d) noexcept {
  switch (d) {
    case HandshakeDrop::kRateLimited:
      return "rate_limited";
    case HandshakeDrop::kNoNetwork:
      return "no_network";
    case HandshakeDrop::kStaleTimestamp:
      return "stale_timestamp";
    case HandshakeDrop::kReplayedInit:
      return "replayed_initiation";
    case HandshakeDrop::kUnknownReceiver:
      return "unknown_handshake";
    case HandshakeDrop::kBadMessage:
      return "bad_handshake";
    case HandshakeDrop::kNotAllowed:
      return "not_allowed";
    case HandshakeDrop::kSelf:
      return "self";
    case HandshakeDrop::kSameKey:
      return "same_host_key";
    case HandshakeDrop::kTooMany:
      return "too_many_handshakes";
    case HandshakeDrop::kCount:
      break;
  }
  return "unknown";
}

Handshaker::Handshaker(const crypto::PrivateKey& host_key)
    : host_key_(host_key.Clone()),
      public_key_(crypto::DerivePublic(host_key_)),
      our_ciphers_(kOfferChaCha | (crypto::AesGcmAvailable() ? kOfferAes : 0)) {}

int Handshaker::AddNetwork(crypto::NetworkKey psk, std::vector<crypto::PublicKey> allowed) {
  networks_.push_back({std::move(psk), std::move(allowed)});
  return static_cast<int>(networks_.size() - 1);
}

Handshaker::Result Handshaker::Dropped(HandshakeDrop d) {
  ++drops_[static_cast<std::size_t>(d)];
  Result r;
  r.drop = d;
  return r;
}

bool Handshaker::Allowed(const Network& net, const crypto::PublicKey& key) const {
  return net.allowed.empty() ||
         std::find(net.allowed.begin(), net.allowed.end(), key) != net.allowed.end();
}

std::uint32_t Handshaker::NewIndex(TimePoint now) {
  // An index lives on after its handshake as the receiver field of the session's packets, so
  // it is not reused until any keys made with it have expired (Expire() forgets it then).
  std::uint32_t index;
  do {
    randombytes_buf(&index, sizeof index);
  } while (index == 0 || issued_.contains(index));
  issued_[index] = now;
  return index;
}

std::vector<std::uint8_t> Handshaker::Initiate(int network, const Endpoint& to, TimePoint now,
                                               std::uint64_t wall_ns, std::uint32_t* index_out) {
  if (pending_.size() >= kMaxPending) Expire(now);
  if (pending_.size() >= kMaxPending) return {};
  const std::uint32_t index = NewIndex(now);
  *index_out = index;
  Pending p{network, crypto::Handshake::Initiator(host_key_, networks_[network].psk, Prologue()),
            to, now};
  p.initiator_ciphers = our_ciphers_;
  const InitiationPayload payload{InitiationPayload::kVersion, our_ciphers_, index, wall_ns};
  const auto plain = payload.Encode();
  std::vector<std::uint8_t> msg;
  if (!p.noise.WriteMessage(plain, &msg)) return {};
  pending_.emplace(index, std::move(p));
  return Packet(MessageType::kInitiation, 0, msg);
}

Handshaker::Result Handshaker::OnPacket(const Endpoint& from, std::span<const std::uint8_t> pkt,
                                        TimePoint now, std::uint64_t wall_ns) {
  // Before any cryptography, so a flood costs us a hash and a table lookup per packet.
  if (!limiter_.Allow(from.HostHash(), now)) return Dropped(HandshakeDrop::kRateLimited);
  switch (Classify(pkt).value_or(MessageType::kData)) {
    case MessageType::kInitiation:
      return OnInitiation(from, pkt, now, wall_ns);
    case MessageType::kResponse:
      return OnResponse(from, pkt, now);
    case MessageType::kFinal:
      return OnFinal(from, pkt, now);
    case MessageType::kData:
      break;
  }
  return Dropped(HandshakeDrop::kBadMessage);
}

bool Handshaker::SeenInitiation(std::span<const std::uint8_t> ephemeral) {
  std::string key(reinterpret_cast<const char*>(ephemeral.data()), ephemeral.size());
  if (!seen_.insert(key).second) return true;
  std::array<std::uint8_t, 32> copy;
  std::copy_n(ephemeral.begin(), copy.size(), copy.begin());
  seen_order_.push_back(copy);
  if (seen_order_.size() > kInitiationReplayCache) {
    const auto& old = seen_order_.front();
    seen_.erase(std::string(reinterpret_cast<const char*>(old.data()), old.size()));
    seen_order_.pop_front();
  }
  return false;
}

Handshaker::Result Handshaker::OnInitiation(const Endpoint& from, std::span<const std::uint8_t> pkt,
                                            TimePoint now, std::uint64_t wall_ns) {
  const auto msg = pkt.subspan(kInitiationHeaderBytes);
  // Which network? Message 1 is authenticated by the PSK alone (no DH yet), so trying each
  // network's key is cheap, and a stranger's message opens under none of them.
  std::vector<std::uint8_t> plain;
  for (int n = 0; n < static_cast<int>(networks_.size()); ++n) {
    auto noise = crypto::Handshake::Responder(host_key_, networks_[n].psk, Prologue());
    if (!noise.ReadMessage(msg, &plain)) continue;
    const auto payload = InitiationPayload::Decode(plain);
    if (!payload) return Dropped(HandshakeDrop::kBadMessage);
    const auto skew =
        wall_ns > payload->timestamp ? wall_ns - payload->timestamp : payload->timestamp - wall_ns;
    if (skew > static_cast<std::uint64_t>(std::chrono::nanoseconds(kInitiationMaxSkew).count()))
      return Dropped(HandshakeDrop::kStaleTimestamp);
    if (SeenInitiation(msg.first(kKeyBytes))) return Dropped(HandshakeDrop::kReplayedInit);
    if (pending_.size() >= kMaxPending) Expire(now);
    if (pending_.size() >= kMaxPending) return Dropped(HandshakeDrop::kTooMany);

    const std::uint32_t index = NewIndex(now);
    const bool aes = (payload->ciphers & our_ciphers_ & kOfferAes) != 0;
    Pending p{n,
              std::move(noise),
              from,
              now,
              payload->sender,
              aes ? crypto::Cipher::kAes256Gcm : crypto::Cipher::kChaCha20Poly1305};
    p.init_timestamp = payload->timestamp;
    const ResponsePayload reply_payload{static_cast<std::uint8_t>(aes ? 1 : 0), index};
    const auto reply_plain = reply_payload.Encode();
    std::vector<std::uint8_t> reply_msg;
    if (!p.noise.WriteMessage(reply_plain, &reply_msg)) return Dropped(HandshakeDrop::kBadMessage);
    Result r;
    r.network = n;
    r.reply = Packet(MessageType::kResponse, payload->sender, reply_msg);
    pending_.emplace(index, std::move(p));
    return r;
  }
  return Dropped(HandshakeDrop::kNoNetwork);
}

std::unique_ptr<Keypair> Handshaker::MakeKeypair(Pending& p, std::uint32_t local_index,
                                                 TimePoint now) {
  auto keys = p.noise.Split(p.cipher);
  if (!keys) return nullptr;
  return std::make_unique<Keypair>(std::move(keys->send), std::move(keys->receive), local_index,
                                   p.remote_index,
                                   p.noise.role() == crypto::Handshake::Role::kInitiator, now);
}

Handshaker::Result Handshaker::OnResponse(const Endpoint& from, std::span<const std::uint8_t> pkt,
                                          TimePoint now) {
  const std::uint32_t index = ReceiverOf(pkt);
  auto it = pending_.find(index);
  if (it == pending_.end() || it->second.noise.role() != crypto::Handshake::Role::kInitiator)
    return Dropped(HandshakeDrop::kUnknownReceiver);
  Pending& p = it->second;
  std::vector<std::uint8_t> plain;
  if (!p.noise.ReadMessage(pkt.subspan(kResponseHeaderBytes), &plain)) {
    // The Noise state is dead now. Only someone who saw our initiation knows the index (it
    // travels encrypted), and such an on-path attacker could drop packets anyway; the peer's
    // retry timer starts a fresh handshake.
    pending_.erase(it);
    return Dropped(HandshakeDrop::kBadMessage);
  }
  const auto payload = ResponsePayload::Decode(plain);
  const crypto::PublicKey remote = p.noise.remote_static();
  if (!payload || (payload->cipher == 1 && !(p.initiator_ciphers & kOfferAes))) {
    pending_.erase(it);
    return Dropped(HandshakeDrop::kBadMessage);
  }
  if (remote == public_key_) {
    // Our own key answered. If we answered ourselves, the responder's index is one of ours,
    // in our own pending responses; otherwise another host has a copy of our key.
    const auto responder = pending_.find(payload->sender);
    const bool self = responder != pending_.end() &&
                      responder->second.noise.role() == crypto::Handshake::Role::kResponder;
    pending_.erase(it);
    return Dropped(self ? HandshakeDrop::kSelf : HandshakeDrop::kSameKey);
  }
  if (!Allowed(networks_[p.network], remote)) {
    pending_.erase(it);
    return Dropped(HandshakeDrop::kNotAllowed);
  }
  p.remote_index = payload->sender;
  p.cipher = payload->cipher == 1 ? crypto::Cipher::kAes256Gcm : crypto::Cipher::kChaCha20Poly1305;
  std::vector<std::uint8_t> final_msg;
  if (!p.noise.WriteMessage({}, &final_msg)) {
    pending_.erase(it);
    return Dropped(HandshakeDrop::kBadMessage);
  }
  Result r;
  r.reply = Packet(MessageType::kFinal, payload->sender, final_msg);
  auto keys = MakeKeypair(p, index, now);
  r.network = p.network;
  if (keys) r.completed = Completed{p.network, remote, from, std::move(keys), 0};
  pending_.erase(it);
  return r;
}

Handshaker::Result Handshaker::OnFinal(const Endpoint& from, std::span<const std::uint8_t> pkt,
                                       TimePoint now) {
  const std::uint32_t index = ReceiverOf(pkt);
  auto it = pending_.find(index);
  if (it == pending_.end() || it->second.noise.role() != crypto::Handshake::Role::kResponder)
    return Dropped(HandshakeDrop::kUnknownReceiver);
  Pending p = std::move(it->second);
  pending_.erase(it);
  std::vector<std::uint8_t> plain;
  if (!p.noise.ReadMessage(pkt.subspan(kFinalHeaderBytes), &plain) || !plain.empty())
    return Dropped(HandshakeDrop::kBadMessage);
  const crypto::PublicKey remote = p.noise.remote_static();
  // We never send a final to ourselves (OnResponse stops at kSelf): this is another host.
  if (remote == public_key_) return Dropped(HandshakeDrop::kSameKey);
  if (!Allowed(networks_[p.network], remote)) return Dropped(HandshakeDrop::kNotAllowed);
  auto keys = MakeKeypair(p, index, now);
  if (!keys) return Dropped(HandshakeDrop::kBadMessage);
  Result r;
  r.network = p.network;
  r.completed = Completed{p.network, remote, from, std::move(keys), p.init_timestamp};
  return r;
}

void Handshaker::Expire(TimePoint now) {
  std::erase_if(pending_,
                [now](const auto& kv) { return now - kv.second.started > kPendingTimeout; });
  std::erase_if(issued_, [now](const auto& kv) {
    return now - kv.second > kRejectAfterTime + kPendingTimeout;
  });
}

}  // namespace vdemesh::transport
