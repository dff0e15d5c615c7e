#!/usr/bin/env bash
# Builds a BIOS (i386-pc) GRUB rescue ISO that boots one Xen-style entry straight away:
#   multiboot2 /boot/apus.elf <cmdline>
#   module2 /boot/<file> <args>      (one line per --module, in order)
# (`multiboot`/`module` with --protocol mb1). GRUB's own messages go to the serial port too.
#
# Command lines: GRUB 2 hands the kernel and each module only the words after the file name,
# never the path (Xen relies on that: it strips no image name when the loader is GRUB 2).
# Each whitespace-separated word given here is single-quoted in grub.cfg, so GRUB expands no
# `$`, `;` or `#` in it; GRUB rejoins the words with one space. GRUB itself puts a backslash
# before each `'`, `"` and `\` it passes on (checked: `it's "q"` arrives as `it\'s \"q\"`),
# so only command lines free of those three arrive byte for byte.
#
# The image is reproducible: fixed file times, SOURCE_DATE_EPOCH for xorriso, and only the
# GRUB modules the entry needs.
set -euo pipefail

usage() {
    cat >&2 <<'EOF'
usage: scripts/mkiso.sh -o OUT.iso --hypervisor PATH [--name /boot/apus.elf] [--cmdline "opts"]
                        [--protocol mb2|mb1] [--module PATH "args"]... [--nounzip] [--title "..."]
  --nounzip  load every module byte for byte (GRUB otherwise gunzips gzip'd modules)
EOF
    exit 2
}

out="" hypervisor="" name="/boot/apus.elf" cmdline="" protocol=mb2 title="" nounzip=0
module_paths=() module_args=()
while (($#)); do
    case "$1" in
        -o|--output) out=${2:?}; shift ;;
        --hypervisor) hypervisor=${2:?}; shift ;;
        --name) name=${2:?}; shift ;;
        --cmdline) cmdline=${2?}; shift ;;
        --protocol) protocol=${2:?}; shift ;;
        --module) module_paths+=("${2:?}"); module_args+=("${3?--module needs PATH and ARGS}"); shift 2 ;;
        --nounzip) nounzip=1 ;;
        --title) title=${2?}; shift ;;
        -h|--help) usage ;;
        *) echo "mkiso.sh: unknown argument: $1" >&2; usage ;;
    esac
    shift
done
[[ -n $out && -n $hypervisor ]] || usage
[[ -f $hypervisor ]] || { echo "mkiso.sh: no such file: $hypervisor" >&2; exit 1; }
[[ $name == /boot/* && $name != */../* ]] || { echo "mkiso.sh: --name must be under /boot/" >&2; exit 1; }
case "$protocol" in
    mb2) kernel_cmd=multiboot2 module_cmd=module2 ;;
    mb1) kernel_cmd=multiboot module_cmd=module ;;
    *) echo "mkiso.sh: --protocol must be mb2 or mb1" >&2; exit 1 ;;
esac
[[ -n $title ]] || title="$(basename "$name") ($protocol)"

# Quotes each word of "$1" for GRUB's script parser: inside '...' nothing is special, and a
# literal ' is written as '\'' exactly as in sh.
grub_words() {
    local word words quoted=()
    read -r -a words <<<"$1"
    for word in "${words[@]}"; do
        quoted+=("'${word//\'/\'\\\'\'}'")
    done
    printf '%s' "${quoted[*]}"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/iso/boot/grub" "$tmp/iso$(dirname "$name")"
cp "$hypervisor" "$tmp/iso$name"

# The menu title and the echo lines only show in the log; strip quotes so they stay one word.
safe_title=${title//\'/}
{
    echo "serial --unit=0 --speed=115200"
    echo "terminal_input serial console"
    echo "terminal_output serial console"
    echo "set timeout=0"
    echo "set default=0"
    echo "menuentry '$safe_title' {"
    echo "    echo 'GRUB: loading $safe_title'"
    echo "    $kernel_cmd $name $(grub_words "$cmdline")"
    for i in "${!module_paths[@]}"; do
        path=${module_paths[$i]}
        [[ -f $path ]] || { echo "mkiso.sh: no such module: $path" >&2; exit 1; }
        base=$(basename "$path")
        [[ ! -e $tmp/iso/boot/$base ]] || { echo "mkiso.sh: two files named $base" >&2; exit 1; }
        cp "$path" "$tmp/iso/boot/$base"
        flag=""
        if ((nounzip)); then flag="--nounzip "; fi
        echo "    $module_cmd $flag/boot/$base $(grub_words "${module_args[$i]}")"
    done
    echo "    echo 'GRUB: booting'"
    echo "}"
} >"$tmp/iso/boot/grub/grub.cfg"

# Fixed timestamps make the ISO byte-identical for identical inputs.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
find "$tmp/iso" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
# grub-mkrescue stamps the volume with the current time; these later xorriso options win.
iso_date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y%m%d%H%M%S00)

# `normal` runs grub.cfg; the loaders and the serial terminal are all the entry uses. Pre-
# loading them skips a disk read each; leaving out fonts, themes and locales keeps it small.
grub_modules="normal serial terminal echo multiboot multiboot2 iso9660 biosdisk gzio"
if ! grub-mkrescue -d /usr/lib/grub/i386-pc -o "$tmp/out.iso" \
        --compress=no --fonts= --themes= --locales= \
        --install-modules="$grub_modules" --modules="$grub_modules" \
        "$tmp/iso" --modification-date="$iso_date" --set_all_file_dates "$iso_date" \
        >"$tmp/log" 2>&1; then
    cat "$tmp/log" >&2
    exit 1
fi
mkdir -p "$(dirname "$out")"
mv "$tmp/out.iso" "$out"
