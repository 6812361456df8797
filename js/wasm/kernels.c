// webnets' WebAssembly kernels for TF.js's wasm backend (built by build.mjs into kernels.wasm).
//
// The module imports the backend's own WebAssembly.Memory and works on its tensors in place, so it
// must never touch memory it does not own: no static data, no shadow stack, no libc. Every buffer
// (inputs, output, packing scratch) is allocated by the backend's malloc and passed in as a pointer.
// build.mjs checks the compiled code for stack-pointer use and data sections and refuses to emit a
// module that has either.
//
// GEMM: C[M,N] = A[M,K] * B[K,N] per batch, A and/or B optionally transposed, one side's batch
// optionally broadcast. The shape of the loops follows the classic GotoBLAS/MLAS design:
//   - A is packed into MR-row blocks, B into NR-column panels, each KC deep, so the microkernel reads
//     both with unit stride whatever the transposes were;
//   - the microkernel keeps an MR x NR tile of C in SIMD registers (4 x 8 floats = 8 v128
//     accumulators + 2 B vectors + 1 A splat = 11 live registers, under x64's 16 XMM registers that
//     V8 maps them to, so nothing spills) and walks k, broadcasting one A element per row;
//   - a broadcast side (batch 1 against batch n) is packed once for all batches.
// WebAssembly SIMD128 has no fused multiply-add outside relaxed-SIMD, so it is mul + add: results
// differ from TF.js's scalar loop by rounding only.
#include <wasm_simd128.h>

#define MR 4
#define NR 8
// Depth of one packed block: a 4 x 256 A block (4 KiB) and a 256 x 8 B panel (8 KiB) fit in L1.
#define KC 256
// Columns per chunk: a KC x NC block of packed B (128 KiB) stays in L2 while every row block passes.
#ifndef NC
#define NC 128
#endif

#define EXPORT(name) __attribute__((export_name(#name)))

static inline int round_up(int x, int m) { return (x + m - 1) / m * m; }
static inline int min_int(int a, int b) { return a < b ? a : b; }

// Floats of packing scratch gemm() needs: all of packed A, all of packed B, one C tile for edges.
EXPORT(webnets_gemm_scratch_floats)
int webnets_gemm_scratch_floats(int m, int n, int k) {
  return round_up(m, MR) * k + round_up(n, NR) * k + MR * NR;
}

// Packs A (logical M x K, element (i, k) at a[i * rs + k * cs]) into, for each KC block of k and each
// MR block of rows, kc x MR floats (row i of the block at lane i of each k step), zero-padding rows.
static void pack_a(const float *a, int rs, int cs, int m, int k, float *dst) {
  const int mpad = round_up(m, MR);
  for (int k0 = 0; k0 < k; k0 += KC) {
    const int kc = min_int(KC, k - k0);
    float *block = dst + k0 * mpad;
    for (int i0 = 0; i0 < m; i0 += MR) {
      const int mr = min_int(MR, m - i0);
      float *p = block + i0 * kc;
      if (cs == 1 && mr == MR) {
        // Row-major A: four rows walked together, one float from each per k step.
        const float *r0 = a + (i0 + 0) * rs + k0, *r1 = r0 + rs, *r2 = r1 + rs, *r3 = r2 + rs;
        for (int kk = 0; kk < kc; kk++, p += MR) {
          p[0] = r0[kk]; p[1] = r1[kk]; p[2] = r2[kk]; p[3] = r3[kk];
        }
      } else if (rs == 1 && mr == MR) {
        // Transposed A: the four rows of one k step are contiguous.
        const float *src = a + i0 + k0 * cs;
        for (int kk = 0; kk < kc; kk++, p += MR, src += cs) wasm_v128_store(p, wasm_v128_load(src));
      } else {
        for (int kk = 0; kk < kc; kk++, p += MR) {
          for (int i = 0; i < MR; i++) p[i] = i < mr ? a[(i0 + i) * rs + (k0 + kk) * cs] : 0.0f;
        }
      }
    }
  }
}

