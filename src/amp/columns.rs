//! The batched dense product: `COLUMNS` independent vectors interleaved
//! (`x[j][c]`), so that each coupling loaded from memory serves all of them.
//! The product is memory-bound at large N, so up to 8 AMP runs cost little
//! more than one. One partial sum per (row, column), flushed to f64 every
//! `BLOCK` couplings; the AVX2 builds keep the same per-lane operations (no
//! fused multiply-add), so they match the baseline loop bit for bit.

use super::kernels::{Element, BLOCK};

/// Independent columns of one batched product.
pub const COLUMNS: usize = 8;

/// Storage types with a batched kernel.
pub trait Columns: Element {
    /// Rows sharing each load of `x` (enough independent sums to hide the add latency).
    const COLUMN_ROWS: usize;

    /// `out[i][c] = rows[i] . (column c of x)` for the `out.len()` rows stored
    /// one after the other in `rows`, each as long as `x`.
    fn rows_times_columns(rows: &[Self], x: &[[Self; COLUMNS]], out: &mut [[f64; COLUMNS]]);
}

/// Splits `rows` into groups of `R` and a remainder of single rows.
#[inline(always)]
fn by_groups<T: Element, const R: usize>(
    rows: &[T],
    x: &[[T; COLUMNS]],
    out: &mut [[f64; COLUMNS]],
    group: impl Fn([&[T]; R], &[[T; COLUMNS]]) -> [[f64; COLUMNS]; R],
    single: impl Fn([&[T]; 1], &[[T; COLUMNS]]) -> [[f64; COLUMNS]; 1],
) {
    let n = x.len();
    let mut groups = out.chunks_exact_mut(R);
    let mut blocks = rows.chunks_exact(R * n);
    for (out_group, block) in (&mut groups).zip(&mut blocks) {
        out_group.copy_from_slice(&group(std::array::from_fn(|k| &block[k * n..(k + 1) * n]), x));
    }
    for (o, row) in groups.into_remainder().iter_mut().zip(blocks.remainder().chunks_exact(n)) {
        *o = single([row], x)[0];
    }
}

impl Columns for f32 {
    const COLUMN_ROWS: usize = 8;

    fn rows_times_columns(rows: &[f32], x: &[[f32; COLUMNS]], out: &mut [[f64; COLUMNS]]) {
        #[cfg(target_arch = "x86_64")]
        if super::kernels::has_avx2() {
            // SAFETY: the CPU supports AVX2 (checked at run time just above).
            return unsafe { f32_avx2(rows, x, out) };
        }
        by_groups::<f32, 8>(rows, x, out, columns_body, columns_body)
    }
}

impl Columns for f64 {
    const COLUMN_ROWS: usize = 4;

    fn rows_times_columns(rows: &[f64], x: &[[f64; COLUMNS]], out: &mut [[f64; COLUMNS]]) {
        #[cfg(target_arch = "x86_64")]
        if super::kernels::has_avx2() {
            // SAFETY: the CPU supports AVX2 (checked at run time just above).
            return unsafe { f64_avx2(rows, x, out) };
        }
        by_groups::<f64, 4>(rows, x, out, columns_body, columns_body)
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn f32_avx2(rows: &[f32], x: &[[f32; COLUMNS]], out: &mut [[f64; COLUMNS]]) {
    by_groups::<f32, 8>(rows, x, out, |r, x| columns_f32_avx2(r, x), |r, x| columns_f32_avx2(r, x))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn f64_avx2(rows: &[f64], x: &[[f64; COLUMNS]], out: &mut [[f64; COLUMNS]]) {
    by_groups::<f64, 4>(rows, x, out, |r, x| columns_f64_avx2(r, x), |r, x| columns_f64_avx2(r, x))
}

/// The baseline loop for `R` rows.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // lane loops mirror the SIMD builds below
fn columns_body<T: Element, const R: usize>(rows: [&[T]; R], x: &[[T; COLUMNS]]) -> [[f64; COLUMNS]; R] {
    let mut total = [[0f64; COLUMNS]; R];
    for (b, xb) in x.chunks(BLOCK).enumerate() {
        let mut acc = [[T::default(); COLUMNS]; R];
        for (j, xj) in xb.iter().enumerate() {
            for r in 0..R {
                let a = rows[r][b * BLOCK + j];
                for c in 0..COLUMNS {
                    acc[r][c] = acc[r][c] + a * xj[c];
                }
            }
        }
        for r in 0..R {
            for c in 0..COLUMNS {
                total[r][c] += acc[r][c].to_f64();
            }
        }
    }
    total
}

/// f32: one 8-wide vector of columns per row.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn columns_f32_avx2<const R: usize>(rows: [&[f32]; R], x: &[[f32; COLUMNS]]) -> [[f64; COLUMNS]; R] {
    use std::arch::x86_64::*;
    let mut total = [[0f64; COLUMNS]; R];
    for (b, xb) in x.chunks(BLOCK).enumerate() {
        let block: [&[f32]; R] = std::array::from_fn(|r| &rows[r][b * BLOCK..b * BLOCK + xb.len()]);
        let mut acc = [_mm256_setzero_ps(); R];
        for (j, xj) in xb.iter().enumerate() {
            // SAFETY: `xj` holds 8 floats.
            let xv = unsafe { _mm256_loadu_ps(xj.as_ptr()) };
            for r in 0..R {
                acc[r] = _mm256_add_ps(acc[r], _mm256_mul_ps(_mm256_set1_ps(block[r][j]), xv));
            }
        }
        for r in 0..R {
            let mut lanes = [0f32; COLUMNS];
            // SAFETY: `lanes` holds 8 floats.
            unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), acc[r]) };
            total[r].iter_mut().zip(lanes).for_each(|(t, l)| *t += l as f64);
        }
    }
    total
}

