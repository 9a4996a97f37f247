// wire_test.cc: the packet layouts of wire.h. Classify() gets damage tests (every truncation,
// every reserved bit, every length around the exact sizes); the header and payload codecs get
// round trips and byte-for-byte layouts, since the far side may be another build.
#include "transport/wire.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "crypto/noise.h"

namespace vdemesh::transport {
namespace {

// A well-formed packet of `type` and `size` bytes: the type byte, three zero bytes, then a
// pattern (Classify() looks at nothing beyond the first four bytes and the length).
std::vector<std::uint8_t> Message(MessageType type, std::size_t size) {
  std::vector<std::uint8_t> pkt(size);
  for (std::size_t i = 4; i < size; ++i) pkt[i] = static_cast<std::uint8_t>(0xa0 + i);
  pkt[0] = static_cast<std::uint8_t>(type);
  return pkt;
}

struct Valid {
  MessageType type;
  std::size_t size;
};
// One valid message of each type; data at its minimum and with a frame in it.
constexpr Valid kValid[] = {
    {MessageType::kInitiation, kInitiationBytes},
    {MessageType::kResponse, kResponseBytes},
    {MessageType::kFinal, kFinalBytes},
    {MessageType::kData, kDataHeaderBytes + kTagBytes},
    {MessageType::kData, kDataHeaderBytes + kInnerHeaderBytes + 60 + kTagBytes},
};

std::optional<MessageType> ClassifyBytes(const std::vector<std::uint8_t>& pkt, std::size_t n) {
  return Classify(std::span<const std::uint8_t>(pkt).first(n));
}

TEST(Wire, HandshakeSizesAreExactAndMatchTheNoiseMessages) {
  EXPECT_EQ(kInitiationBytes, 68u);
  EXPECT_EQ(kResponseBytes, 112u);
  EXPECT_EQ(kFinalBytes, 72u);
  EXPECT_EQ(kNoiseMsg1Bytes, crypto::kNoiseMessage1Overhead + kInitiationPayloadBytes);
  EXPECT_EQ(kNoiseMsg2Bytes, crypto::kNoiseMessage2Overhead + kResponsePayloadBytes);
  EXPECT_EQ(kNoiseMsg3Bytes, crypto::kNoiseMessage3Overhead);
  EXPECT_EQ(kTunnelOverhead, 36u);
}

TEST(Wire, ClassifyAcceptsEachValidMessage) {
  for (const Valid& v : kValid) {
    const auto pkt = Message(v.type, v.size);
    EXPECT_EQ(Classify(pkt), v.type) << "size=" << v.size;
  }
}

TEST(Wire, ClassifyRejectsEveryTruncationOfEachMessage) {
  for (const Valid& v : kValid) {
    const auto pkt = Message(v.type, v.size);
    // A data packet stays valid down to its minimum; below that, and for handshakes at any
    // shorter length, it is malformed.
    const std::size_t valid_from =
        v.type == MessageType::kData ? kDataHeaderBytes + kTagBytes : v.size;
    for (std::size_t n = 0; n < pkt.size(); ++n) {
      if (n >= valid_from)
        EXPECT_EQ(ClassifyBytes(pkt, n), v.type) << "type=" << int(pkt[0]) << " n=" << n;
      else
        EXPECT_EQ(ClassifyBytes(pkt, n), std::nullopt) << "type=" << int(pkt[0]) << " n=" << n;
    }
  }
}

TEST(Wire, ClassifyRejectsHandshakesOneByteTooLong) {
  for (const Valid& v : kValid) {
    if (v.type == MessageType::kData) continue;
    const auto pkt = Message(v.type, v.size + 1);
    EXPECT_EQ(Classify(pkt), std::nullopt) << "type=" << int(pkt[0]);
  }
}

TEST(Wire, ClassifyRejectsDataShorterThanHeaderPlusTag) {
  EXPECT_EQ(kDataHeaderBytes + kTagBytes, 32u);
  EXPECT_EQ(Classify(Message(MessageType::kData, 31)), std::nullopt);
  EXPECT_EQ(Classify(Message(MessageType::kData, 32)), MessageType::kData);
  EXPECT_EQ(Classify(Message(MessageType::kData, 9234 + kTunnelOverhead)), MessageType::kData);
}

TEST(Wire, ClassifyRejectsEveryNonzeroReservedBit) {
  for (const Valid& v : kValid) {
    for (std::size_t byte = 1; byte < 4; ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        auto pkt = Message(v.type, v.size);
        pkt[byte] = static_cast<std::uint8_t>(1 << bit);
        EXPECT_EQ(Classify(pkt), std::nullopt)
            << "type=" << int(pkt[0]) << " byte=" << byte << " bit=" << bit;
      }
    }
  }
}

TEST(Wire, ClassifyRejectsUnknownTypes) {
  for (int type : {0, 5, 6, 0x41, 0x81, 0xff}) {
    for (std::size_t size : {kInitiationBytes, kResponseBytes, kFinalBytes, std::size_t{200}}) {
      auto pkt = Message(MessageType::kData, size);
      pkt[0] = static_cast<std::uint8_t>(type);
      EXPECT_EQ(Classify(pkt), std::nullopt) << "type=" << type << " size=" << size;
    }
  }
}

TEST(Wire, StoreLeWritesLeastSignificantByteFirst) {
  std::array<std::uint8_t, 13> buf{};
  StoreLe32(buf.data() + 1, 0x11223344u);  // unaligned on purpose
  EXPECT_EQ(buf[0], 0x00);
  EXPECT_EQ(buf[1], 0x44);
  EXPECT_EQ(buf[2], 0x33);
  EXPECT_EQ(buf[3], 0x22);
  EXPECT_EQ(buf[4], 0x11);
  StoreLe64(buf.data() + 5, 0x0102030405060708ull);
  const std::array<std::uint8_t, 8> want = {8, 7, 6, 5, 4, 3, 2, 1};
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(buf[5 + i], want[i]) << "i=" << i;
  EXPECT_EQ(LoadLe32(buf.data() + 1), 0x11223344u);
  EXPECT_EQ(LoadLe64(buf.data() + 5), 0x0102030405060708ull);
}

TEST(Wire, LoadLeInvertsStoreLeAtTheExtremes) {
  std::array<std::uint8_t, 8> buf{};
  for (std::uint32_t v : {0u, 1u, 0x80000000u, 0xffffffffu, 0xdeadbeefu}) {
    StoreLe32(buf.data(), v);
    EXPECT_EQ(LoadLe32(buf.data()), v);
  }
  for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1} << 63,
                          ~std::uint64_t{0}, std::uint64_t{0x0123456789abcdef}}) {
    StoreLe64(buf.data(), v);
    EXPECT_EQ(LoadLe64(buf.data()), v);
  }
}