// Packs B (logical K x N, element (k, j) at b[k * rs + j * cs]) into, for each KC block of k and each
// NR panel of columns, kc x NR floats, zero-padding columns.
static void pack_b(const float *b, int rs, int cs, int n, int k, float *dst) {
  const int npad = round_up(n, NR);
  for (int k0 = 0; k0 < k; k0 += KC) {
    const int kc = min_int(KC, k - k0);
    float *block = dst + k0 * npad;
    for (int j0 = 0; j0 < n; j0 += NR) {
      const int nr = min_int(NR, n - j0);
      float *p = block + j0 * kc;
      if (cs == 1 && nr == NR) {
        const float *src = b + k0 * rs + j0;
        for (int kk = 0; kk < kc; kk++, p += NR, src += rs) {
          wasm_v128_store(p, wasm_v128_load(src));
          wasm_v128_store(p + 4, wasm_v128_load(src + 4));
        }
      } else if (rs == 1 && nr == NR) {
        // Transposed B: each column is contiguous in k; eight columns are walked together.
        const float *c0 = b + j0 * cs + k0;
        for (int kk = 0; kk < kc; kk++, p += NR) {
          for (int j = 0; j < NR; j++) p[j] = c0[j * cs + kk];
        }
      } else {
        for (int kk = 0; kk < kc; kk++, p += NR) {
          for (int j = 0; j < NR; j++) p[j] = j < nr ? b[(k0 + kk) * rs + (j0 + j) * cs] : 0.0f;
        }
      }
    }
  }
}