/// f64: two 4-wide vectors of columns per row.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn columns_f64_avx2<const R: usize>(rows: [&[f64]; R], x: &[[f64; COLUMNS]]) -> [[f64; COLUMNS]; R] {
    use std::arch::x86_64::*;
    let mut total = [[0f64; COLUMNS]; R];
    for (b, xb) in x.chunks(BLOCK).enumerate() {
        let block: [&[f64]; R] = std::array::from_fn(|r| &rows[r][b * BLOCK..b * BLOCK + xb.len()]);
        let mut acc = [[_mm256_setzero_pd(); 2]; R];
        for (j, xj) in xb.iter().enumerate() {
            // SAFETY: `xj` holds 8 doubles.
            let (lo, hi) = unsafe { (_mm256_loadu_pd(xj.as_ptr()), _mm256_loadu_pd(xj.as_ptr().add(4))) };
            for r in 0..R {
                let a = _mm256_set1_pd(block[r][j]);
                acc[r][0] = _mm256_add_pd(acc[r][0], _mm256_mul_pd(a, lo));
                acc[r][1] = _mm256_add_pd(acc[r][1], _mm256_mul_pd(a, hi));
            }
        }
        for r in 0..R {
            let mut lanes = [0f64; COLUMNS];
            // SAFETY: `lanes` holds 8 doubles.
            unsafe {
                _mm256_storeu_pd(lanes.as_mut_ptr(), acc[r][0]);
                _mm256_storeu_pd(lanes.as_mut_ptr().add(4), acc[r][1]);
            }
            total[r].iter_mut().zip(lanes).for_each(|(t, l)| *t += l);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_agree_bitwise_and_match_single_column_dots() {
        let n = 777;
        let rows: Vec<f64> = (0..11 * n).map(|i| ((i % n * (i / n + 3)) as f64 * 0.11).sin()).collect();
        let x: Vec<[f64; COLUMNS]> =
            (0..n).map(|i| std::array::from_fn(|c| ((i + 5 * c) as f64 * 0.23).cos())).collect();
        let mut got = vec![[0.0; COLUMNS]; 11];
        f64::rows_times_columns(&rows, &x, &mut got);
        let mut base = vec![[0.0; COLUMNS]; 11];
        by_groups::<f64, 4>(&rows, &x, &mut base, columns_body, columns_body);
        assert_eq!(got, base);
        let rows32: Vec<f32> = rows.iter().map(|&v| v as f32).collect();
        let x32: Vec<[f32; COLUMNS]> = x.iter().map(|v| v.map(|e| e as f32)).collect();
        f32::rows_times_columns(&rows32, &x32, &mut got);
        by_groups::<f32, 8>(&rows32, &x32, &mut base, columns_body, columns_body);
        assert_eq!(got, base);
        f64::rows_times_columns(&rows, &x, &mut got);
        for (r, row) in rows.chunks_exact(n).enumerate() {
            for c in 0..COLUMNS {
                let mut single = [0.0];
                let column: Vec<f64> = x.iter().map(|v| v[c]).collect();
                f64::rows_times_vector(row, &column, &mut single);
                assert!((got[r][c] - single[0]).abs() < 1e-10);
            }
        }
    }
}
