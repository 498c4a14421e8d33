/*
 * Bit-exactness test of the VNNI int8 GEMM kernels, run on an emulated CPU that has AVX-512 VNNI
 * (Bochs, Tiger Lake model), since the build machines do not: toolchain/test-emulated.sh.
 *
 * For every case, the s32 output of each kernel must equal an exact integer reference, and the f32, u8
 * and s8 outputs must equal, byte for byte, those of the AVX2 exact-widening kernel (whose epilogue the
 * Java tests pin against their own reference). Kernels under test:
 *   i8_gemm_6x32__avx512vnni
 *   i8_gemm_6x16__avxvnni (built with the EVEX form of vpdpbusd: same semantics, see its file)
 * Cases: odd and prime sizes, 1-sized dims, k past one A block, m past one row block, strided A and C,
 * transposed and plain B, column sub-ranges (j0 > 0, partial panels), u8 and s8 activations, zero points
 * 0, 128 and odd ones, full-range weights (which the AVX2 reduced-range kernel would refuse), and the
 * worst case magnitudes (all 255 x all -128, all 255 x all 127). Outputs are poisoned first; the bytes
 * around each written block (the C stride's padding, columns outside [j0, j0 + nc)) must stay poisoned.
 * Prints "PASS <cases>" or the first failure with its seed, case, kernel, kind and index.
 */
#include "../include/tessera_cpu.h"
#include "bare-metal.h"

#ifndef TEST_SEED
#define TEST_SEED 12345
#endif

enum { POISON = 0xA5 };

typedef void vnni_kernel(size_t m, size_t k, size_t j0, size_t nc, int a_signed, const uint8_t *a, size_t lda,
                         int32_t a_zero, float a_scale, const int8_t *packed, const int32_t *colsums,
                         const float *w_scales, const float *bias, int out_kind, float out_scale, int32_t out_zero,
                         int relu, void *c, size_t ldc, void *workspace);

static const struct {
  const char *id;
  vnni_kernel *run;
} KERNELS[] = {
    {"i8_gemm_6x32__avx512vnni", tsr_i8_gemm_packed_6x32__avx512vnni},
    {"i8_gemm_6x16__avxvnni", tsr_i8_gemm_packed_6x16__avxvnni},
};

typedef struct {
  size_t m, n, k;
  int trans_b, a_signed, relu;
  int32_t za, out_zero;
  int fill; /* 0 random, 1 A = 255 and B = -128, 2 A = 255 and B = 127 */
} test_case;

static const test_case CASES[] = {
    {1, 1, 1, 0, 0, 0, 0, 0, 0},      {6, 32, 4, 1, 0, 0, 128, 128, 0},  {7, 33, 5, 0, 1, 1, -3, -7, 0},
    {13, 50, 131, 1, 0, 1, 77, 3, 0}, {37, 70, 300, 0, 0, 0, 255, 250, 0}, {5, 17, 1, 1, 1, 0, 0, 0, 0},
    {12, 48, 1000, 1, 0, 0, 11, 9, 0}, {251, 40, 37, 0, 1, 0, 5, -100, 0}, {40, 20, 3001, 1, 0, 1, 129, 1, 0},
    {2, 130, 64, 0, 0, 0, 0, 0, 0},   {9, 31, 4099, 1, 0, 0, 0, 0, 1},   {9, 31, 4099, 0, 0, 0, 255, 0, 2},
    {3, 16, 3, 1, 1, 1, -128, 0, 0},  {19, 97, 17, 1, 0, 0, 1, 255, 0},
};

static uint64_t seed_state;
static int failed;

static void fail(const char *what, size_t case_no, const char *kernel, int kind, int64_t index, int64_t want,
                 int64_t got) {
  put_str("FAIL seed ");
  put_int(TEST_SEED);
  put_str(" case ");
  put_int((int64_t)case_no);
  put_str(" ");
  put_str(kernel);
  put_str(" kind ");
  put_int(kind);
  put_str(": ");
  put_str(what);
  put_str(" at byte/element ");
  put_int(index);
  put_str(" want ");
  put_int(want);
  put_str(" got ");
  put_int(got);
  put_str("\n");
  failed = 1;
}

static float rng_float(float lo, float hi) {
  return lo + (hi - lo) * (float)(rng_next(&seed_state) >> 40) / (float)(1 << 24);
}

