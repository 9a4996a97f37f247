// main.cc: vswitchd's entry point: flags, then the daemon. The one catch of start-up errors.
#include <cstdio>
#include <exception>

#include "vswitchd/daemon/daemon.h"
#include "vswitchd/daemon/options.h"

int main(int argc, char** argv) try {
  const auto options = vdemesh::daemon::ParseOptions(argc, argv);
  if (options.help) {
    std::fputs(vdemesh::daemon::UsageText().c_str(), stdout);
    return 0;
  }
  if (options.version) {
    std::puts("vswitchd " VDEMESH_VERSION);
    return 0;
  }
  return vdemesh::daemon::RunDaemon(options);
} catch (const std::exception& e) {
  std::fprintf(stderr, "vswitchd: %s\n", e.what());
  return 1;
}
