// aead.cc: AeadKey over libsodium (small messages) and OpenSSL's EVP (bulk). See aead.h.
#include "crypto/aead.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

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

const EVP_CIPHER* EvpCipher(Cipher cipher) noexcept {
  return cipher == Cipher::kAes256Gcm ? EVP_aes_256_gcm() : EVP_chacha20_poly1305();
}

// The tag, read from or given to the provider as a parameter. OpenSSL 3's EVP_CIPHER_CTX_ctrl
// does the same but first translates the control code into a parameter through a table of
// strings: ~180 ns a call on this project's machines, 15-20 % of sealing a 1400-byte datagram.
bool GetTag(EVP_CIPHER_CTX* ctx, std::uint8_t* tag) noexcept {
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, kAeadTagBytes),
      OSSL_PARAM_construct_end()};
  return EVP_CIPHER_CTX_get_params(ctx, params) == 1;
}

bool SetTag(EVP_CIPHER_CTX* ctx, const std::uint8_t* tag) noexcept {
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG,
                                        const_cast<std::uint8_t*>(tag), kAeadTagBytes),
      OSSL_PARAM_construct_end()};
  return EVP_CIPHER_CTX_set_params(ctx, params) == 1;
}

// Lengths here are frames and handshake messages, far below INT_MAX.
int Len(std::size_t n) noexcept { return static_cast<int>(n); }

// Seals with OpenSSL: `head` in place, then `body` into `body_out`. Each step fails only on a
// misuse of the API (a bug): crash rather than send garbage.
void EvpSeal(EVP_CIPHER_CTX* ctx, std::span<const std::uint8_t, kAeadNonceBytes> nonce,
             std::span<const std::uint8_t> ad, std::span<std::uint8_t> head,
             std::span<const std::uint8_t> body, std::uint8_t* body_out,
             std::uint8_t* tag_out) noexcept {
  int n = 0;
  bool ok = EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) == 1;
  if (!ad.empty()) ok = ok && EVP_EncryptUpdate(ctx, nullptr, &n, ad.data(), Len(ad.size())) == 1;
  if (!head.empty())  // in place: OpenSSL's AEAD ciphers allow out == in
    ok = ok && EVP_EncryptUpdate(ctx, head.data(), &n, head.data(), Len(head.size())) == 1;
  if (!body.empty())
    ok = ok && EVP_EncryptUpdate(ctx, body_out, &n, body.data(), Len(body.size())) == 1;
  ok = ok && EVP_EncryptFinal_ex(ctx, tag_out, &n) == 1;  // writes nothing for AEAD
  ok = ok && GetTag(ctx, tag_out);
  VDEMESH_CHECK(ok);
}

// A context keyed for one direction; both ciphers take a 96-bit nonce by default. Runs at
// handshake time: failure is an allocation failure, which we do not survive anyway.
EVP_CIPHER_CTX* KeyedContext(Cipher cipher, const Key32& key, bool seal) noexcept {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  VDEMESH_CHECK(ctx != nullptr);
  VDEMESH_CHECK(
      EVP_CipherInit_ex(ctx, EvpCipher(cipher), nullptr, key.data(), nullptr, seal ? 1 : 0) == 1);
  return ctx;
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
  seal_ = KeyedContext(cipher_, key, true);
  open_ = KeyedContext(cipher_, key, false);
}

AeadKey::~AeadKey() { Free(); }

AeadKey::AeadKey(AeadKey&& other) noexcept
    : cipher_(other.cipher_), key_(std::move(other.key_)), seal_(other.seal_), open_(other.open_) {
  std::memcpy(&aes_, &other.aes_, sizeof aes_);
  sodium_memzero(&other.aes_, sizeof other.aes_);
  other.seal_ = other.open_ = nullptr;
}

AeadKey& AeadKey::operator=(AeadKey&& other) noexcept {
  if (this != &other) {
    Free();
    cipher_ = other.cipher_;
    key_ = std::move(other.key_);
    std::memcpy(&aes_, &other.aes_, sizeof aes_);
    sodium_memzero(&other.aes_, sizeof other.aes_);
    seal_ = other.seal_;
    open_ = other.open_;
    other.seal_ = other.open_ = nullptr;
  }
  return *this;
}

void AeadKey::Free() noexcept {
  key_.Wipe();
  sodium_memzero(&aes_, sizeof aes_);
  EVP_CIPHER_CTX_free(seal_);  // cleanses the key schedule
  EVP_CIPHER_CTX_free(open_);
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
  if (head.size() + body.size() < kBulkBytes || body.empty()) {
    if (!body.empty() && body.data() != body_out) std::memmove(body_out, body.data(), body.size());
    Seal(counter, ad, std::span<std::uint8_t>(head.data(), head.size() + body.size()), tag_out);
    return;
  }
  NonceBytes nonce;
  CounterNonce(cipher_, counter, nonce);
  EvpSeal(seal_, nonce, ad, head, body, body_out, tag_out);
}

bool AeadKey::Open(std::uint64_t counter, std::span<const std::uint8_t> ad,
                   std::span<std::uint8_t> data, const std::uint8_t* tag) const noexcept {
  NonceBytes nonce;
  CounterNonce(cipher_, counter, nonce);
  return OpenWithNonce(nonce, ad, data, tag);
}

void AeadKey::SealWithNonce(Nonce nonce, std::span<const std::uint8_t> ad,
                            std::span<std::uint8_t> data, std::uint8_t* tag_out) const noexcept {
  VDEMESH_CHECK(seal_ != nullptr);  // not a moved-from key
  if (data.size() < kBulkBytes) {
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
  EvpSeal(seal_, nonce, ad, data, {}, nullptr, tag_out);
}

bool AeadKey::OpenWithNonce(Nonce nonce, std::span<const std::uint8_t> ad,
                            std::span<std::uint8_t> data, const std::uint8_t* tag) const noexcept {
  VDEMESH_CHECK(open_ != nullptr);
  bool ok;
  if (data.size() < kBulkBytes) {
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
    int n = 0;
    std::uint8_t final_block[EVP_MAX_BLOCK_LENGTH];
    ok = EVP_DecryptInit_ex(open_, nullptr, nullptr, nullptr, nonce.data()) == 1 &&
         SetTag(open_, tag);
    if (!ad.empty())
      ok = ok && EVP_DecryptUpdate(open_, nullptr, &n, ad.data(), Len(ad.size())) == 1;
    ok = ok && EVP_DecryptUpdate(open_, data.data(), &n, data.data(), Len(data.size())) == 1;
    ok = ok && EVP_DecryptFinal_ex(open_, final_block, &n) == 1;  // checks the tag
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
