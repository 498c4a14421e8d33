/*
 * CPU feature detection: CPUID for what the processor implements, XGETBV for what the OS saves on a
 * context switch (an AVX register the OS does not save is unusable). Baseline x86-64: runs anywhere.
 */
#include <cpuid.h>

#include "tessera_cpu.h"

static uint64_t xgetbv0(void) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}

static uint64_t detect(void) {
  unsigned a, b, c, d;
  uint64_t f = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  if (c & bit_SSE4_2) f |= TSR_FEAT_SSE42;
  if (c & bit_AVX) f |= TSR_FEAT_AVX;
  if (c & bit_FMA) f |= TSR_FEAT_FMA;
  if (c & bit_F16C) f |= TSR_FEAT_F16C;
  /* XGETBV faults unless the OS set CR4.OSXSAVE, which CPUID.1:ECX.OSXSAVE mirrors. */
  if (c & bit_OSXSAVE) {
    uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) == 0x6) f |= TSR_FEAT_OS_YMM;    /* SSE + AVX state */
    if ((xcr0 & 0xe6) == 0xe6) f |= TSR_FEAT_OS_ZMM;  /* + opmask, ZMM_Hi256, Hi16_ZMM */
  }
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    if (b & bit_AVX2) f |= TSR_FEAT_AVX2;
    if (b & bit_AVX512F) f |= TSR_FEAT_AVX512F;
    if (b & bit_AVX512BW) f |= TSR_FEAT_AVX512BW;
    if (b & bit_AVX512DQ) f |= TSR_FEAT_AVX512DQ;
    if (b & bit_AVX512VL) f |= TSR_FEAT_AVX512VL;
    if (c & bit_AVX512VNNI) f |= TSR_FEAT_AVX512VNNI;
  }
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) {
    if (a & (1u << 4)) f |= TSR_FEAT_AVXVNNI; /* CPUID.(7,1):EAX[4] */
  }
  return f;
}

uint64_t tsr_cpu_feature_bits(void) { return detect(); }

int tsr_cpu_isa_level(void) {
  const uint64_t f = detect();
  const uint64_t avx2 = TSR_FEAT_AVX | TSR_FEAT_AVX2 | TSR_FEAT_FMA | TSR_FEAT_F16C | TSR_FEAT_OS_YMM;
  const uint64_t avx512 =
      TSR_FEAT_AVX512F | TSR_FEAT_AVX512BW | TSR_FEAT_AVX512DQ | TSR_FEAT_AVX512VL | TSR_FEAT_OS_ZMM;
  if ((f & avx2) != avx2) return TSR_ISA_BASELINE;
  if ((f & avx512) != avx512) return TSR_ISA_AVX2;
  return TSR_ISA_AVX512;
}

/* The AVX-512 level has one kernel so far (i8-gemm-6x32-avx512vnni.c); the others serve it with AVX2 code. */
int tsr_build_isa_level(void) { return TSR_ISA_AVX512; }

const char *tsr_build_compiler(void) {
#if defined(__clang__)
  return "clang " __clang_version__;
#else
  return "gcc " __VERSION__;
#endif
}
