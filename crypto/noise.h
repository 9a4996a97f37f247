// noise.h: the vdemesh handshake, Noise_XXpsk0_25519_{ChaChaPoly,AESGCM}_SHA256
// (Noise Protocol Framework, revision 34).
//
//   -> psk, e                  message 1: initiator's ephemeral key and payload
//   <- e, ee, s, es            message 2: responder's ephemeral and static keys and payload
//   -> s, se                   message 3: initiator's static key and payload
//
// Why XXpsk0: a daemon is given only the network key (the PSK) and a peer's address, never
// the peer's public key, so the pattern must carry both static keys (XX). psk0 mixes the PSK in
// before anything is sent, so every byte of message 1 is authenticated by it: a responder
// checks message 1's tag before any DH and before answering, and stays silent to anyone
// without the network key (DESIGN.md, Security model). Both sides learn each other's host
// key (initiator after message 2, responder after message 3) and may refuse it against an
// allow-list before going on. The ephemeral keys give forward secrecy. Per the PSK rule of
// section 9.2, every `e` token also calls MixKey(e.pub).
//
// Message 1 can be replayed: a replay makes the responder send another message 2 but can never
// complete a session. Rate-limiting that is the transport's job (DESIGN.md).
//
// Errors: WriteMessage() and ReadMessage() return false on any malformed or unauthentic input
// or when called out of turn; the handshake is then dead (failed() is true and every later call
// fails), its secrets are wiped, and nothing was thrown. The caller just drops it.
// Thread affinity: one thread at a time (handshakes run on the control thread). Sizes without
// payload: message 1 is 48 bytes, message 2 is 96, message 3 is 64.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "crypto/aead.h"
#include "crypto/keys.h"
#include "crypto/noise_symmetric.h"
#include "crypto/secret.h"

namespace vdemesh::crypto {

inline constexpr std::size_t kNoiseMessage1Overhead = kKeyBytes + kAeadTagBytes;
inline constexpr std::size_t kNoiseMessage2Overhead = 2 * kKeyBytes + 2 * kAeadTagBytes;
inline constexpr std::size_t kNoiseMessage3Overhead = kKeyBytes + 2 * kAeadTagBytes;
// Noise's limit for any message (section 3).
inline constexpr std::size_t kNoiseMaxMessageBytes = 65535;

// "Noise_XXpsk0_25519_ChaChaPoly_SHA256" or "Noise_XXpsk0_25519_AESGCM_SHA256". The name is
// hashed into the handshake, so both sides must agree on the cipher for it to complete.
std::string_view NoiseProtocolName(Cipher cipher) noexcept;

// What a completed handshake yields, oriented for the side that called Split(): for the
// initiator `send` is Noise's first Split() key (initiator to responder); for the responder it
// is the second. The transport keeps its own counters (the nonces) for these keys.
struct TransportKeys {
  AeadKey send;
  AeadKey receive;
  noise::Hash handshake_hash;  // h: the same on both sides; usable as channel binding
  PublicKey remote_static;
};

class Handshake {
 public:
  enum class Role : std::uint8_t { kInitiator, kResponder };

  // `static_key`: this host's long-term key. `psk`: the network key. `prologue`: bytes both
  // sides must agree on (e.g. a version string); it is authenticated, never sent.
  // Precondition: cipher is kChaCha20Poly1305 or AesGcmAvailable().
  static Handshake Initiator(const PrivateKey& static_key, const Key32& psk,
                             std::span<const std::uint8_t> prologue,
                             Cipher cipher = Cipher::kChaCha20Poly1305);
  static Handshake Responder(const PrivateKey& static_key, const Key32& psk,
                             std::span<const std::uint8_t> prologue,
                             Cipher cipher = Cipher::kChaCha20Poly1305);

  Handshake(Handshake&&) noexcept = default;
  Handshake& operator=(Handshake&&) noexcept = default;

  // Tests only (known-answer vectors): use `ephemeral` instead of a fresh random key. Must be
  // called before this side writes its first message.
  void SetEphemeralForTesting(const PrivateKey& ephemeral);

  // Writes the next message, carrying `payload` (encrypted), into *out (replacing its
  // content). False if it is not our turn, the payload is too large, or the handshake is dead.
  [[nodiscard]] bool WriteMessage(std::span<const std::uint8_t> payload,
                                  std::vector<std::uint8_t>* out);
  // Reads the peer's next message and puts its payload into *payload (replacing its content).
  // False on any malformed, truncated or unauthentic message, or out of turn.
  [[nodiscard]] bool ReadMessage(std::span<const std::uint8_t> message,
                                 std::vector<std::uint8_t>* payload);

  Role role() const noexcept { return role_; }
  bool complete() const noexcept { return next_message_ == kMessages && !failed_; }
  bool failed() const noexcept { return failed_; }
  // The peer's host key; valid once has_remote_static() (after message 2 for the initiator,
  // after message 3 for the responder).
  bool has_remote_static() const noexcept { return has_remote_static_; }
  const PublicKey& remote_static() const noexcept { return remote_static_; }
  // The running handshake hash; final once complete().
  const noise::Hash& handshake_hash() const noexcept { return symmetric_.h(); }

  // The transport keys: nullopt unless complete(). Works once; afterwards the handshake's
  // secrets are wiped and every later call fails.
  std::optional<TransportKeys> Split();
  // The same, with transport keys for `transport_cipher` instead of the handshake's cipher:
  // the overlay always handshakes with ChaChaPoly (every host has it) and agrees on AES-GCM
  // inside the handshake payloads when both CPUs have AES-NI. The split keys are independent
  // uniform 32-byte keys either way.
  std::optional<TransportKeys> Split(Cipher transport_cipher);

 private:
  static constexpr int kMessages = 3;
  enum class Token : std::uint8_t;

  Handshake(Role role, const PrivateKey& static_key, const Key32& psk,
            std::span<const std::uint8_t> prologue, Cipher cipher);

  static std::span<const Token> MessagePattern(int index) noexcept;
  bool MyTurnToWrite() const noexcept;
  bool WriteToken(Token token, std::vector<std::uint8_t>* out);
  bool ReadToken(Token token, std::span<const std::uint8_t>* rest);
  bool MixDh(Token token);
  void WipeSecrets() noexcept;
  bool Fail();

  Role role_;
  Cipher cipher_;
  noise::SymmetricState symmetric_;
  PrivateKey static_key_;
  PublicKey static_public_;
  Key32 psk_;
  PrivateKey ephemeral_;
  PublicKey ephemeral_public_;
  bool has_ephemeral_ = false;
  PublicKey remote_ephemeral_;
  PublicKey remote_static_;
  bool has_remote_static_ = false;
  int next_message_ = 0;  // index of the next message of the pattern, 0..3
  bool failed_ = false;
  bool spent_ = false;  // Split() has handed out the keys
};

}  // namespace vdemesh::crypto
