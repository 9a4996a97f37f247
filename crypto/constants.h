// constants.h: the protocol constants of crypto/, in one place (wg's messages.h).
//
// Message-count limits follow WireGuard: the sender rekeys long before a key is worn out, and
// the receiver refuses counters near the end of the 64-bit space so that a key can never be
// used with a nonce twice, even across the replay window's slack.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vdemesh::crypto {

inline constexpr std::size_t kKeyBytes = 32;        // X25519 keys, AEAD keys, network key
inline constexpr std::size_t kAeadTagBytes = 16;    // Poly1305 and GCM tags
inline constexpr std::size_t kAeadNonceBytes = 12;  // IETF ChaCha20-Poly1305 and AES-GCM
inline constexpr std::size_t kHashBytes = 32;       // SHA-256: the Noise handshake hash

// A session's sender starts a new handshake after this many messages (wg REKEY_AFTER_MESSAGES).
inline constexpr std::uint64_t kRekeyAfterMessages = std::uint64_t{1} << 60;
// No counter at or above this is ever sent or accepted: 2^64 - 2^13 - 1, as wireguard-go's
// RejectAfterMessages. It leaves more than a replay window of room below 2^64 - 1, which Noise
// reserves, so the window arithmetic never wraps.
inline constexpr std::uint64_t kRejectAfterMessages = ~std::uint64_t{0} - (std::uint64_t{1} << 13);

// Replay window (RFC 6479): a ring of 128 64-bit words. One word is always being recycled, so
// 8192 - 64 = 8128 counters behind the newest are remembered, far above our minimum of 2048.
inline constexpr std::size_t kReplayRingBits = 8192;
inline constexpr std::size_t kReplayWindow = kReplayRingBits - 64;

}  // namespace vdemesh::crypto
