// handshaker_test.cc: Handshaker objects talking to each other in memory.
//
//   A (10.98.0.1)                          B (10.98.0.2)
//   Initiate()       --- initiation --->   OnPacket(): reply
//   OnPacket()       <--- response -----
//     completes, reply
//                    ---- final ------->   OnPacket(): completes
//
// Nothing is sent: the endpoints are values (numeric, no DNS) and each test carries the replies
// across by hand, so it can replay, alter, truncate, delay or misdirect any of them. Time is a
// fake steady clock (kT0) plus a fake wall clock (kWall0, ns since the epoch).
#include "transport/handshaker.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "crypto/aead.h"
#include "crypto/keys.h"
#include "transport/constants.h"
#include "transport/endpoint.h"
#include "transport/wire.h"

namespace vdemesh::transport {
namespace {

using TimePoint = Handshaker::TimePoint;
using Result = Handshaker::Result;
using Bytes = std::vector<std::uint8_t>;

// Far from the steady clock's epoch, as a real clock is.
const TimePoint kT0 = TimePoint{} + std::chrono::hours(24);
constexpr std::uint64_t kWall0 = 1'700'000'000'000'000'000ull;
constexpr std::chrono::nanoseconds kOneNs{1};

std::uint64_t Ns(std::chrono::nanoseconds d) { return static_cast<std::uint64_t>(d.count()); }

Endpoint Numeric(const std::string& host, std::uint16_t port = kDefaultPort) {
  std::string err;
  const auto eps = Resolve({host, port}, &err);
  EXPECT_EQ(eps.size(), 1u) << host << ": " << err;
  return eps.empty() ? Endpoint{} : eps.front();
}

// `count` distinct source addresses, none of them a test host's.
std::vector<Endpoint> Strangers(int count) {
  std::vector<Endpoint> out;
  for (int i = 0; i < count; ++i)
    out.push_back(Numeric("10.99." + std::to_string(i / 200) + "." + std::to_string(1 + i % 200)));
  return out;
}

// One host: a random host key and a Handshaker, at a fixed address.
struct Host {
  explicit Host(const Endpoint& address, crypto::KeyPair host_key = crypto::GenerateKeyPair())
      : key(std::move(host_key)), hs(key.private_key), ep(address) {}
  // A member of `network` with no allow-list (network index 0).
  Host(const Endpoint& address, const crypto::NetworkKey& network) : Host(address) {
    hs.AddNetwork(network.Clone(), {});
  }

  Bytes Initiate(const Host& to, TimePoint now = kT0, std::uint64_t wall_ns = kWall0,
                 int network = 0) {
    return hs.Initiate(network, to.ep, now, wall_ns, &last_index);
  }
  Result Receive(const Host& from, std::span<const std::uint8_t> pkt, TimePoint now = kT0,
                 std::uint64_t wall_ns = kWall0) {
    return hs.OnPacket(from.ep, pkt, now, wall_ns);
  }

