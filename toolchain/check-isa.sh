#!/usr/bin/env bash
# Proves the native library cannot SIGILL on a baseline x86-64 CPU: disassembles it and fails if any
# AVX/AVX-512 instruction (one touching a ymm/zmm register, or using VEX/EVEX encodings on xmm) appears
# outside a function whose name ends in __avx2 / __avxvnni / __avx512 / __avx512vnni, the ones only called after CPUID says yes,
# or a VNNI instruction outside the __avxvnni / __avx512vnni ones.
# Give it the stripped JNI library (its exported functions, the JNI glue included) and the static library of
# our kernels too: only there do static helpers keep their names (in the stripped .so objdump files their code
# under the exported function before them).
#   toolchain/check-isa.sh path/to/libjniNativeCpu.so [path/to/libtessera_cpu.a]
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: check-isa.sh LIB.so [LIB.a]" >&2; exit 2; }
command -v objdump >/dev/null || { echo "check-isa: objdump not found (apt-get install binutils)" >&2; exit 2; }
objdump -d --no-show-raw-insn "$@" | awk '
  / file format / { named = $1 ~ /\.o:$/; next } # an archive member: every function has its own name
  /^[0-9a-f]+ <.*>:$/ { fn = $2; gsub(/[<>:]/, "", fn); sub(/@.*/, "", fn); next }
  # v-prefixed mnemonics are VEX/EVEX encoded (AVX and later); ymm/zmm/k registers are AVX-only.
  $2 ~ /^v[a-z]/ || /%[yz]mm|%k[0-7]/ {
    if (fn !~ /__(avx2|avxvnni|avx512|avx512vnni)$/) { print "baseline function " fn " uses: " $0; bad++ }
    else isa++
  }
  # VNNI is a separate CPUID bit (Skylake-X has AVX-512 without it): its opcodes only in VNNI kernels (checked
  # where names are exact: in the .so, a static VNNI helper is filed under the exported function before it).
  named && /[ \t}]vpdp(bu|ws)sds?[ \t]/ && fn !~ /__(avxvnni|avx512vnni)$/ { print "non-VNNI function " fn " uses: " $0; bad++ }
  END {
    if (bad) { print bad " instruction(s) outside the kernels whose ISA allows them" > "/dev/stderr"; exit 1 }
    print "check-isa: ok: " isa " AVX instructions, all inside __avx2/__avxvnni/__avx512/__avx512vnni kernels"
  }'
