//! Inner loop of the one-pass p = 3 contraction and the padded layout it reads.
//!
//! Slab `i` holds the rows `(i, j)`, `j = i+1 ..= n-2`, each the couplings
//! `Y_ijk` over `k`. Rows are cut into groups of `GROUP` consecutive `j` (the
//! incomplete tail as single rows); a group's rows are stored as whole
//! 64-byte `Block`s of 16 f32 that start at the block holding `k = j0 + 1`
//! and end at the padded `n` (zeros elsewhere), interleaved block by block
//! (block `b` of row `r` at `b * rows + r`), so that the whole tensor is read
//! as one sequential stream. One pass over a
//! group computes the `GROUP` dots `d_j = sum_k Y_ijk x_k` (giving
//! `S_i += x_j d_j` and `S_j += x_i d_j`) and adds `sum_j x_i x_j Y_ijk` to the
//! accumulator of `S_k`: grouping divides the accumulator traffic (and its
//! store-to-load dependency from row to row) by `GROUP`.
//!
//! The baseline loop and the AVX2 build perform the same f32 operations in the
//! same order per lane (no fused multiply-add), so results are bit-identical.

use std::ops::Range;

/// f32 per `Block` (one 64-byte cache line).
pub const LANES: usize = 16;
/// Rows per group.
pub const GROUP: usize = 4;
const HALF: usize = LANES / 2;

/// `LANES` f32 on one 64-byte cache line: the unit of the padded layout.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(C, align(64))]
pub struct Block(pub [f32; LANES]);

/// A stored group of rows `j0 .. j0 + rows` of one slab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowGroup {
    pub j0: usize,
    pub rows: usize,
    /// Block holding `k = j0 + 1`, where every row of the group starts.
    pub first: usize,
    /// Blocks per row.
    pub blocks: usize,
}

/// The row groups of slab `i` of an `n`-variable tensor, in storage order.
pub fn row_groups(n: usize, i: usize) -> impl Iterator<Item = RowGroup> {
    let (end, total_blocks) = (n.saturating_sub(1), n.div_ceil(LANES));
    let mut j = i + 1;
    std::iter::from_fn(move || {
        if j >= end {
            return None;
        }
        let rows = if end - j >= GROUP { GROUP } else { 1 };
        let first = (j + 1) / LANES;
        let group = RowGroup { j0: j, rows, first, blocks: total_blocks - first };
        j += rows;
        Some(group)
    })
}

/// Blocks stored for slab `i`.
pub fn slab_blocks(n: usize, i: usize) -> usize {
    row_groups(n, i).map(|g| g.rows * g.blocks).sum()
}

/// Sums 8 lanes by halving (4, 2, 1).
fn reduce_half(mut d: [f32; HALF]) -> f32 {
    let mut width = HALF / 2;
    while width > 0 {
        let (low, high) = d.split_at_mut(width);
        low.iter_mut().zip(&high[..width]).for_each(|(a, b)| *a += b);
        width /= 2;
    }
    d[0]
}

/// One group of `R` rows (`y`: block `b` of row `r` at `b * R + r`): returns the
/// dots `y_r . x` and adds `sum_r c_r y_r` to `acc`. Dots keep 8 lanes, fed by
/// the low then the high half of each block.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // lane loops mirror the SIMD build below
fn group_body<const R: usize>(y: &[Block], x: &[Block], c: [f32; R], acc: &mut [Block]) -> [f32; R] {
    let len = x.len();
    let mut dot = [[0f32; HALF]; R];
    for b in 0..len {
        for h in [0, HALF] {
            for r in 0..R {
                for l in 0..HALF {
                    dot[r][l] += y[b * R + r].0[h + l] * x[b].0[h + l];
                }
            }
            for l in 0..HALF {
                let mut a = acc[b].0[h + l];
                for r in 0..R {
                    a += c[r] * y[b * R + r].0[h + l];
                }
                acc[b].0[h + l] = a;
            }
        }
    }
    dot.map(reduce_half)
}

/// AVX2 build of `group_body`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn group_avx2<const R: usize>(y: &[Block], x: &[Block], c: [f32; R], acc: &mut [Block]) -> [f32; R] {
    use std::arch::x86_64::*;
    let len = x.len();
    assert!(y.len() >= R * len && acc.len() >= len);
    let (yp, xp, ap) = (y.as_ptr(), x.as_ptr(), acc.as_mut_ptr());
    let mut d = [_mm256_setzero_ps(); R];
    let cv: [__m256; R] = std::array::from_fn(|r| _mm256_set1_ps(c[r]));
    for b in 0..len {
        for h in [0, HALF] {
            // SAFETY: blocks `b < len` of `x` and `acc` and `b * R + r` of `y` exist
            // (asserted above); blocks are 64-byte aligned, so `h` in {0, 8} is 32-byte aligned.
            unsafe {
                let xh = _mm256_load_ps((*xp.add(b)).0.as_ptr().add(h));
                let a_ptr = (*ap.add(b)).0.as_mut_ptr().add(h);
                let mut a = _mm256_load_ps(a_ptr);
                for r in 0..R {
                    let yr = _mm256_load_ps((*yp.add(b * R + r)).0.as_ptr().add(h));
                    d[r] = _mm256_add_ps(d[r], _mm256_mul_ps(yr, xh));
                    a = _mm256_add_ps(a, _mm256_mul_ps(cv[r], yr));
                }
                _mm256_store_ps(a_ptr, a);
            }
        }
    }
    d.map(|v| {
        let v4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let v2 = _mm_add_ps(v4, _mm_movehl_ps(v4, v4));
        _mm_cvtss_f32(_mm_add_ss(v2, _mm_shuffle_ps::<0b01>(v2, v2)))
    })
}

