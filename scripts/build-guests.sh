#!/usr/bin/env bash
# scripts/build-guests.sh: builds the Apus test guests, build/guests/<name>.elf.
#
# Usage: scripts/build-guests.sh [NAME...]     (default: every Guests/<name>/ but Runtime)
#
# Each guest is a 64-bit PV kernel: Guests/Runtime (Swift module XenGuest: console,
# test verdicts, power-off, start-of-day views, traps, page pool; C headers hypercall.h
# and traps.h; start.S with the Xen ELF notes, traps.S with the trap entry stubs) plus
# the guest's own Swift files and assembly (*.S, for code that must control every
# instruction: faulting probes, user-mode programs), compiled in Embedded mode with
# -no-allocations like the hypervisor (guest kernels live at 0xFFFFFFFF80000000, so
# the no-heap rule applies for the same reason), and linked with linker/guest.ld.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLCHAIN_BIN="$(dirname "$(command -v swiftc)")"
CLANG="${CLANG:-$TOOLCHAIN_BIN/clang}"
LLD="${LLD:-$TOOLCHAIN_BIN/ld.lld}"
OUT=build/guests
OBJ=$OUT/obj
mkdir -p "$OBJ"

SWIFT_FLAGS=(
    -target x86_64-unknown-none-elf
    -enable-experimental-feature Embedded -wmo -Osize -parse-as-library -no-allocations
    -Xcc -mno-red-zone -Xcc -mno-sse -Xcc -mno-sse2 -Xcc -mno-mmx -Xcc -msoft-float
    -Xcc -mcmodel=kernel -Xcc -fno-pic
    -Xfrontend -disable-stack-protector -Xfrontend -function-sections
    -g -I "$OBJ" -Xcc -I -Xcc Sources/ApusPublic/include
    -Xcc -fmodule-map-file=Sources/ApusPublic/include/module.modulemap
    -Xcc -fmodule-map-file=Guests/Runtime/include/module.modulemap
)
ASM_FLAGS=(--target=x86_64-unknown-none-elf -ffreestanding -mno-red-zone -c
           -I Sources/ApusPublic/include -I Guests/Runtime/include)

if (($#)); then
    guests=("$@")
else
    guests=()
    for dir in Guests/*/; do
        name=$(basename "$dir")
        [[ $name == Runtime ]] || guests+=("$name")
    done
fi

swiftc "${SWIFT_FLAGS[@]}" -module-name XenGuest -emit-module \
    -emit-module-path "$OBJ/XenGuest.swiftmodule" $(find Guests/Runtime -name '*.swift' | sort)
runtime_objects=()
for source in Guests/Runtime/*.S; do
    object="$OBJ/runtime-$(basename "${source%.S}").o"
    "$CLANG" "${ASM_FLAGS[@]}" "$source" -o "$object"
    runtime_objects+=("$object")
done

for name in "${guests[@]}"; do
    [[ -d Guests/$name ]] || { echo "build-guests.sh: no guest Guests/$name" >&2; exit 1; }
    module="Guest_${name//-/_}"
    # A guest with assembly declares it to Swift in Guests/<name>/include (a C header
    # and a module map), like the runtime's XenGuestC.
    guest_flags=()
    if [[ -f Guests/$name/include/module.modulemap ]]; then
        guest_flags=(-Xcc -I -Xcc "Guests/$name/include"
                     -Xcc "-fmodule-map-file=Guests/$name/include/module.modulemap")
    fi
    swiftc "${SWIFT_FLAGS[@]}" "${guest_flags[@]}" -module-name "$module" -c -o "$OBJ/$name.o" \
        $(find "Guests/$name" -name '*.swift' | sort)
    guest_objects=("$OBJ/$name.o")
    for source in $(find "Guests/$name" -name '*.S' | sort); do
        object="$OBJ/$name-$(basename "${source%.S}").o"
        "$CLANG" "${ASM_FLAGS[@]}" -I "Guests/$name/include" "$source" -o "$object"
        guest_objects+=("$object")
    done
    "$LLD" -nostdlib -static -T linker/guest.ld --gc-sections --no-undefined \
        -z max-page-size=4096 -Map "$OUT/$name.map" \
        "${guest_objects[@]}" "${runtime_objects[@]}" -o "$OUT/$name.elf"
    echo "built $OUT/$name.elf ($(stat -c %s "$OUT/$name.elf") bytes)"
done
