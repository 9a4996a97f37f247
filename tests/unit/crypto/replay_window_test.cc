// replay_window_test.cc: exhaustive cases in the spirit of WireGuard's selftest/counter.c, then
// random traffic against a std::set model.
//
// The rule under test: once `newest` is the highest accepted counter, counter c is accepted iff
// c < kRejectAfterMessages, c + kWindow >= newest, and c was not accepted before.
#include "crypto/replay_window.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <set>

namespace vdemesh::crypto {
namespace {

constexpr std::uint64_t kWindow = ReplayWindow::kWindow;
constexpr std::uint64_t kLimit = kRejectAfterMessages;

static_assert(kWindow >= 2048, "DESIGN.md asks for a window of at least 2048 packets");

TEST(ReplayWindow, AcceptsEachCounterOnce) {
  ReplayWindow w;
  EXPECT_TRUE(w.Accept(0));
  EXPECT_FALSE(w.Accept(0));
  EXPECT_TRUE(w.Accept(1));
  EXPECT_FALSE(w.Accept(1));
  EXPECT_FALSE(w.Accept(0));
}

TEST(ReplayWindow, AcceptsInOrderTrafficAcrossManyRingWraps) {
  ReplayWindow w;
  for (std::uint64_t c = 0; c < 5 * kReplayRingBits + 77; ++c) {
    ASSERT_TRUE(w.Accept(c)) << c;
    ASSERT_FALSE(w.Accept(c)) << c;
    if (c > 0) {
      ASSERT_FALSE(w.Accept(c - 1)) << c;
    }
  }
}

TEST(ReplayWindow, AcceptsTheWholeWindowOutOfOrder) {
  ReplayWindow w;
  ASSERT_TRUE(w.Accept(kWindow));
  for (std::uint64_t c = kWindow; c-- > 0;) ASSERT_TRUE(w.Accept(c)) << c;
  for (std::uint64_t c = 0; c <= kWindow; ++c) ASSERT_FALSE(w.Accept(c)) << c;
}

TEST(ReplayWindow, RejectsCounterOlderThanWindow) {
  ReplayWindow w;
  ASSERT_TRUE(w.Accept(kWindow + 1));
  EXPECT_FALSE(w.Accept(0));
  EXPECT_TRUE(w.Accept(1));
}

TEST(ReplayWindow, WindowEdgeIsExactAtEveryWordOffset) {
  for (std::uint64_t newest : {kWindow, kWindow + 1, std::uint64_t{8191}, std::uint64_t{8192}}) {
    for (std::uint64_t offset = 0; offset < 64; ++offset) {
      const std::uint64_t n = newest + offset * 129;
      ReplayWindow w;
      ASSERT_TRUE(w.Accept(n));
      EXPECT_TRUE(w.WouldAccept(n - kWindow)) << n;
      EXPECT_FALSE(w.WouldAccept(n - kWindow - 1)) << n;
      EXPECT_FALSE(w.Accept(n - kWindow - 1)) << n;
      EXPECT_TRUE(w.Accept(n - kWindow)) << n;
      EXPECT_FALSE(w.Accept(n - kWindow)) << n;
    }
  }
}

TEST(ReplayWindow, SmallJumpKeepsWhatIsStillInsideTheWindow) {
  ReplayWindow w;
  for (std::uint64_t c = 0; c < 100; ++c) ASSERT_TRUE(w.Accept(c));
  ASSERT_TRUE(w.Accept(5000));
  for (std::uint64_t c = 0; c < 100; ++c) EXPECT_FALSE(w.Accept(c)) << c;
  for (std::uint64_t c = 100; c < 5000; ++c) EXPECT_TRUE(w.Accept(c)) << c;
}

TEST(ReplayWindow, LargeJumpForgetsEverythingBehindTheWindow) {
  ReplayWindow w;
  for (std::uint64_t c = 0; c < 100; ++c) ASSERT_TRUE(w.Accept(c));
  const std::uint64_t n = 1'000'000;
  ASSERT_TRUE(w.Accept(n));
  EXPECT_FALSE(w.Accept(50));
  EXPECT_TRUE(w.Accept(n - 1));
  EXPECT_TRUE(w.Accept(n - kWindow));
  EXPECT_FALSE(w.Accept(n - kWindow - 1));
}

// The ring is 8192 bits; moving forward must clear the words it reuses, or counters that
// share a word with long-gone ones would be refused as replays.
TEST(ReplayWindow, ReusedRingWordsStartEmpty) {
  for (const std::uint64_t jump : {std::uint64_t{1}, std::uint64_t{63}, std::uint64_t{64},
                                   std::uint64_t{65}, std::uint64_t{4096}, kWindow, kWindow + 64,
                                   std::uint64_t{kReplayRingBits}, 3 * kReplayRingBits + 5}) {
    ReplayWindow w;
    for (std::uint64_t c = 0; c < kReplayRingBits; ++c) ASSERT_TRUE(w.Accept(c));
    const std::uint64_t newest = kReplayRingBits - 1 + jump;
    ASSERT_TRUE(w.Accept(newest));
    for (std::uint64_t c = newest - kWindow; c < newest; ++c) {
      const bool seen_before = c < kReplayRingBits;
      ASSERT_EQ(w.Accept(c), !seen_before) << "jump " << jump << " counter " << c;
    }
  }
}

TEST(ReplayWindow, RejectsCountersAtAndBeyondTheLimit) {
  ReplayWindow w;
  EXPECT_FALSE(w.Accept(kLimit));
  EXPECT_FALSE(w.Accept(std::numeric_limits<std::uint64_t>::max()));
  EXPECT_TRUE(w.Accept(kLimit - 1));
  EXPECT_FALSE(w.Accept(kLimit - 1));
  EXPECT_FALSE(w.Accept(kLimit));
  EXPECT_FALSE(w.Accept(kLimit + 1));
  EXPECT_TRUE(w.Accept(kLimit - 2));
  EXPECT_TRUE(w.Accept(kLimit - 1 - kWindow));
  EXPECT_FALSE(w.Accept(kLimit - 2 - kWindow));
  EXPECT_FALSE(w.Accept(0));
}

TEST(ReplayWindow, WouldAcceptChangesNothing) {
  ReplayWindow w;
  EXPECT_TRUE(w.WouldAccept(5));
  EXPECT_TRUE(w.WouldAccept(5));
  EXPECT_TRUE(w.Accept(5));
  EXPECT_FALSE(w.WouldAccept(5));
  EXPECT_TRUE(w.WouldAccept(4));
  EXPECT_FALSE(w.WouldAccept(kLimit));
}

// Every counter around the window, for a newest counter at each of the 64 bit offsets of a
// word, after accepting every third counter behind it.
TEST(ReplayWindow, ExhaustiveAroundTheWindowForEveryBitOffset) {
  for (std::uint64_t offset = 0; offset < 64; ++offset) {
    const std::uint64_t newest = 3 * kReplayRingBits + offset;
    ReplayWindow w;
    std::set<std::uint64_t> accepted;
    for (std::uint64_t c = newest - kWindow - 200; c < newest; c += 3) {
      ASSERT_TRUE(w.Accept(c));
      accepted.insert(c);
    }
    ASSERT_TRUE(w.Accept(newest));
    accepted.insert(newest);
    for (std::uint64_t c = newest - kWindow - 130; c <= newest + 130; ++c) {
      const bool expected = c + kWindow >= newest && accepted.count(c) == 0;
      ASSERT_EQ(w.WouldAccept(c), expected) << "offset " << offset << " counter " << c;
    }
  }
}

// The reference: remembers every accepted counter and applies the rule literally.
class ModelWindow {
 public:
  bool Accept(std::uint64_t c) {
    if (c >= kLimit) return false;
    if (newest_ && c + kWindow < *newest_) return false;
    if (!seen_.insert(c).second) return false;
    if (!newest_ || c > *newest_) newest_ = c;
    // Forget what the rule already refuses, to keep the set small.
    if (seen_.size() > 4 * kWindow && *newest_ > kWindow)
      seen_.erase(seen_.begin(), seen_.lower_bound(*newest_ - kWindow));
    return true;
  }
  std::uint64_t newest() const { return newest_.value_or(0); }

