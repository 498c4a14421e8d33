#!/usr/bin/env bash
# Proves the native library cannot SIGILL on a baseline x86-64 CPU: disassembles it and fails if any
# AVX/AVX-512 instruction (one touching a ymm/zmm register, or using VEX/EVEX encodings on xmm) appears
# outside a function whose name ends in __avx2 / __avxvnni / __avx512 / __avx512vnni, the ones only called after CPUID says yes.
#   toolchain/check-isa.sh path/to/libjniNativeCpu.so
set -euo pipefail
lib="${1:?usage: check-isa.sh LIB.so}"
command -v objdump >/dev/null || { echo "check-isa: objdump not found (apt-get install binutils)" >&2; exit 2; }
objdump -d --no-show-raw-insn "$lib" | awk '
  /^[0-9a-f]+ <.*>:$/ { fn = $2; gsub(/[<>:]/, "", fn); sub(/@.*/, "", fn); next }
  # v-prefixed mnemonics are VEX/EVEX encoded (AVX and later); ymm/zmm/k registers are AVX-only.
  $2 ~ /^v[a-z]/ || /%[yz]mm|%k[0-7]/ {
    if (fn !~ /__(avx2|avxvnni|avx512|avx512vnni)$/) { print "baseline function " fn " uses: " $0; bad++ }
    else isa++
  }
  END {
    if (bad) { print bad " AVX instruction(s) outside ISA-specific kernels" > "/dev/stderr"; exit 1 }
    print "check-isa: ok: " isa " AVX instructions, all inside __avx2/__avxvnni/__avx512/__avx512vnni kernels"
  }'
