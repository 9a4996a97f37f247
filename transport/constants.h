// constants.h: the overlay protocol's numbers in one place (WireGuard's messages.h is the model).
//
// Timers, all driven by the control thread's 250 ms tick over timestamps the datapath keeps:
//   handshake retry   kHandshakeRetryMin doubling to kHandshakeRetryMax, +-20% jitter, while a
//                     peer with a known endpoint has no session
//   rekey             the initiator of the current session starts a new handshake once it is
//                     kRekeyAfterTime old or has sent kRekeyAfterMessages packets
//   reject            a session older than kRejectAfterTime is never used again
//   keepalive         an empty data packet after kKeepaliveInterval without sending anything,
//                     so NAT mappings stay and the far side sees us alive
//   unconfirmed       keys we initiated got no packet from the responder in kConfirmTimeout
//                     (its confirming keepalive was lost): a new handshake starts
//   passive keepalive a frame received and nothing sent back for kPassiveKeepalive: an empty
//                     data packet, so the sender of one-way traffic hears from us
//   unanswered        a frame sent and nothing at all received for kUnansweredAfter: the far
//                     side may have restarted and lost the session, so a new handshake starts
//   dead peer         nothing authenticated received for kDeadAfter while sessions exist: the
//                     peer is down, its MACs are flushed, and handshakes are retried
//   wipe              every key of a peer is wiped after kWipeAfter (3 rekey periods) without a
//                     new handshake
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "crypto/constants.h"

namespace vdemesh::transport {

using namespace std::chrono_literals;

inline constexpr std::uint16_t kDefaultPort = 6655;

inline constexpr auto kTick = 250ms;
inline constexpr auto kHandshakeRetryMin = 1s;
inline constexpr auto kHandshakeRetryMax = 30s;
inline constexpr auto kRekeyAfterTime = 120s;
inline constexpr auto kRejectAfterTime = 180s;
inline constexpr auto kKeepaliveInterval = 10s;
inline constexpr auto kPassiveKeepalive = 1s;
inline constexpr auto kUnansweredAfter = 5s;
inline constexpr auto kConfirmTimeout = 2s;
inline constexpr auto kDeadAfter = 30s;
inline constexpr auto kWipeAfter = 3 * kRekeyAfterTime;
// The message limits belong to the keys (crypto/constants.h): one copy of them.
inline constexpr std::uint64_t kRekeyAfterMessages = crypto::kRekeyAfterMessages;
inline constexpr std::uint64_t kRejectAfterMessages = crypto::kRejectAfterMessages;

// A handshake initiation must carry a timestamp within this distance of our clock, and an
// initiation seen once is refused again (replay cache), so a recorded one gets no answer.
inline constexpr auto kInitiationMaxSkew = 180s;
inline constexpr std::size_t kInitiationReplayCache = 4096;

// Handshake work per source address (token bucket), and in total per second.
inline constexpr double kHandshakesPerSourcePerSecond = 20;
inline constexpr double kHandshakeBurstPerSource = 40;
inline constexpr std::size_t kRateLimitSources = 4096;

// Peers learned through peer exchange, per network.
inline constexpr std::size_t kMaxPeers = 1024;

}  // namespace vdemesh::transport
