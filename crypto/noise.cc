// noise.cc: the XXpsk0 handshake state machine (Noise revision 34, section 5.3). See noise.h.
//
// WriteMessage()/ReadMessage() walk the tokens of the current message pattern and then
// encrypt/decrypt the payload, exactly as the specification's HandshakeState does. Every
// failure goes through Fail(), which wipes the secrets and leaves the handshake dead.
#include "crypto/noise.h"

#include <cstring>

#include "common/check.h"

namespace vdemesh::crypto {

enum class Handshake::Token : std::uint8_t { kE, kS, kEE, kES, kSE, kPsk };

std::string_view NoiseProtocolName(Cipher cipher) noexcept {
  return cipher == Cipher::kAes256Gcm ? "Noise_XXpsk0_25519_AESGCM_SHA256"
                                      : "Noise_XXpsk0_25519_ChaChaPoly_SHA256";
}

std::span<const Handshake::Token> Handshake::MessagePattern(int index) noexcept {
  // XXpsk0 (section 7.5 XX with the psk0 modifier of section 9.3).
  static constexpr Token kMessage1[] = {Token::kPsk, Token::kE};
  static constexpr Token kMessage2[] = {Token::kE, Token::kEE, Token::kS, Token::kES};
  static constexpr Token kMessage3[] = {Token::kS, Token::kSE};
  switch (index) {
    case 0:
      return kMessage1;
    case 1:
      return kMessage2;
    default:
      return kMessage3;
  }
}

Handshake Handshake::Initiator(const PrivateKey& static_key, const Key32& psk,
                               std::span<const std::uint8_t> prologue, Cipher cipher) {
  return Handshake(Role::kInitiator, static_key, psk, prologue, cipher);
}

Handshake Handshake::Responder(const PrivateKey& static_key, const Key32& psk,
                               std::span<const std::uint8_t> prologue, Cipher cipher) {
  return Handshake(Role::kResponder, static_key, psk, prologue, cipher);
}

Handshake::Handshake(Role role, const PrivateKey& static_key, const Key32& psk,
                     std::span<const std::uint8_t> prologue, Cipher cipher)
    : role_(role),
      cipher_(cipher),
      symmetric_(NoiseProtocolName(cipher), cipher),
      static_key_(static_key.Clone()),
      static_public_(DerivePublic(static_key)),
      psk_(psk.Clone()) {
  VDEMESH_CHECK(cipher != Cipher::kAes256Gcm || AesGcmAvailable());
  // XX has no pre-messages, so the prologue is all that is hashed before message 1.
  symmetric_.MixHash(prologue);
}

void Handshake::SetEphemeralForTesting(const PrivateKey& ephemeral) {
  ephemeral_ = ephemeral.Clone();
  ephemeral_public_ = DerivePublic(ephemeral_);
  has_ephemeral_ = true;
}

bool Handshake::MyTurnToWrite() const noexcept {
  const bool initiator_turn = next_message_ % 2 == 0;
  return next_message_ < kMessages && initiator_turn == (role_ == Role::kInitiator);
}

void Handshake::WipeSecrets() noexcept {
  symmetric_.Wipe();
  static_key_.Wipe();
  psk_.Wipe();
  ephemeral_.Wipe();
}

bool Handshake::Fail() {
  failed_ = true;
  WipeSecrets();
  return false;
}

bool Handshake::WriteMessage(std::span<const std::uint8_t> payload,
                             std::vector<std::uint8_t>* out) {
  out->clear();
  // Keep every message within Noise's 65535 bytes (message 2 has the largest overhead).
  bool ok = !failed_ && !spent_ && MyTurnToWrite() &&
            payload.size() <= kNoiseMaxMessageBytes - kNoiseMessage2Overhead;
  for (const Token token : MessagePattern(next_message_)) ok = ok && WriteToken(token, out);
  ok = ok && symmetric_.EncryptAndHash(payload, out);
  if (!ok) {
    out->clear();  // never leave half a message that a caller might send
    return Fail();
  }
  ++next_message_;
  return true;
}

bool Handshake::ReadMessage(std::span<const std::uint8_t> message,
                            std::vector<std::uint8_t>* payload) {
  payload->clear();
  bool ok = !failed_ && !spent_ && next_message_ < kMessages && !MyTurnToWrite() &&
            message.size() <= kNoiseMaxMessageBytes;
  std::span<const std::uint8_t> rest = message;
  for (const Token token : MessagePattern(next_message_)) ok = ok && ReadToken(token, &rest);
  // What is left is the payload and its tag; for message 1 this is the first check of the
  // PSK, made before any DH.
  ok = ok && symmetric_.DecryptAndHash(rest, payload);
  if (!ok) {
    payload->clear();
    return Fail();
  }
  ++next_message_;
  return true;
}

bool Handshake::WriteToken(Token token, std::vector<std::uint8_t>* out) {
  switch (token) {
    case Token::kE:
      if (!has_ephemeral_) {
        KeyPair fresh = GenerateKeyPair();
        ephemeral_ = std::move(fresh.private_key);
        ephemeral_public_ = fresh.public_key;
        has_ephemeral_ = true;
      }
      out->insert(out->end(), ephemeral_public_.bytes.begin(), ephemeral_public_.bytes.end());
      symmetric_.MixHash(ephemeral_public_.span());
      symmetric_.MixKey(ephemeral_public_.span());  // PSK handshakes: section 9.2
      return true;
    case Token::kS:
      return symmetric_.EncryptAndHash(static_public_.span(), out);
    case Token::kPsk:
      symmetric_.MixKeyAndHash(psk_.span());
      return true;
    default:
      return MixDh(token);
  }
}

bool Handshake::ReadToken(Token token, std::span<const std::uint8_t>* rest) {
  switch (token) {
    case Token::kE: {
      // SECURITY: every read is bounded by what is left of the message.
      if (rest->size() < kKeyBytes) return false;
      std::memcpy(remote_ephemeral_.bytes.data(), rest->data(), kKeyBytes);
      *rest = rest->subspan(kKeyBytes);
      symmetric_.MixHash(remote_ephemeral_.span());
      symmetric_.MixKey(remote_ephemeral_.span());  // PSK handshakes: section 9.2
      return true;
    }
    case Token::kS: {
      const std::size_t len = kKeyBytes + (symmetric_.has_key() ? kAeadTagBytes : 0);
      if (rest->size() < len) return false;
      std::vector<std::uint8_t> key;
      if (!symmetric_.DecryptAndHash(rest->first(len), &key)) return false;
      std::memcpy(remote_static_.bytes.data(), key.data(), kKeyBytes);
      has_remote_static_ = true;
      *rest = rest->subspan(len);
      return true;
    }
    case Token::kPsk:
      symmetric_.MixKeyAndHash(psk_.span());
      return true;
    default:
      return MixDh(token);
  }
}

bool Handshake::MixDh(Token token) {
  // ee = DH(e, re); es = DH(e, rs) for the initiator, DH(s, re) for the responder; se is the
  // mirror image. Both sides compute the same secret.
  const bool initiator = role_ == Role::kInitiator;
  const PrivateKey* mine = &ephemeral_;
  const PublicKey* theirs = &remote_ephemeral_;
  if (token == Token::kES) {
    mine = initiator ? &ephemeral_ : &static_key_;
    theirs = initiator ? &remote_static_ : &remote_ephemeral_;
  } else if (token == Token::kSE) {
    mine = initiator ? &static_key_ : &ephemeral_;
    theirs = initiator ? &remote_ephemeral_ : &remote_static_;
  }
  Key32 shared;
  // A low-order public key would make the secret public: refuse (crypto_scalarmult's -1).
  if (!X25519(*mine, *theirs, &shared)) return false;
  symmetric_.MixKey(shared.span());
  return true;
}

std::optional<TransportKeys> Handshake::Split() { return Split(cipher_); }

std::optional<TransportKeys> Handshake::Split(Cipher transport_cipher) {
  if (!complete() || spent_) return std::nullopt;
  Key32 initiator_to_responder, responder_to_initiator;
  symmetric_.Split(&initiator_to_responder, &responder_to_initiator);
  const bool initiator = role_ == Role::kInitiator;
  std::optional<TransportKeys> keys(TransportKeys{
      AeadKey(transport_cipher, initiator ? initiator_to_responder : responder_to_initiator),
      AeadKey(transport_cipher, initiator ? responder_to_initiator : initiator_to_responder),
      symmetric_.h(), remote_static_});
  spent_ = true;
  WipeSecrets();
  return keys;
}

}  // namespace vdemesh::crypto
