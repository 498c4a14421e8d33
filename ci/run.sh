#!/usr/bin/env bash
# CI entry point (called by .ci/run on a clean clone): install what the build needs, then run the README's
# test command. Must finish well inside CI's 90 minutes; today it takes a few.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v gcc >/dev/null || need+=(gcc)
command -v g++ >/dev/null || need+=(g++)
command -v objdump >/dev/null || need+=(binutils)
command -v mvn >/dev/null || need+=(maven)
# The main job's test trains on the real data; its report renders charts with AWT (fonts needed, headless).
ls /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte* >/dev/null 2>&1 || need+=(dataset-fashion-mnist)
command -v fc-list >/dev/null || need+=(fontconfig fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "ci: installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  else
    echo "ci: missing ${need[*]} and not root: run apt-get install -y ${need[*]}" >&2
    exit 1
  fi
fi
# The VNNI kernels are tested on an emulated CPU (toolchain/test-emulated.sh): Bochs boots a GRUB image.
emu=()
command -v bochs >/dev/null || emu+=(bochs bochsbios vgabios)
ls /usr/lib/*/bochs/plugins/*term* >/dev/null 2>&1 || emu+=(bochs-term)
command -v grub-mkrescue >/dev/null && [ -e /usr/lib/grub/i386-pc/multiboot.mod ] || emu+=(grub-pc-bin grub-common)
command -v xorriso >/dev/null || emu+=(xorriso)
command -v mformat >/dev/null || emu+=(mtools)
if [ ${#emu[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "ci: installing ${emu[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${emu[@]}"
  else
    echo "ci: missing ${emu[*]} and not root: run apt-get install -y --no-install-recommends ${emu[*]}" >&2
    exit 1
  fi
fi
export TESSERA_REQUIRE_EMULATED=1
command -v nvcc >/dev/null && echo "ci: nvcc $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'): CUDA kernels are compiled" \
  || echo "ci: no nvcc: CUDA kernels are not compiled in this run"
./toolchain/test
# The kernels jar carries natives and PTX; it must stay small (users complain about gigabyte native jars).
jar=$(ls kernels/target/tessera-kernels-*.jar | grep -v -- -tests.jar | head -n 1)
size=$(stat -c %s "$jar")
echo "ci: $jar is $((size / 1024)) KiB"
if [ "$size" -gt $((10 * 1024 * 1024)) ]; then echo "ci: the kernels jar exceeds 10 MB" >&2; exit 1; fi
# A build must never track its outputs.
if git ls-files | grep -E '\.(so|a|o|ptx|cubin|fatbin|class|jar)$|(^|/)target/'; then
  echo "ci: build outputs are tracked by git (above); remove them" >&2
  exit 1
fi
