// wire.h: the overlay's UDP packet layouts, the one copy of them (see docs/PROTOCOL.md).
//
// Every packet starts with a type byte and three zero bytes. Integers are little-endian.
//
//   1 initiation  [type][0 0 0]                      noise msg 1: e, enc(payload 16)    = 68
//   2 response    [type][0 0 0][receiver u32]        noise msg 2: e, enc(s), enc(payload 8) = 112
//   3 final       [type][0 0 0][receiver u32]        noise msg 3: enc(s), enc(empty)    = 72
//   4 data        [type][0 0 0][receiver u32][counter u64]  AEAD(inner) + tag 16     >= 32
//
// The handshake payloads carry the sender's session index inside the encryption, so the outer
// receiver field is only a lookup hint that Noise later verifies. The data header is the AEAD's
// associated data. The plaintext of a data packet is empty (a keepalive) or an inner message:
//   [kind u8][0][vlan u16 big-endian][body]   kind 1: an Ethernet frame (untagged) of `vlan`
//                                            kind 2: peer exchange (a list of PeerRecord)
//
// Parsing never trusts a length it has not checked; every function here is noexcept.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

namespace vdemesh::transport {

enum class MessageType : std::uint8_t { kInitiation = 1, kResponse = 2, kFinal = 3, kData = 4 };

inline constexpr std::size_t kTagBytes = 16;
inline constexpr std::size_t kKeyBytes = 32;

inline constexpr std::size_t kInitiationPayloadBytes = 16;
inline constexpr std::size_t kResponsePayloadBytes = 8;
inline constexpr std::size_t kNoiseMsg1Bytes = kKeyBytes + kInitiationPayloadBytes + kTagBytes;
inline constexpr std::size_t kNoiseMsg2Bytes =
    kKeyBytes + (kKeyBytes + kTagBytes) + kResponsePayloadBytes + kTagBytes;
inline constexpr std::size_t kNoiseMsg3Bytes = (kKeyBytes + kTagBytes) + kTagBytes;

inline constexpr std::size_t kInitiationHeaderBytes = 4;
inline constexpr std::size_t kResponseHeaderBytes = 8;
inline constexpr std::size_t kFinalHeaderBytes = 8;
inline constexpr std::size_t kDataHeaderBytes = 16;
inline constexpr std::size_t kInitiationBytes = kInitiationHeaderBytes + kNoiseMsg1Bytes;
inline constexpr std::size_t kResponseBytes = kResponseHeaderBytes + kNoiseMsg2Bytes;
inline constexpr std::size_t kFinalBytes = kFinalHeaderBytes + kNoiseMsg3Bytes;

inline constexpr std::size_t kInnerHeaderBytes = 4;
enum class InnerKind : std::uint8_t { kFrame = 1, kPeers = 2 };

// Bytes a frame gains on the wire, beyond the outer IP and UDP headers.
inline constexpr std::size_t kTunnelOverhead = kDataHeaderBytes + kInnerHeaderBytes + kTagBytes;

inline std::uint32_t LoadLe32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}
inline std::uint64_t LoadLe64(const std::uint8_t* p) noexcept {
  return std::uint64_t{LoadLe32(p)} | std::uint64_t{LoadLe32(p + 4)} << 32;
}
inline void StoreLe32(std::uint8_t* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline void StoreLe64(std::uint8_t* p, std::uint64_t v) noexcept {
  StoreLe32(p, static_cast<std::uint32_t>(v));
  StoreLe32(p + 4, static_cast<std::uint32_t>(v >> 32));
}

// The type of a packet whose length fits that type exactly (handshakes) or at least (data);
// nullopt for anything else, which the caller drops as malformed.
inline std::optional<MessageType> Classify(std::span<const std::uint8_t> pkt) noexcept {
  if (pkt.size() < 4 || pkt[1] != 0 || pkt[2] != 0 || pkt[3] != 0) return std::nullopt;
  switch (static_cast<MessageType>(pkt[0])) {
    case MessageType::kInitiation:
      if (pkt.size() == kInitiationBytes) return MessageType::kInitiation;
      break;
    case MessageType::kResponse:
      if (pkt.size() == kResponseBytes) return MessageType::kResponse;
      break;
    case MessageType::kFinal:
      if (pkt.size() == kFinalBytes) return MessageType::kFinal;
      break;
    case MessageType::kData:
      if (pkt.size() >= kDataHeaderBytes + kTagBytes) return MessageType::kData;
      break;
  }
  return std::nullopt;
}

struct DataHeader {
  std::uint32_t receiver;
  std::uint64_t counter;

  // Only for a packet that Classify() called kData.
  static DataHeader Read(const std::uint8_t* p) noexcept {
    return {LoadLe32(p + 4), LoadLe64(p + 8)};
  }
  void Write(std::uint8_t* p) const noexcept {
    p[0] = static_cast<std::uint8_t>(MessageType::kData);
    p[1] = p[2] = p[3] = 0;
    StoreLe32(p + 4, receiver);
    StoreLe64(p + 8, counter);
  }
};

// The receiver index of a response or final message (bytes 4..7).
inline std::uint32_t ReceiverOf(std::span<const std::uint8_t> pkt) noexcept {
  return LoadLe32(pkt.data() + 4);
}

// Plaintext of the initiation (Noise payload of message 1).
struct InitiationPayload {
  static constexpr std::uint8_t kVersion = 1;
  std::uint8_t version = kVersion;
  std::uint8_t ciphers = 0;     // bit 0: ChaCha20-Poly1305, bit 1: AES-256-GCM
  std::uint32_t sender = 0;     // the initiator's session index
  std::uint64_t timestamp = 0;  // initiator's wall clock, ns since the epoch (replay defence)

  std::array<std::uint8_t, kInitiationPayloadBytes> Encode() const noexcept {
    std::array<std::uint8_t, kInitiationPayloadBytes> b{};
    b[0] = version;
    b[1] = ciphers;
    StoreLe32(b.data() + 4, sender);
    StoreLe64(b.data() + 8, timestamp);
    return b;
  }
  static std::optional<InitiationPayload> Decode(std::span<const std::uint8_t> b) noexcept {
    // Reserved bytes must be zero, so that a later version can give them a meaning.
    if (b.size() != kInitiationPayloadBytes || b[0] != kVersion || b[2] != 0 || b[3] != 0)
      return std::nullopt;
    return InitiationPayload{b[0], b[1], LoadLe32(b.data() + 4), LoadLe64(b.data() + 8)};
  }
};

// Plaintext of the response (Noise payload of message 2).
struct ResponsePayload {
  std::uint8_t cipher = 0;   // the chosen cipher: 0 ChaCha20-Poly1305, 1 AES-256-GCM
  std::uint32_t sender = 0;  // the responder's session index

  std::array<std::uint8_t, kResponsePayloadBytes> Encode() const noexcept {
    std::array<std::uint8_t, kResponsePayloadBytes> b{};
    b[0] = cipher;
    StoreLe32(b.data() + 4, sender);
    return b;
  }
  static std::optional<ResponsePayload> Decode(std::span<const std::uint8_t> b) noexcept {
    if (b.size() != kResponsePayloadBytes || b[0] > 1 || b[1] != 0 || b[2] != 0 || b[3] != 0)
      return std::nullopt;
    return ResponsePayload{b[0], LoadLe32(b.data() + 4)};
  }
};

}  // namespace vdemesh::transport