 private:
  std::optional<std::uint64_t> newest_;
  std::set<std::uint64_t> seen_;
};

// Traffic as a receiver sees it: mostly just ahead of the newest counter, often a little behind
// (reordering), sometimes duplicated, far behind, or far ahead (loss, a stale replay).
std::uint64_t NextCounter(std::uint64_t r, std::uint64_t newest) {
  const std::uint64_t pick = r % 20, x = r >> 8;
  if (pick == 0) return newest + x % 50'000;
  if (pick == 1) return newest - std::min(newest, x % (3 * kWindow));
  if (pick == 2) return newest + x % 2;
  if (r & 1) return newest + 1 + x % 3;
  return newest - std::min(newest, x % (kWindow + 64));
}

TEST(ReplayWindow, MatchesASetModelOnRandomTraffic) {
  std::mt19937_64 rng(20240601);
  for (const std::uint64_t start : {std::uint64_t{0}, kLimit - 200'000}) {
    ReplayWindow w;
    ModelWindow model;
    for (int i = 0; i < 200'000; ++i) {
      const std::uint64_t c = NextCounter(rng(), std::max(model.newest(), start));
      const bool expected = model.Accept(c);
      ASSERT_EQ(w.WouldAccept(c), expected) << "step " << i << " counter " << c;
      ASSERT_EQ(w.Accept(c), expected) << "step " << i << " counter " << c;
    }
  }
}

}  // namespace
}  // namespace vdemesh::crypto
