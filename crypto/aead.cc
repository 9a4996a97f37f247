// aead.cc: AeadKey over libsodium (small messages) and OpenSSL (bulk). See aead.h.
#include "crypto/aead.h"

#include <openssl/crypto.h>
#include <sodium.h>

#include <array>
#include <cstring>
#include <optional>

#include "common/check.h"
#include "crypto/provider_aead.h"
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

// OpenSSL's implementation of `cipher` for bulk messages, or null (then libsodium does all).
const ProviderAead* Bulk(Cipher cipher) noexcept {
  static const std::optional<ProviderAead> aes = ProviderAead::Find("AES-256-GCM");
  static const std::optional<ProviderAead> chacha = ProviderAead::Find("ChaCha20-Poly1305");
  const std::optional<ProviderAead>& found = cipher == Cipher::kAes256Gcm ? aes : chacha;
  return found ? &*found : nullptr;
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
  sodium_memzero(&aes_, sizeof aes_);
  if (cipher_ == Cipher::kAes256Gcm) {
    VDEMESH_CHECK(AesGcmAvailable());
    crypto_aead_aes256gcm_beforenm(&aes_, key_.data());
  }
  bulk_ = Bulk(cipher_);
  if (bulk_ != nullptr) {
    seal_ = bulk_->NewKeyed(key, true);
    open_ = bulk_->NewKeyed(key, false);
  }
}

AeadKey::~AeadKey() { Free(); }

AeadKey::AeadKey(AeadKey&& other) noexcept
    : cipher_(other.cipher_),
      key_(std::move(other.key_)),
      bulk_(other.bulk_),
      seal_(other.seal_),
      open_(other.open_) {
  std::memcpy(&aes_, &other.aes_, sizeof aes_);
  sodium_memzero(&other.aes_, sizeof other.aes_);
  other.seal_ = other.open_ = nullptr;
  other.moved_from_ = true;
}

AeadKey& AeadKey::operator=(AeadKey&& other) noexcept {
  if (this != &other) {
    Free();
    cipher_ = other.cipher_;
    key_ = std::move(other.key_);
    std::memcpy(&aes_, &other.aes_, sizeof aes_);
    sodium_memzero(&other.aes_, sizeof other.aes_);
    bulk_ = other.bulk_;
    seal_ = other.seal_;
    open_ = other.open_;
    moved_from_ = false;
    other.seal_ = other.open_ = nullptr;
    other.moved_from_ = true;
  }
  return *this;
}

void AeadKey::Free() noexcept {
  key_.Wipe();
  sodium_memzero(&aes_, sizeof aes_);
  if (bulk_ != nullptr) {
    bulk_->Free(seal_);  // cleanses the key schedule
    bulk_->Free(open_);
  }
  seal_ = open_ = nullptr;
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

void AeadKey::SealGather(std::uint64_t counter, std::span<const std::uint8_t> ad,
                         std::span<std::uint8_t> head, std::span<const std::uint8_t> body,
                         std::uint8_t* body_out, std::uint8_t* tag_out) const noexcept {
  VDEMESH_CHECK(body_out == head.data() + head.size());
  if (head.size() + body.size() < kBulkBytes || body.empty() || bulk_ == nullptr) {
    if (!body.empty() && body.data() != body_out) std::memmove(body_out, body.data(), body.size());
    Seal(counter, ad, std::span<std::uint8_t>(head.data(), head.size() + body.size()), tag_out);
    return;
  }
  NonceBytes nonce;
  CounterNonce(cipher_, counter, nonce);
  bulk_->Seal(seal_, nonce, ad, head, body, body_out, tag_out);
}

bool AeadKey::Open(std::uint64_t counter, std::span<const std::uint8_t> ad,
                   std::span<std::uint8_t> data, const std::uint8_t* tag) const noexcept {
  NonceBytes nonce;
  CounterNonce(cipher_, counter, nonce);
  return OpenWithNonce(nonce, ad, data, tag);
}

void AeadKey::SealWithNonce(Nonce nonce, std::span<const std::uint8_t> ad,
                            std::span<std::uint8_t> data, std::uint8_t* tag_out) const noexcept {
  VDEMESH_CHECK(!moved_from_);
  if (data.size() < kBulkBytes || bulk_ == nullptr) {
    // In place (c == m) is supported by both detached encryptors.
    std::uint8_t dummy = 0;
    std::uint8_t* const buf = NonNull(data, &dummy);
    if (cipher_ == Cipher::kAes256Gcm) {
      crypto_aead_aes256gcm_encrypt_detached_afternm(buf, tag_out, nullptr, buf, data.size(),
                                                     ad.data(), ad.size(), nullptr, nonce.data(),
                                                     &aes_);
    } else {
      crypto_aead_chacha20poly1305_ietf_encrypt_detached(buf, tag_out, nullptr, buf, data.size(),
                                                         ad.data(), ad.size(), nullptr,
                                                         nonce.data(), key_.data());
    }
    return;
  }
  bulk_->Seal(seal_, nonce, ad, data, {}, nullptr, tag_out);
}

bool AeadKey::OpenWithNonce(Nonce nonce, std::span<const std::uint8_t> ad,
                            std::span<std::uint8_t> data, const std::uint8_t* tag) const noexcept {
  VDEMESH_CHECK(!moved_from_);
  bool ok;
  if (data.size() < kBulkBytes || bulk_ == nullptr) {
    std::uint8_t dummy = 0;
    std::uint8_t* const buf = NonNull(data, &dummy);
    const int rc =
        cipher_ == Cipher::kAes256Gcm
            ? crypto_aead_aes256gcm_decrypt_detached_afternm(
                  buf, nullptr, buf, data.size(), tag, ad.data(), ad.size(), nonce.data(), &aes_)
            : crypto_aead_chacha20poly1305_ietf_decrypt_detached(buf, nullptr, buf, data.size(),
                                                                 tag, ad.data(), ad.size(),
                                                                 nonce.data(), key_.data());
    ok = rc == 0;
  } else {
    ok = bulk_->Open(open_, nonce, ad, data, tag);
  }
  if (!ok) {
    // SECURITY: the data was decrypted before the tag was checked; a forgery must not leave
    // anything that could pass for plaintext.
    if (!data.empty()) OPENSSL_cleanse(data.data(), data.size());
    return false;
  }
  return true;
}

}  // namespace vdemesh::crypto
