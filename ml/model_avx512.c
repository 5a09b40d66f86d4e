/*
 * model_avx512.c - the batch walk of ml/model.c with AVX-512, sixteen
 * rows at a time: lane r of a vector is row r's node in the same tree.
 *
 * A tree of depth 4 or less has at most 15 split nodes and 16 leaves,
 * so its slots, splits and leaves each fit one register, and looking
 * them up for sixteen nodes is one permute; only the rows' values need
 * a gather. The sums are added in the order vg_ml_margin adds them, so
 * the margins are the one-row ones bit for bit.
 *
 * Compiled for the instruction set with a target attribute and chosen
 * at run time (vg_ml_avx512_usable), so the library runs on any x86-64.
 */
#include <stddef.h>
#include <stdint.h>

#include "ml/model.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define VG_ML_TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))

int vg_ml_avx512_usable(const vg_ml_model *m)
{
	__builtin_cpu_init();
	return m->depth <= 4 && __builtin_cpu_supports("avx512f") &&
	       __builtin_cpu_supports("avx512bw") &&
	       __builtin_cpu_supports("avx512vl");
}

/* The leaves tree t gives sixteen rows: row r's slots start at
 * xs + lane r of rowoff. Masked loads read nothing past the tree. */
static VG_ML_TARGET inline __m512 tree16(const vg_ml_model *m, uint32_t t,
                                         const float *xs, __m512i rowoff)
{
	const uint32_t depth = m->depth, inner = (1u << depth) - 1;
	const __mmask16 nodes = (__mmask16)((1u << inner) - 1);
	const __mmask16 leaves = (__mmask16)((1u << (1u << depth)) - 1);
	const __m512i one = _mm512_set1_epi32(1);
	__m512i slot = _mm512_cvtepu16_epi32(
		_mm256_maskz_loadu_epi16(nodes, m->slot + (size_t)t * inner));
	__m512 split = _mm512_maskz_loadu_ps(nodes, m->split + (size_t)t * inner);
	__m512 leaf = _mm512_maskz_loadu_ps(leaves, m->leaf + ((size_t)t << depth));
	__m512i n = _mm512_setzero_si512();

	for (uint32_t d = 0; d < depth; d++) {
		__m512i s = _mm512_permutexvar_epi32(n, slot);
		__m512 v = _mm512_i32gather_ps(_mm512_add_epi32(s, rowoff), xs, 4);
		/* right when !(x < split), as step() in model.c */
		__mmask16 right = _mm512_cmp_ps_mask(
			v, _mm512_permutexvar_ps(n, split), _CMP_NLT_UQ);
		n = _mm512_add_epi32(_mm512_add_epi32(n, n), one);
		n = _mm512_mask_add_epi32(n, right, n, one);
	}
	return _mm512_permutexvar_ps(
		_mm512_sub_epi32(n, _mm512_set1_epi32((int)inner)), leaf);
}

/* The leaves of sixteen rows as two vectors of doubles. */
static VG_ML_TARGET inline void widen(__m512 l, __m512d *lo, __m512d *hi)
{
	*lo = _mm512_cvtps_pd(_mm512_castps512_ps256(l));
	*hi = _mm512_cvtps_pd(_mm256_castpd_ps(
		_mm512_extractf64x4_pd(_mm512_castps_pd(l), 1)));
}

/* The sum of trees t .. t + 7 for sixteen rows, added as block() in
 * model.c adds it. The eight walks go level by level together: a
 * gather waits for its memory, and eight independent ones overlap. */
static VG_ML_TARGET inline void block16(const vg_ml_model *m, uint32_t t,
                                        const float *xs, __m512i rowoff,
                                        __m512d *lo, __m512d *hi)
{
	const uint32_t depth = m->depth, inner = (1u << depth) - 1;
	const __mmask16 nodes = (__mmask16)((1u << inner) - 1);
	const __mmask16 leaves = (__mmask16)((1u << (1u << depth)) - 1);
	const __m512i one = _mm512_set1_epi32(1);
	const uint16_t *slot = m->slot + (size_t)t * inner;
	const float *split = m->split + (size_t)t * inner;
	__m512i n[8];
	__m512d l_lo, l_hi;

#pragma GCC unroll 8
	for (int j = 0; j < 8; j++)
		n[j] = _mm512_setzero_si512();
	for (uint32_t d = 0; d < depth; d++) {
#pragma GCC unroll 8
		for (int j = 0; j < 8; j++) {
			__m512i sl = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(
				nodes, slot + j * inner));
			__m512 sp = _mm512_maskz_loadu_ps(nodes, split + j * inner);
			__m512 v = _mm512_i32gather_ps(
				_mm512_add_epi32(_mm512_permutexvar_epi32(n[j], sl),
				                 rowoff), xs, 4);
			/* right when !(x < split), as step() in model.c */
			__mmask16 right = _mm512_cmp_ps_mask(
				v, _mm512_permutexvar_ps(n[j], sp), _CMP_NLT_UQ);
			n[j] = _mm512_add_epi32(_mm512_add_epi32(n[j], n[j]), one);
			n[j] = _mm512_mask_add_epi32(n[j], right, n[j], one);
		}
	}
#pragma GCC unroll 8
	for (int j = 0; j < 8; j++) {
		__m512 leaf = _mm512_maskz_loadu_ps(
			leaves, m->leaf + ((size_t)(t + j) << depth));
		widen(_mm512_permutexvar_ps(
			_mm512_sub_epi32(n[j], _mm512_set1_epi32((int)inner)), leaf),
		      &l_lo, &l_hi);
		if (j == 0) {
			*lo = l_lo;
			*hi = l_hi;
		} else {
			*lo = _mm512_add_pd(*lo, l_lo);
			*hi = _mm512_add_pd(*hi, l_hi);
		}
	}
}

VG_ML_TARGET void vg_ml_batch16_avx512(const vg_ml_model *m, const float *xs,
                                       size_t width, double *out)
{
	const __m512i rowoff = _mm512_mullo_epi32(
		_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
		                  14, 15),
		_mm512_set1_epi32((int)width));
	__m512d lo = _mm512_loadu_pd(out), hi = _mm512_loadu_pd(out + 8);
	__m512d blo, bhi, l_lo, l_hi;
	uint32_t t = 0;

	for (; t + 8 <= m->ntrees; t += 8) {
		block16(m, t, xs, rowoff, &blo, &bhi);
		lo = _mm512_add_pd(lo, blo);
		hi = _mm512_add_pd(hi, bhi);
	}
	for (; t < m->ntrees; t++) {
		widen(tree16(m, t, xs, rowoff), &l_lo, &l_hi);
		lo = _mm512_add_pd(lo, l_lo);
		hi = _mm512_add_pd(hi, l_hi);
	}
	_mm512_storeu_pd(out, lo);
	_mm512_storeu_pd(out + 8, hi);
}

#else

int vg_ml_avx512_usable(const vg_ml_model *m)
{
	(void)m;
	return 0;
}

void vg_ml_batch16_avx512(const vg_ml_model *m, const float *xs, size_t width,
                          double *out)
{
	(void)m;
	(void)xs;
	(void)width;
	(void)out;
}

#endif
