#!/usr/bin/env bash
# scripts/check-image.sh: checks on a built hypervisor image that the compiler cannot make.
#
# Usage: scripts/check-image.sh [build/apus.elf]
# - no SSE/x87 instruction anywhere (the FPU state belongs to guests; DESIGN.md);
# - no heap entry points (the no-heap rule);
# - no segment both writable and executable (W^X);
# - the multiboot1 header in the first 8 KiB and the multiboot2 header in the first 32 KiB.
set -euo pipefail
image="${1:-build/apus.elf}"
bin="$(dirname "$(command -v swiftc)")"
objdump="$bin/llvm-objdump"; nm="$bin/llvm-nm"
failures=0
fail() { echo "check-image: $*" >&2; failures=$((failures + 1)); }

# boot/guest_state.S's apus_fpu_* routines are the one place allowed to touch guest FPU state.
floating=$("$objdump" -d --no-show-raw-insn "$image" |
    awk -F'\t' '/^[0-9a-f]+ <.*>:$/ { skip = ($0 ~ /<apus_fpu_/) } !skip && NF >= 2 { print $2 " " $3 }' |
    grep -E '(%xmm|%ymm|%zmm|%mm[0-7]|%st\b|^\s*f(ld|st|add|sub|mul|div|ild|istp|xch|comp?|ucomi?|chs|abs|sqrt|init|nstcw|ldcw|xsave|xrstor)\w*\b)' | head -5 || true)
[ -z "$floating" ] || fail "floating-point/SIMD instructions in the image: $(echo "$floating" | tr '\n' ';')"

heap=$("$nm" "$image" | awk '{print $NF}' | grep -xE 'swift_allocObject|swift_slowAlloc|posix_memalign|malloc|free|calloc|realloc' || true)
[ -z "$heap" ] || fail "heap entry points in the image: $(echo "$heap" | tr '\n' ' ')"

rwx=$("$objdump" -p "$image" | awk '$1 == "LOAD" { load = 1; next } load && /flags/ { if ($NF == "rwx") print; load = 0 }' || true)
[ -z "$rwx" ] || fail "writable and executable LOAD segment: $rwx"

header_offset() { # MAGIC_LE_HEX -> byte offset of the first 4-aligned occurrence, or empty
    od -A d -t x4 -v -w4 "$image" | awk -v m="$1" '$2 == m && !found { print $1 + 0; found = 1 }' || true
}
mb1=$(header_offset 1badb002); mb2=$(header_offset e85250d6)
{ [ -n "$mb1" ] && [ "$mb1" -lt 8192 ]; } || fail "multiboot1 header not in the first 8 KiB (at ${mb1:-nowhere})"
{ [ -n "$mb2" ] && [ "$mb2" -lt 32768 ] && [ $((mb2 % 8)) -eq 0 ]; } || fail "multiboot2 header not 8-aligned in the first 32 KiB (at ${mb2:-nowhere})"

if [ "$failures" -gt 0 ]; then echo "check-image: $image FAILED ($failures problems)" >&2; exit 1; fi
echo "check-image: $image ok (no FPU/SIMD, no heap, W^X, multiboot headers at $mb1 and $mb2)"
