#!/usr/bin/env bash
# Compiles native/cuda/*.cu to PTX, one file per target architecture, into OUT_DIR (a resource folder of
# the kernels jar). Without nvcc the build goes on and the cuda backend reports "not built".
# A kernel that does not compile fails the build, GPU or not: ptxas also assembles each PTX for its
# architecture, so errors the driver would only find at load time surface here.
#   toolchain/build-cuda.sh OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../native/cuda"
out="${1:?usage: build-cuda.sh OUT_DIR}"
archs=(${TESSERA_CUDA_ARCHS:-80 90})
mkdir -p "$out"
manifest="$out/manifest.properties"

nvcc="${NVCC:-$(command -v nvcc || true)}"
if [ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ]; then nvcc=/usr/local/cuda/bin/nvcc; fi
if [ -z "$nvcc" ]; then
  printf 'status=not-built\nreason=nvcc not found at build time (install the CUDA toolkit and rebuild)\n' > "$manifest"
  echo "tessera: nvcc not found: the cuda backend is not built (install the CUDA toolkit and rebuild)." >&2
  exit 0
fi
ptxas="$(dirname "$(readlink -f "$nvcc")")/ptxas"
version=$("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')

rm -f "$out"/*.ptx
for sm in "${archs[@]}"; do
  # One PTX per architecture holding every .cu file; the loader picks the highest sm <= the device's.
  tmp=$(mktemp -d)
  for cu in "$src"/*.cu; do
    "$nvcc" -std=c++17 -O3 -ptx -arch="compute_$sm" -o "$tmp/$(basename "$cu" .cu).ptx" "$cu"
    "$ptxas" -arch="sm_$sm" -o /dev/null "$tmp/$(basename "$cu" .cu).ptx"
  done
  # Concatenating PTX files is not valid PTX (each has its own header), so each .cu stays its own module.
  for ptx in "$tmp"/*.ptx; do mv "$ptx" "$out/$(basename "$ptx" .ptx)-sm_$sm.ptx"; done
  rmdir "$tmp"
done
modules=$(cd "$src" && ls *.cu | sed 's/\.cu$//' | paste -sd, -)
{
  echo "status=built"
  echo "nvcc=$version"
  echo "archs=$(IFS=,; echo "${archs[*]}")"
  echo "modules=$modules"
} > "$manifest"
echo "tessera: built PTX for sm_{$(IFS=,; echo "${archs[*]}")} with nvcc $version: $modules"