  crypto::KeyPair key;
  Handshaker hs;
  Endpoint ep;
  std::uint32_t last_index = 0;  // of the last Initiate()
};

// The three steps of a handshake from `a` to `b`, each step taken only if the one before
// produced a reply.
struct Exchange {
  Bytes initiation;
  Result at_b;        // B's verdict on the initiation; reply: the response
  Result at_a;        // A's verdict on the response; reply: the final
  Result at_b_final;  // B's verdict on the final
};

Exchange HandshakeBetween(Host& a, Host& b, int network = 0, TimePoint now = kT0,
                          std::uint64_t wall_ns = kWall0) {
  Exchange x;
  x.initiation = a.Initiate(b, now, wall_ns, network);
  x.at_b = b.Receive(a, x.initiation, now, wall_ns);
  if (x.at_b.reply.empty()) return x;
  x.at_a = a.Receive(b, x.at_b.reply, now, wall_ns);
  if (x.at_a.reply.empty()) return x;
  x.at_b_final = b.Receive(a, x.at_a.reply, now, wall_ns);
  return x;
}

std::string Describe(const Result& r) {
  std::string s = r.drop ? std::string("dropped as ") + HandshakeDropName(*r.drop) : "not dropped";
  s += ", reply of " + std::to_string(r.reply.size()) + " bytes";
  s += r.completed ? ", completed" : ", not completed";
  return s;
}

// Dropped for `why`, silently and without a session.
::testing::AssertionResult Dropped(const Result& r, HandshakeDrop why) {
  if (r.drop == why && r.reply.empty() && !r.completed) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "want dropped as " << HandshakeDropName(why) << "; got " << Describe(r);
}

// Accepted with a reply of `type`, and (for a response) not yet complete.
::testing::AssertionResult Replied(const Result& r, MessageType type) {
  if (!r.drop && Classify(r.reply) == type &&
      r.completed.has_value() == (type == MessageType::kFinal))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "want a reply of type " << int(type) << "; got " << Describe(r);
}

::testing::AssertionResult CompletedSilently(const Result& r) {
  if (!r.drop && r.reply.empty() && r.completed && r.completed->keys)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "want completed without reply; got " << Describe(r);
}

::testing::AssertionResult BothCompleted(const Exchange& x) {
  if (!x.at_a.completed || !x.at_a.completed->keys)
    return ::testing::AssertionFailure() << "initiator: " << Describe(x.at_a);
  if (!x.at_b_final.completed || !x.at_b_final.completed->keys)
    return ::testing::AssertionFailure() << "responder: " << Describe(x.at_b_final);
  return ::testing::AssertionSuccess();
}

// True if what `send` seals (with a data header as associated data), `recv` opens intact.
bool Carries(const crypto::AeadKey& send, const crypto::AeadKey& recv) {
  std::array<std::uint8_t, kDataHeaderBytes> header;
  DataHeader{0x01020304u, 42}.Write(header.data());
  const Bytes plain = {'f', 'r', 'a', 'm', 'e'};
  Bytes data = plain;
  std::array<std::uint8_t, kTagBytes> tag;
  send.Seal(42, header, data, tag.data());
  if (data == plain) return false;
  return recv.Open(42, header, data, tag.data()) && data == plain;
}

std::uint64_t DropCount(const Host& h, HandshakeDrop d) {
  return h.hs.drops()[static_cast<std::size_t>(d)];
}

class HandshakerTest : public ::testing::Test {
 protected:
  const crypto::NetworkKey network_ = crypto::GenerateNetworkKey();
  Host a_{Numeric("10.98.0.1"), network_};
  Host b_{Numeric("10.98.0.2"), network_};
};

TEST_F(HandshakerTest, ThreeMessagesCompleteASessionOnBothSides) {
  const Exchange x = HandshakeBetween(a_, b_);
  EXPECT_EQ(x.initiation.size(), kInitiationBytes);
  EXPECT_EQ(Classify(x.initiation), MessageType::kInitiation);
  ASSERT_TRUE(Replied(x.at_b, MessageType::kResponse));
  ASSERT_TRUE(Replied(x.at_a, MessageType::kFinal));
  ASSERT_TRUE(CompletedSilently(x.at_b_final));
  // The initiator answers the responder's index, taken from inside the encrypted response.
  EXPECT_EQ(ReceiverOf(x.at_b.reply), a_.last_index);
  EXPECT_EQ(ReceiverOf(x.at_a.reply), x.at_b_final.completed->keys->local_index);
}

TEST_F(HandshakerTest, SessionKeysMatchCrosswise) {
  const Exchange x = HandshakeBetween(a_, b_);
  ASSERT_TRUE(BothCompleted(x));
  const Keypair& ka = *x.at_a.completed->keys;
  const Keypair& kb = *x.at_b_final.completed->keys;
  EXPECT_TRUE(Carries(ka.send_key, kb.recv_key));
  EXPECT_TRUE(Carries(kb.send_key, ka.recv_key));
  EXPECT_FALSE(Carries(ka.send_key, ka.recv_key)) << "the two directions share a key";
  EXPECT_FALSE(Carries(ka.send_key, kb.send_key));
  const crypto::Cipher want =
      crypto::AesGcmAvailable() ? crypto::Cipher::kAes256Gcm : crypto::Cipher::kChaCha20Poly1305;
  EXPECT_EQ(ka.send_key.cipher(), want);
  EXPECT_EQ(kb.recv_key.cipher(), want);
}

TEST_F(HandshakerTest, SessionIndicesCrossMatch) {
  const Exchange x = HandshakeBetween(a_, b_);
  ASSERT_TRUE(BothCompleted(x));
  const Keypair& ka = *x.at_a.completed->keys;
  const Keypair& kb = *x.at_b_final.completed->keys;
  EXPECT_EQ(ka.local_index, a_.last_index);
  EXPECT_EQ(ka.remote_index, kb.local_index);
  EXPECT_EQ(kb.remote_index, ka.local_index);
  EXPECT_NE(ka.local_index, 0u);
  EXPECT_NE(kb.local_index, 0u);
}

TEST_F(HandshakerTest, EachSideLearnsTheOthersHostKeyAndEndpoint) {
  const Exchange x = HandshakeBetween(a_, b_);
  ASSERT_TRUE(BothCompleted(x));
  EXPECT_EQ(a_.hs.public_key(), a_.key.public_key);
  EXPECT_EQ(x.at_a.completed->remote, b_.key.public_key);
  EXPECT_EQ(x.at_b_final.completed->remote, a_.key.public_key);
  EXPECT_EQ(x.at_a.completed->endpoint, b_.ep);
  EXPECT_EQ(x.at_b_final.completed->endpoint, a_.ep);
  EXPECT_EQ(x.at_a.completed->network, 0);
  EXPECT_EQ(x.at_b_final.completed->network, 0);
}

TEST_F(HandshakerTest, OnlyTheInitiatorsKeypairIsMarkedInitiator) {
  const Exchange x = HandshakeBetween(a_, b_);
  ASSERT_TRUE(BothCompleted(x));
  EXPECT_TRUE(x.at_a.completed->keys->initiator);
  EXPECT_FALSE(x.at_b_final.completed->keys->initiator);
  EXPECT_EQ(x.at_a.completed->keys->created, kT0);
  EXPECT_EQ(x.at_b_final.completed->keys->created, kT0);
}

TEST_F(HandshakerTest, ResponderReportsTheInitiationTimestamp) {
  const Exchange x = HandshakeBetween(a_, b_, 0, kT0, kWall0 + 12345);
  ASSERT_TRUE(BothCompleted(x));
  EXPECT_EQ(x.at_b_final.completed->init_timestamp, kWall0 + 12345);
}

TEST_F(HandshakerTest, SimultaneousHandshakesInBothDirectionsBothComplete) {
  const Bytes from_a = a_.Initiate(b_);
  const std::uint32_t a_index = a_.last_index;
  const Bytes from_b = b_.Initiate(a_);
  const std::uint32_t b_index = b_.last_index;
  const Result b_answers = b_.Receive(a_, from_a);
  const Result a_answers = a_.Receive(b_, from_b);
  ASSERT_TRUE(Replied(b_answers, MessageType::kResponse));
  ASSERT_TRUE(Replied(a_answers, MessageType::kResponse));
  const Result a_done = a_.Receive(b_, b_answers.reply);
  const Result b_done = b_.Receive(a_, a_answers.reply);
  ASSERT_TRUE(Replied(a_done, MessageType::kFinal));
  ASSERT_TRUE(Replied(b_done, MessageType::kFinal));
  EXPECT_EQ(a_done.completed->keys->local_index, a_index);
  EXPECT_EQ(b_done.completed->keys->local_index, b_index);
  EXPECT_TRUE(CompletedSilently(b_.Receive(a_, a_done.reply)));
  EXPECT_TRUE(CompletedSilently(a_.Receive(b_, b_done.reply)));
}

TEST_F(HandshakerTest, WrongNetworkKeyIsDroppedAsNoNetworkWithoutReply) {
  Host stranger(Numeric("10.98.0.66"), crypto::GenerateNetworkKey());
  const Result r = b_.Receive(stranger, stranger.Initiate(b_));
  EXPECT_TRUE(Dropped(r, HandshakeDrop::kNoNetwork));
  EXPECT_EQ(DropCount(b_, HandshakeDrop::kNoNetwork), 1u);
}

TEST_F(HandshakerTest, ReplayedInitiationIsDroppedWithoutReply) {
  const Bytes initiation = a_.Initiate(b_);
  ASSERT_TRUE(Replied(b_.Receive(a_, initiation), MessageType::kResponse));
  EXPECT_TRUE(Dropped(b_.Receive(a_, initiation), HandshakeDrop::kReplayedInit));
  // From another address and a little later, too.
  Host elsewhere(Numeric("10.98.0.77"), network_);
  EXPECT_TRUE(Dropped(b_.Receive(elsewhere, initiation, kT0 + 5s, kWall0 + Ns(5s)),
                      HandshakeDrop::kReplayedInit));
  EXPECT_EQ(DropCount(b_, HandshakeDrop::kReplayedInit), 2u);
}

TEST_F(HandshakerTest, InitiationOlderThanMaxSkewIsStale) {
  const Bytes initiation = a_.Initiate(b_, kT0, kWall0);
  const std::uint64_t later = kWall0 + Ns(kInitiationMaxSkew) + Ns(1s);
  EXPECT_TRUE(Dropped(b_.Receive(a_, initiation, kT0, later), HandshakeDrop::kStaleTimestamp));
  EXPECT_EQ(DropCount(b_, HandshakeDrop::kStaleTimestamp), 1u);
}

TEST_F(HandshakerTest, InitiationFromTooFarInTheFutureIsStale) {
  const Bytes initiation = a_.Initiate(b_, kT0, kWall0 + Ns(kInitiationMaxSkew) + Ns(1s));
  EXPECT_TRUE(Dropped(b_.Receive(a_, initiation, kT0, kWall0), HandshakeDrop::kStaleTimestamp));
}

TEST_F(HandshakerTest, InitiationExactlyMaxSkewOldIsStillAnswered) {
  const Bytes initiation = a_.Initiate(b_, kT0, kWall0);
  EXPECT_TRUE(Replied(b_.Receive(a_, initiation, kT0, kWall0 + Ns(kInitiationMaxSkew)),
                      MessageType::kResponse));
}

TEST_F(HandshakerTest, RateLimiterRefusesOneSourceAfterItsBurstButServesAnother) {
  Host other(Numeric("10.98.0.3"), network_);
  ASSERT_NE(a_.ep.HostHash() % kRateLimitSources, other.ep.HostHash() % kRateLimitSources)
      << "pick addresses that fall in different buckets";
  for (int i = 0; i < static_cast<int>(kHandshakeBurstPerSource); ++i)
    ASSERT_TRUE(Replied(b_.Receive(a_, a_.Initiate(b_)), MessageType::kResponse)) << "i=" << i;
  EXPECT_TRUE(Dropped(b_.Receive(a_, a_.Initiate(b_)), HandshakeDrop::kRateLimited));
  EXPECT_EQ(DropCount(b_, HandshakeDrop::kRateLimited), 1u);
  EXPECT_TRUE(Replied(b_.Receive(other, other.Initiate(b_)), MessageType::kResponse));
  // The refused source is served again once its bucket refills.
  EXPECT_TRUE(Replied(b_.Receive(a_, a_.Initiate(b_, kT0 + 1s), kT0 + 1s), MessageType::kResponse));
}

TEST_F(HandshakerTest, RateLimiterCountsEveryPacketEvenGarbage) {
  const Bytes garbage(kInitiationBytes, 0xee);
  for (int i = 0; i < static_cast<int>(kHandshakeBurstPerSource); ++i)
    EXPECT_TRUE(Dropped(b_.Receive(a_, garbage), HandshakeDrop::kBadMessage)) << "i=" << i;
  EXPECT_TRUE(Dropped(b_.Receive(a_, a_.Initiate(b_)), HandshakeDrop::kRateLimited));
}

TEST(Handshaker, ResponderWithAnAllowListRefusesAnUnlistedInitiator) {
  const crypto::NetworkKey network = crypto::GenerateNetworkKey();
  Host a(Numeric("10.98.0.1"), network);
  Host b(Numeric("10.98.0.2"));
  b.hs.AddNetwork(network.Clone(), {crypto::GenerateKeyPair().public_key});
  const Exchange x = HandshakeBetween(a, b);
  // XX tells the responder who the initiator is only in the final message, so the initiator
  // (which has no list) completes, and the responder refuses there.
  ASSERT_TRUE(Replied(x.at_a, MessageType::kFinal));
  EXPECT_TRUE(Dropped(x.at_b_final, HandshakeDrop::kNotAllowed));
}

TEST(Handshaker, InitiatorWithAnAllowListRefusesAnUnlistedResponder) {
  const crypto::NetworkKey network = crypto::GenerateNetworkKey();
  Host a(Numeric("10.98.0.1"));
  a.hs.AddNetwork(network.Clone(), {crypto::GenerateKeyPair().public_key});
  Host b(Numeric("10.98.0.2"), network);
  const Exchange x = HandshakeBetween(a, b);
  ASSERT_TRUE(Replied(x.at_b, MessageType::kResponse));
  EXPECT_TRUE(Dropped(x.at_a, HandshakeDrop::kNotAllowed));  // and so no final for B
  EXPECT_EQ(DropCount(a, HandshakeDrop::kNotAllowed), 1u);
}

TEST(Handshaker, HostsOnEachOthersAllowListsComplete) {
  const crypto::NetworkKey network = crypto::GenerateNetworkKey();
  Host a(Numeric("10.98.0.1"));
  Host b(Numeric("10.98.0.2"));
  const crypto::PublicKey someone = crypto::GenerateKeyPair().public_key;
  a.hs.AddNetwork(network.Clone(), {someone, b.key.public_key});
  b.hs.AddNetwork(network.Clone(), {a.key.public_key, someone});
  EXPECT_TRUE(BothCompleted(HandshakeBetween(a, b)));
}

TEST_F(HandshakerTest, HostHandshakingWithItselfIsDroppedAsSelf) {
  const Bytes initiation = a_.Initiate(a_);
  // Message 1 carries no static key, so A answers itself; the response reveals who it is.
  const Result response = a_.Receive(a_, initiation);
  ASSERT_TRUE(Replied(response, MessageType::kResponse));
  EXPECT_TRUE(Dropped(a_.Receive(a_, response.reply), HandshakeDrop::kSelf));
  EXPECT_EQ(DropCount(a_, HandshakeDrop::kSelf), 1u);
}

// Two hosts from one cloned disk image share a host key. They cannot be told apart, so they
// must not connect; each counts the other as same_host_key, not as itself.
TEST(Handshaker, HostsSharingOneHostKeyAreDroppedAsSameKeyNotSelf) {
  const crypto::NetworkKey network = crypto::GenerateNetworkKey();
  Host a(Numeric("10.98.0.1"), network);
  Host clone(Numeric("10.98.0.2"), crypto::KeyPair{a.key.private_key.Clone(), a.key.public_key});
  clone.hs.AddNetwork(network.Clone(), {});

  const Exchange x = HandshakeBetween(a, clone);
  ASSERT_TRUE(Replied(x.at_b, MessageType::kResponse));
  EXPECT_TRUE(Dropped(x.at_a, HandshakeDrop::kSameKey));
  EXPECT_EQ(DropCount(a, HandshakeDrop::kSelf), 0u);
  // The other way round, too.
  const Exchange y = HandshakeBetween(clone, a);
  EXPECT_TRUE(Dropped(y.at_a, HandshakeDrop::kSameKey));
  EXPECT_EQ(DropCount(clone, HandshakeDrop::kSelf), 0u);
}

TEST_F(HandshakerTest, ResponseWithAnUnknownReceiverIsDropped) {
  const Bytes initiation = a_.Initiate(b_);
  const Result at_b = b_.Receive(a_, initiation);
  ASSERT_TRUE(Replied(at_b, MessageType::kResponse));
  Bytes misaddressed = at_b.reply;
  StoreLe32(misaddressed.data() + 4, a_.last_index + 1);
  EXPECT_TRUE(Dropped(a_.Receive(b_, misaddressed), HandshakeDrop::kUnknownReceiver));
  // A lookup miss leaves the real handshake alone.
  EXPECT_TRUE(Replied(a_.Receive(b_, at_b.reply), MessageType::kFinal));
}

TEST_F(HandshakerTest, ResponseToAHostThatNeverInitiatedIsDropped) {
  const Result at_b = b_.Receive(a_, a_.Initiate(b_));
  ASSERT_TRUE(Replied(at_b, MessageType::kResponse));
  Host c(Numeric("10.98.0.3"), network_);
  EXPECT_TRUE(Dropped(c.Receive(b_, at_b.reply), HandshakeDrop::kUnknownReceiver));
}

TEST_F(HandshakerTest, ResponseAddressedToAResponderSideIndexIsDropped) {
  const Result at_b = b_.Receive(a_, a_.Initiate(b_));
  const Result at_a = a_.Receive(b_, at_b.reply);
  ASSERT_TRUE(Replied(at_a, MessageType::kFinal));
  // B's index for this handshake is the final's receiver; there B waits for a final, not for
  // a response.
  Bytes response = at_b.reply;
  StoreLe32(response.data() + 4, ReceiverOf(at_a.reply));
  EXPECT_TRUE(Dropped(b_.Receive(a_, response), HandshakeDrop::kUnknownReceiver));
  EXPECT_TRUE(CompletedSilently(b_.Receive(a_, at_a.reply)));
}

TEST_F(HandshakerTest, FinalWithAnUnknownReceiverIsDropped) {
  const Bytes initiation = a_.Initiate(b_);
  const Result at_b = b_.Receive(a_, initiation);
  const Result at_a = a_.Receive(b_, at_b.reply);
  ASSERT_TRUE(Replied(at_a, MessageType::kFinal));
  Bytes misaddressed = at_a.reply;
  StoreLe32(misaddressed.data() + 4, ReceiverOf(at_a.reply) ^ 0x80000000u);
  EXPECT_TRUE(Dropped(b_.Receive(a_, misaddressed), HandshakeDrop::kUnknownReceiver));
  EXPECT_EQ(DropCount(b_, HandshakeDrop::kUnknownReceiver), 1u);
  EXPECT_TRUE(CompletedSilently(b_.Receive(a_, at_a.reply)));
}

TEST_F(HandshakerTest, FinalAddressedToAnInitiatorSideIndexIsDropped) {
  a_.Initiate(b_);
  Bytes final_msg(kFinalBytes, 0x5a);
  final_msg[0] = static_cast<std::uint8_t>(MessageType::kFinal);
  final_msg[1] = final_msg[2] = final_msg[3] = 0;
  StoreLe32(final_msg.data() + 4, a_.last_index);
  EXPECT_TRUE(Dropped(a_.Receive(b_, final_msg), HandshakeDrop::kUnknownReceiver));
}

TEST_F(HandshakerTest, ForgedResponseKillsOnlyThatHandshake) {
  const Result at_b = b_.Receive(a_, a_.Initiate(b_));
  ASSERT_TRUE(Replied(at_b, MessageType::kResponse));
  Bytes forged = at_b.reply;
  forged.back() ^= 1;
  EXPECT_TRUE(Dropped(a_.Receive(b_, forged), HandshakeDrop::kBadMessage));
  // The Noise state died with the forgery; the genuine response now finds nothing.
  EXPECT_TRUE(Dropped(a_.Receive(b_, at_b.reply), HandshakeDrop::kUnknownReceiver));
  // A fresh handshake is unaffected.
  EXPECT_TRUE(BothCompleted(HandshakeBetween(a_, b_)));
}

TEST(Handshaker, EveryBitFlipOfTheInitiationIsDroppedWithoutReply) {
  const crypto::NetworkKey network = crypto::GenerateNetworkKey();
  Host a(Numeric("10.98.0.1"), network);
  Host b(Numeric("10.98.0.2"), network);
  const Bytes initiation = a.Initiate(b);
  TimePoint now = kT0;
  for (std::size_t byte = 0; byte < initiation.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes flipped = initiation;
      flipped[byte] ^= static_cast<std::uint8_t>(1 << bit);
      now += 100ms;  // stay within the source's rate
      const HandshakeDrop want = byte < 4 ? HandshakeDrop::kBadMessage : HandshakeDrop::kNoNetwork;
      EXPECT_TRUE(Dropped(b.Receive(a, flipped, now), want)) << "byte=" << byte << " bit=" << bit;
    }
  }
  // Forgeries never enter the replay cache: the genuine initiation is still answered.
  EXPECT_TRUE(Replied(b.Receive(a, initiation, now), MessageType::kResponse));
}

TEST(Handshaker, EveryBitFlipOfTheResponseIsDroppedAndNeverCompletes) {
  const crypto::NetworkKey network = crypto::GenerateNetworkKey();
  const Endpoint ep_a = Numeric("10.98.0.1"), ep_b = Numeric("10.98.0.2");
  for (std::size_t byte = 0; byte < kResponseBytes; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      // A forged response kills the initiator's handshake, so each flip gets fresh hosts.
      Host a(ep_a, network), b(ep_b, network);
      Bytes response = b.Receive(a, a.Initiate(b)).reply;
      ASSERT_EQ(response.size(), kResponseBytes);
      response[byte] ^= static_cast<std::uint8_t>(1 << bit);
      const bool receiver = byte >= 4 && byte < 8;
      const HandshakeDrop want =
          receiver ? HandshakeDrop::kUnknownReceiver : HandshakeDrop::kBadMessage;
      EXPECT_TRUE(Dropped(a.Receive(b, response), want)) << "byte=" << byte << " bit=" << bit;
    }
  }
}

