// handshake_fuzzer.cc: a transport::Handshaker (transport/handshaker.h) fed packets from the
// network, in the states an attacker can reach it in.
//
// Two hosts, A (the initiator, at 192.0.2.1) and B (the responder, at .2), hold the network key.
// The first input byte picks a scenario and whether one side has an allow-list that excludes
// the other; the rest is the attacker's packet, or a mask that is XORed onto a genuine
// handshake message (and whose length becomes the message's length):
//   kRaw                   B, fresh, gets the packet
//   kResponseToInitiation  A initiated; the packet, with A's index as its receiver field, comes
//   kFinalToResponse       B answered A's initiation; the packet, with B's index as its receiver
//                          field, comes
//   kFlippedInitiation     A's initiation, masked, reaches B
//   kFlippedResponse       B's response, masked, reaches A
//   kFlippedFinal          A's final, masked, reaches B
//
// Invariants beyond "no crash, no sanitizer report": input not produced with the network key
// never completes a session and never gets a reply (the responder stays silent to strangers).
// A masked genuine message is answered or completes a session exactly when the mask is all
// zero (a single flipped bit anywhere is refused) and the receiving side's allow-list admits
// the sender, which an initiation cannot show yet; an excluded sender is dropped as
// kNotAllowed. A drop is never also a reply or a session.
//
// Determinism: libsodium's random source is replaced by a generator that is reseeded for every
// input, so ephemeral keys and indices, and with them every crash, reproduce exactly. Each
// input gets fresh Handshakers, so the rate limiter and replay cache start empty.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "crypto/keys.h"
#include "tests/fuzz/fuzz_check.h"
#include "transport/endpoint.h"
#include "transport/handshaker.h"
#include "transport/wire.h"

