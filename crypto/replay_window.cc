// replay_window.cc: RFC 6479 bitmap window. See replay_window.h.
#include "crypto/replay_window.h"

#include <algorithm>

namespace vdemesh::crypto {

bool ReplayWindow::InRange(std::uint64_t position) const noexcept {
  // No overflow: position <= kRejectAfterMessages, which leaves 2^13 of headroom below 2^64.
  return position + kWindow >= newest_;
}

void ReplayWindow::SlideTo(std::uint64_t position) noexcept {
  // Clear the words between the old newest and the new one: they hold bits of counters that
  // are now either in the future or outside the window. Sliding by more than the ring clears
  // the ring once.
  const std::uint64_t old_word = newest_ / kWordBits;
  const std::uint64_t new_word = position / kWordBits;
  const std::uint64_t words = std::min<std::uint64_t>(new_word - old_word, kRingWords);
  for (std::uint64_t i = 1; i <= words; ++i) ring_[WordOf((old_word + i) * kWordBits)] = 0;
  newest_ = position;
}

bool ReplayWindow::WouldAccept(std::uint64_t counter) const noexcept {
  if (counter >= kRejectAfterMessages) return false;
  const std::uint64_t position = counter + 1;
  if (position > newest_) return true;
  if (!InRange(position)) return false;
  return (ring_[WordOf(position)] & BitOf(position)) == 0;
}

bool ReplayWindow::Accept(std::uint64_t counter) noexcept {
  if (counter >= kRejectAfterMessages) return false;
  const std::uint64_t position = counter + 1;
  if (position > newest_) {
    SlideTo(position);
  } else if (!InRange(position)) {
    return false;
  }
  std::uint64_t& word = ring_[WordOf(position)];
  const std::uint64_t bit = BitOf(position);
  if ((word & bit) != 0) return false;
  word |= bit;
  return true;
}

}  // namespace vdemesh::crypto