// One k step of the microkernel: two B vectors, then per row one broadcast A element times both.
#define ROW(r, off) \
  { const v128_t av = wasm_v128_load32_splat(pa + (off) * MR + (r)); \
    c##r##0 = wasm_f32x4_add(c##r##0, wasm_f32x4_mul(av, b0)); \
    c##r##1 = wasm_f32x4_add(c##r##1, wasm_f32x4_mul(av, b1)); }
#define STEP(off) \
  { const v128_t b0 = wasm_v128_load(pb + (off) * NR), b1 = wasm_v128_load(pb + (off) * NR + 4); \
    ROW(0, off) ROW(1, off) ROW(2, off) ROW(3, off) }

// The MR x NR microkernel: tile += packed A block (kc x MR) * packed B panel (kc x NR). The tile is
// written to c (row stride ldc) when it is whole, else to `edge` (MR x NR) for the caller to clip.
static void kernel_4x8(const float *pa, const float *pb, int kc, float *c, int ldc, int accumulate,
                       int mr, int nr, float *edge) {
  v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
         c30 = c00, c31 = c00;
  int kk = 0;
  // Unrolled by 4: V8 does not unroll loops, and the loop's own compare/branch/increments would
  // otherwise be a quarter of the instructions.
  for (; kk + 4 <= kc; kk += 4, pa += 4 * MR, pb += 4 * NR) {
    STEP(0) STEP(1) STEP(2) STEP(3)
  }
  for (; kk < kc; kk++, pa += MR, pb += NR) { STEP(0) }
  float *out = c;
  int ld = ldc;
  const int whole = mr == MR && nr == NR;
  if (!whole) { out = edge; ld = NR; accumulate = 0; }
  if (accumulate) {
    c00 = wasm_f32x4_add(c00, wasm_v128_load(out + 0 * ld)); c01 = wasm_f32x4_add(c01, wasm_v128_load(out + 0 * ld + 4));
    c10 = wasm_f32x4_add(c10, wasm_v128_load(out + 1 * ld)); c11 = wasm_f32x4_add(c11, wasm_v128_load(out + 1 * ld + 4));
    c20 = wasm_f32x4_add(c20, wasm_v128_load(out + 2 * ld)); c21 = wasm_f32x4_add(c21, wasm_v128_load(out + 2 * ld + 4));
    c30 = wasm_f32x4_add(c30, wasm_v128_load(out + 3 * ld)); c31 = wasm_f32x4_add(c31, wasm_v128_load(out + 3 * ld + 4));
  }
  wasm_v128_store(out + 0 * ld, c00); wasm_v128_store(out + 0 * ld + 4, c01);
  wasm_v128_store(out + 1 * ld, c10); wasm_v128_store(out + 1 * ld + 4, c11);
  wasm_v128_store(out + 2 * ld, c20); wasm_v128_store(out + 2 * ld + 4, c21);
  wasm_v128_store(out + 3 * ld, c30); wasm_v128_store(out + 3 * ld + 4, c31);
}

// C (M x N, row-major, row stride ldc) = op(A) * op(B) for packed A and B (all KC blocks). Loop order:
// KC blocks of k, NC chunks of columns (their B panels stay in L2), MR blocks of rows (the A block,
// 4 x kc, stays in L1), then the chunk's panels. Rows outside columns keeps each C tile's writes in
// the same few rows: walking a whole column of tiles instead strides C by N floats, and when N is a
// power of two (512) every row lands in the same L1 sets and the stores thrash (3.9 against 20
// GFLOP/s measured for 256x512x128).
static void gemm_packed(const float *pa, const float *pb, int m, int n, int k, float *c, int ldc,
                        float *edge) {
  const int mpad = round_up(m, MR), npad = round_up(n, NR);
  for (int k0 = 0; k0 < k; k0 += KC) {
    const int kc = min_int(KC, k - k0);
    const float *ablock = pa + k0 * mpad, *bblock = pb + k0 * npad;
    for (int jc = 0; jc < n; jc += NC) {
      const int jend = min_int(n, jc + NC);
      for (int i0 = 0; i0 < m; i0 += MR) {
        const int mr = min_int(MR, m - i0);
        const float *arow = ablock + i0 * kc;
        for (int j0 = jc; j0 < jend; j0 += NR) {
          const int nr = min_int(NR, n - j0);
          float *ct = c + i0 * ldc + j0;
          kernel_4x8(arow, bblock + j0 * kc, kc, ct, ldc, k0 > 0, mr, nr, edge);
          if (mr != MR || nr != NR) {
            for (int i = 0; i < mr; i++) {
              for (int j = 0; j < nr; j++) {
                const float v = edge[i * NR + j];
                ct[i * ldc + j] = k0 > 0 ? ct[i * ldc + j] + v : v;
              }
            }
          }
        }
      }
    }
  }
}

// out[batch, M, N] = op(a) * op(b) with TF.js BatchMatMul's conventions: a is [batch_a, M, K]
// ([batch_a, K, M] when trans_a), b is [batch_b, K, N] ([batch_b, N, K] when trans_b); output batch bi
// reads a's batch bi % batch_a and b's bi % batch_b (the caller checks that this is the broadcast: the
// smaller side's batch dims are the trailing dims of the output's). `scratch` holds
// webnets_gemm_scratch_floats(M, N, K) floats.
EXPORT(webnets_batch_matmul)
void webnets_batch_matmul(const float *a, const float *b, float *out, int batch, int batch_a,
                          int batch_b, int m, int n, int k, int trans_a, int trans_b,
                          float *scratch) {
  float *pa = scratch, *pb = scratch + round_up(m, MR) * k, *edge = pb + round_up(n, NR) * k;
  const int a_rs = trans_a ? 1 : k, a_cs = trans_a ? m : 1;
  const int b_rs = trans_b ? 1 : n, b_cs = trans_b ? k : 1;
  for (int bi = 0; bi < batch; bi++) {
    // A side broadcast over the batch is packed once; so is B.
    if (batch_a != 1 || bi == 0) pack_a(a + (bi % batch_a) * m * k, a_rs, a_cs, m, k, pa);
    if (batch_b != 1 || bi == 0) pack_b(b + (bi % batch_b) * k * n, b_rs, b_cs, n, k, pb);
    gemm_packed(pa, pb, m, n, k, out + bi * m * n, n, edge);
  }
}

// ---- Fused attention: softmax(Q·Kᵀ·scale masked)·V per head, in one call ----
//
// e^x per lane, Cephes' expf: x = n ln2 + r with |r| <= ln2/2 (ln2 split in two for exactness), a
// degree-5 polynomial for e^r, 2^n put straight into the exponent bits. About 1 ulp; no tables, so
// no static data. x is clamped to [-87.3, 88]: e^-87.3 is the smallest normal float, which softmax
// adds to a sum >= 1 without a trace; the upper bound keeps 2^n finite.
static inline v128_t exp_f32x4(v128_t x) {
  x = wasm_f32x4_min(wasm_f32x4_max(x, wasm_f32x4_splat(-87.33654f)), wasm_f32x4_splat(88.0f));
  const v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)));
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t p = wasm_f32x4_splat(1.9875691500e-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.3981999507e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(8.3334519073e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(4.1665795894e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.6666665459e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(5.0000001201e-1f));
  const v128_t y = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(p, r), r), r), wasm_f32x4_splat(1.0f));
  const v128_t scale = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(y, scale);
}

