#!/usr/bin/env bash
# build.sh: configures vdemesh into ./build (RelWithDebInfo) and builds everything, tests included.
# BUILD_JOBS (default 2) and BUILD_TIMEOUT (seconds, default 2400) bound the work.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${BUILD_JOBS:-2}
limit=${BUILD_TIMEOUT:-2400}

# A build dir configured for another checkout (a copied or moved tree) cannot be reused.
cache=build/CMakeCache.txt
if [[ -f $cache ]] && ! grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$(pwd -P)" "$cache"; then
  echo "build.sh: build/ belongs to another source tree; starting it afresh"
  rm -rf build
fi

timeout 300 cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
timeout "$limit" cmake --build build -j "$jobs"