TEST(DataHeader, WriteProducesTheDocumentedLittleEndianLayout) {
  std::array<std::uint8_t, kDataHeaderBytes> buf;
  buf.fill(0xff);  // the reserved bytes must be written as zero, not left alone
  DataHeader{0x04030201u, 0x0c0b0a0908070605ull}.Write(buf.data());
  const std::array<std::uint8_t, kDataHeaderBytes> want = {4, 0, 0, 0, 1, 2,  3,  4,
                                                           5, 6, 7, 8, 9, 10, 11, 12};
  EXPECT_EQ(buf, want);
}

TEST(DataHeader, ReadInvertsWrite) {
  for (const DataHeader h : {DataHeader{0, 0}, DataHeader{1, 1}, DataHeader{0xffffffffu, ~0ull},
                             DataHeader{0x89abcdefu, 0x0123456789abcdefull}}) {
    auto pkt = Message(MessageType::kData, kDataHeaderBytes + kTagBytes);
    h.Write(pkt.data());
    ASSERT_EQ(Classify(pkt), MessageType::kData);
    const DataHeader back = DataHeader::Read(pkt.data());
    EXPECT_EQ(back.receiver, h.receiver);
    EXPECT_EQ(back.counter, h.counter);
  }
}

TEST(Wire, ReceiverOfReadsBytesFourToSeven) {
  auto pkt = Message(MessageType::kResponse, kResponseBytes);
  StoreLe32(pkt.data() + 4, 0xcafef00du);
  EXPECT_EQ(ReceiverOf(pkt), 0xcafef00du);
}

