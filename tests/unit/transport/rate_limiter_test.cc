// rate_limiter_test.cc: the per-source token buckets that guard handshake work. Time is a fake
// clock; intervals are chosen so that the token arithmetic is exact in binary floating point.
#include "transport/rate_limiter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

#include "transport/constants.h"

namespace vdemesh::transport {
namespace {

using TimePoint = RateLimiter::TimePoint;

// Far from the clock's epoch: a real steady clock is never at zero either.
const TimePoint kT0 = TimePoint{} + std::chrono::hours(24);
constexpr std::uint64_t kSource = 0x1234;

// How many requests from `source` are allowed at `now` before the first refusal.
int AllowedInARow(RateLimiter& limiter, std::uint64_t source, TimePoint now) {
  int n = 0;
  while (limiter.Allow(source, now)) {
    if (++n > 100000) break;  // a limiter that never refuses fails the caller's EXPECT
  }
  return n;
}

TEST(RateLimiter, NewSourceGetsTheBurstThenIsRefused) {
  RateLimiter limiter;
  EXPECT_EQ(AllowedInARow(limiter, kSource, kT0), static_cast<int>(kHandshakeBurstPerSource));
  EXPECT_FALSE(limiter.Allow(kSource, kT0));
}

TEST(RateLimiter, RefillsAtThePerSecondRate) {
  RateLimiter limiter;
  AllowedInARow(limiter, kSource, kT0);
  EXPECT_EQ(AllowedInARow(limiter, kSource, kT0 + 100ms),
            static_cast<int>(kHandshakesPerSourcePerSecond / 10));
  EXPECT_EQ(AllowedInARow(limiter, kSource, kT0 + 1100ms),
            static_cast<int>(kHandshakesPerSourcePerSecond));
}

TEST(RateLimiter, RefillStopsAtTheBurst) {
  RateLimiter limiter;
  AllowedInARow(limiter, kSource, kT0);
  EXPECT_EQ(AllowedInARow(limiter, kSource, kT0 + 1h), static_cast<int>(kHandshakeBurstPerSource));
}

TEST(RateLimiter, SourceWithinTheRateIsNeverRefused) {
  RateLimiter limiter(/*per_second=*/20, /*burst=*/40);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.Allow(kSource, kT0 + i * 50ms)) << "i=" << i;
}

TEST(RateLimiter, RefusedRequestsDoNotDelayTheRefill) {
  RateLimiter limiter(/*per_second=*/20, /*burst=*/40);
  AllowedInARow(limiter, kSource, kT0);
  EXPECT_FALSE(limiter.Allow(kSource, kT0 + 25ms));  // half a token: still refused
  EXPECT_TRUE(limiter.Allow(kSource, kT0 + 50ms));   // the half from before counts
  EXPECT_FALSE(limiter.Allow(kSource, kT0 + 50ms));
}

TEST(RateLimiter, SourcesInDifferentBucketsAreIndependent) {
  RateLimiter limiter;
  const std::uint64_t other = kSource + 1;
  ASSERT_NE(kSource % kRateLimitSources, other % kRateLimitSources);
  AllowedInARow(limiter, kSource, kT0);
  EXPECT_FALSE(limiter.Allow(kSource, kT0));
  EXPECT_EQ(AllowedInARow(limiter, other, kT0), static_cast<int>(kHandshakeBurstPerSource));
}

TEST(RateLimiter, SourcesInTheSameBucketShareOneBudget) {
  RateLimiter limiter(/*per_second=*/20, /*burst=*/40, /*buckets=*/16);
  AllowedInARow(limiter, kSource, kT0);
  EXPECT_FALSE(limiter.Allow(kSource + 16, kT0));
  EXPECT_FALSE(limiter.Allow(kSource + 16 * 1000, kT0));
}

TEST(RateLimiter, FloodFromManySourcesGetsNoMoreThanOneBurstPerBucket) {
  // Memory is the fixed table: a flood from a million addresses finds no fresh state to
  // allocate, only the budgets of the buckets it lands in.
  constexpr std::size_t kBuckets = 64;
  RateLimiter limiter(/*per_second=*/20, /*burst=*/40, kBuckets);
  int allowed = 0;
  for (std::uint64_t source = 0; source < 1'000'000; ++source)
    allowed += limiter.Allow(source * 0x9e3779b97f4a7c15ull, kT0) ? 1 : 0;
  EXPECT_LE(allowed, static_cast<int>(kBuckets * 40));
  EXPECT_GT(allowed, 0);
}

}  // namespace
}  // namespace vdemesh::transport