static inline float exp_f32(float x) { return wasm_f32x4_extract_lane(exp_f32x4(wasm_f32x4_splat(x)), 0); }

// Mask modes of webnets_attention.
#define MASK_NONE 0
#define MASK_KEEP 1      // 0 hides a score (it becomes -1e9, as WebnetsMultiHeadAttention's replaceMasked)
#define MASK_ADDITIVE 2  // added to the scaled score
// What Keras and the layer put in a hidden score: softmax of a fully hidden row is then uniform.
#define HIDDEN (-1e9f)

// Lanes j..j+3 of row i that are hidden (all bits set) by a keep mask (mrow[j * m_ss], m_ss 0 or 1),
// causality (j > i) or a sliding window (|i - j| >= window).
static inline v128_t hidden_lanes(int i, int j, const float *mrow, int mode, int m_ss, int causal, int window) {
  v128_t h = wasm_i32x4_splat(0);
  if (mode == MASK_KEEP) {
    const v128_t m = m_ss ? wasm_v128_load(mrow + j) : wasm_f32x4_splat(mrow[0]);
    h = wasm_f32x4_eq(m, wasm_f32x4_splat(0.0f));
  }
  if (causal || window > 0) {
    const v128_t jv = wasm_i32x4_add(wasm_i32x4_splat(j), wasm_i32x4_make(0, 1, 2, 3));
    const v128_t iv = wasm_i32x4_splat(i);
    if (causal) h = wasm_v128_or(h, wasm_i32x4_gt(jv, iv));
    if (window > 0) h = wasm_v128_or(h, wasm_i32x4_ge(wasm_i32x4_abs(wasm_i32x4_sub(iv, jv)), wasm_i32x4_splat(window)));
  }
  return h;
}

static inline int hidden_at(int i, int j, const float *mrow, int mode, int m_ss, int causal, int window) {
  if (mode == MASK_KEEP && mrow[j * m_ss] == 0.0f) return 1;
  if (causal && j > i) return 1;
  if (window > 0 && (i > j ? i - j : j - i) >= window) return 1;
  return 0;
}

