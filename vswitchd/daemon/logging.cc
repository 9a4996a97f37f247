#include "vswitchd/daemon/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <syslog.h>

#include <google/protobuf/stubs/logging.h>

#include <stdexcept>

#include "common/log_budget.h"

namespace vdemesh::daemon {

void SetupLogging(const std::string& level, bool to_syslog) {
  const auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    throw std::invalid_argument("--log-level: unknown level '" + level +
                                "' (trace, debug, info, warn, error, critical, off)");
  spdlog::sink_ptr sink;
  if (to_syslog) {
    sink = std::make_shared<spdlog::sinks::syslog_sink_mt>("vswitchd", LOG_PID, LOG_DAEMON, true);
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  }
  sink->set_pattern(to_syslog ? "%n: %v" : "%Y-%m-%d %H:%M:%S.%e %^%l%$ %n: %v");
  for (const char* name : {"daemon", "vde", "switch", "control", "tunnel"}) {
    auto logger = std::make_shared<spdlog::logger>(name, sink);
    logger->set_level(lvl);
    logger->flush_on(spdlog::level::info);
    spdlog::drop(name);
    spdlog::register_logger(logger);
  }
  spdlog::set_default_logger(spdlog::get("daemon"));
  // protobuf prints its own complaints (e.g. a client's invalid UTF-8) to stderr, one line per
  // message and unlimited; route them through our rate-limited control logger instead.
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel level, const char*, int,
                                     const std::string& message) {
    static const auto log = Logger("control");
    const auto lvl = level >= google::protobuf::LOGLEVEL_ERROR ? spdlog::level::warn
                                                               : spdlog::level::debug;
    VDEMESH_LOG_LIMITED(log, lvl, "protobuf: {}", message);
  });
}

std::shared_ptr<spdlog::logger> Logger(const char* name) {
  auto logger = spdlog::get(name);
  return logger ? logger : spdlog::default_logger();
}

}  // namespace vdemesh::daemon