static void run_case(size_t case_no, const test_case *t) {
  const size_t m = t->m, n = t->n, k = t->k, lda = k + 3, ldb = (t->trans_b ? k : n) + 5, ldc = n + 7;
  uint8_t *a = bump_alloc(m * lda);
  int8_t *b = bump_alloc((t->trans_b ? n : k) * ldb);
  for (size_t i = 0; i < m * lda; i++) a[i] = t->fill ? 255 : (uint8_t)rng_int(&seed_state, 0, 255);
  for (size_t i = 0; i < (t->trans_b ? n : k) * ldb; i++)
    b[i] = t->fill == 1 ? -128 : t->fill == 2 ? 127 : (int8_t)rng_int(&seed_state, -128, 127);
  float *w_scales = bump_alloc(n * sizeof(float)), *bias = bump_alloc(n * sizeof(float));
  for (size_t j = 0; j < n; j++) w_scales[j] = rng_float(1e-4f, 2e-3f), bias[j] = rng_float(-5.f, 5.f);
  const float a_scale = rng_float(0.005f, 0.05f), out_scale = rng_float(0.05f, 0.5f);
  const int32_t za = t->a_signed && t->za > 127 ? 127 : t->za;

  /* exact reference: sum over p of (A - za) * B, in 64 bits */
  int32_t *ref = bump_alloc(m * n * sizeof(int32_t));
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      int64_t s = 0;
      for (size_t p = 0; p < k; p++) {
        const int32_t x = t->a_signed ? (int8_t)a[i * lda + p] : a[i * lda + p];
        s += (int64_t)(x - za) * (t->trans_b ? b[j * ldb + p] : b[p * ldb + j]);
      }
      ref[i * n + j] = (int32_t)s;
    }

  int32_t *colsums = bump_alloc(n * sizeof(int32_t)), *colsums_rr = bump_alloc(n * sizeof(int32_t));
  int8_t *wide = bump_alloc(tsr_i8_gemm_packed_b_bytes_6x16__avx2(k, n));
  int8_t *quads = bump_alloc(tsr_i8_gemm_packed_b_bytes_rr_6x16__avx2(k, n));
  tsr_i8_gemm_pack_b_6x16__avx2(t->trans_b, k, n, b, ldb, wide, colsums);
  tsr_i8_gemm_pack_b_rr_6x16__avx2(t->trans_b, k, n, b, ldb, quads, colsums_rr);
  void *workspace = bump_alloc(tsr_i8_gemm_workspace_bytes__avx2(k));

  /* the column ranges a thread of the Java grid may get: all, and from the second panel on */
  const size_t ranges[2][2] = {{0, n}, {n > 16 ? 16 : 0, n > 16 ? n - 16 : n}};
  for (int kind = TSR_I8_OUT_S32; kind <= TSR_I8_OUT_S8; kind++) {
    const size_t ob = kind <= TSR_I8_OUT_F32 ? 4 : 1, bytes = m * ldc * ob;
    uint8_t *want = bump_alloc(bytes), *got = bump_alloc(bytes);
    for (int r = 0; r < 2; r++) {
      const size_t j0 = ranges[r][0], nc = ranges[r][1];
      memset(want, POISON, bytes);
      tsr_i8_gemm_packed_6x16__avx2(0, m, k, j0, nc, t->a_signed, a, lda, za, a_scale, wide, colsums, w_scales, bias,
                                    kind, out_scale, t->out_zero, t->relu, want, ldc, workspace);
      for (size_t kr = 0; kr < sizeof KERNELS / sizeof KERNELS[0]; kr++) {
        memset(got, POISON, bytes);
        KERNELS[kr].run(m, k, j0, nc, t->a_signed, a, lda, za, a_scale, quads, colsums_rr, w_scales, bias, kind,
                        out_scale, t->out_zero, t->relu, got, ldc, workspace);
        for (size_t i = 0; i < m && !failed; i++)
          for (size_t j = 0; j < ldc && !failed; j++) {
            const int inside = j >= j0 && j < j0 + nc;
            if (kind == TSR_I8_OUT_S32 && inside) {
              int32_t v;
              memcpy(&v, got + (i * ldc + j) * 4, 4);
              if (v != ref[i * n + j]) fail("s32 differs from the integer reference", case_no, KERNELS[kr].id, kind, (int64_t)(i * n + j), ref[i * n + j], v);
            }
            for (size_t e = 0; e < ob && !failed; e++) {
              const size_t at = (i * ldc + j) * ob + e;
              if (!inside && got[at] != POISON) fail("wrote outside its columns", case_no, KERNELS[kr].id, kind, (int64_t)at, POISON, got[at]);
              if (inside && got[at] != want[at]) fail("differs from the AVX2 kernel", case_no, KERNELS[kr].id, kind, (int64_t)at, want[at], got[at]);
            }
          }
        if (failed) return;
      }
    }
  }
}

int test_main(void) {
  seed_state = (uint64_t)TEST_SEED * 0x9E3779B97F4A7C15ull | 1;
  put_str("tessera emulated test: int8 VNNI GEMM, seed ");
  put_int(TEST_SEED);
  put_str("\n");
  const size_t cases = sizeof CASES / sizeof CASES[0];
  for (size_t c = 0; c < cases && !failed; c++) run_case(c, &CASES[c]);
  if (!failed) {
    put_str("PASS ");
    put_int((int64_t)cases);
    put_str(" cases x 4 output kinds x 2 column ranges x 2 kernels\n");
  }
  return failed;
}
