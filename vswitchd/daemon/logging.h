// logging.h: the daemon's named loggers ("vde", "switch", "control", "daemon") and their sinks.
//
// Foreground: stderr. --daemon: syslog (the journal picks it up). Datapath threads only log
// through VDEMESH_LOG_LIMITED (common/log_budget.h), never per packet.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace vdemesh::daemon {

// Creates the loggers; call once before any thread starts. Throws on a bad level name.
void SetupLogging(const std::string& level, bool to_syslog);
// A logger by module name; falls back to the default logger (tests that skip SetupLogging).
std::shared_ptr<spdlog::logger> Logger(const char* name);

}  // namespace vdemesh::daemon