namespace {

using namespace vdemesh;
using transport::Handshaker;
using Bytes = std::vector<std::uint8_t>;

// splitmix64: fast, and good enough to stand in for the system's random source here.
std::uint64_t rng_state = 0;

std::uint64_t NextRandom() {
  std::uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

const char* RngName() { return "fuzz-splitmix64"; }
std::uint32_t RngRandom() { return static_cast<std::uint32_t>(NextRandom()); }
void RngBuf(void* buf, std::size_t n) {
  auto* p = static_cast<std::uint8_t*>(buf);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(NextRandom());
}

randombytes_implementation fuzz_rng = {RngName, RngRandom, nullptr, nullptr, RngBuf, nullptr};

enum Scenario : std::uint8_t {  // the first input byte, modulo kScenarioCount
  kRaw,
  kResponseToInitiation,
  kFinalToResponse,
  kFlippedInitiation,
  kFlippedResponse,
  kFlippedFinal,
  kScenarioCount
};
// Which side has an allow-list holding only a third key: the first byte / kScenarioCount, mod 3.
enum class Restrict : std::uint8_t { kNone, kResponder, kInitiator, kCount };

const auto kNow = std::chrono::steady_clock::time_point(std::chrono::hours(1000));
constexpr std::uint64_t kWallNs = 1'700'000'000'000'000'000ULL;

crypto::Key32 FixedKey(std::uint8_t seed) {
  std::array<std::uint8_t, crypto::kKeyBytes> b{};
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(seed + 7 * i);
  return crypto::Key32(std::span<const std::uint8_t, crypto::kKeyBytes>(b));
}

crypto::PrivateKey FixedPrivate(std::uint8_t seed) {
  return crypto::PrivateKey(FixedKey(seed).span());
}

transport::Endpoint Address(std::uint8_t last) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(6655);
  sin.sin_addr.s_addr = htonl(0xc0000200u | last);  // 192.0.2.last
  return transport::Endpoint::FromSockaddr(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
}

struct Hosts {
  explicit Hosts(Restrict r) : a(FixedPrivate(1)), b(FixedPrivate(2)) {
    const std::vector<crypto::PublicKey> only_c = {crypto::DerivePublic(FixedPrivate(4))};
    const std::vector<crypto::PublicKey> anyone;
    a.AddNetwork(FixedKey(3), r == Restrict::kInitiator ? only_c : anyone);
    b.AddNetwork(FixedKey(3), r == Restrict::kResponder ? only_c : anyone);
    a_accepts_b = r != Restrict::kInitiator;
    b_accepts_a = r != Restrict::kResponder;
  }
  Handshaker a;
  Handshaker b;
  transport::Endpoint a_addr = Address(1);
  transport::Endpoint b_addr = Address(2);
  bool a_accepts_b;
  bool b_accepts_a;
};

// The invariants every result meets, genuine or not.
void CheckShape(const Handshaker::Result& r) {
  if (r.drop) FUZZ_CHECK(r.reply.empty() && !r.completed);
  if (!r.drop) FUZZ_CHECK(!r.reply.empty() || r.completed);
  if (r.completed) FUZZ_CHECK(r.completed->keys != nullptr);
}

void CheckRefused(const Handshaker::Result& r) {
  CheckShape(r);
  FUZZ_CHECK(r.drop.has_value());
  FUZZ_CHECK(r.reply.empty());
  FUZZ_CHECK(!r.completed);
}

Bytes WithReceiver(std::span<const std::uint8_t> pkt, std::uint32_t index) {
  Bytes out(pkt.begin(), pkt.end());
  if (out.size() >= 8) transport::StoreLe32(out.data() + 4, index);
  return out;
}

// `genuine` with `mask` XORed onto it, cut or zero-extended to the mask's length; *same is true
// when that leaves the message unchanged.
Bytes Masked(const Bytes& genuine, std::span<const std::uint8_t> mask, bool* same) {
  Bytes out(mask.size(), 0);
  for (std::size_t i = 0; i < out.size() && i < genuine.size(); ++i) out[i] = genuine[i];
  for (std::size_t i = 0; i < out.size(); ++i) out[i] ^= mask[i];
  *same = out == genuine;
  return out;
}

// A starts a handshake with B; B answers. Returns A's initiation and B's response.
void GenuineOpening(Hosts& h, Bytes* init, Handshaker::Result* response) {
  std::uint32_t index = 0;
  *init = h.a.Initiate(0, h.b_addr, kNow, kWallNs, &index);
  FUZZ_CHECK(!init->empty());
  *response = h.b.OnPacket(h.a_addr, *init, kNow, kWallNs);
  FUZZ_CHECK(!response->reply.empty());
}

// A genuine message was refused because its sender is not on the allow-list.
void CheckNotAllowed(const Handshaker::Result& r) {
  CheckRefused(r);
  FUZZ_CHECK(r.drop == transport::HandshakeDrop::kNotAllowed);
}

void RunScenario(Scenario s, Restrict restricted, std::span<const std::uint8_t> in) {
  Hosts h(restricted);
  bool same = false;
  switch (s) {
    case kRaw:
      CheckRefused(h.b.OnPacket(h.a_addr, in, kNow, kWallNs));
      return;
    case kResponseToInitiation: {
      std::uint32_t index = 0;
      FUZZ_CHECK(!h.a.Initiate(0, h.b_addr, kNow, kWallNs, &index).empty());
      CheckRefused(h.a.OnPacket(h.b_addr, WithReceiver(in, index), kNow, kWallNs));
      return;
    }
    case kFinalToResponse: {
      if (!h.a_accepts_b) return;  // A sends no final, so B's index stays unknown
      Bytes init;
      Handshaker::Result response;
      GenuineOpening(h, &init, &response);
      // B's index travels encrypted; A learns it by completing, as any peer would.
      const auto fin = h.a.OnPacket(h.b_addr, response.reply, kNow, kWallNs);
      FUZZ_CHECK(fin.completed.has_value());
      const std::uint32_t b_index = fin.completed->keys->remote_index;
      CheckRefused(h.b.OnPacket(h.a_addr, WithReceiver(in, b_index), kNow, kWallNs));
      return;
    }
    case kFlippedInitiation: {
      std::uint32_t index = 0;
      const Bytes init = h.a.Initiate(0, h.b_addr, kNow, kWallNs, &index);
      const auto r = h.b.OnPacket(h.a_addr, Masked(init, in, &same), kNow, kWallNs);
      CheckShape(r);
      FUZZ_CHECK(r.reply.empty() != same);
      FUZZ_CHECK(!r.completed);
      return;
    }
    case kFlippedResponse: {
      Bytes init;
      Handshaker::Result response;
      GenuineOpening(h, &init, &response);
      const auto r = h.a.OnPacket(h.b_addr, Masked(response.reply, in, &same), kNow, kWallNs);
      CheckShape(r);
      if (same && !h.a_accepts_b) return CheckNotAllowed(r);
      FUZZ_CHECK(r.reply.empty() != same);
      FUZZ_CHECK(r.completed.has_value() == same);
      return;
    }
    case kFlippedFinal: {
      if (!h.a_accepts_b) return;  // no final to flip
      Bytes init;
      Handshaker::Result response;
      GenuineOpening(h, &init, &response);
      const auto fin = h.a.OnPacket(h.b_addr, response.reply, kNow, kWallNs);
      FUZZ_CHECK(!fin.reply.empty());
      const auto r = h.b.OnPacket(h.a_addr, Masked(fin.reply, in, &same), kNow, kWallNs);
      CheckShape(r);
      if (same && !h.b_accepts_a) return CheckNotAllowed(r);
      FUZZ_CHECK(r.reply.empty());
      FUZZ_CHECK(r.completed.has_value() == same);
      if (same) FUZZ_CHECK(r.completed->remote == h.a.public_key());
      return;
    }
    case kScenarioCount:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Must come before sodium_init(), which the first crypto/ object runs.
  randombytes_set_implementation(&fuzz_rng);
  // Self-test: the genuine messages (all-zero masks) must be answered and complete, or the
  // scenarios above would prove nothing.
  RunScenario(kFlippedInitiation, Restrict::kNone, Bytes(transport::kInitiationBytes, 0));
  RunScenario(kFlippedResponse, Restrict::kNone, Bytes(transport::kResponseBytes, 0));
  RunScenario(kFlippedFinal, Restrict::kNone, Bytes(transport::kFinalBytes, 0));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  rng_state = 0;
  const auto scenario = static_cast<Scenario>(data[0] % kScenarioCount);
  const auto restricted =
      static_cast<Restrict>(data[0] / kScenarioCount % static_cast<int>(Restrict::kCount));
  RunScenario(scenario, restricted, std::span(data + 1, size - 1));
  return 0;
}
