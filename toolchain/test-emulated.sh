#!/usr/bin/env bash
# Runs the native kernels this machine's CPU cannot (AVX-512 VNNI, AVX-VNNI) on an emulated one: builds
# native/cpu/test/ into a bare-metal multiboot image with those kernels, boots it in Bochs with its Tiger Lake
# CPU model (AVX-512 + VNNI), and checks that the test printed PASS. Takes about half a minute.
#   toolchain/test-emulated.sh [SEED]          (default: a fresh seed, printed)
# Needs: apt-get install -y bochs bochs-term bochsbios vgabios grub-pc-bin grub-common xorriso mtools
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../native/cpu"
. "$here/isa-flags.sh"
missing=()
for tool in gcc ld bochs grub-mkrescue xorriso mformat script; do command -v "$tool" >/dev/null || missing+=("$tool"); done
[ -e /usr/lib/grub/i386-pc/multiboot.mod ] || missing+=(grub-pc-bin)
ls /usr/lib/*/bochs/plugins/*term* >/dev/null 2>&1 || missing+=(bochs-term)
[ -e /usr/share/bochs/BIOS-bochs-latest ] || missing+=(bochsbios)
[ -e /usr/share/bochs/VGABIOS-lgpl-latest ] || missing+=(vgabios)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test-emulated: missing ${missing[*]}:" >&2
  echo "  apt-get install -y --no-install-recommends bochs bochs-term bochsbios vgabios grub-pc-bin grub-common xorriso mtools" >&2
  exit 2
fi
seed="${1:-$(( $(date +%s) % 1000000007 ))}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Kernel files keep their ISA flags; position-dependent, freestanding code for the bare-metal image.
bare="-std=c11 -O3 -fno-pic -fno-pie -ffreestanding -fno-stack-protector -mno-red-zone -fno-strict-aliasing -Wall -Wextra"
compile() { # $1 source, $2 object, rest: flags
  local file="$1" obj="$2"; shift 2
  # shellcheck disable=SC2086
  gcc $bare "$@" -I"$src/include" -c "$file" -o "$work/$obj"
}
compile "$src/i8-gemm-6x16-avx2.c" avx2.o $TESSERA_CFLAGS_AVX2
compile "$src/i8-gemm-6x32-avx512vnni.c" avx512vnni.o $TESSERA_CFLAGS_AVX512VNNI
# The emulator lacks AVX-VNNI (VEX): the 256-bit kernel runs with the EVEX encoding of the same instruction.
compile "$src/i8-gemm-6x16-avxvnni.c" avxvnni.o $TESSERA_CFLAGS_AVX512VNNI \
  -DVPDPBUSD_256=_mm256_dpbusd_epi32 '-DVPDPBUSD_256_ASM="%{evex%} vpdpbusd"'
compile "$src/test/bare-metal.c" bare-metal.o $TESSERA_CFLAGS_BASELINE
compile "$src/test/i8-gemm-vnni-emulated-test.c" test.o $TESSERA_CFLAGS_BASELINE -DTEST_SEED="$seed"
gcc -c "$src/test/boot-multiboot-x86-64.S" -o "$work/boot.o"
mkdir -p "$work/iso/boot/grub"
ld -n -static -nostdlib --no-warn-rwx-segments -T "$src/test/bare-metal.ld" "$work"/boot.o "$work"/test.o "$work"/bare-metal.o \
  "$work"/avx2.o "$work"/avx512vnni.o "$work"/avxvnni.o -o "$work/iso/boot/test.elf"
printf 'set timeout=0\nmenuentry test { multiboot /boot/test.elf\n boot }\n' > "$work/iso/boot/grub/grub.cfg"
grub-mkrescue -o "$work/test.iso" "$work/iso" >/dev/null 2>&1

cat > "$work/bochsrc" <<RC
megs: 512
cpu: model=tigerlake, count=1, ips=200000000
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0-master: type=cdrom, path=$work/test.iso, status=inserted
boot: cdrom
display_library: term
sound: driver=dummy
port_e9_hack: enabled=1
log: $work/bochs.log
clock: sync=none
RC
printf 'c\nquit\n' > "$work/debugger.rc" # Debian's Bochs has the debugger built in: continue at once
echo "test-emulated: booting Bochs (Tiger Lake: AVX-512 VNNI), seed $seed"
# The term display needs a terminal: script(1) gives it a pseudo-terminal. Bochs exits on the test's power-off.
(cd "$work" && TERM=xterm timeout 600 script -qfec "bochs -q -f bochsrc -rc debugger.rc" /dev/null > out.txt 2>&1) || true
# the terminal output carries escape sequences around the test's lines: keep only the test's own lines
lines=$(sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$work/out.txt" | tr -d '\r' | grep -aoE '(tessera emulated test|PASS|FAIL).*' || true)
echo "$lines" | sed 's/^/test-emulated: /'
if echo "$lines" | grep -q '^PASS'; then exit 0; fi
echo "test-emulated: no PASS line; the end of Bochs's log:" >&2
tail -n 20 "$work/bochs.log" >&2 || true
exit 1
