// aead.cc: AeadKey over libsodium's detached AEAD functions. See aead.h.
#include "crypto/aead.h"

#include <array>
#include <cstring>

#include "common/check.h"
#include "crypto/sodium_init.h"

namespace vdemesh::crypto {
namespace {

using NonceBytes = std::array<std::uint8_t, kAeadNonceBytes>;

// libsodium 1.0.18 asserts these; we rely on them for the fixed-size spans in aead.h.
static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == kKeyBytes);
static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == kAeadNonceBytes);
static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == kAeadTagBytes);
static_assert(crypto_aead_aes256gcm_KEYBYTES == kKeyBytes);
static_assert(crypto_aead_aes256gcm_NPUBBYTES == kAeadNonceBytes);
static_assert(crypto_aead_aes256gcm_ABYTES == kAeadTagBytes);

// libsodium declares the ciphertext pointer nonnull even for empty messages, and an empty span's
// data() may be null: point at a dummy byte instead (nothing is read or written through it).
std::uint8_t* NonNull(std::span<std::uint8_t> data, std::uint8_t* dummy) noexcept {
  return data.empty() ? dummy : data.data();
}

}  // namespace

bool AesGcmAvailable() noexcept {
  EnsureSodiumInitialized();
  return crypto_aead_aes256gcm_is_available() == 1;
}

std::string_view NoiseCipherName(Cipher cipher) noexcept {
  return cipher == Cipher::kAes256Gcm ? "AESGCM" : "ChaChaPoly";
}

AeadKey::AeadKey(Cipher cipher, const Key32& key) noexcept : cipher_(cipher), key_(key.Clone()) {
  EnsureSodiumInitialized();
  sodium_memzero(&aes_, sizeof(aes_));
  if (cipher_ == Cipher::kAes256Gcm) {
    VDEMESH_CHECK(AesGcmAvailable());
    crypto_aead_aes256gcm_beforenm(&aes_, key_.data());
  }
}

AeadKey::~AeadKey() { WipeState(); }

AeadKey::AeadKey(AeadKey&& other) noexcept : cipher_(other.cipher_), key_(std::move(other.key_)) {
  std::memcpy(&aes_, &other.aes_, sizeof(aes_));
  other.WipeState();
}

AeadKey& AeadKey::operator=(AeadKey&& other) noexcept {
  if (this != &other) {
    cipher_ = other.cipher_;
    key_ = std::move(other.key_);
    std::memcpy(&aes_, &other.aes_, sizeof(aes_));
    other.WipeState();
  }
  return *this;
}

void AeadKey::WipeState() noexcept {
  key_.Wipe();
  sodium_memzero(&aes_, sizeof(aes_));
}

void AeadKey::CounterNonce(Cipher cipher, std::uint64_t counter,
                           std::span<std::uint8_t, kAeadNonceBytes> nonce) noexcept {
  // Noise section 12.3 (ChaChaPoly) and 12.4 (AESGCM): 32 zero bits, then the counter.
  nonce[0] = nonce[1] = nonce[2] = nonce[3] = 0;
  for (int i = 0; i < 8; ++i) {
    const auto byte = static_cast<std::uint8_t>(counter >> (8 * i));
    if (cipher == Cipher::kAes256Gcm) {
      nonce[11 - i] = byte;  // big-endian
    } else {
      nonce[4 + i] = byte;  // little-endian
    }
  }
}

void AeadKey::Seal(std::uint64_t counter, std::span<const std::uint8_t> ad,
                   std::span<std::uint8_t> data, std::uint8_t* tag_out) const noexcept {
  NonceBytes nonce;
  CounterNonce(cipher_, counter, nonce);
  SealWithNonce(nonce, ad, data, tag_out);
}

bool AeadKey::Open(std::uint64_t counter, std::span<const std::uint8_t> ad,
                   std::span<std::uint8_t> data, const std::uint8_t* tag) const noexcept {
  NonceBytes nonce;
  CounterNonce(cipher_, counter, nonce);
  return OpenWithNonce(nonce, ad, data, tag);
}

void AeadKey::SealWithNonce(Nonce nonce, std::span<const std::uint8_t> ad,
                            std::span<std::uint8_t> data, std::uint8_t* tag_out) const noexcept {
  // In place (c == m) is supported by both detached encryptors.
  std::uint8_t dummy = 0;
  std::uint8_t* const buf = NonNull(data, &dummy);
  if (cipher_ == Cipher::kAes256Gcm) {
    crypto_aead_aes256gcm_encrypt_detached_afternm(buf, tag_out, nullptr, buf, data.size(),
                                                   ad.data(), ad.size(), nullptr, nonce.data(),
                                                   &aes_);
  } else {
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(buf, tag_out, nullptr, buf, data.size(),
                                                       ad.data(), ad.size(), nullptr, nonce.data(),
                                                       key_.data());
  }
}

bool AeadKey::OpenWithNonce(Nonce nonce, std::span<const std::uint8_t> ad,
                            std::span<std::uint8_t> data, const std::uint8_t* tag) const noexcept {
  std::uint8_t dummy = 0;
  std::uint8_t* const buf = NonNull(data, &dummy);
  int rc;
  if (cipher_ == Cipher::kAes256Gcm) {
    rc = crypto_aead_aes256gcm_decrypt_detached_afternm(buf, nullptr, buf, data.size(), tag,
                                                        ad.data(), ad.size(), nonce.data(), &aes_);
  } else {
    rc = crypto_aead_chacha20poly1305_ietf_decrypt_detached(
        buf, nullptr, buf, data.size(), tag, ad.data(), ad.size(), nonce.data(), key_.data());
  }
  if (rc != 0) {
    // SECURITY: libsodium 1.0.18 already zeroes the output on failure; wiping here keeps that
    // promise independent of the library version, and costs nothing on the success path.
    if (!data.empty()) sodium_memzero(data.data(), data.size());
    return false;
  }
  return true;
}

}  // namespace vdemesh::crypto
