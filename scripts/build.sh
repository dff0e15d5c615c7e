#!/usr/bin/env bash
# scripts/build.sh: builds the hypervisor image build/apus.elf.
#
# Usage: scripts/build.sh [--check]
#   --check  also run the image checks (scripts/check-image.sh) afterwards.
#
# Steps: ApusCore and ArchX86 are emitted as Embedded Swift modules (in Embedded mode a
# library's code is compiled into its client), then the Apus module is compiled with
# both into one object; clang assembles boot/*.S; ld.lld links with linker/apus.ld.S.
# The link runs twice: the second time with the symbol table of the first, which the
# crash handler prints from (it is the last section, so nothing else moves).
# Every Swift module is compiled with -no-allocations: the hypervisor has no heap.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLCHAIN_BIN="$(dirname "$(command -v swiftc)")"
CLANG="${CLANG:-$TOOLCHAIN_BIN/clang}"
LLD="${LLD:-$TOOLCHAIN_BIN/ld.lld}"
OUT=build
OBJ=$OUT/obj
mkdir -p "$OBJ"

SWIFT_FLAGS=(
    -target x86_64-unknown-none-elf
    -enable-experimental-feature Embedded -wmo -Osize -parse-as-library -no-allocations
    -Xcc -mno-red-zone -Xcc -mno-sse -Xcc -mno-sse2 -Xcc -mno-mmx -Xcc -msoft-float
    -Xfrontend -disable-stack-protector -Xfrontend -function-sections
    -g -I "$OBJ" -Xcc -fmodule-map-file=Sources/ArchX86/Shim/module.modulemap
    -Xcc -fmodule-map-file=Sources/ApusPublic/include/module.modulemap -Xcc -I -Xcc Sources/ApusPublic/include
)
ASM_FLAGS=(--target=x86_64-unknown-none-elf -ffreestanding -mno-red-zone -c -I boot -I Sources/ApusPublic/include)

swift_sources() { find "$1" -name '*.swift' | sort; }

swiftc "${SWIFT_FLAGS[@]}" -module-name ApusCore -emit-module \
    -emit-module-path "$OBJ/ApusCore.swiftmodule" $(swift_sources Sources/ApusCore)
swiftc "${SWIFT_FLAGS[@]}" -module-name ArchX86 -emit-module \
    -emit-module-path "$OBJ/ArchX86.swiftmodule" $(swift_sources Sources/ArchX86)
swiftc "${SWIFT_FLAGS[@]}" -module-name Apus -c -o "$OBJ/apus-swift.o" $(swift_sources Sources/Apus)

objects=("$OBJ/apus-swift.o")
for source in boot/*.S; do
    object="$OBJ/$(basename "${source%.S}").o"
    "$CLANG" "${ASM_FLAGS[@]}" "$source" -o "$object"
    objects+=("$object")
done

"$CLANG" -E -P -x c -I boot linker/apus.ld.S -o "$OBJ/apus.ld"

link() { # link SYMBOLS_OBJECT OUTPUT
    "$LLD" -nostdlib -static -T "$OBJ/apus.ld" --gc-sections --no-undefined --build-id=sha1 \
        -z max-page-size=4096 -Map "$OUT/apus.map" "${objects[@]}" "$1" -o "$2"
}

# Pass 1 with an empty symbol table; pass 2 with the real one.
printf '\t.section .apus_symbols, "a"\n\t.globl apus_symbol_table, apus_symbol_table_end\napus_symbol_table:\napus_symbol_table_end:\n' > "$OBJ/symbols-empty.S"
"$CLANG" "${ASM_FLAGS[@]}" "$OBJ/symbols-empty.S" -o "$OBJ/symbols-empty.o"
link "$OBJ/symbols-empty.o" "$OBJ/apus-pass1.elf"
if [ -x scripts/gen-symbols.sh ]; then
    scripts/gen-symbols.sh "$OBJ/apus-pass1.elf" "$OBJ/symbols.S"
    "$CLANG" "${ASM_FLAGS[@]}" "$OBJ/symbols.S" -o "$OBJ/symbols.o"
    link "$OBJ/symbols.o" "$OUT/apus.elf"
else
    cp "$OBJ/apus-pass1.elf" "$OUT/apus.elf"
fi

if [ "${1:-}" = "--check" ]; then scripts/check-image.sh "$OUT/apus.elf"; fi
echo "built $OUT/apus.elf ($(stat -c %s "$OUT/apus.elf") bytes)"
