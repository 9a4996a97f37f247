// aead.h: in-place authenticated encryption with a 64-bit counter nonce.
//
// Two ciphers, both with 32-byte keys and 16-byte tags:
//   kChaCha20Poly1305  IETF ChaCha20-Poly1305 (RFC 8439); always available.
//   kAes256Gcm         AES-256-GCM; only where the CPU has AES-NI and PCLMUL
//                      (AesGcmAvailable()), since a software AES would leak through timing.
// Two implementations of each, chosen by size, since each wins where the other loses (measured
// on this project's machines): messages of kBulkBytes and more go to OpenSSL's libcrypto, called
// through its provider functions (provider_aead.h). Even through EVP it sealed a 1436-byte frame
// in 530 ns (AES-256-GCM) and 970 ns (ChaCha20-Poly1305) against libsodium's 930 and 1450 on a
// machine with VAES; directly, 1408 bytes take 795 against 1175 ns on one without. Smaller
// messages go to libsodium, which is faster there (at 64 bytes 144 against 206 ns through EVP,
// 228 against 293 directly) and whose short code path keeps a lone ping fast when the caches
// are cold (with OpenSSL for everything, ping RTTs across the overlay grew by ~40 us). The
// output is the same standard AEAD either way (tests check it byte for byte).
// Nonces are Noise's (revision 34, section 12): 4 zero bytes, then the counter, little-endian
// for ChaChaPoly and big-endian for AESGCM. So a Noise CipherState and our data packets use the
// same AeadKey, and each counter value must be used at most once per key (the caller's job:
// the sender's counter is the nonce; the receiver's replay window rejects repeats).
//
// Buffers: the data is encrypted and decrypted in place and the tag lives in a separate 16
// bytes, normally the tailroom right after the data (STYLE.md, Buffers). Nothing is copied or
// allocated per call; Seal() and Open() are noexcept. Each AeadKey holds an OpenSSL context
// per direction, so one key must not be used by two threads at once (the shard owns a
// session's keys; a Noise CipherState belongs to one handshake).
//
// Invariant: when Open() fails, the buffer has been wiped, so a forged packet never yields
// anything that could be mistaken for plaintext.
#pragma once

#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "crypto/constants.h"
#include "crypto/secret.h"

namespace vdemesh::crypto {

class ProviderAead;

enum class Cipher : std::uint8_t { kChaCha20Poly1305, kAes256Gcm };

// Messages from this size on are handled by OpenSSL, smaller ones by libsodium.
inline constexpr std::size_t kBulkBytes = 256;

// True when this CPU has AES-NI and PCLMUL (asked of libsodium), so AES-256-GCM runs in
// constant time.
bool AesGcmAvailable() noexcept;
// The cipher's name in Noise protocol names: "ChaChaPoly" or "AESGCM".
std::string_view NoiseCipherName(Cipher cipher) noexcept;

class AeadKey {
 public:
  using Nonce = std::span<const std::uint8_t, kAeadNonceBytes>;

  // Precondition (checked, aborts): cipher is kChaCha20Poly1305 or AesGcmAvailable().
  AeadKey(Cipher cipher, const Key32& key) noexcept;
  ~AeadKey();
  AeadKey(const AeadKey&) = delete;
  AeadKey& operator=(const AeadKey&) = delete;
  // Moving wipes the source, which must not be used again.
  AeadKey(AeadKey&& other) noexcept;
  AeadKey& operator=(AeadKey&& other) noexcept;

  Cipher cipher() const noexcept { return cipher_; }
  // True when bulk messages go to OpenSSL; false where OpenSSL lacks the cipher (then libsodium
  // handles every size).
  bool bulk_by_openssl() const noexcept { return bulk_ != nullptr; }

  // Encrypts `data` in place and writes the tag to tag_out[0..16), authenticating `ad` too.
  void Seal(std::uint64_t counter, std::span<const std::uint8_t> ad, std::span<std::uint8_t> data,
            std::uint8_t* tag_out) const noexcept;
  // Seal() of a plaintext in two parts: `head`, encrypted in place, then `body`, encrypted from
  // where it is to `body_out`, which must be head.data() + head.size() (checked). For bulk
  // messages this spares the caller copying `body` next to `head` first: the cipher's own pass
  // over the bytes is the copy.
  void SealGather(std::uint64_t counter, std::span<const std::uint8_t> ad,
                  std::span<std::uint8_t> head, std::span<const std::uint8_t> body,
                  std::uint8_t* body_out, std::uint8_t* tag_out) const noexcept;
  // Checks `tag` over `ad` and `data`, then decrypts `data` in place. On failure returns false
  // and `data` is wiped.
  [[nodiscard]] bool Open(std::uint64_t counter, std::span<const std::uint8_t> ad,
                          std::span<std::uint8_t> data, const std::uint8_t* tag) const noexcept;

  // The same with an explicit 96-bit nonce: for known-answer tests of the raw primitives.
  void SealWithNonce(Nonce nonce, std::span<const std::uint8_t> ad, std::span<std::uint8_t> data,
                     std::uint8_t* tag_out) const noexcept;
  [[nodiscard]] bool OpenWithNonce(Nonce nonce, std::span<const std::uint8_t> ad,
                                   std::span<std::uint8_t> data,
                                   const std::uint8_t* tag) const noexcept;

  // The nonce that Seal(counter) uses with `cipher` (Noise's format; see the file comment).
  static void CounterNonce(Cipher cipher, std::uint64_t counter,
                           std::span<std::uint8_t, kAeadNonceBytes> nonce) noexcept;

 private:
  void Free() noexcept;

  Cipher cipher_;
  // libsodium: the key itself (ChaCha20-Poly1305), or AES-GCM's expanded key schedule computed
  // once per key. Secret; wiped on destruction and when moved from.
  Key32 key_;
  crypto_aead_aes256gcm_state aes_;
  // OpenSSL (null when it lacks the cipher): a context per direction, keyed once; only the nonce
  // changes per call. OpenSSL wipes a context's key material when it is freed. Null after a move.
  const ProviderAead* bulk_ = nullptr;
  void* seal_ = nullptr;
  void* open_ = nullptr;
  bool moved_from_ = false;
};

}  // namespace vdemesh::crypto
