#!/usr/bin/env bash
# test.sh: installs what is missing, builds, then runs the unit tests and the integration tests
# (network namespaces; they skip themselves unless run as root). Exits non-zero if any test failed.
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/install-deps.sh
./tools/build.sh

run_label() {
  local label=$1 limit=$2
  echo "==== ctest -L $label"
  timeout "$limit" ctest --test-dir build --output-on-failure --no-tests=error -L "$label" \
    --timeout 300
}

unit=0
integration=0
run_label unit 600 || unit=$?
run_label integration 2400 || integration=$?

# Nothing of ours may outlive the run.
leftover_ns=$( (ip netns list 2>/dev/null || true) | grep -c '^vdm[0-9]' || true)

echo "==== summary"
echo "unit tests:        $([[ $unit == 0 ]] && echo passed || echo "FAILED (ctest exit $unit)")"
echo "integration tests: $([[ $integration == 0 ]] && echo passed || echo "FAILED (ctest exit $integration)")"
((EUID == 0)) || echo "integration tests: skipped their bodies (not root)"
((leftover_ns == 0)) || echo "warning: $leftover_ns test namespaces left behind (ip netns list)"

exit $((unit != 0 ? unit : integration))
