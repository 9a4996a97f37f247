// timers_test.cc: NextAction() and RetryDelay() over a fake clock. Each timer of constants.h is
// checked on both sides of its deadline (one nanosecond before, and at it), with every other
// timestamp placed where it cannot fire, so a test fails only for the rule it names.
#include "transport/timers.h"

#include <gtest/gtest.h>

#include <chrono>
#include <climits>

#include "transport/constants.h"

namespace vdemesh::transport {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::nanoseconds;

// Far from the clock's epoch, so that no timestamp is ever the zero time point.
const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(24);
constexpr nanoseconds kOneNs = nanoseconds(1);

// A healthy session made at `created` by `initiator`: traffic both ways at `last_traffic`.
PeerTimes Healthy(Clock::time_point created, Clock::time_point last_traffic,
                  bool initiator = true) {
  PeerTimes t;
  t.has_endpoint = true;
  t.up = true;
  t.current_created = created;
  t.current_initiator = initiator;
  t.last_handshake = created;
  t.last_rx = last_traffic;
  t.last_tx = last_traffic;
  t.next_attempt = created + kHandshakeRetryMin;
  return t;
}

TEST(NextAction, PeerWithEndpointAndNoKeysStartsAHandshakeNow) {
  PeerTimes t;
  t.has_endpoint = true;
  t.next_attempt = kT0;
  const PeerAction a = NextAction(t, kT0);
  EXPECT_TRUE(a.start_handshake);
  EXPECT_FALSE(a.send_keepalive);
  EXPECT_FALSE(a.expire_keys);
  EXPECT_FALSE(a.wipe_keys);
  EXPECT_FALSE(a.declare_down);
}

TEST(NextAction, NoHandshakeAgainBeforeNextAttempt) {
  PeerTimes t;
  t.has_endpoint = true;
  t.next_attempt = kT0 + kHandshakeRetryMin;  // what the caller stores after starting one
  EXPECT_FALSE(NextAction(t, kT0).start_handshake);
  EXPECT_FALSE(NextAction(t, t.next_attempt - kOneNs).start_handshake);
  EXPECT_TRUE(NextAction(t, t.next_attempt).start_handshake);
}

TEST(NextAction, PeerWithoutEndpointNeverStartsAHandshake) {
  PeerTimes t;
  t.has_endpoint = false;
  t.next_attempt = kT0;
  EXPECT_FALSE(NextAction(t, kT0).start_handshake);
  EXPECT_FALSE(NextAction(t, kT0 + kRejectAfterTime).start_handshake);
}

TEST(NextAction, FreshSessionNeedsNothing) {
  const PeerTimes t = Healthy(kT0, kT0);
  const PeerAction a = NextAction(t, kT0 + kHandshakeRetryMin);
  EXPECT_FALSE(a.start_handshake);
  EXPECT_FALSE(a.send_keepalive);
  EXPECT_FALSE(a.expire_keys);
  EXPECT_FALSE(a.wipe_keys);
  EXPECT_FALSE(a.declare_down);
}

TEST(NextAction, KeepaliveAfterKeepaliveIntervalWithoutSending) {
  const PeerTimes t = Healthy(kT0, kT0);
  EXPECT_FALSE(NextAction(t, kT0 + kKeepaliveInterval - kOneNs).send_keepalive);
  EXPECT_TRUE(NextAction(t, kT0 + kKeepaliveInterval).send_keepalive);
}

TEST(NextAction, KeepaliveIntervalCountsFromLastTxNotLastRx) {
  PeerTimes t = Healthy(kT0, kT0);
  t.last_rx = kT0 + 9s;  // hearing from the peer does not keep the NAT mapping on our side
  EXPECT_TRUE(NextAction(t, kT0 + kKeepaliveInterval).send_keepalive);
}

TEST(NextAction, SessionThatHasNeverSentSendsAKeepalive) {
  PeerTimes t = Healthy(kT0, kT0);
  t.last_tx.reset();
  t.last_rx.reset();
  EXPECT_TRUE(NextAction(t, kT0).send_keepalive);
}

TEST(NextAction, NoKeepaliveWithoutUsableKeys) {
  PeerTimes t;
  t.has_endpoint = true;
  t.last_tx = kT0;
  t.next_attempt = kT0 + 1h;
  EXPECT_FALSE(NextAction(t, kT0 + kKeepaliveInterval * 2).send_keepalive);
  // Expired keys are not usable either.
  t = Healthy(kT0, kT0 + kRejectAfterTime);
  t.last_tx = kT0;
  EXPECT_FALSE(NextAction(t, kT0 + kRejectAfterTime).send_keepalive);
}

TEST(NextAction, InitiatorRekeysAfterRekeyAfterTime) {
  const Clock::time_point deadline = kT0 + kRekeyAfterTime;
  // Traffic flows both ways right up to the deadline, so only the key's age can trigger.
  const PeerTimes t = Healthy(kT0, deadline - kOneNs, /*initiator=*/true);
  EXPECT_FALSE(NextAction(t, deadline - kOneNs).start_handshake);
  EXPECT_TRUE(NextAction(t, deadline).start_handshake);
}

TEST(NextAction, ResponderDoesNotRekeyAtRekeyAfterTime) {
  for (const auto age : {kRekeyAfterTime, kRekeyAfterTime + kKeepaliveInterval}) {
    const PeerTimes t = Healthy(kT0, kT0 + age, /*initiator=*/false);
    EXPECT_FALSE(NextAction(t, kT0 + age).start_handshake)
        << "age=" << std::chrono::duration_cast<std::chrono::seconds>(age).count() << "s";
  }
}

TEST(NextAction, ResponderRekeysBeforeItsKeysAreRejected) {
  // The responder steps in only near kRejectAfterTime, when the initiator evidently did not,
  // and still early enough for a handshake to finish before the keys expire.
  const Clock::time_point when = kT0 + kRejectAfterTime - kKeepaliveInterval;
  const PeerTimes t = Healthy(kT0, when, /*initiator=*/false);
  EXPECT_TRUE(NextAction(t, when).start_handshake);
  EXPECT_FALSE(NextAction(t, when).expire_keys);
}

TEST(NextAction, EitherSideRekeysAfterRekeyAfterMessages) {
  for (bool initiator : {true, false}) {
    PeerTimes t = Healthy(kT0, kT0 + 5s, initiator);
    t.current_sent = kRekeyAfterMessages - 1;
    EXPECT_FALSE(NextAction(t, kT0 + 5s).start_handshake) << "initiator=" << initiator;
    t.current_sent = kRekeyAfterMessages;
    EXPECT_TRUE(NextAction(t, kT0 + 5s).start_handshake) << "initiator=" << initiator;
  }
}

TEST(NextAction, KeysExpireAtRejectAfterTime) {
  const Clock::time_point deadline = kT0 + kRejectAfterTime;
  const PeerTimes t = Healthy(kT0, deadline - kOneNs);
  EXPECT_FALSE(NextAction(t, deadline - kOneNs).expire_keys);
  const PeerAction a = NextAction(t, deadline);
  EXPECT_TRUE(a.expire_keys);
  EXPECT_TRUE(a.start_handshake);  // no usable keys: get new ones
}

TEST(NextAction, KeysAreWipedAfterWipeAfterSinceTheLastHandshake) {
  PeerTimes t;
  t.has_endpoint = true;
  t.last_handshake = kT0;
  t.next_attempt = kT0 + 1h;
  EXPECT_FALSE(NextAction(t, kT0 + kWipeAfter - kOneNs).wipe_keys);
  EXPECT_TRUE(NextAction(t, kT0 + kWipeAfter).wipe_keys);
}

TEST(NextAction, NothingIsWipedWithoutAHandshake) {
  PeerTimes t;
  t.has_endpoint = true;
  t.next_attempt = kT0 + 1h;
  EXPECT_FALSE(NextAction(t, kT0 + 10 * kWipeAfter).wipe_keys);
}

TEST(NextAction, PeerIsDeclaredDownAfterDeadAfterOfSilenceSinceLastRx) {
  PeerTimes t = Healthy(kT0, kT0 + 20s);
  t.last_handshake = kT0;
  EXPECT_FALSE(NextAction(t, kT0 + 20s + kDeadAfter - kOneNs).declare_down);
  EXPECT_TRUE(NextAction(t, kT0 + 20s + kDeadAfter).declare_down);
}

TEST(NextAction, SilenceCountsFromTheLastHandshakeWhenItIsNewerThanLastRx) {
  // The peer went quiet, then a new handshake brought it back: it is alive as of that
  // handshake, not as of its last data packet.
  PeerTimes t = Healthy(kT0, kT0);
  t.last_handshake = kT0 + 20s;
  EXPECT_FALSE(NextAction(t, kT0 + kDeadAfter).declare_down);
  EXPECT_FALSE(NextAction(t, kT0 + 20s + kDeadAfter - kOneNs).declare_down);
  EXPECT_TRUE(NextAction(t, kT0 + 20s + kDeadAfter).declare_down);
}

TEST(NextAction, SilenceCountsFromTheHandshakeWhenNothingWasReceived) {
  PeerTimes t = Healthy(kT0, kT0);
  t.last_rx.reset();
  EXPECT_FALSE(NextAction(t, kT0 + kDeadAfter - kOneNs).declare_down);
  EXPECT_TRUE(NextAction(t, kT0 + kDeadAfter).declare_down);
}

TEST(NextAction, OnlyAPeerThatIsUpIsDeclaredDown) {
  PeerTimes t = Healthy(kT0, kT0);
  t.up = false;
  EXPECT_FALSE(NextAction(t, kT0 + 10 * kDeadAfter).declare_down);
}

TEST(NextAction, FramesUnansweredForUnansweredAfterStartAHandshake) {
  // Fresh keys (no rekey due), but the frames we sent since kT0 + 30s got no packet back: the
  // peer may have restarted and lost the session.
  PeerTimes t = Healthy(kT0, kT0 + 30s);
  t.unanswered_since = kT0 + 30s;
  t.next_attempt = kT0;
  ASSERT_LT(kUnansweredAfter + 30s, kRekeyAfterTime);
  EXPECT_FALSE(NextAction(t, kT0 + 30s + kUnansweredAfter - kOneNs).start_handshake);
  EXPECT_TRUE(NextAction(t, kT0 + 30s + kUnansweredAfter).start_handshake);
}

TEST(NextAction, AnsweredFramesStartNoHandshake) {
  PeerTimes t = Healthy(kT0, kT0 + 30s);
  t.unanswered_since.reset();  // the datapath clears it on every authenticated packet
  EXPECT_FALSE(NextAction(t, kT0 + 30s + 10 * kUnansweredAfter).start_handshake);
}

TEST(NextAction, IdleSessionStartsNoHandshakeBeforeRekeyTime) {
  // Only unanswered sending counts: an idle session is left alone until its rekey time.
  PeerTimes t = Healthy(kT0, kT0);
  EXPECT_FALSE(NextAction(t, kT0 + kRekeyAfterTime - kOneNs).start_handshake);
}

TEST(NextAction, UnansweredHandshakeWaitsForNextAttempt) {
  PeerTimes t = Healthy(kT0, kT0);
  t.unanswered_since = kT0 + 55s;
  t.next_attempt = kT0 + 61s;
  EXPECT_FALSE(NextAction(t, kT0 + 60s).start_handshake);
  EXPECT_TRUE(NextAction(t, kT0 + 61s).start_handshake);
}

TEST(NextAction, AReceivedFrameIsAnsweredByAPassiveKeepalive) {
  PeerTimes t = Healthy(kT0, kT0);
  t.last_rx_frame = kT0 + 3s;
  t.last_rx = kT0 + 3s;
  EXPECT_FALSE(NextAction(t, kT0 + 3s + kPassiveKeepalive - kOneNs).send_keepalive);
  EXPECT_TRUE(NextAction(t, kT0 + 3s + kPassiveKeepalive).send_keepalive);
  t.last_tx = kT0 + 3s + kOneNs;  // we sent something after it: nothing owed
  EXPECT_FALSE(NextAction(t, kT0 + 3s + kPassiveKeepalive).send_keepalive);
}

TEST(NextAction, AReceivedKeepaliveIsNotAnswered) {
  PeerTimes t = Healthy(kT0, kT0);
  t.last_rx = kT0 + 3s;  // a keepalive: last_rx moves, last_rx_frame does not
  t.last_rx_frame = kT0;
  EXPECT_FALSE(NextAction(t, kT0 + 3s + kPassiveKeepalive).send_keepalive);
}

TEST(RetryDelay, DoublesFromOneSecondUpToThirtySeconds) {
  EXPECT_EQ(RetryDelay(0, 1.0), std::chrono::seconds(1));
  EXPECT_EQ(RetryDelay(1, 1.0), std::chrono::seconds(2));
  EXPECT_EQ(RetryDelay(2, 1.0), std::chrono::seconds(4));
  EXPECT_EQ(RetryDelay(3, 1.0), std::chrono::seconds(8));
  EXPECT_EQ(RetryDelay(4, 1.0), std::chrono::seconds(16));
  EXPECT_EQ(RetryDelay(5, 1.0), kHandshakeRetryMax);
  EXPECT_EQ(RetryDelay(6, 1.0), kHandshakeRetryMax);
  EXPECT_EQ(RetryDelay(64, 1.0), kHandshakeRetryMax);
  EXPECT_EQ(RetryDelay(UINT_MAX, 1.0), kHandshakeRetryMax);
}

TEST(RetryDelay, NeverDecreasesWithMoreAttempts) {
  for (unsigned attempt = 0; attempt < 40; ++attempt)
    EXPECT_LE(RetryDelay(attempt, 1.0), RetryDelay(attempt + 1, 1.0)) << "attempt=" << attempt;
}

TEST(RetryDelay, JitterScalesTheDelay) {
  // The scaling goes through a double, so compare in seconds to within a microsecond.
  auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
  EXPECT_NEAR(seconds(RetryDelay(0, 0.8)), 0.8, 1e-6);
  EXPECT_NEAR(seconds(RetryDelay(0, 1.2)), 1.2, 1e-6);
  EXPECT_NEAR(seconds(RetryDelay(3, 0.8)), 6.4, 1e-6);
  EXPECT_NEAR(seconds(RetryDelay(3, 1.2)), 9.6, 1e-6);
  // The jitter applies after the cap, so retries of many peers stay spread out.
  EXPECT_NEAR(seconds(RetryDelay(20, 0.8)), 24.0, 1e-6);
  EXPECT_NEAR(seconds(RetryDelay(20, 1.2)), 36.0, 1e-6);
}

}  // namespace
}  // namespace vdemesh::transport

namespace vdemesh::transport {
namespace {

TEST(NextAction, UnconfirmedInitiatorKeysStartAHandshakeAfterTheConfirmTimeout) {
  PeerTimes t = Healthy(kT0, kT0);
  t.unconfirmed_since = kT0;
  t.next_attempt = kT0;
  EXPECT_FALSE(NextAction(t, kT0 + kConfirmTimeout - kOneNs).start_handshake);
  EXPECT_TRUE(NextAction(t, kT0 + kConfirmTimeout).start_handshake);
  t.unconfirmed_since.reset();  // the responder's keepalive arrived
  EXPECT_FALSE(NextAction(t, kT0 + kConfirmTimeout).start_handshake);
}

}  // namespace
}  // namespace vdemesh::transport
