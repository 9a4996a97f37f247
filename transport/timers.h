// timers.h: what a peer needs next, as a pure function of its timestamps (see constants.h for
// the list of timers). The control thread calls it every tick; tests call it with a fake clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "transport/constants.h"

namespace vdemesh::transport {

struct PeerTimes {
  using TimePoint = std::chrono::steady_clock::time_point;
  std::optional<TimePoint> last_rx;           // last authenticated packet from the peer
  std::optional<TimePoint> last_rx_frame;     // last frame (not a keepalive) from the peer
  std::optional<TimePoint> last_tx;           // last packet sent to the peer
  std::optional<TimePoint> unanswered_since;  // first frame sent since the last packet received
  std::optional<TimePoint> current_created;   // keys used for sending, if any
  bool current_initiator = false;
  std::uint64_t current_sent = 0;
  std::optional<TimePoint> last_handshake;  // last completed handshake
  TimePoint next_attempt{};                 // earliest time a handshake may start (backoff)
  // Keys we initiated, waiting for the responder's first packet since then (its keepalive
  // may have been lost).
  std::optional<TimePoint> unconfirmed_since;
  bool has_endpoint = false;
  bool up = false;  // we consider the peer reachable
};

struct PeerAction {
  bool start_handshake = false;
  bool send_keepalive = false;
  bool expire_keys = false;   // let the datapath drop keys older than kRejectAfterTime
  bool wipe_keys = false;     // no handshake for kWipeAfter: forget every key
  bool declare_down = false;  // silent for kDeadAfter: flush its MACs
};

PeerAction NextAction(const PeerTimes& t, std::chrono::steady_clock::time_point now);

// The delay before handshake attempt number `attempt` (0-based): kHandshakeRetryMin doubling up
// to kHandshakeRetryMax, scaled by `jitter` in [0.8, 1.2].
std::chrono::steady_clock::duration RetryDelay(unsigned attempt, double jitter);

}  // namespace vdemesh::transport
