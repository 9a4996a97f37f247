// keys_test.cc: X25519 against RFC 7748, base64 text like `wg`, fingerprints.
// Key files are in key_file_test.cc.
#include "crypto/keys.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/crypto/test_util.h"

namespace vdemesh::crypto {
namespace {

using testing::Hex;
using testing::KeyFromHex;
using testing::ToHex;

// RFC 7748 section 6.1 (Curve25519 Diffie-Hellman).
constexpr char kAlicePrivate[] = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
constexpr char kAlicePublic[] = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
constexpr char kBobPrivate[] = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
constexpr char kBobPublic[] = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
constexpr char kShared[] = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
// base64 of kAlicePublic, as `wg pubkey` would print it.
constexpr char kAlicePublicBase64[] = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";

PublicKey PublicFromHex(std::string_view hex) {
  PublicKey key;
  const auto bytes = Hex(hex);
  std::copy(bytes.begin(), bytes.end(), key.bytes.begin());
  return key;
}

TEST(Keys, DerivePublicMatchesRfc7748) {
  EXPECT_EQ(ToHex(DerivePublic(KeyFromHex<PrivateKey>(kAlicePrivate)).span()), kAlicePublic);
  EXPECT_EQ(ToHex(DerivePublic(KeyFromHex<PrivateKey>(kBobPrivate)).span()), kBobPublic);
}

TEST(Keys, X25519SharedSecretMatchesRfc7748FromBothSides) {
  Key32 alice_view, bob_view;
  ASSERT_TRUE(
      X25519(KeyFromHex<PrivateKey>(kAlicePrivate), PublicFromHex(kBobPublic), &alice_view));
  ASSERT_TRUE(X25519(KeyFromHex<PrivateKey>(kBobPrivate), PublicFromHex(kAlicePublic), &bob_view));
  EXPECT_EQ(ToHex(alice_view.span()), kShared);
  EXPECT_TRUE(alice_view.Equals(bob_view));
}

TEST(Keys, X25519RefusesLowOrderPublicKeys) {
  // u = 0 and u = 1 have small order: the "shared" secret would be known to anyone.
  const PrivateKey alice = KeyFromHex<PrivateKey>(kAlicePrivate);
  for (const char* low : {"0000000000000000000000000000000000000000000000000000000000000000",
                          "0100000000000000000000000000000000000000000000000000000000000000"}) {
    Key32 shared;
    shared.data()[0] = 0xaa;
    EXPECT_FALSE(X25519(alice, PublicFromHex(low), &shared)) << low;
    EXPECT_TRUE(shared.IsZero()) << low;
  }
}

TEST(Keys, GeneratedKeyPairIsClampedAndConsistent) {
  const KeyPair a = GenerateKeyPair();
  const KeyPair b = GenerateKeyPair();
  EXPECT_EQ(a.private_key.data()[0] & 7, 0);
  EXPECT_EQ(a.private_key.data()[31] & 0xc0, 0x40);
  EXPECT_EQ(DerivePublic(a.private_key), a.public_key);
  EXPECT_FALSE(a.private_key.Equals(b.private_key));
  Key32 ab, ba;
  ASSERT_TRUE(X25519(a.private_key, b.public_key, &ab));
  ASSERT_TRUE(X25519(b.private_key, a.public_key, &ba));
  EXPECT_TRUE(ab.Equals(ba));
}

TEST(Keys, NetworkKeysAreRandom) {
  EXPECT_FALSE(GenerateNetworkKey().Equals(GenerateNetworkKey()));
}

TEST(Keys, Base64MatchesWireGuardsFormat) {
  const PublicKey pub = PublicFromHex(kAlicePublic);
  const std::string text = EncodePublicKey(pub);
  EXPECT_EQ(text, kAlicePublicBase64);
  EXPECT_EQ(text.size(), kKeyBase64Chars);
  const auto decoded = DecodePublicKey(text);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, pub);
}

TEST(Keys, Base64RoundTripsRandomSecrets) {
  for (int i = 0; i < 100; ++i) {
    const NetworkKey key = GenerateNetworkKey();
    const auto decoded = DecodeBase64Key(EncodeBase64Key(key.span()));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_TRUE(decoded->Equals(key));
  }
}

TEST(Keys, DecodeRejectsEverythingButOneCanonicalKey) {
  const std::string good = kAlicePublicBase64;
  std::string non_canonical = good;
  non_canonical[42] = 'p';  // 'o' -> 'p' sets one of the two padding bits
  const std::string cases[] = {
      "",
      good.substr(0, 43),        // too short
      good + "A",                // too long
      good.substr(0, 43) + "A",  // missing padding: 44 chars that decode to 33 bytes
      " " + good.substr(1),      // whitespace inside the 44 characters
      good.substr(0, 10) + "*" + good.substr(11),
      good.substr(0, 10) + "-" + good.substr(11),  // URL-safe alphabet is not ours
      non_canonical,
      std::string(kKeyBase64Chars, '='),
  };
  for (const std::string& text : cases) {
    EXPECT_FALSE(DecodeBase64Key(text).has_value()) << "'" << text << "'";
  }
  EXPECT_TRUE(DecodeBase64Key(good).has_value());
}

TEST(Keys, FingerprintIsThePrefixOfTheBase64Key) {
  const PublicKey pub = PublicFromHex(kAlicePublic);
  EXPECT_EQ(Fingerprint(pub), "hSDwCYkw");
  EXPECT_EQ(Fingerprint(pub).size(), kFingerprintChars);
  EXPECT_EQ(EncodePublicKey(pub).rfind(Fingerprint(pub), 0), 0u);
}

}  // namespace
}  // namespace vdemesh::crypto