TEST(Handshaker, EveryBitFlipOfTheFinalIsDroppedAndNeverCompletes) {
  const crypto::NetworkKey network = crypto::GenerateNetworkKey();
  const Endpoint ep_a = Numeric("10.98.0.1"), ep_b = Numeric("10.98.0.2");
  for (std::size_t byte = 0; byte < kFinalBytes; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Host a(ep_a, network), b(ep_b, network);
      Bytes final_msg = a.Receive(b, b.Receive(a, a.Initiate(b)).reply).reply;
      ASSERT_EQ(final_msg.size(), kFinalBytes);
      final_msg[byte] ^= static_cast<std::uint8_t>(1 << bit);
      const bool receiver = byte >= 4 && byte < 8;
      const HandshakeDrop want =
          receiver ? HandshakeDrop::kUnknownReceiver : HandshakeDrop::kBadMessage;
      EXPECT_TRUE(Dropped(b.Receive(a, final_msg), want)) << "byte=" << byte << " bit=" << bit;
    }
  }
}

TEST_F(HandshakerTest, EveryTruncationOfEveryMessageIsDroppedAndTheHandshakeSurvives) {
  // Each truncated copy comes from its own address, so the rate limiter stays out of the way.
  const std::vector<Endpoint> sources = Strangers(static_cast<int>(kResponseBytes));
  auto truncations_dropped = [&](Host& to, const Bytes& msg) {
    for (std::size_t n = 0; n < msg.size(); ++n) {
      const Result r = to.hs.OnPacket(sources[n], std::span(msg).first(n), kT0, kWall0);
      EXPECT_TRUE(Dropped(r, HandshakeDrop::kBadMessage)) << "type=" << int(msg[0]) << " n=" << n;
    }
  };
  const Bytes initiation = a_.Initiate(b_);
  truncations_dropped(b_, initiation);
  const Result at_b = b_.Receive(a_, initiation);
  ASSERT_TRUE(Replied(at_b, MessageType::kResponse));
  truncations_dropped(a_, at_b.reply);
  const Result at_a = a_.Receive(b_, at_b.reply);
  ASSERT_TRUE(Replied(at_a, MessageType::kFinal));
  truncations_dropped(b_, at_a.reply);
  EXPECT_TRUE(CompletedSilently(b_.Receive(a_, at_a.reply)));
}

