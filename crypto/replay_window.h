// replay_window.h: the receiver's sliding window of seen message counters (RFC 6479).
//
// Remembers the newest accepted counter and, in a ring of 64-bit words, which of the
// kReplayWindow (8128) counters just below it were seen; older counters are refused. Packets
// may arrive out of order anywhere inside the window, which is what multi-queue NICs, ECMP
// and our own two shards produce. Counters at or above kRejectAfterMessages are always refused
// (constants.h), so a key's last nonces are never accepted.
//
// Use: check the AEAD tag first, then Accept() (STYLE.md, Per packet): someone who can forge
// a counter but not a tag must not be able to slide the window. WouldAccept() is a cheap
// read-only pre-check to drop obvious replays before paying for decryption.
//
// Thread affinity: owned by the one shard that receives the session's packets; not locked.
// Design follows WireGuard's counter.c: moving forward clears only the words the window slid
// over (at most the whole ring), so Accept() is O(1) amortized and never allocates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "crypto/constants.h"

namespace vdemesh::crypto {

class ReplayWindow {
 public:
  static constexpr std::size_t kWindow = kReplayWindow;

  // True if `counter` is new and within the window; it is then marked as seen.
  [[nodiscard]] bool Accept(std::uint64_t counter) noexcept;
  // True if Accept(counter) would return true now. Changes nothing.
  [[nodiscard]] bool WouldAccept(std::uint64_t counter) const noexcept;

 private:
  static constexpr std::size_t kWordBits = 64;
  static constexpr std::size_t kRingWords = kReplayRingBits / kWordBits;
  static_assert((kRingWords & (kRingWords - 1)) == 0, "ring index uses a mask");

  // Positions are counter + 1, so position 0 means "nothing accepted yet".
  static std::size_t WordOf(std::uint64_t position) noexcept {
    return static_cast<std::size_t>(position / kWordBits) & (kRingWords - 1);
  }
  static std::uint64_t BitOf(std::uint64_t position) noexcept {
    return std::uint64_t{1} << (position % kWordBits);
  }
  bool InRange(std::uint64_t position) const noexcept;
  void SlideTo(std::uint64_t position) noexcept;

  std::uint64_t newest_ = 0;  // position of the newest accepted counter; 0 = none yet
  std::array<std::uint64_t, kRingWords> ring_{};
};

}  // namespace vdemesh::crypto