// Row i of the scores, in place: scale, mask, softmax (max subtracted, as TF.js's Softmax), and with
// zero_masked the hidden positions zeroed afterwards (Keras' Softmax-layer path).
static void softmax_row(float *x, int s, int i, float scale, const float *mrow, int mode, int m_ss, int causal,
                        int window, int zero_masked) {
  const int any_hidden = mode == MASK_KEEP || causal || window > 0;
  v128_t vmax = wasm_f32x4_splat(-3.4e38f);
  int j = 0;
  for (; j + 4 <= s; j += 4) {
    v128_t v = wasm_f32x4_mul(wasm_v128_load(x + j), wasm_f32x4_splat(scale));
    if (mode == MASK_ADDITIVE) v = wasm_f32x4_add(v, m_ss ? wasm_v128_load(mrow + j) : wasm_f32x4_splat(mrow[0]));
    if (any_hidden) v = wasm_v128_bitselect(wasm_f32x4_splat(HIDDEN), v, hidden_lanes(i, j, mrow, mode, m_ss, causal, window));
    wasm_v128_store(x + j, v);
    vmax = wasm_f32x4_max(vmax, v);
  }
  float max = wasm_f32x4_extract_lane(vmax, 0);
  for (int l = 1; l < 4; l++) {
    const float e = l == 1 ? wasm_f32x4_extract_lane(vmax, 1) : l == 2 ? wasm_f32x4_extract_lane(vmax, 2) : wasm_f32x4_extract_lane(vmax, 3);
    if (e > max) max = e;
  }
  for (; j < s; j++) {
    float v = x[j] * scale;
    if (mode == MASK_ADDITIVE) v += mrow[j * m_ss];
    if (any_hidden && hidden_at(i, j, mrow, mode, m_ss, causal, window)) v = HIDDEN;
    x[j] = v;
    if (v > max) max = v;
  }
  const v128_t vm = wasm_f32x4_splat(max);
  v128_t vsum = wasm_f32x4_splat(0.0f);
  for (j = 0; j + 4 <= s; j += 4) {
    const v128_t e = exp_f32x4(wasm_f32x4_sub(wasm_v128_load(x + j), vm));
    wasm_v128_store(x + j, e);
    vsum = wasm_f32x4_add(vsum, e);
  }
  float sum = (wasm_f32x4_extract_lane(vsum, 0) + wasm_f32x4_extract_lane(vsum, 1)) +
              (wasm_f32x4_extract_lane(vsum, 2) + wasm_f32x4_extract_lane(vsum, 3));
  for (; j < s; j++) {
    x[j] = exp_f32(x[j] - max);
    sum += x[j];
  }
  const float inv = 1.0f / sum;
  const v128_t vinv = wasm_f32x4_splat(inv);
  for (j = 0; j + 4 <= s; j += 4) {
    v128_t p = wasm_f32x4_mul(wasm_v128_load(x + j), vinv);
    if (zero_masked && any_hidden) p = wasm_v128_andnot(p, hidden_lanes(i, j, mrow, mode, m_ss, causal, window));
    wasm_v128_store(x + j, p);
  }
  for (; j < s; j++) {
    x[j] *= inv;
    if (zero_masked && any_hidden && hidden_at(i, j, mrow, mode, m_ss, causal, window)) x[j] = 0.0f;
  }
}

// Floats of scratch webnets_attention needs: packed Q, packed K, one head's scores, packed P, packed V
// and a C tile for edges.
EXPORT(webnets_attention_scratch_floats)
int webnets_attention_scratch_floats(int t, int s, int kd, int vd) {
  return round_up(t, MR) * kd + round_up(s, NR) * kd + t * s + round_up(t, MR) * s + round_up(vd, NR) * s + MR * NR;
}

// out = softmax(mask(Q Kᵀ scale)) V for every batch b and query head n, reading the projections in the
// layout they come out of a dense layer, so no transposes are needed before or after:
//   q[(b*t + i) * q_rs + n*kd + d]      query i of head n (heads query heads)
//   k[(b*s + j) * k_rs + h*kd + d]      key j of key/value head h (kv_heads; query head n reads h = n / (heads/kv_heads))
//   v[(b*s + j) * v_rs + h*vd + d]
//   out[(b*t + i) * out_rs + n*vd + d]
// mask (mode MASK_KEEP or MASK_ADDITIVE) element (b, n, i, j) at mask[b*m_sb + n*m_sn + i*m_st + j*m_ss],
// any stride 0 to broadcast, m_ss 0 or 1; causal hides j > i, window > 0 hides |i - j| >= window.
// Each key/value head is packed once for the heads/kv_heads query heads that share it.
EXPORT(webnets_attention)
void webnets_attention(const float *q, const float *k, const float *v, float *out, int q_rs, int k_rs, int v_rs,
                       int out_rs, int batch, int heads, int kv_heads, int t, int s, int kd, int vd, float scale,
                       const float *mask, int mode, int m_sb, int m_sn, int m_st, int m_ss, int causal, int window,
                       int zero_masked, float *scratch) {
  float *pq = scratch;
  float *pk = pq + round_up(t, MR) * kd;
  float *scores = pk + round_up(s, NR) * kd;
  float *pp = scores + t * s;
  float *pv = pp + round_up(t, MR) * s;
  float *edge = pv + round_up(vd, NR) * s;
  const int group = heads / kv_heads;
  for (int b = 0; b < batch; b++) {
    for (int h = 0; h < kv_heads; h++) {
      pack_b(k + b * s * k_rs + h * kd, 1, k_rs, s, kd, pk);      // Kᵀ: kd x s
      pack_b(v + b * s * v_rs + h * vd, v_rs, 1, vd, s, pv);      // V: s x vd
      for (int r = 0; r < group; r++) {
        const int n = h * group + r;
        pack_a(q + b * t * q_rs + n * kd, q_rs, 1, t, kd, pq);
        gemm_packed(pq, pk, t, s, kd, scores, s, edge);
        for (int i = 0; i < t; i++) {
          const float *mrow = mode == MASK_NONE ? 0 : mask + b * m_sb + n * m_sn + i * m_st;
          softmax_row(scores + i * s, s, i, scale, mrow, mode, m_ss, causal, window, zero_masked);
        }
        pack_a(scores, s, 1, t, s, pp);
        gemm_packed(pp, pv, t, vd, s, out + b * t * out_rs + n * vd, out_rs, edge);
      }
    }
  }
}