TEST_F(HandshakerTest, DataPacketsAreNotHandshakes) {
  Bytes data(kDataHeaderBytes + kTagBytes + 20, 0);
  DataHeader{a_.last_index, 0}.Write(data.data());
  EXPECT_TRUE(Dropped(b_.Receive(a_, data), HandshakeDrop::kBadMessage));
}

TEST(Handshaker, HostInTwoNetworksAnswersEachWithTheRightNetworkIndex) {
  const crypto::NetworkKey x = crypto::GenerateNetworkKey();
  const crypto::NetworkKey y = crypto::GenerateNetworkKey();
  Host b(Numeric("10.98.0.2"));
  ASSERT_EQ(b.hs.AddNetwork(x.Clone(), {}), 0);
  ASSERT_EQ(b.hs.AddNetwork(y.Clone(), {}), 1);
  Host in_x(Numeric("10.98.0.1"), x);
  Host in_y(Numeric("10.98.0.3"), y);

  const Exchange via_x = HandshakeBetween(in_x, b);
  ASSERT_TRUE(BothCompleted(via_x));
  EXPECT_EQ(via_x.at_b_final.completed->network, 0);
  EXPECT_EQ(via_x.at_b_final.completed->remote, in_x.key.public_key);

  const Exchange via_y = HandshakeBetween(in_y, b);
  ASSERT_TRUE(BothCompleted(via_y));
  EXPECT_EQ(via_y.at_b_final.completed->network, 1);
  EXPECT_EQ(via_y.at_a.completed->network, 0);  // in_y's own index for y
  EXPECT_EQ(via_y.at_b_final.completed->remote, in_y.key.public_key);

  // And as the initiator, on the second network.
  const Exchange from_b = HandshakeBetween(b, in_y, /*network=*/1);
  ASSERT_TRUE(BothCompleted(from_b));
  EXPECT_EQ(from_b.at_a.completed->network, 1);
  EXPECT_EQ(from_b.at_b_final.completed->network, 0);

  Host in_z(Numeric("10.98.0.4"), crypto::GenerateNetworkKey());
  EXPECT_TRUE(Dropped(b.Receive(in_z, in_z.Initiate(b)), HandshakeDrop::kNoNetwork));
}

