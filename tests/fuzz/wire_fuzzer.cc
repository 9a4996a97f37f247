// wire_fuzzer.cc: the overlay's packet layouts (transport/wire.h) on arbitrary UDP payloads:
// Classify(), DataHeader::Read(), ReceiverOf() and the handshake payload decoders.
//
// Invariants beyond "no crash, no sanitizer report":
//   - Classify() is exact: a packet is classified iff its three reserved bytes are zero and its
//     type's size rule holds (handshakes exactly their size, data at least header + tag), and
//     the type it returns is the type byte;
//   - a data header read and written again gives back the packet's first 16 bytes;
//   - a decoded payload encodes back to the same bytes, except the reserved ones (which Decode
//     ignores and Encode writes as zero), and decoding fails exactly on a wrong size, version
//     or cipher.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "tests/fuzz/fuzz_check.h"
#include "transport/wire.h"

namespace {

using namespace vdemesh::transport;

std::optional<MessageType> ExpectedType(std::span<const std::uint8_t> p) {
  if (p.size() < 4 || p[1] != 0 || p[2] != 0 || p[3] != 0) return std::nullopt;
  if (p[0] == 1 && p.size() == kInitiationBytes) return MessageType::kInitiation;
  if (p[0] == 2 && p.size() == kResponseBytes) return MessageType::kResponse;
  if (p[0] == 3 && p.size() == kFinalBytes) return MessageType::kFinal;
  if (p[0] == 4 && p.size() >= kDataHeaderBytes + kTagBytes) return MessageType::kData;
  return std::nullopt;
}

void CheckPacket(std::span<const std::uint8_t> pkt) {
  const auto type = Classify(pkt);
  FUZZ_CHECK(type == ExpectedType(pkt));
  if (!type) return;
  FUZZ_CHECK(static_cast<std::uint8_t>(*type) == pkt[0]);
  switch (*type) {
    case MessageType::kInitiation:
      FUZZ_CHECK(pkt.size() == kInitiationBytes);
      break;
    case MessageType::kResponse:
      FUZZ_CHECK(pkt.size() == kResponseBytes);
      FUZZ_CHECK(ReceiverOf(pkt) == LoadLe32(pkt.data() + 4));
      break;
    case MessageType::kFinal:
      FUZZ_CHECK(pkt.size() == kFinalBytes);
      FUZZ_CHECK(ReceiverOf(pkt) == LoadLe32(pkt.data() + 4));
      break;
    case MessageType::kData: {
      FUZZ_CHECK(pkt.size() >= kDataHeaderBytes + kTagBytes);
      const DataHeader hdr = DataHeader::Read(pkt.data());
      std::array<std::uint8_t, kDataHeaderBytes> again{};
      hdr.Write(again.data());
      FUZZ_CHECK(std::memcmp(again.data(), pkt.data(), again.size()) == 0);
      break;
    }
  }
}

void CheckPayloads(std::span<const std::uint8_t> b) {
  // Reserved bytes must be zero, so a decoded payload re-encodes to exactly its input.
  const auto init = InitiationPayload::Decode(b);
  FUZZ_CHECK(init.has_value() == (b.size() == kInitiationPayloadBytes &&
                                  b[0] == InitiationPayload::kVersion && b[2] == 0 && b[3] == 0));
  if (init) {
    auto expect = std::array<std::uint8_t, kInitiationPayloadBytes>{};
    std::memcpy(expect.data(), b.data(), expect.size());
    FUZZ_CHECK(init->Encode() == expect);
  }
  const auto resp = ResponsePayload::Decode(b);
  FUZZ_CHECK(resp.has_value() == (b.size() == kResponsePayloadBytes && b[0] <= 1 && b[1] == 0 &&
                                  b[2] == 0 && b[3] == 0));
  if (resp) {
    auto expect = std::array<std::uint8_t, kResponsePayloadBytes>{};
    std::memcpy(expect.data(), b.data(), expect.size());
    FUZZ_CHECK(resp->Encode() == expect);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  CheckPacket(in);
  CheckPayloads(in);
  // The payload decoders also see the 16 and 8 bytes after a header, so inputs of any length
  // reach their success paths.
  if (size >= 4 + kInitiationPayloadBytes) CheckPayloads(in.subspan(4, kInitiationPayloadBytes));
  if (size >= 4 + kResponsePayloadBytes) CheckPayloads(in.subspan(4, kResponsePayloadBytes));
  return 0;
}