// ---- LayerNormalization over the last axis: one pass for the mean, one for the variance, one to write ----
// y = (x - mean) / sqrt(var + epsilon) [* gamma] [+ beta], var the biased variance about the mean (as
// tf.moments); with rms, x / sqrt(var + epsilon) [* gamma] (Keras 3.15's rms_scaling).
static inline float hsum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

EXPORT(webnets_layer_norm)
void webnets_layer_norm(const float *x, const float *gamma, const float *beta, float *out, int rows, int cols,
                        float epsilon, int has_gamma, int has_beta, int rms) {
  for (int row = 0; row < rows; row++, x += cols, out += cols) {
    v128_t acc = wasm_f32x4_splat(0.0f);
    int j = 0;
    for (; j + 4 <= cols; j += 4) acc = wasm_f32x4_add(acc, wasm_v128_load(x + j));
    float sum = hsum(acc);
    for (; j < cols; j++) sum += x[j];
    const float mean = sum / (float)cols;
    const v128_t vm = wasm_f32x4_splat(mean);
    acc = wasm_f32x4_splat(0.0f);
    for (j = 0; j + 4 <= cols; j += 4) {
      const v128_t d = wasm_f32x4_sub(wasm_v128_load(x + j), vm);
      acc = wasm_f32x4_add(acc, wasm_f32x4_mul(d, d));
    }
    float squares = hsum(acc);
    for (; j < cols; j++) squares += (x[j] - mean) * (x[j] - mean);
    const float inv = 1.0f / __builtin_sqrtf(squares / (float)cols + epsilon);
    const float shift = rms ? 0.0f : mean;
    const v128_t vs = wasm_f32x4_splat(shift), vi = wasm_f32x4_splat(inv);
    for (j = 0; j + 4 <= cols; j += 4) {
      v128_t y = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + j), vs), vi);
      if (has_gamma) y = wasm_f32x4_mul(y, wasm_v128_load(gamma + j));
      if (has_beta) y = wasm_f32x4_add(y, wasm_v128_load(beta + j));
      wasm_v128_store(out + j, y);
    }
    for (; j < cols; j++) {
      float y = (x[j] - shift) * inv;
      if (has_gamma) y *= gamma[j];
      if (has_beta) y += beta[j];
      out[j] = y;
    }
  }
}

// ---- Concat of 4-byte tensors (float32, int32): out row o is input 0's row o, input 1's, ... ----
// Copied as int32 bits, so float32 NaN payloads pass unchanged. table: `count` pairs (address of the
// input, elements per row of it).
EXPORT(webnets_concat)
void webnets_concat(int *out, int outer, int count, const int *table) {
  for (int o = 0; o < outer; o++) {
    for (int c = 0; c < count; c++) {
      const int inner = table[2 * c + 1];
      const int *src = (const int *)table[2 * c] + o * inner;
      int j = 0;
      for (; j + 8 <= inner; j += 8) {
        wasm_v128_store(out + j, wasm_v128_load(src + j));
        wasm_v128_store(out + j + 4, wasm_v128_load(src + j + 4));
      }
      for (; j < inner; j++) out[j] = src[j];
      out += inner;
    }
  }
}