TEST(Handshaker, NetworksDoNotLeakIntoEachOther) {
  // A member of x only and a member of y only cannot meet through a host that is in both.
  const crypto::NetworkKey x = crypto::GenerateNetworkKey();
  const crypto::NetworkKey y = crypto::GenerateNetworkKey();
  Host in_x(Numeric("10.98.0.1"), x);
  Host in_y(Numeric("10.98.0.3"), y);
  EXPECT_TRUE(Dropped(in_y.Receive(in_x, in_x.Initiate(in_y)), HandshakeDrop::kNoNetwork));
}

TEST_F(HandshakerTest, UnansweredInitiationExpiresAfterPendingTimeout) {
  const Result at_b = b_.Receive(a_, a_.Initiate(b_));
  ASSERT_TRUE(Replied(at_b, MessageType::kResponse));
  const TimePoint late = kT0 + Handshaker::kPendingTimeout + kOneNs;
  a_.hs.Expire(late);
  EXPECT_TRUE(Dropped(a_.Receive(b_, at_b.reply, late), HandshakeDrop::kUnknownReceiver));
}

TEST_F(HandshakerTest, ResponseJustInsidePendingTimeoutStillCompletes) {
  const Result at_b = b_.Receive(a_, a_.Initiate(b_));
  const TimePoint deadline = kT0 + Handshaker::kPendingTimeout;
  a_.hs.Expire(deadline);
  EXPECT_TRUE(Replied(a_.Receive(b_, at_b.reply, deadline), MessageType::kFinal));
}

