// aead_test.cc: known answers for both ciphers, Noise's nonce formats, in-place round trips, and
// that no altered bit of ciphertext, tag or associated data is ever accepted.
#include "crypto/aead.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "crypto/keys.h"
#include "crypto/provider_aead.h"
#include "tests/unit/crypto/test_util.h"

namespace vdemesh::crypto {
namespace {

using testing::Bytes;
using testing::Hex;
using testing::KeyFromHex;
using testing::ToHex;

std::vector<Cipher> AvailableCiphers() {
  std::vector<Cipher> ciphers = {Cipher::kChaCha20Poly1305};
  if (AesGcmAvailable()) ciphers.push_back(Cipher::kAes256Gcm);
  return ciphers;
}

std::array<std::uint8_t, kAeadNonceBytes> NonceFromHex(std::string_view hex) {
  std::array<std::uint8_t, kAeadNonceBytes> nonce{};
  const auto bytes = Hex(hex);
  std::copy(bytes.begin(), bytes.end(), nonce.begin());
  return nonce;
}

struct KnownAnswer {
  const char* source;
  const char* key;
  const char* nonce;
  const char* ad;
  const char* plaintext;
  const char* ciphertext;
  const char* tag;
};

// RFC 8439 section 2.8.2 ("Ladies and Gentlemen of the class of '99...") and Wycheproof
// chacha20_poly1305_test.json tcId 2 (empty message and AD).
constexpr KnownAnswer kChaChaVectors[] = {
    {"RFC 8439 2.8.2", "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
     "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7",
     "4c616469657320616e642047656e746c656d656e206f662074686520636c617373206f66202739393a20"
     "4966204920636f756c64206f6666657220796f75206f6e6c79206f6e652074697020666f722074686520"
     "6675747572652c2073756e73637265656e20776f756c642062652069742e",
     "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb"
     "69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad6"
     "75945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116",
     "1ae10b594f09e26a7e902ecbd0600691"},
    {"Wycheproof tcId 2", "80ba3192c803ce965ea371d5ff073cf0f43b6a2ab576b208426e11409c09b9b0",
     "4da5bf8dfd5852c1ea12379d", "", "", "", "76acb342cf3166a5b63c0c0ea1383c8d"},
};

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test case 16 (AES-256).
constexpr KnownAnswer kAesGcmVector = {
    "GCM spec test case 16",
    "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
    "cafebabefacedbaddecaf888",
    "feedfacedeadbeeffeedfacedeadbeefabaddad2",
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e24"
    "49a6b525b16aedf5aa0de657ba637b39",
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b10"
    "56828838c5f61e6393ba7a0abcc9f662",
    "76fc6ece0f4e1768cddf8853bb2d551b"};

void CheckKnownAnswer(Cipher cipher, const KnownAnswer& v) {
  SCOPED_TRACE(v.source);
  const AeadKey key(cipher, KeyFromHex<Key32>(v.key));
  const auto nonce = NonceFromHex(v.nonce);
  const auto ad = Hex(v.ad);
  std::vector<std::uint8_t> data = Hex(v.plaintext);
  std::array<std::uint8_t, kAeadTagBytes> tag;
  key.SealWithNonce(nonce, ad, data, tag.data());
  EXPECT_EQ(ToHex(data), v.ciphertext);
  EXPECT_EQ(ToHex(tag), v.tag);
  ASSERT_TRUE(key.OpenWithNonce(nonce, ad, data, tag.data()));
  EXPECT_EQ(ToHex(data), v.plaintext);
}

TEST(Aead, ChaCha20Poly1305MatchesPublishedVectors) {
  for (const KnownAnswer& v : kChaChaVectors) CheckKnownAnswer(Cipher::kChaCha20Poly1305, v);
}

TEST(Aead, Aes256GcmMatchesGcmSpecTestCase16) {
  if (!AesGcmAvailable()) GTEST_SKIP() << "no AES-NI/PCLMUL: libsodium offers no AES-GCM here";
  CheckKnownAnswer(Cipher::kAes256Gcm, kAesGcmVector);
}

TEST(Aead, CounterNonceIsNoiseFormat) {
  std::array<std::uint8_t, kAeadNonceBytes> nonce;
  AeadKey::CounterNonce(Cipher::kChaCha20Poly1305, 0x0102030405060708, nonce);
  EXPECT_EQ(ToHex(nonce), "000000000807060504030201");  // little-endian
  AeadKey::CounterNonce(Cipher::kAes256Gcm, 0x0102030405060708, nonce);
  EXPECT_EQ(ToHex(nonce), "000000000102030405060708");  // big-endian
}

TEST(Aead, SealWithCounterEqualsSealWithItsNonce) {
  for (const Cipher cipher : AvailableCiphers()) {
    const AeadKey key(cipher, testing::Incrementing<Key32>(9));
    for (const std::uint64_t counter : {std::uint64_t{0}, std::uint64_t{1},
                                        std::uint64_t{0x0102030405060708}, kRejectAfterMessages}) {
      std::array<std::uint8_t, kAeadNonceBytes> nonce;
      AeadKey::CounterNonce(cipher, counter, nonce);
      auto a = Bytes("same plaintext"), b = a;
      std::array<std::uint8_t, kAeadTagBytes> tag_a, tag_b;
      key.Seal(counter, Bytes("ad"), a, tag_a.data());
      key.SealWithNonce(nonce, Bytes("ad"), b, tag_b.data());
      EXPECT_EQ(a, b);
      EXPECT_EQ(tag_a, tag_b);
    }
  }
}

TEST(Aead, InPlaceRoundTripWithTagInTailroom) {
  for (const Cipher cipher : AvailableCiphers()) {
    const AeadKey key(cipher, GenerateNetworkKey());
    for (const std::size_t len : {0, 1, 15, 16, 17, 63, 64, 65, 1514, 9234}) {
      // [header][frame][tag]: the layout of a packet buffer.
      std::vector<std::uint8_t> packet(16 + len + kAeadTagBytes);
      for (std::size_t i = 0; i < packet.size(); ++i) packet[i] = static_cast<std::uint8_t>(i);
      const std::vector<std::uint8_t> original = packet;
      const std::span<const std::uint8_t> header(packet.data(), 16);
      const std::span<std::uint8_t> frame(packet.data() + 16, len);
      key.Seal(42, header, frame, frame.data() + len);
      if (len > 0) {
        EXPECT_FALSE(std::equal(frame.begin(), frame.end(), original.begin() + 16)) << len;
      }
      ASSERT_TRUE(key.Open(42, header, frame, frame.data() + len)) << len;
      EXPECT_TRUE(std::equal(frame.begin(), frame.end(), original.begin() + 16)) << len;
    }
  }
}

// Flips every bit of ciphertext, tag and associated data in turn; each must be refused, and
// the buffer must then hold no plaintext.
TEST(Aead, EveryFlippedBitIsRejectedAndLeavesNoPlaintext) {
  for (const Cipher cipher : AvailableCiphers()) {
    const AeadKey key(cipher, GenerateNetworkKey());
    const auto plaintext = Bytes("a frame of 24 bytes ....");
    auto ad = Bytes("header 12 b.");
    auto sealed = plaintext;
    std::array<std::uint8_t, kAeadTagBytes> tag;
    key.Seal(7, ad, sealed, tag.data());
    const std::size_t total_bits = 8 * (sealed.size() + tag.size() + ad.size());
    for (std::size_t bit = 0; bit < total_bits; ++bit) {
      auto data = sealed;
      auto bad_tag = tag;
      auto bad_ad = ad;
      std::size_t byte = bit / 8;
      const auto mask = static_cast<std::uint8_t>(1u << (bit % 8));
      if (byte < data.size()) {
        data[byte] ^= mask;
      } else if ((byte -= data.size()) < bad_tag.size()) {
        bad_tag[byte] ^= mask;
      } else {
        bad_ad[byte - bad_tag.size()] ^= mask;
      }
      ASSERT_FALSE(key.Open(7, bad_ad, data, bad_tag.data())) << "bit " << bit;
      EXPECT_EQ(data, std::vector<std::uint8_t>(data.size(), 0)) << "bit " << bit;
    }
    auto data = sealed;
    EXPECT_FALSE(key.Open(8, ad, data, tag.data())) << "wrong counter";
    data = sealed;
    EXPECT_TRUE(key.Open(7, ad, data, tag.data()));
    EXPECT_EQ(data, plaintext);
  }
}

TEST(Aead, WrongKeyIsRejected) {
  for (const Cipher cipher : AvailableCiphers()) {
    const AeadKey sender(cipher, testing::Incrementing<Key32>(1));
    const AeadKey other(cipher, testing::Incrementing<Key32>(2));
    auto data = Bytes("secret");
    std::array<std::uint8_t, kAeadTagBytes> tag;
    sender.Seal(0, {}, data, tag.data());
    EXPECT_FALSE(other.Open(0, {}, data, tag.data()));
  }
}

TEST(Aead, Aes256GcmAgreesWithLibsodiumsCombinedApi) {
  if (!AesGcmAvailable()) GTEST_SKIP() << "no AES-GCM on this CPU";
  const Key32 raw = GenerateNetworkKey();
  const AeadKey key(Cipher::kAes256Gcm, raw);
  auto data = Bytes("cross-check of the precomputed (afternm) path");
  const auto ad = Bytes("ad");
  std::vector<std::uint8_t> combined(data.size() + kAeadTagBytes);
  std::array<std::uint8_t, kAeadNonceBytes> nonce;
  AeadKey::CounterNonce(Cipher::kAes256Gcm, 99, nonce);
  crypto_aead_aes256gcm_encrypt(combined.data(), nullptr, data.data(), data.size(), ad.data(),
                                ad.size(), nullptr, nonce.data(), raw.data());
  std::array<std::uint8_t, kAeadTagBytes> tag;
  key.Seal(99, ad, data, tag.data());
  data.insert(data.end(), tag.begin(), tag.end());
  EXPECT_EQ(data, combined);
}

// SealGather (a head in place, the body from elsewhere) gives the bytes Seal gives for the two
// parts side by side, on both implementations, head or no head.
TEST(Aead, SealGatherEqualsSealOfTheConcatenation) {
  for (const Cipher cipher : AvailableCiphers()) {
    const AeadKey key(cipher, GenerateNetworkKey());
    const auto ad = Bytes("sixteen byte hdr");
    for (const std::size_t head_len : {std::size_t{0}, std::size_t{4}}) {
      for (const std::size_t body_len : {std::size_t{0}, std::size_t{60}, kBulkBytes - 4,
                                         kBulkBytes, std::size_t{1432}, std::size_t{9000}}) {
        std::vector<std::uint8_t> whole(head_len + body_len);
        for (std::size_t i = 0; i < whole.size(); ++i) whole[i] = static_cast<std::uint8_t>(i * 7);
        const std::vector<std::uint8_t> body(whole.begin() + static_cast<long>(head_len),
                                             whole.end());
        std::array<std::uint8_t, kAeadTagBytes> want_tag, got_tag;
        auto want = whole;
        key.Seal(7 + body_len, ad, want, want_tag.data());
        std::vector<std::uint8_t> got(whole.begin(), whole.begin() + static_cast<long>(head_len));
        got.resize(whole.size(), 0xee);  // the body's place, to be written by the seal
        key.SealGather(7 + body_len, ad, std::span(got.data(), head_len), body,
                       got.data() + head_len, got_tag.data());
        EXPECT_EQ(got, want) << "head " << head_len << " body " << body_len;
        EXPECT_EQ(got_tag, want_tag) << "head " << head_len << " body " << body_len;
        EXPECT_TRUE(key.Open(7 + body_len, ad, got, got_tag.data()));
        EXPECT_EQ(got, whole);
      }
    }
  }
}

// Below kBulkBytes libsodium seals, from there OpenSSL: both must give the standard AEAD, byte
// for byte, in both directions, at every size around the switch.
TEST(Aead, BothImplementationsAgreeWithLibsodiumsCombinedApiAroundTheSizeSwitch) {
  for (const Cipher cipher : AvailableCiphers()) {
    const Key32 raw = GenerateNetworkKey();
    const AeadKey key(cipher, raw);
    const auto ad = Bytes("sixteen byte hdr");
    for (const std::size_t len : {std::size_t{0}, std::size_t{1}, std::size_t{100},
                                  kBulkBytes - 1, kBulkBytes, kBulkBytes + 1, std::size_t{1436},
                                  std::size_t{9234}}) {
      std::vector<std::uint8_t> data(len);
      for (std::size_t i = 0; i < len; ++i) data[i] = static_cast<std::uint8_t>(i * 31 + len);
      std::array<std::uint8_t, kAeadNonceBytes> nonce;
      AeadKey::CounterNonce(cipher, 1000 + len, nonce);
      std::vector<std::uint8_t> combined(len + kAeadTagBytes);
      if (cipher == Cipher::kAes256Gcm) {
        crypto_aead_aes256gcm_encrypt(combined.data(), nullptr, data.data(), len, ad.data(),
                                      ad.size(), nullptr, nonce.data(), raw.data());
      } else {
        crypto_aead_chacha20poly1305_ietf_encrypt(combined.data(), nullptr, data.data(), len,
                                                  ad.data(), ad.size(), nullptr, nonce.data(),
                                                  raw.data());
      }
      auto sealed = data;
      std::array<std::uint8_t, kAeadTagBytes> tag;
      key.Seal(1000 + len, ad, sealed, tag.data());
      std::vector<std::uint8_t> ours = sealed;
      ours.insert(ours.end(), tag.begin(), tag.end());
      EXPECT_EQ(ours, combined) << "len " << len;
      // Open what libsodium sealed.
      std::vector<std::uint8_t> theirs(combined.begin(), combined.begin() + static_cast<long>(len));
      ASSERT_TRUE(key.Open(1000 + len, ad, theirs, combined.data() + len)) << "len " << len;
      EXPECT_EQ(theirs, data) << "len " << len;
      if (len == 0) continue;
      // A forgery on either path is refused and leaves no plaintext.
      auto forged = sealed;
      forged[len / 2] ^= 0x40;
      EXPECT_FALSE(key.Open(1000 + len, ad, forged, tag.data())) << "len " << len;
      EXPECT_EQ(forged, std::vector<std::uint8_t>(len, 0)) << "len " << len;
    }
  }
}

// Debian's OpenSSL offers both ciphers: bulk messages must take the fast path, not the libsodium
// fallback (which would give the same bytes, only slower, and so pass every test above).
TEST(Aead, BulkMessagesGoToOpenSsl) {
  for (const Cipher cipher : AvailableCiphers()) {
    EXPECT_TRUE(AeadKey(cipher, GenerateNetworkKey()).bulk_by_openssl())
        << NoiseCipherName(cipher);
  }
}

TEST(ProviderAead, FindsCiphersByNameInAnyCaseAndNoUnknownOne) {
  EXPECT_TRUE(ProviderAead::Find("AES-256-GCM").has_value());
  EXPECT_TRUE(ProviderAead::Find("chacha20-poly1305").has_value());  // names ignore case
  EXPECT_FALSE(ProviderAead::Find("AES-256-GCM-SIV-NOT-A-CIPHER").has_value());
  EXPECT_FALSE(ProviderAead::Find("").has_value());
}

TEST(Aead, MovedKeyStillWorks) {
  AeadKey original(Cipher::kChaCha20Poly1305, testing::Incrementing<Key32>(5));
  auto data = Bytes("payload");
  std::array<std::uint8_t, kAeadTagBytes> tag;
  original.Seal(1, {}, data, tag.data());
  const AeadKey moved(std::move(original));
  EXPECT_TRUE(moved.Open(1, {}, data, tag.data()));
  EXPECT_EQ(data, Bytes("payload"));
}

}  // namespace
}  // namespace vdemesh::crypto
