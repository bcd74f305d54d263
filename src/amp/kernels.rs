//! Inner loop of the dense AMP contraction: dot products of a run of matrix
//! rows with one vector (the tensor's loop is in `tensor_kernel`, the batched
//! one in `columns`).
//!
//! Each row keeps `LANES` partial sums (lane = element index mod `LANES`),
//! flushed to f64 every `BLOCK` elements and reduced pairwise in a fixed
//! order. Rows are processed `ROWS` at a time so that each load of `x` serves
//! several rows and enough independent sums hide the add latency. The AVX2
//! builds do the same per-lane operations in the same order (no fused
//! multiply-add), so they match the baseline loop bit for bit.

use std::ops::{Add, Mul};

/// Independent partial sums per row (one AVX2 vector of f32).
pub const LANES: usize = 8;
/// Partial sums are flushed to f64 every `BLOCK` elements.
pub(crate) const BLOCK: usize = 64 * LANES;

/// A storage type of couplings: f32 (half the memory traffic) or f64.
pub trait Element: Copy + Default + Send + Sync + Add<Output = Self> + Mul<Output = Self> + 'static {
    /// Rows per pass of the single-vector kernel.
    const ROWS: usize;

    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;

    /// `out[i] = rows[i] . x` for the `out.len()` rows stored one after the
    /// other in `rows`, each as long as `x`.
    fn rows_times_vector(rows: &[Self], x: &[Self], out: &mut [f64]);
}

impl Element for f32 {
    const ROWS: usize = 8;

    fn from_f64(v: f64) -> f32 {
        v as f32
    }

    fn to_f64(self) -> f64 {
        self as f64
    }

    fn rows_times_vector(rows: &[f32], x: &[f32], out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            // SAFETY: the CPU supports AVX2 (checked at run time just above).
            return unsafe { f32_avx2(rows, x, out) };
        }
        by_groups::<f32, 8>(rows, x, out, dot_rows_body, dot_rows_body)
    }
}

impl Element for f64 {
    const ROWS: usize = 4;

    fn from_f64(v: f64) -> f64 {
        v
    }

    fn to_f64(self) -> f64 {
        self
    }

    fn rows_times_vector(rows: &[f64], x: &[f64], out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            // SAFETY: the CPU supports AVX2 (checked at run time just above).
            return unsafe { f64_avx2(rows, x, out) };
        }
        by_groups::<f64, 4>(rows, x, out, dot_rows_body, dot_rows_body)
    }
}

/// Splits `rows` into groups of `R` and a remainder of single rows.
#[inline(always)]
fn by_groups<T: Element, const R: usize>(
    rows: &[T],
    x: &[T],
    out: &mut [f64],
    group: impl Fn([&[T]; R], &[T]) -> [f64; R],
    single: impl Fn([&[T]; 1], &[T]) -> [f64; 1],
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

/// Sums lanes pairwise in a fixed order (4, 2, 1).
fn reduce_lanes(mut lanes: [f64; LANES]) -> f64 {
    let mut width = LANES / 2;
    while width > 0 {
        let (low, high) = lanes.split_at_mut(width);
        low.iter_mut().zip(&high[..width]).for_each(|(a, b)| *a += b);
        width /= 2;
    }
    lanes[0]
}

/// The baseline loop: `rows[r] . x` for `R` rows.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // lane loops mirror the SIMD builds below
fn dot_rows_body<T: Element, const R: usize>(rows: [&[T]; R], x: &[T]) -> [f64; R] {
    let mut total = [[0f64; LANES]; R];
    for (b, xb) in x.chunks(BLOCK).enumerate() {
        let mut acc = [[T::default(); LANES]; R];
        for (j, &xj) in xb.iter().enumerate() {
            for r in 0..R {
                acc[r][j % LANES] = acc[r][j % LANES] + rows[r][b * BLOCK + j] * xj;
            }
        }
        for r in 0..R {
            for l in 0..LANES {
                total[r][l] += acc[r][l].to_f64();
            }
        }
    }
    total.map(reduce_lanes)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn f32_avx2(rows: &[f32], x: &[f32], out: &mut [f64]) {
    by_groups::<f32, 8>(rows, x, out, |r, x| dot_rows_f32_avx2(r, x), |r, x| dot_rows_f32_avx2(r, x))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn f64_avx2(rows: &[f64], x: &[f64], out: &mut [f64]) {
    by_groups::<f64, 4>(rows, x, out, |r, x| dot_rows_f64_avx2(r, x), |r, x| dot_rows_f64_avx2(r, x))
}

/// f32: one 8-wide vector of lanes per row.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dot_rows_f32_avx2<const R: usize>(rows: [&[f32]; R], x: &[f32]) -> [f64; R] {
    use std::arch::x86_64::*;
    let mut total = [[0f64; LANES]; R];
    for (b, xb) in x.chunks(BLOCK).enumerate() {
        let block: [&[f32]; R] = std::array::from_fn(|r| &rows[r][b * BLOCK..b * BLOCK + xb.len()]);
        let whole = xb.len() / LANES * LANES;
        let mut acc = [_mm256_setzero_ps(); R];
        for o in (0..whole).step_by(LANES) {
            // SAFETY: `o + 8 <= whole <= len` for `xb` and every row of `block`.
            unsafe {
                let xv = _mm256_loadu_ps(xb.as_ptr().add(o));
                for r in 0..R {
                    acc[r] = _mm256_add_ps(acc[r], _mm256_mul_ps(_mm256_loadu_ps(block[r].as_ptr().add(o)), xv));
                }
            }
        }
        for r in 0..R {
            let mut lanes = [0f32; LANES];
            // SAFETY: `lanes` holds 8 floats.
            unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), acc[r]) };
            for (j, &xj) in xb.iter().enumerate().skip(whole) {
                lanes[j % LANES] += block[r][j] * xj;
            }
            total[r].iter_mut().zip(lanes).for_each(|(t, l)| *t += l as f64);
        }
    }
    total.map(reduce_lanes)
}

