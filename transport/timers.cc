#include "transport/timers.h"

#include <algorithm>

namespace vdemesh::transport {

PeerAction NextAction(const PeerTimes& t, std::chrono::steady_clock::time_point now) {
  PeerAction a;
  const bool has_keys = t.current_created.has_value();
  const auto age = has_keys ? now - *t.current_created : std::chrono::steady_clock::duration{};
  const bool usable = has_keys && age < kRejectAfterTime;

  a.expire_keys = has_keys && age >= kRejectAfterTime;
  a.wipe_keys = t.last_handshake && now - *t.last_handshake >= kWipeAfter;

  // Keys need renewing: the initiator of the current keys rekeys on time; the responder only
  // close to the end, so both sides do not race each other every two minutes.
  const bool stale = has_keys && ((t.current_initiator && age >= kRekeyAfterTime) ||
                                  age >= kRejectAfterTime - kKeepaliveInterval * 3 ||
                                  t.current_sent >= kRekeyAfterMessages);
  // The last sign of life: a packet, or the handshake that (re)started the session.
  std::optional<std::chrono::steady_clock::time_point> alive = t.last_rx;
  if (t.last_handshake && (!alive || *t.last_handshake > *alive)) alive = t.last_handshake;
  // We keep sending frames but hear nothing back: the far side may have restarted with new
  // keys. A live peer answers a frame within kPassiveKeepalive (below), so this is quick.
  const bool unanswered =
      usable && t.unanswered_since && now - *t.unanswered_since >= kUnansweredAfter;
  const bool unconfirmed = t.unconfirmed_since && now - *t.unconfirmed_since >= kConfirmTimeout;
  const bool want = !usable || stale || unanswered || unconfirmed;
  a.start_handshake = t.has_endpoint && want && now >= t.next_attempt;

  // Idle: one keepalive per interval. Passive: a frame received and nothing sent since gets
  // an answer soon, so its sender knows we are alive (keepalives themselves are not answered,
  // or two idle peers would ping-pong).
  const bool idle = !t.last_tx || now - *t.last_tx >= kKeepaliveInterval;
  const bool owe_answer = t.last_rx_frame && (!t.last_tx || *t.last_rx_frame > *t.last_tx) &&
                          now - *t.last_rx_frame >= kPassiveKeepalive;
  a.send_keepalive = usable && (idle || owe_answer);
  a.declare_down = t.up && (!alive || now - *alive >= kDeadAfter);
  return a;
}

std::chrono::steady_clock::duration RetryDelay(unsigned attempt, double jitter) {
  auto delay = std::chrono::duration_cast<std::chrono::steady_clock::duration>(kHandshakeRetryMin);
  for (unsigned i = 0; i < attempt && delay < kHandshakeRetryMax; ++i) delay *= 2;
  delay = std::min<std::chrono::steady_clock::duration>(delay, kHandshakeRetryMax);
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay * jitter);
}

}  // namespace vdemesh::transport
