// rate_limiter.h: token buckets per source address in a fixed table, for handshake work.
//
// Memory is fixed (kRateLimitSources buckets): a source maps to a bucket by its address hash,
// so a flood from many addresses shares buckets rather than growing a table; a collision only
// makes two sources share one budget. Pure: `now` is an argument.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "transport/constants.h"

namespace vdemesh::transport {

class RateLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  RateLimiter(double per_second = kHandshakesPerSourcePerSecond,
              double burst = kHandshakeBurstPerSource, std::size_t buckets = kRateLimitSources)
      : per_second_(per_second), burst_(burst), buckets_(std::max<std::size_t>(buckets, 1)) {}

  // Takes one token from the bucket of `source_hash`; false if it is empty.
  bool Allow(std::uint64_t source_hash, TimePoint now) {
    Bucket& b = buckets_[source_hash % buckets_.size()];
    if (!b.used) {
      b = {burst_, now, true};
    } else if (now > b.last) {
      const double elapsed = std::chrono::duration<double>(now - b.last).count();
      b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
      b.last = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

 private:
  struct Bucket {
    double tokens = 0;
    TimePoint last{};
    bool used = false;
  };
  double per_second_;
  double burst_;
  std::vector<Bucket> buckets_;
};

}  // namespace vdemesh::transport
