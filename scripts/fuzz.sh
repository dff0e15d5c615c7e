#!/usr/bin/env bash
# scripts/fuzz.sh [--seconds N] [target...]: libFuzzer over Apus's pure core (Sources/ApusCore).
#
# Builds build/fuzz/apus-fuzz (swiftc -sanitize=fuzzer,address: ApusCore's sources and the
# harness in Tests/Fuzz/Sources as one module, zlib for the inflate target's reference) when
# its sources changed, then runs each target for N seconds (default 60; all targets when none
# is named) and prints, per target, the inputs tried (execs), crashes (traps, sanitizer reports,
# timeouts, out-of-memory) and invariant violations (the harness's own checks). After a
# finding the target restarts for the rest of its time, up to 5 findings. Exits non-zero if
# anything was found.
#
# Corpora: Tests/Fuzz/corpus/<target> holds the checked-in seeds (read only); what libFuzzer
# learns goes to build/fuzz/corpus/<target> and is reused by the next run. Findings are kept
# in build/fuzz/crashes/<target>/ with the log beside them. To replay one:
#   APUS_FUZZ_TARGET=<target> SWIFT_BACKTRACE=enable=no build/fuzz/apus-fuzz <file>
# `APUS_FUZZ_TARGET=list build/fuzz/apus-fuzz` lists the targets.
set -euo pipefail
cd "$(dirname "$0")/.."
{   # parsed whole before it runs: editing this file during a long run cannot derail it

usage() { echo "usage: $0 [--seconds N] [target...]" >&2; exit 2; }
seconds=60
targets=()
while (($#)); do
    case "$1" in
        --seconds) [[ $# -ge 2 && $2 =~ ^[0-9]+$ && $2 -gt 0 ]] || usage; seconds=$2; shift ;;
        -h|--help) usage ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; usage ;;
        *) targets+=("$1") ;;
    esac
    shift
done

out=${APUS_FUZZ_OUT:-build/fuzz}   # another directory keeps a long run apart from test.sh
bin=$out/apus-fuzz
mkdir -p "$out"

# Build from a snapshot of the sources (others may be editing them while swiftc runs), and
# only when the sources, the harness or the compiler changed.
stamp=$( { swiftc --version 2>&1; find Sources/ApusCore Sources/ApusPublic/include Tests/Fuzz/Sources Tests/Fuzz/CZlib \
             -type f | LC_ALL=C sort | xargs cat; } | sha256sum | cut -c1-16)
if [[ ! -x $bin || "$(cat "$out/stamp" 2>/dev/null)" != "$stamp" ]]; then
    echo "fuzz: building $bin"
    rm -rf "$out/src"
    mkdir -p "$out/src"
    cp -R Sources/ApusCore "$out/src/ApusCore"
    cp -R Tests/Fuzz/Sources "$out/src/Harness"
    # swiftc refuses inputs newer than the build's start; the copies are, to the second.
    find "$out/src" -type f -exec touch -d '2000-01-01 00:00:00' {} +
    root=$PWD
    outdir=$(cd "$out" && pwd)
    mapfile -t sources < <(find "$outdir/src" -name '*.swift' | LC_ALL=C sort)
    # Run from $out: with -g, swiftc leaves the module's debug files in its directory.
    if ! (cd "$outdir" && swiftc -sanitize=fuzzer,address -parse-as-library -O -wmo -num-threads 2 -g \
            -module-name ApusFuzz -I "$root/Sources/ApusPublic/include" -I "$root/Tests/Fuzz/CZlib" \
            "${sources[@]}" -o apus-fuzz.tmp) > "$out/build.log" 2>&1; then
        grep -v "Cannot export local symbol" "$out/build.log" | grep -E "error|Error" -A3 | head -40
        echo "fuzz: build FAILED (full log: $out/build.log)"
        exit 1
    fi
    mv "$bin.tmp" "$bin"
    echo "$stamp" > "$out/stamp"
fi

mapfile -t known < <(APUS_FUZZ_TARGET=list "$bin")
if ((${#targets[@]} == 0)); then targets=("${known[@]}"); fi
for t in "${targets[@]}"; do
    printf '%s\n' "${known[@]}" | grep -qx -- "$t" || { echo "fuzz: unknown target $t (known: ${known[*]})" >&2; exit 2; }
done

export SWIFT_BACKTRACE=enable=no          # the Swift backtracer would hold each crash for 30 s
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=0:symbolize=1}
max_findings=5
total_execs=0
total_findings=0
summary=()
for t in "${targets[@]}"; do
    work=$out/corpus/$t
    crashes=$out/crashes/$t
    mkdir -p "$work" "$crashes"
    corpora=("$work")
    [[ -d Tests/Fuzz/corpus/$t ]] && corpora+=("Tests/Fuzz/corpus/$t")
    execs=0 crash_count=0 violation_count=0 runs=0
    start=$SECONDS
    deadline=$((SECONDS + seconds))
    while ((SECONDS < deadline && crash_count + violation_count < max_findings)); do
        runs=$((runs + 1))
        log=$crashes/run-$runs.log
        rc=0
        APUS_FUZZ_TARGET=$t "$bin" -max_total_time=$((deadline - SECONDS)) -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=1 -detect_leaks=0 -artifact_prefix="$crashes/" "${corpora[@]}" > "$log" 2>&1 || rc=$?
        n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        execs=$((execs + ${n:-0}))
        if ((rc == 0)); then rm -f "$log"; break; fi
        artifact=$(sed -n "s/.*Test unit written to \(.*\)/\1/p" "$log" | tail -1)
        if grep -q "APUS-FUZZ INVARIANT VIOLATION" "$log"; then
            violation_count=$((violation_count + 1))
            what=$(grep -m1 "APUS-FUZZ INVARIANT VIOLATION" "$log" | sed 's/^APUS-FUZZ INVARIANT VIOLATION //')
            echo "  $t: invariant violation: $what"
        else
            crash_count=$((crash_count + 1))
            what=$(grep -m1 -E "Fatal error|ERROR: AddressSanitizer|ERROR: libFuzzer|SUMMARY" "$log" || echo "exit code $rc")
            echo "  $t: crash: $what"
        fi
        echo "    input: ${artifact:-none} (log: $log)"
        if [[ -z $artifact ]]; then break; fi
    done
    line=$(printf '%-15s execs %10d  crashes %d  invariant violations %d  (%ds)' \
        "$t" "$execs" "$crash_count" "$violation_count" $((SECONDS - start)))
    echo "fuzz: $line"
    summary+=("$line")
    total_execs=$((total_execs + execs))
    total_findings=$((total_findings + crash_count + violation_count))
done

echo "fuzz summary (${seconds}s per target):"
printf '  %s\n' "${summary[@]}"
echo "  total execs $total_execs, findings $total_findings"
((total_findings == 0))
exit
}
