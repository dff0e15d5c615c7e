#!/usr/bin/env bash
# scripts/bench-scheduler.sh: the host cost of one credit-scheduler decision with 1, 10,
# 100 and 1000 runnable vCPUs on 4 CPUs (Sources/SchedulerBench/main.swift says how).
# Host nanoseconds: they depend on the machine and its load, so no test asserts them.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product SchedulerBench --scratch-path .build-bench >/dev/null
.build-bench/release/SchedulerBench
