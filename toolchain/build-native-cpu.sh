#!/usr/bin/env bash
# Compiles native/cpu/*.c into a static, position-independent library that JavaCPP links into the JNI
# library of the kernels jar. Each file is compiled with the flags of the ISA its name says
# (see isa-flags.sh). Called by Maven (kernels/pom.xml, generate-sources); runs standalone too:
#   toolchain/build-native-cpu.sh OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../native/cpu"
out="${1:?usage: build-native-cpu.sh OUT_DIR}"
cc="${CC:-gcc}"
. "$here/isa-flags.sh"

if ! command -v "$cc" >/dev/null 2>&1; then
  echo "tessera: $cc not found: the native backend is not built (the java backend will be used)." >&2
  echo "tessera: to build it: apt-get install -y gcc g++" >&2
  exit 0
fi

mkdir -p "$out/obj"
rm -f "$out/obj/"*.o "$out/libtessera_cpu.a"
objs=()
for file in "$src"/*.c; do
  name=$(basename "$file" .c)
  flags="$TESSERA_CFLAGS_COMMON $(tessera_isa_flags "$file")"
  # shellcheck disable=SC2086
  "$cc" $flags -I"$src/include" -c "$file" -o "$out/obj/$name.o"
  objs+=("$out/obj/$name.o")
done
ar rcs "$out/libtessera_cpu.a" "${objs[@]}"
echo "tessera: built $out/libtessera_cpu.a from ${#objs[@]} sources with $("$cc" --version | head -n 1)"
