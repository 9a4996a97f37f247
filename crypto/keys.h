// keys.h: X25519 host keys, the network key, their base64 text form, and key files.
//
// Text form: standard base64 with padding (sodium_base64_VARIANT_ORIGINAL), 44 characters for
// 32 bytes, exactly what `wg genkey` / `wg pubkey` print, so users can handle both the same way.
//
// Key files hold one base64 key and nothing else (surrounding whitespace is ignored). A file
// that group or others may read, or that is not a regular file, is refused with a message that
// says how to fix it, as ssh does for private keys. Files are created 0600 and never
// overwritten.
//
// Secrets are wiped on every path: key types wipe themselves (secret.h), and the text buffers
// used while reading and writing key files are wiped before they are released.
// Errors: start-up and tool functions return std::optional / bool and a message in *err.
// Nothing here is on the per-packet path.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "crypto/constants.h"
#include "crypto/secret.h"

namespace vdemesh::crypto {

struct PrivateKeyTag;
// A host's long-term X25519 secret (or an ephemeral one during a handshake).
using PrivateKey = SecretBytes<kKeyBytes, PrivateKeyTag>;
// The network key is the Noise PSK: 32 random bytes every member holds.
using NetworkKey = Key32;

// An X25519 public key. Not secret; compared and copied freely.
struct PublicKey {
  std::array<std::uint8_t, kKeyBytes> bytes{};

  std::span<const std::uint8_t, kKeyBytes> span() const noexcept {
    return std::span<const std::uint8_t, kKeyBytes>(bytes);
  }
  friend bool operator==(const PublicKey&, const PublicKey&) = default;
};

struct KeyPair {
  PrivateKey private_key;
  PublicKey public_key;
};

// Length of the base64 text of a 32-byte key ("...=").
inline constexpr std::size_t kKeyBase64Chars = 44;
// Length of Fingerprint().
inline constexpr std::size_t kFingerprintChars = 8;

// A fresh random key pair. The private key is clamped as X25519 (and `wg genkey`) expects.
KeyPair GenerateKeyPair();
// The public half of `private_key` (crypto_scalarmult_base).
PublicKey DerivePublic(const PrivateKey& private_key);
// 32 fresh random bytes.
NetworkKey GenerateNetworkKey();

// X25519(private_key, public_key) into *shared. Returns false, with *shared wiped, when the
// result is all zero: `public_key` has low order, so the "shared" secret is known to everyone.
[[nodiscard]] bool X25519(const PrivateKey& private_key, const PublicKey& public_key,
                          Key32* shared) noexcept;

// Base64 text of a 32-byte key. When the key is secret, the caller wipes the returned string
// (sodium_memzero(s.data(), s.size())) once it has been written out.
std::string EncodeBase64Key(std::span<const std::uint8_t, kKeyBytes> key);
// Strict decoding: exactly 44 base64 characters with padding, no whitespace, no trailing data.
std::optional<Key32> DecodeBase64Key(std::string_view text);
std::optional<PublicKey> DecodePublicKey(std::string_view text);
inline std::string EncodePublicKey(const PublicKey& key) { return EncodeBase64Key(key.span()); }

// A short name for a peer in logs: the first 8 characters of its base64 public key (48 bits).
// We chose a prefix of the key itself, not of a hash, so an operator can find the peer by
// searching `vswitchctl peers` (which shows the full key, as `wg show` does) for the short form.
// It identifies a peer for humans only; never use it to authenticate or to index peers.
std::string Fingerprint(const PublicKey& key);

// Reads one base64 key from `path`. Refuses (nullopt, reason in *err) a file that is not a
// regular file, whose mode grants any group or other permission, or that holds anything but
// one 44-character key between optional whitespace. The caller gives the key its role, e.g.
// `PrivateKey host(key->span())`.
std::optional<Key32> ReadKeyFile(const std::string& path, std::string* err);
// Creates `path` with mode 0600 and writes the base64 key and a newline. Refuses to overwrite
// an existing file (O_EXCL); a partly written file is removed.
[[nodiscard]] bool WriteKeyFile(const std::string& path,
                                std::span<const std::uint8_t, kKeyBytes> key, std::string* err);

}  // namespace vdemesh::crypto
