# Compiler flags per instruction-set level, for gcc. Sourced by build-native-cpu.sh.
# A source file's name says its ISA (f32-vrelu-avx2.c); only that file gets that ISA's flags, so the
# dispatcher and the JNI glue stay baseline x86-64 and a CPU without the ISA never meets its opcodes.
TESSERA_CFLAGS_COMMON="-std=c11 -O3 -fPIC -fno-strict-aliasing -Wall -Wextra -Werror=implicit-function-declaration"
TESSERA_CFLAGS_BASELINE="-march=x86-64 -mtune=generic"
TESSERA_CFLAGS_AVX2="-march=x86-64 -mavx -mavx2 -mfma -mf16c -mtune=znver3"
TESSERA_CFLAGS_AVXVNNI="-march=x86-64 -mavx -mavx2 -mfma -mf16c -mavxvnni -mtune=alderlake"
TESSERA_CFLAGS_AVX512="-march=x86-64 -mavx -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512dq -mavx512vl -mtune=icelake-server"
TESSERA_CFLAGS_AVX512VNNI="$TESSERA_CFLAGS_AVX512 -mavx512vnni" # VNNI only where the file name says so: Skylake-X lacks it

tessera_isa_flags() { # $1: source file name -> flags for its ISA
  case "$1" in
    *-avx512vnni*.c) echo "$TESSERA_CFLAGS_AVX512VNNI" ;;
    *-avx512*.c) echo "$TESSERA_CFLAGS_AVX512" ;;
    *-avxvnni*.c) echo "$TESSERA_CFLAGS_AVXVNNI" ;;
    *-avx2*.c)   echo "$TESSERA_CFLAGS_AVX2" ;;
    *)           echo "$TESSERA_CFLAGS_BASELINE" ;;
  esac
}
