// noise_symmetric.cc: Noise CipherState, SymmetricState and HKDF. See noise_symmetric.h.
#include "crypto/noise_symmetric.h"

#include <sodium.h>

#include <cstring>
#include <limits>

#include "crypto/sodium_init.h"

namespace vdemesh::crypto::noise {
namespace {

static_assert(crypto_hash_sha256_BYTES == kHashBytes);
static_assert(crypto_auth_hmacsha256_BYTES == kKeyBytes);

// The HMAC state holds key-derived material, so it is wiped after use.
class Hmac {
 public:
  explicit Hmac(std::span<const std::uint8_t> key) noexcept {
    crypto_auth_hmacsha256_init(&state_, key.data(), key.size());
  }
  ~Hmac() { sodium_memzero(&state_, sizeof(state_)); }
  Hmac(const Hmac&) = delete;
  Hmac& operator=(const Hmac&) = delete;

  Hmac& Update(std::span<const std::uint8_t> data) noexcept {
    crypto_auth_hmacsha256_update(&state_, data.data(), data.size());
    return *this;
  }
  void Final(Key32* out) noexcept { crypto_auth_hmacsha256_final(&state_, out->data()); }

 private:
  crypto_auth_hmacsha256_state state_;
};

std::span<const std::uint8_t> Byte(const std::uint8_t& b) { return {&b, 1}; }

}  // namespace

void Hkdf(const Key32& chaining_key, std::span<const std::uint8_t> ikm, Key32* out1, Key32* out2,
          Key32* out3) noexcept {
  // temp_key = HMAC(ck, ikm); out_i = HMAC(temp_key, out_{i-1} || byte(i)).
  Key32 temp_key;
  Hmac(chaining_key.span()).Update(ikm).Final(&temp_key);
  const std::uint8_t one = 1, two = 2, three = 3;
  Hmac(temp_key.span()).Update(Byte(one)).Final(out1);
  Hmac(temp_key.span()).Update(out1->span()).Update(Byte(two)).Final(out2);
  if (out3 != nullptr) Hmac(temp_key.span()).Update(out2->span()).Update(Byte(three)).Final(out3);
}

void CipherState::InitializeKey(const Key32& key) noexcept {
  key_.emplace(cipher_, key);
  n_ = 0;
}

bool CipherState::EncryptWithAd(std::span<const std::uint8_t> ad,
                                std::span<const std::uint8_t> plaintext,
                                std::vector<std::uint8_t>* out) {
  const std::size_t start = out->size();
  out->insert(out->end(), plaintext.begin(), plaintext.end());
  if (!key_) return true;
  // Noise reserves n = 2^64 - 1; a handshake uses three nonces, so this is defensive.
  if (n_ == std::numeric_limits<std::uint64_t>::max()) {
    out->resize(start);
    return false;
  }
  out->resize(out->size() + kAeadTagBytes);
  const std::span<std::uint8_t> body(out->data() + start, plaintext.size());
  key_->Seal(n_, ad, body, body.data() + body.size());
  ++n_;
  return true;
}

bool CipherState::DecryptWithAd(std::span<const std::uint8_t> ad,
                                std::span<const std::uint8_t> ciphertext,
                                std::vector<std::uint8_t>* out) {
  if (!key_) {
    out->insert(out->end(), ciphertext.begin(), ciphertext.end());
    return true;
  }
  // SECURITY: a ciphertext shorter than its tag is malformed; refuse before any arithmetic.
  if (ciphertext.size() < kAeadTagBytes || n_ == std::numeric_limits<std::uint64_t>::max()) {
    return false;
  }
  const std::span<const std::uint8_t> sealed = ciphertext.first(ciphertext.size() - kAeadTagBytes);
  const std::size_t start = out->size();
  out->insert(out->end(), sealed.begin(), sealed.end());
  const std::span<std::uint8_t> body(out->data() + start, sealed.size());
  if (!key_->Open(n_, ad, body, ciphertext.data() + sealed.size())) {
    out->resize(start);
    return false;
  }
  ++n_;
  return true;
}

SymmetricState::SymmetricState(std::string_view protocol_name, Cipher cipher) noexcept
    : cipher_state_(cipher) {
  EnsureSodiumInitialized();
  // InitializeSymmetric: a name longer than HASHLEN is hashed, a shorter one zero-padded.
  if (protocol_name.size() <= kHashBytes) {
    std::memcpy(h_.data(), protocol_name.data(), protocol_name.size());
  } else {
    crypto_hash_sha256(h_.data(), reinterpret_cast<const std::uint8_t*>(protocol_name.data()),
                       protocol_name.size());
  }
  std::memcpy(ck_.data(), h_.data(), kHashBytes);
}

void SymmetricState::MixKey(std::span<const std::uint8_t> ikm) noexcept {
  Key32 ck, temp_k;
  Hkdf(ck_, ikm, &ck, &temp_k, nullptr);
  ck_ = std::move(ck);
  cipher_state_.InitializeKey(temp_k);
}

void SymmetricState::MixHash(std::span<const std::uint8_t> data) noexcept {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, h_.data(), h_.size());
  crypto_hash_sha256_update(&state, data.data(), data.size());
  crypto_hash_sha256_final(&state, h_.data());
}

void SymmetricState::MixKeyAndHash(std::span<const std::uint8_t> ikm) noexcept {
  Key32 ck, temp_h, temp_k;
  Hkdf(ck_, ikm, &ck, &temp_h, &temp_k);
  ck_ = std::move(ck);
  MixHash(temp_h.span());
  cipher_state_.InitializeKey(temp_k);  // HASHLEN is 32: no truncation needed
}

bool SymmetricState::EncryptAndHash(std::span<const std::uint8_t> plaintext,
                                    std::vector<std::uint8_t>* out) {
  const std::size_t start = out->size();
  if (!cipher_state_.EncryptWithAd(h_, plaintext, out)) return false;
  MixHash(std::span<const std::uint8_t>(out->data() + start, out->size() - start));
  return true;
}

bool SymmetricState::DecryptAndHash(std::span<const std::uint8_t> ciphertext,
                                    std::vector<std::uint8_t>* out) {
  if (!cipher_state_.DecryptWithAd(h_, ciphertext, out)) return false;
  MixHash(ciphertext);
  return true;
}

void SymmetricState::Split(Key32* initiator_to_responder,
                           Key32* responder_to_initiator) const noexcept {
  Hkdf(ck_, {}, initiator_to_responder, responder_to_initiator, nullptr);
}

void SymmetricState::Wipe() noexcept {
  ck_.Wipe();
  cipher_state_.Clear();
}

}  // namespace vdemesh::crypto::noise
