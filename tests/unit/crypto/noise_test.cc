// noise_test.cc: the handshake between two of our own objects: it completes with random keys,
// and every wrong key, wrong turn, altered bit or truncation makes it fail without crashing.
// Known-answer vectors are in noise_vectors_test.cc.
#include "crypto/noise.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "tests/unit/crypto/test_util.h"

namespace vdemesh::crypto {
namespace {

using testing::Bytes;
using testing::Incrementing;

const Key32 kPsk = Incrementing<Key32>(0x70);
const std::vector<std::uint8_t> kPrologue = Bytes("vdemesh test v1");

std::vector<Cipher> AvailableCiphers() {
  std::vector<Cipher> ciphers = {Cipher::kChaCha20Poly1305};
  if (AesGcmAvailable()) ciphers.push_back(Cipher::kAes256Gcm);
  return ciphers;
}

// Handshakes with fixed keys, so a replayed prefix of a transcript is byte-identical.
Handshake FixedInitiator(const Key32& psk = kPsk) {
  Handshake h = Handshake::Initiator(Incrementing<PrivateKey>(1), psk, kPrologue);
  h.SetEphemeralForTesting(Incrementing<PrivateKey>(2));
  return h;
}
Handshake FixedResponder(const Key32& psk = kPsk) {
  Handshake h = Handshake::Responder(Incrementing<PrivateKey>(3), psk, kPrologue);
  h.SetEphemeralForTesting(Incrementing<PrivateKey>(4));
  return h;
}

// The three messages of a complete handshake between FixedInitiator() and FixedResponder().
std::array<std::vector<std::uint8_t>, 3> FixedTranscript() {
  Handshake initiator = FixedInitiator();
  Handshake responder = FixedResponder();
  std::array<std::vector<std::uint8_t>, 3> messages;
  std::vector<std::uint8_t> payload;
  EXPECT_TRUE(initiator.WriteMessage(Bytes("one"), &messages[0]));
  EXPECT_TRUE(responder.ReadMessage(messages[0], &payload));
  EXPECT_TRUE(responder.WriteMessage(Bytes("two"), &messages[1]));
  EXPECT_TRUE(initiator.ReadMessage(messages[1], &payload));
  EXPECT_TRUE(initiator.WriteMessage(Bytes("three"), &messages[2]));
  EXPECT_TRUE(responder.ReadMessage(messages[2], &payload));
  EXPECT_TRUE(initiator.complete() && responder.complete());
  return messages;
}

// Delivers messages[index] (possibly altered) to a fresh reader that honestly went through the
// earlier messages; returns what ReadMessage() said.
bool DeliverAt(int index, std::span<const std::uint8_t> message,
               const std::array<std::vector<std::uint8_t>, 3>& transcript) {
  Handshake initiator = FixedInitiator();
  Handshake responder = FixedResponder();
  std::vector<std::uint8_t> out, payload;
  if (index >= 1) {
    EXPECT_TRUE(initiator.WriteMessage(Bytes("one"), &out));
    EXPECT_TRUE(responder.ReadMessage(transcript[0], &payload));
  }
  if (index >= 2) {
    EXPECT_TRUE(responder.WriteMessage(Bytes("two"), &out));
  }
  Handshake& reader = index == 1 ? initiator : responder;
  const bool ok = reader.ReadMessage(message, &payload);
  EXPECT_EQ(reader.failed(), !ok);
  if (!ok) {
    EXPECT_TRUE(payload.empty());
  }
  return ok;
}

TEST(Noise, RandomKeysCompleteAndTransportKeysInterwork) {
  for (const Cipher cipher : AvailableCiphers()) {
    const KeyPair alice = GenerateKeyPair(), bob = GenerateKeyPair();
    const NetworkKey psk = GenerateNetworkKey();
    Handshake initiator = Handshake::Initiator(alice.private_key, psk, kPrologue, cipher);
    Handshake responder = Handshake::Responder(bob.private_key, psk, kPrologue, cipher);
    std::vector<std::uint8_t> message, payload;
    ASSERT_TRUE(initiator.WriteMessage({}, &message));
    EXPECT_EQ(message.size(), kNoiseMessage1Overhead);
    ASSERT_TRUE(responder.ReadMessage(message, &payload));
    EXPECT_FALSE(responder.has_remote_static());
    ASSERT_TRUE(responder.WriteMessage({}, &message));
    EXPECT_EQ(message.size(), kNoiseMessage2Overhead);
    ASSERT_TRUE(initiator.ReadMessage(message, &payload));
    // The initiator knows the responder's host key before it commits to message 3.
    ASSERT_TRUE(initiator.has_remote_static());
    EXPECT_EQ(initiator.remote_static(), bob.public_key);
    ASSERT_TRUE(initiator.WriteMessage({}, &message));
    EXPECT_EQ(message.size(), kNoiseMessage3Overhead);
    ASSERT_TRUE(responder.ReadMessage(message, &payload));
    EXPECT_EQ(responder.remote_static(), alice.public_key);
    ASSERT_TRUE(initiator.complete() && responder.complete());

    auto a = initiator.Split();
    auto b = responder.Split();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->handshake_hash, b->handshake_hash);
    EXPECT_EQ(a->remote_static, bob.public_key);
    EXPECT_EQ(a->send.cipher(), cipher);
    std::vector<std::uint8_t> data = Bytes("frame");
    std::array<std::uint8_t, kAeadTagBytes> tag;
    a->send.Seal(0, {}, data, tag.data());
    std::vector<std::uint8_t> copy = data;
    EXPECT_FALSE(a->receive.Open(0, {}, copy, tag.data())) << "directions differ";
    ASSERT_TRUE(b->receive.Open(0, {}, data, tag.data()));
    EXPECT_EQ(data, Bytes("frame"));
    b->send.Seal(5, {}, data, tag.data());
    ASSERT_TRUE(a->receive.Open(5, {}, data, tag.data()));
  }
}

TEST(Noise, WrongNetworkKeyIsRejectedAtMessage1AndTheResponderStaysSilent) {
  Handshake initiator = FixedInitiator(Incrementing<Key32>(0x71));
  Handshake responder = FixedResponder();
  std::vector<std::uint8_t> message, payload;
  ASSERT_TRUE(initiator.WriteMessage(Bytes("hello"), &message));
  EXPECT_FALSE(responder.ReadMessage(message, &payload));
  EXPECT_TRUE(responder.failed());
  EXPECT_TRUE(payload.empty());
  EXPECT_FALSE(responder.WriteMessage({}, &message));
  EXPECT_TRUE(message.empty());
}

TEST(Noise, DifferentProloguesFailAtMessage1) {
  Handshake initiator = Handshake::Initiator(Incrementing<PrivateKey>(1), kPsk, Bytes("v1"));
  Handshake responder = Handshake::Responder(Incrementing<PrivateKey>(3), kPsk, Bytes("v2"));
  std::vector<std::uint8_t> message, payload;
  ASSERT_TRUE(initiator.WriteMessage({}, &message));
  EXPECT_FALSE(responder.ReadMessage(message, &payload));
}

TEST(Noise, CipherMismatchFailsAtMessage1) {
  if (!AesGcmAvailable()) GTEST_SKIP() << "no AES-GCM on this CPU";
  Handshake initiator =
      Handshake::Initiator(Incrementing<PrivateKey>(1), kPsk, kPrologue, Cipher::kChaCha20Poly1305);
  Handshake responder =
      Handshake::Responder(Incrementing<PrivateKey>(3), kPsk, kPrologue, Cipher::kAes256Gcm);
  std::vector<std::uint8_t> message, payload;
  ASSERT_TRUE(initiator.WriteMessage({}, &message));
  EXPECT_FALSE(responder.ReadMessage(message, &payload));
}

TEST(Noise, EveryFlippedBitOfEveryMessageIsRejected) {
  const auto transcript = FixedTranscript();
  for (int index = 0; index < 3; ++index) {
    ASSERT_TRUE(DeliverAt(index, transcript[index], transcript)) << "unaltered " << index;
    for (std::size_t bit = 0; bit < 8 * transcript[index].size(); ++bit) {
      std::vector<std::uint8_t> altered = transcript[index];
      altered[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      ASSERT_FALSE(DeliverAt(index, altered, transcript))
          << "message " << index + 1 << " bit " << bit;
    }
  }
}

TEST(Noise, EveryTruncationAndAnyExtensionIsRejected) {
  const auto transcript = FixedTranscript();
  for (int index = 0; index < 3; ++index) {
    const std::vector<std::uint8_t>& message = transcript[index];
    for (std::size_t n = 0; n < message.size(); ++n) {
      ASSERT_FALSE(DeliverAt(index, std::span(message).first(n), transcript))
          << "message " << index + 1 << " truncated to " << n;
    }
    std::vector<std::uint8_t> longer = message;
    longer.push_back(0);
    EXPECT_FALSE(DeliverAt(index, longer, transcript)) << "message " << index + 1;
  }
}

TEST(Noise, OutOfTurnCallsFailAndKillTheHandshake) {
  std::vector<std::uint8_t> message, payload;
  Handshake responder = FixedResponder();
  EXPECT_FALSE(responder.WriteMessage({}, &message));
  EXPECT_TRUE(responder.failed());

  Handshake initiator = FixedInitiator();
  EXPECT_FALSE(initiator.ReadMessage(FixedTranscript()[1], &payload));
  EXPECT_TRUE(initiator.failed());
  EXPECT_FALSE(initiator.WriteMessage({}, &message));

  Handshake twice = FixedInitiator();
  ASSERT_TRUE(twice.WriteMessage({}, &message));
  EXPECT_FALSE(twice.WriteMessage({}, &message));
}

TEST(Noise, AFailedHandshakeRefusesEvenValidMessages) {
  const auto transcript = FixedTranscript();
  Handshake responder = FixedResponder();
  std::vector<std::uint8_t> payload;
  std::vector<std::uint8_t> altered = transcript[0];
  altered.back() ^= 1;
  ASSERT_FALSE(responder.ReadMessage(altered, &payload));
  EXPECT_FALSE(responder.ReadMessage(transcript[0], &payload));
  EXPECT_FALSE(responder.complete());
  EXPECT_FALSE(responder.Split().has_value());
}

TEST(Noise, SplitWorksOnlyOnceAndOnlyWhenComplete) {
  Handshake initiator = FixedInitiator();
  Handshake responder = FixedResponder();
  std::vector<std::uint8_t> message, payload;
  EXPECT_FALSE(initiator.Split().has_value());
  ASSERT_TRUE(initiator.WriteMessage({}, &message));
  ASSERT_TRUE(responder.ReadMessage(message, &payload));
  ASSERT_TRUE(responder.WriteMessage({}, &message));
  EXPECT_FALSE(responder.Split().has_value());
  ASSERT_TRUE(initiator.ReadMessage(message, &payload));
  ASSERT_TRUE(initiator.WriteMessage({}, &message));
  ASSERT_TRUE(responder.ReadMessage(message, &payload));
  EXPECT_TRUE(responder.Split().has_value());
  EXPECT_FALSE(responder.Split().has_value());
  EXPECT_FALSE(responder.WriteMessage({}, &message));
}

// A member (it has the PSK) that sends a low-order ephemeral key gets past message 1, which
// has no DH, but the responder refuses to do `ee` with it and sends nothing.
TEST(Noise, LowOrderEphemeralFromAMemberIsRefused) {
  const Cipher cipher = Cipher::kChaCha20Poly1305;
  noise::SymmetricState forger(NoiseProtocolName(cipher), cipher);
  forger.MixHash(kPrologue);
  forger.MixKeyAndHash(kPsk.span());
  const std::array<std::uint8_t, kKeyBytes> zero{};
  std::vector<std::uint8_t> message(zero.begin(), zero.end());
  forger.MixHash(zero);
  forger.MixKey(zero);
  ASSERT_TRUE(forger.EncryptAndHash({}, &message));

  Handshake responder = FixedResponder();
  std::vector<std::uint8_t> payload, reply;
  ASSERT_TRUE(responder.ReadMessage(message, &payload));
  EXPECT_FALSE(responder.WriteMessage({}, &reply));
  EXPECT_TRUE(reply.empty());
}

TEST(Noise, PayloadsUpToTheNoiseLimitRoundTrip) {
  const std::size_t max_payload = kNoiseMaxMessageBytes - kNoiseMessage2Overhead;
  Handshake initiator = FixedInitiator();
  Handshake responder = FixedResponder();
  std::vector<std::uint8_t> message, payload;
  EXPECT_FALSE(FixedInitiator().WriteMessage(std::vector<std::uint8_t>(max_payload + 1), &message));
  const std::vector<std::uint8_t> big(max_payload, 0xab);
  ASSERT_TRUE(initiator.WriteMessage(big, &message));
  ASSERT_TRUE(responder.ReadMessage(message, &payload));
  EXPECT_EQ(payload, big);
  ASSERT_TRUE(responder.WriteMessage(big, &message));
  EXPECT_EQ(message.size(), kNoiseMaxMessageBytes);
  ASSERT_TRUE(initiator.ReadMessage(message, &payload));
  EXPECT_EQ(payload, big);
  message.push_back(0);
  EXPECT_FALSE(FixedResponder().ReadMessage(message, &payload)) << "over 65535 bytes";
}

}  // namespace
}  // namespace vdemesh::crypto