/// f64: two 4-wide vectors of lanes per row.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dot_rows_f64_avx2<const R: usize>(rows: [&[f64]; R], x: &[f64]) -> [f64; R] {
    use std::arch::x86_64::*;
    let mut total = [[0f64; LANES]; R];
    for (b, xb) in x.chunks(BLOCK).enumerate() {
        let block: [&[f64]; R] = std::array::from_fn(|r| &rows[r][b * BLOCK..b * BLOCK + xb.len()]);
        let whole = xb.len() / LANES * LANES;
        let mut acc = [[_mm256_setzero_pd(); 2]; R];
        for o in (0..whole).step_by(LANES) {
            // SAFETY: `o + 8 <= whole <= len` for `xb` and every row of `block`.
            unsafe {
                let (x0, x1) = (_mm256_loadu_pd(xb.as_ptr().add(o)), _mm256_loadu_pd(xb.as_ptr().add(o + 4)));
                for r in 0..R {
                    let p = block[r].as_ptr().add(o);
                    acc[r][0] = _mm256_add_pd(acc[r][0], _mm256_mul_pd(_mm256_loadu_pd(p), x0));
                    acc[r][1] = _mm256_add_pd(acc[r][1], _mm256_mul_pd(_mm256_loadu_pd(p.add(4)), x1));
                }
            }
        }
        for r in 0..R {
            let mut lanes = [0f64; LANES];
            // SAFETY: `lanes` holds 8 doubles.
            unsafe {
                _mm256_storeu_pd(lanes.as_mut_ptr(), acc[r][0]);
                _mm256_storeu_pd(lanes.as_mut_ptr().add(4), acc[r][1]);
            }
            for (j, &xj) in xb.iter().enumerate().skip(whole) {
                lanes[j % LANES] += block[r][j] * xj;
            }
            total[r].iter_mut().zip(lanes).for_each(|(t, l)| *t += l);
        }
    }
    total.map(reduce_lanes)
}

#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T: Element>(n: usize, rows: usize) {
        let x: Vec<T> = (0..n).map(|i| T::from_f64(((i * 7919) % 101) as f64 / 50.0 - 1.0)).collect();
        let m: Vec<T> = (0..rows * n).map(|i| T::from_f64(((i % n + (i / n) * 31) as f64 * 0.37).sin())).collect();
        let mut got = vec![0.0; rows];
        T::rows_times_vector(&m, &x, &mut got);
        let mut base = vec![0.0; rows];
        match T::ROWS {
            8 => by_groups::<T, 8>(&m, &x, &mut base, dot_rows_body, dot_rows_body),
            _ => by_groups::<T, 4>(&m, &x, &mut base, dot_rows_body, dot_rows_body),
        }
        for (r, row) in m.chunks_exact(n).enumerate() {
            assert_eq!(got[r].to_bits(), base[r].to_bits(), "row {r}");
            let exact: f64 = row.iter().zip(&x).map(|(a, b)| a.to_f64() * b.to_f64()).sum();
            assert!((got[r] - exact).abs() < 1e-4, "{} vs {exact}", got[r]);
        }
    }

    #[test]
    fn builds_agree_bitwise_and_match_exact_dots() {
        for (n, rows) in [(1234, 11), (7, 9), (1027, 4)] {
            check::<f32>(n, rows);
            check::<f64>(n, rows);
        }
    }
}
