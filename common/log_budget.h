// log_budget.h: a per-call-site, per-thread rate limit for log lines, in the spirit of the
// kernel's net_ratelimit(). spdlog has none of its own (gabime/spdlog#2945).
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>

namespace vdemesh {

class LogBudget {
 public:
  LogBudget(int lines, std::chrono::steady_clock::duration period)
      : lines_(lines), period_(period) {}

  // True if a line may be written now. The first line after a suppressed run says how many
  // lines were skipped.
  bool Take(spdlog::logger& logger, spdlog::level::level_enum lvl) {
    const auto now = std::chrono::steady_clock::now();
    if (now - window_start_ >= period_) {
      if (skipped_ > 0) logger.log(lvl, "({} similar lines suppressed)", skipped_);
      window_start_ = now;
      used_ = 0;
      skipped_ = 0;
    }
    if (used_ < lines_) {
      ++used_;
      return true;
    }
    ++skipped_;
    return false;
  }

 private:
  int lines_;
  std::chrono::steady_clock::duration period_;
  std::chrono::steady_clock::time_point window_start_{};
  int used_ = 0;
  std::uint64_t skipped_ = 0;
};

}  // namespace vdemesh

// At most 10 lines/s from this line on this thread.
#define VDEMESH_LOG_LIMITED(logger, lvl, ...)                                       \
  do {                                                                              \
    thread_local ::vdemesh::LogBudget vdemesh_budget_{10, std::chrono::seconds(1)}; \
    if ((logger)->should_log(lvl) && vdemesh_budget_.Take(*(logger), (lvl)))        \
      (logger)->log((lvl), __VA_ARGS__);                                            \
  } while (0)
