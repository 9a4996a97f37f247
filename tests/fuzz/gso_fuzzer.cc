// gso_fuzzer.cc: the TAP offload code on arbitrary frames: SegmentTcp/SegmentUdp (what a TAP
// read hands us) and GsoCoalescer (what frames from peers and ports become on the way to a TAP).
//
// Input: byte 0 picks the gso_size, then frames as [length 2 bytes][bytes]...
// Invariants beyond "no crash, no sanitizer report":
//   - segments never exceed max_frame nor the slots given;
//   - a coalesced run never exceeds GsoCoalescer::kMaxBytes, and a UDP run, completed as the
//     kernel completes NEEDS_CSUM and cut again, gives back the very datagrams that went in
//     (an IPv4 header checksum may come back in its other valid form).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "tests/fuzz/fuzz_check.h"
#include "vswitchd/core/gso_coalescer.h"
#include "vswitchd/core/tso.h"

namespace {

using namespace vdemesh::core;

constexpr std::size_t kSlots = 64;
constexpr std::size_t kMaxFrame = 1514;

struct Slots {
  Slots() : bytes(kSlots * 65536) {
    for (std::size_t i = 0; i < kSlots; ++i) ptrs[i] = bytes.data() + i * 65536;
  }
  std::vector<std::uint8_t> bytes;
  std::array<std::uint8_t*, kSlots> ptrs;
  std::array<std::size_t, kSlots> lens;
};

void CheckSegmenters(std::span<const std::uint8_t> frame, std::size_t gso, Slots& s) {
  for (const auto segment : {SegmentTcp, SegmentUdp}) {
    const std::size_t n = segment(frame, gso, kMaxFrame, s.ptrs, s.lens);
    FUZZ_CHECK(n <= kSlots);
    for (std::size_t i = 0; i < n; ++i) FUZZ_CHECK(s.lens[i] <= kMaxFrame);
  }
}

// Finishes the pending run and checks it against the frames that made it.
void FinishRun(GsoCoalescer& c, std::vector<std::vector<std::uint8_t>>& run, Slots& s) {
  if (c.empty()) return;
  VnetHeader h;
  const auto out = c.Finish(&h);
  FUZZ_CHECK(out.size() <= GsoCoalescer::kMaxBytes);
  if (h.gso_type == VnetHeader::kGsoUdpL4) {
    std::vector<std::uint8_t> super(out.begin(), out.end());
    FUZZ_CHECK(CompleteChecksum(super, h.csum_start, h.csum_offset));
    const std::size_t n = SegmentUdp(super, h.gso_size, 65535, s.ptrs, s.lens);
    FUZZ_CHECK(n == run.size());
    for (std::size_t i = 0; i < n; ++i) {
      const std::vector<std::uint8_t>& in = run[i];
      const std::uint8_t* again = s.ptrs[i];
      FUZZ_CHECK(s.lens[i] == in.size());
      // An IPv4 header checksum has two valid forms when the rest sums to 0xffff (0 and
      // 0xffff); it must verify, and every other byte must be the same.
      const bool v4 = in[12] == 0x08 && in[13] == 0x00;
      const std::size_t skip = v4 ? kEthHeaderBytes + 10 : in.size();
      FUZZ_CHECK(std::memcmp(again, in.data(), skip) == 0);
      if (v4) {
        FUZZ_CHECK(FoldChecksum(OnesSum({again + kEthHeaderBytes, 20})) == 0);
        FUZZ_CHECK(std::memcmp(again + skip + 2, in.data() + skip + 2, in.size() - skip - 2) == 0);
      }
    }
  } else if (h.gso_type == VnetHeader::kGsoNone) {
    FUZZ_CHECK(run.size() == 1 && out.size() == run[0].size());
  }
  run.clear();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Slots slots;
  if (size < 1) return 0;
  const std::size_t gso = 1 + data[0] * 8u;
  GsoCoalescer coalescer(/*udp=*/true);
  std::vector<std::vector<std::uint8_t>> run;
  std::size_t at = 1;
  while (at + 2 <= size) {
    const std::size_t len = std::min<std::size_t>(data[at] << 8 | data[at + 1], size - at - 2);
    const std::span<const std::uint8_t> frame(data + at + 2, len);
    at += 2 + len;
    CheckSegmenters(frame, gso, slots);
    if (coalescer.Append(frame)) {
      run.emplace_back(frame.begin(), frame.end());
      continue;
    }
    FinishRun(coalescer, run, slots);
    if (coalescer.Start(frame)) run.emplace_back(frame.begin(), frame.end());
  }
  FinishRun(coalescer, run, slots);
  return 0;
}
