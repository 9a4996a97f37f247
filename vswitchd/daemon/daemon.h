// daemon.h: runs vswitchd: one control thread (the caller's), one datapath shard, and per
// network a VDE port server, an optional TAP port and a NetworkDatapath.
#pragma once

#include "vswitchd/daemon/options.h"

namespace vdemesh::daemon {

// Returns the process exit status. Throws on start-up errors (for the one catch in main()).
int RunDaemon(const DaemonOptions& options);

}  // namespace vdemesh::daemon
