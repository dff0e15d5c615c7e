#!/usr/bin/env bash
# scripts/test.sh: the whole test suite, as CI runs it (.ci/run).
#
# 1. installs what the boot tests need (scripts/setup.sh, idempotent);
# 2. the XCTest suites of the pure core on the host (`swift test`);
# 3. the Embedded build of the hypervisor image with -no-allocations, and the image checks;
# 4. the boot tests: Apus under QEMU through GRUB, serial log checked (scripts/boot-tests.sh);
# 5. the guest tests: every test guest as dom0 on Apus and on real Xen 4.17 (the reference
#    oracle, fetched from Debian by scripts/xen-reference.sh), verdicts compared.
# Stops at the first failing stage. Each stage prints its own summary.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== setup"
scripts/setup.sh
echo "== host tests (XCTest)"
mkdir -p build
if ! swift test > build/host-tests.log 2>&1; then
    grep -E "error|failed" build/host-tests.log | head -40
    echo "host tests FAILED (full log: build/host-tests.log)"; exit 1
fi
grep -E "Executed [0-9]+ tests" build/host-tests.log | tail -1
echo "== fuzzing (libFuzzer, 6 s per target; scripts/fuzz.sh runs it longer)"
scripts/fuzz.sh --seconds 6
echo "== hypervisor image"
scripts/build.sh --check
echo "== boot tests"
scripts/boot-tests.sh
echo "== guest tests (Apus and Xen 4.17)"
scripts/guest-tests.sh --hypervisor both