TEST(InitiationPayload, EncodeHasTheDocumentedLayout) {
  const InitiationPayload p{InitiationPayload::kVersion, 3, 0x44332211u, 0x0807060504030201ull};
  const std::array<std::uint8_t, kInitiationPayloadBytes> want = {
      1, 3, 0, 0, 0x11, 0x22, 0x33, 0x44, 1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(p.Encode(), want);
}

TEST(InitiationPayload, DecodeInvertsEncode) {
  for (std::uint8_t ciphers : {1, 2, 3}) {
    const InitiationPayload p{InitiationPayload::kVersion, ciphers, 0xfedcba98u,
                              0x17a0b1c2d3e4f506ull};
    const auto bytes = p.Encode();
    const auto back = InitiationPayload::Decode(bytes);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->version, p.version);
    EXPECT_EQ(back->ciphers, p.ciphers);
    EXPECT_EQ(back->sender, p.sender);
    EXPECT_EQ(back->timestamp, p.timestamp);
  }
}

TEST(InitiationPayload, DecodeRejectsWrongSizes) {
  const auto bytes = InitiationPayload{InitiationPayload::kVersion, 1, 7, 9}.Encode();
  for (std::size_t n = 0; n < bytes.size(); ++n)
    EXPECT_EQ(InitiationPayload::Decode(std::span(bytes).first(n)), std::nullopt) << "n=" << n;
  std::vector<std::uint8_t> longer(bytes.begin(), bytes.end());
  longer.push_back(0);
  EXPECT_EQ(InitiationPayload::Decode(longer), std::nullopt);
}

TEST(InitiationPayload, DecodeRejectsOtherVersions) {
  for (int version : {0, 2, 0x81, 0xff}) {
    auto bytes = InitiationPayload{InitiationPayload::kVersion, 1, 7, 9}.Encode();
    bytes[0] = static_cast<std::uint8_t>(version);
    EXPECT_EQ(InitiationPayload::Decode(bytes), std::nullopt) << "version=" << version;
  }
}

TEST(ResponsePayload, EncodeHasTheDocumentedLayout) {
  const ResponsePayload p{1, 0x44332211u};
  const std::array<std::uint8_t, kResponsePayloadBytes> want = {1, 0, 0, 0, 0x11, 0x22, 0x33, 0x44};
  EXPECT_EQ(p.Encode(), want);
}

TEST(ResponsePayload, DecodeInvertsEncodeForBothCiphers) {
  for (std::uint8_t cipher : {0, 1}) {
    const ResponsePayload p{cipher, 0x89abcdefu};
    const auto back = ResponsePayload::Decode(p.Encode());
    ASSERT_TRUE(back.has_value()) << "cipher=" << int(cipher);
    EXPECT_EQ(back->cipher, cipher);
    EXPECT_EQ(back->sender, p.sender);
  }
}

TEST(ResponsePayload, DecodeRejectsUnknownCiphers) {
  for (int cipher : {2, 3, 0x80, 0xff}) {
    auto bytes = ResponsePayload{0, 5}.Encode();
    bytes[0] = static_cast<std::uint8_t>(cipher);
    EXPECT_EQ(ResponsePayload::Decode(bytes), std::nullopt) << "cipher=" << cipher;
  }
}

TEST(ResponsePayload, DecodeRejectsWrongSizes) {
  const auto bytes = ResponsePayload{0, 5}.Encode();
  for (std::size_t n = 0; n < bytes.size(); ++n)
    EXPECT_EQ(ResponsePayload::Decode(std::span(bytes).first(n)), std::nullopt) << "n=" << n;
  std::vector<std::uint8_t> longer(bytes.begin(), bytes.end());
  longer.push_back(0);
  EXPECT_EQ(ResponsePayload::Decode(longer), std::nullopt);
}

}  // namespace
}  // namespace vdemesh::transport

namespace vdemesh::transport {
namespace {

TEST(Payloads, NonZeroReservedBytesAreRejected) {
  auto init = InitiationPayload{InitiationPayload::kVersion, 1, 7, 9}.Encode();
  for (std::size_t i : {2u, 3u}) {
    auto bad = init;
    bad[i] = 1;
    EXPECT_FALSE(InitiationPayload::Decode(bad).has_value()) << "byte " << i;
  }
  auto resp = ResponsePayload{0, 7}.Encode();
  for (std::size_t i : {1u, 2u, 3u}) {
    auto bad = resp;
    bad[i] = 1;
    EXPECT_FALSE(ResponsePayload::Decode(bad).has_value()) << "byte " << i;
  }
}

}  // namespace
}  // namespace vdemesh::transport