/// Adds to `s` the contributions of slabs `slabs` of the padded tensor whose
/// first slab starts at `values[0]`: per triple `i<j<k`, `S_i += Y x_j x_k`,
/// `S_j += Y x_i x_k`, `S_k += Y x_i x_j`. `x` (zero-padded) and `scratch`
/// hold `ceil(n / LANES)` blocks; `s` has length `n`.
#[inline(always)]
fn slabs_body(
    values: &[Block],
    slabs: Range<usize>,
    x: &[Block],
    scratch: &mut [Block],
    s: &mut [f64],
    group: impl Fn(&[Block], &[Block], [f32; GROUP], &mut [Block]) -> [f32; GROUP],
    single: impl Fn(&[Block], &[Block], [f32; 1], &mut [Block]) -> [f32; 1],
) {
    let n = s.len();
    let xi = |i: usize| x[i / LANES].0[i % LANES];
    let mut at = 0;
    for i in slabs {
        scratch.fill(Block::default());
        let mut s_i = 0.0;
        for g in row_groups(n, i) {
            let (y, xs) = (&values[at..at + g.rows * g.blocks], &x[g.first..g.first + g.blocks]);
            let acc = &mut scratch[g.first..g.first + g.blocks];
            let mut add = |r: usize, d: f32| {
                s_i += xi(g.j0 + r) as f64 * d as f64;
                s[g.j0 + r] += xi(i) as f64 * d as f64;
            };
            if g.rows == GROUP {
                let dots = group(y, xs, std::array::from_fn(|r| xi(i) * xi(g.j0 + r)), acc);
                dots.iter().enumerate().for_each(|(r, &d)| add(r, d));
            } else {
                add(0, single(y, xs, [xi(i) * xi(g.j0)], acc)[0]);
            }
            at += g.rows * g.blocks;
        }
        s[i] += s_i;
        for (k, s_k) in s.iter_mut().enumerate().skip(i + 2) {
            *s_k += scratch[k / LANES].0[k % LANES] as f64;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn slabs_avx2(values: &[Block], slabs: Range<usize>, x: &[Block], scratch: &mut [Block], s: &mut [f64]) {
    slabs_body(values, slabs, x, scratch, s, |y, x, c, a| group_avx2(y, x, c, a), |y, x, c, a| group_avx2(y, x, c, a))
}

/// See `slabs_body`; dispatches to the AVX2 build when available.
pub fn tensor_slabs(values: &[Block], slabs: Range<usize>, x: &[Block], scratch: &mut [Block], s: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if super::kernels::has_avx2() {
        // SAFETY: the CPU supports AVX2 (checked at run time just above).
        return unsafe { slabs_avx2(values, slabs, x, scratch, s) };
    }
    slabs_body(values, slabs, x, scratch, s, group_body, group_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(count: usize, f: impl Fn(usize) -> f32) -> Vec<Block> {
        (0..count).map(|b| Block(std::array::from_fn(|l| f(b * LANES + l)))).collect()
    }

    #[test]
    fn group_builds_agree_bitwise_and_match_naive_sums() {
        let len = 3;
        let y = blocks(GROUP * len, |i| (i as f32 * 0.3).cos());
        let x = blocks(len, |i| (i as f32 * 0.7).sin());
        let c = [0.5, -0.25, 1.5, 0.75];
        let mut acc = blocks(len, |_| 1.0);
        let dots = group_body(&y, &x, c, &mut acc);
        for r in 0..GROUP {
            let exact: f64 = (0..len * LANES)
                .map(|k| y[(k / LANES) * GROUP + r].0[k % LANES] as f64 * x[k / LANES].0[k % LANES] as f64)
                .sum();
            assert!((dots[r] as f64 - exact).abs() < 1e-5);
        }
        #[cfg(target_arch = "x86_64")]
        if crate::amp::kernels::has_avx2() {
            let mut acc2 = blocks(len, |_| 1.0);
            // SAFETY: AVX2 is available (checked just above).
            let dots2 = unsafe { group_avx2(&y, &x, c, &mut acc2) };
            assert_eq!(dots.map(f32::to_bits), dots2.map(f32::to_bits));
            assert_eq!(acc, acc2);
        }
    }

    #[test]
    fn row_groups_cover_every_row_once() {
        for n in [3, 4, 17, 40] {
            for i in 0..n {
                let rows: Vec<usize> = row_groups(n, i).flat_map(|g| g.j0..g.j0 + g.rows).collect();
                assert_eq!(rows, (i + 1..n.saturating_sub(1)).collect::<Vec<_>>());
            }
        }
    }
}