TEST_F(HandshakerTest, ResponderForgetsAnUnfinishedHandshakeAfterPendingTimeout) {
  const Result at_b = b_.Receive(a_, a_.Initiate(b_));
  const Result at_a = a_.Receive(b_, at_b.reply);
  ASSERT_TRUE(Replied(at_a, MessageType::kFinal));
  const TimePoint late = kT0 + Handshaker::kPendingTimeout + kOneNs;
  b_.hs.Expire(late);
  EXPECT_TRUE(Dropped(b_.Receive(a_, at_a.reply, late), HandshakeDrop::kUnknownReceiver));
}

TEST_F(HandshakerTest, InitiateRefusesBeyondMaxPendingUntilOldHandshakesExpire) {
  for (std::size_t i = 0; i < Handshaker::kMaxPending; ++i)
    ASSERT_FALSE(a_.Initiate(b_).empty()) << "i=" << i;
  EXPECT_TRUE(a_.Initiate(b_, kT0 + 1s).empty());
  EXPECT_FALSE(a_.Initiate(b_, kT0 + Handshaker::kPendingTimeout + kOneNs).empty());
}

TEST(Handshaker, ResponderRefusesBeyondMaxPendingUntilOldHandshakesExpire) {
  const crypto::NetworkKey network = crypto::GenerateNetworkKey();
  Host b(Numeric("10.98.0.2"), network);
  // Two initiators, since each may itself have only kMaxPending handshakes open; every
  // initiation comes from its own address, so the rate limiter stays out of the way.
  Host a1(Numeric("10.98.0.1"), network), a2(Numeric("10.98.0.3"), network);
  const std::vector<Endpoint> sources = Strangers(static_cast<int>(Handshaker::kMaxPending) + 2);
  for (std::size_t i = 0; i < Handshaker::kMaxPending; ++i) {
    const Result r = b.hs.OnPacket(sources[i], a1.Initiate(b), kT0, kWall0);
    ASSERT_TRUE(Replied(r, MessageType::kResponse)) << "i=" << i;
  }
  const std::size_t last = Handshaker::kMaxPending;
  EXPECT_TRUE(Dropped(b.hs.OnPacket(sources[last], a2.Initiate(b), kT0 + 1s, kWall0),
                      HandshakeDrop::kTooMany));
  const TimePoint later = kT0 + Handshaker::kPendingTimeout + kOneNs;
  EXPECT_TRUE(Replied(b.hs.OnPacket(sources[last + 1], a2.Initiate(b, later), later, kWall0),
                      MessageType::kResponse));
}

TEST(HandshakeDropName, EveryDropHasItsOwnName) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < kHandshakeDropCount; ++i) {
    const std::string name = HandshakeDropName(static_cast<HandshakeDrop>(i));
    EXPECT_NE(name, "unknown") << "drop " << i;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), kHandshakeDropCount);
}

}  // namespace
}  // namespace vdemesh::transport
