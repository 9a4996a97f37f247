// noise_symmetric.h: the Noise Protocol Framework's CipherState and SymmetricState
// (revision 34, sections 5.1 and 5.2) for HASH = SHA-256 and either AEAD cipher.
//
// These are the building blocks of noise.h's Handshake and are not meant for other users.
// They follow the specification's names and steps one to one, so a reviewer can hold them
// next to the spec: HKDF is HMAC-SHA256 chained as in section 4.3; MixKey, MixHash,
// MixKeyAndHash, EncryptAndHash, DecryptAndHash and Split are as in section 5.2.
//
// Secrets (the chaining key, cipher keys, HKDF temporaries) are wiped when replaced and when
// the objects die. The handshake hash h is not secret, but is channel-binding data.
// Thread affinity: none; owned by one Handshake. Not on the per-packet path (allocation is ok).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "crypto/aead.h"
#include "crypto/constants.h"
#include "crypto/secret.h"

namespace vdemesh::crypto::noise {

using Hash = std::array<std::uint8_t, kHashBytes>;

// HKDF(chaining_key, input_key_material, 2 or 3) of Noise section 4.3. out3 may be null.
void Hkdf(const Key32& chaining_key, std::span<const std::uint8_t> ikm, Key32* out1, Key32* out2,
          Key32* out3) noexcept;

// Section 5.1: an optional key and the nonce counter n.
class CipherState {
 public:
  explicit CipherState(Cipher cipher) noexcept : cipher_(cipher) {}

  void InitializeKey(const Key32& key) noexcept;
  bool has_key() const noexcept { return key_.has_value(); }
  void Clear() noexcept { key_.reset(); }

  // Appends ENCRYPT(k, n++, ad, plaintext) (ciphertext then tag) to *out, or the plaintext
  // itself while there is no key. False only when the nonce space is used up.
  [[nodiscard]] bool EncryptWithAd(std::span<const std::uint8_t> ad,
                                   std::span<const std::uint8_t> plaintext,
                                   std::vector<std::uint8_t>* out);
  // Appends the plaintext of `ciphertext` to *out. False, with *out unchanged, when the tag
  // does not verify or the input is shorter than a tag.
  [[nodiscard]] bool DecryptWithAd(std::span<const std::uint8_t> ad,
                                   std::span<const std::uint8_t> ciphertext,
                                   std::vector<std::uint8_t>* out);

 private:
  Cipher cipher_;
  std::optional<AeadKey> key_;
  std::uint64_t n_ = 0;
};

// Section 5.2: the chaining key ck, the handshake hash h and a CipherState.
class SymmetricState {
 public:
  SymmetricState(std::string_view protocol_name, Cipher cipher) noexcept;

  void MixKey(std::span<const std::uint8_t> ikm) noexcept;
  void MixHash(std::span<const std::uint8_t> data) noexcept;
  void MixKeyAndHash(std::span<const std::uint8_t> ikm) noexcept;
  [[nodiscard]] bool EncryptAndHash(std::span<const std::uint8_t> plaintext,
                                    std::vector<std::uint8_t>* out);
  [[nodiscard]] bool DecryptAndHash(std::span<const std::uint8_t> ciphertext,
                                    std::vector<std::uint8_t>* out);
  // The two transport keys: first for initiator-to-responder, second for the other way.
  void Split(Key32* initiator_to_responder, Key32* responder_to_initiator) const noexcept;
  // Forgets every secret; the object must not be used for encryption afterwards.
  void Wipe() noexcept;

  bool has_key() const noexcept { return cipher_state_.has_key(); }
  const Hash& h() const noexcept { return h_; }

 private:
  Key32 ck_;
  Hash h_{};
  CipherState cipher_state_;
};

}  // namespace vdemesh::crypto::noise
