//! The memory-bound inner loops of the samplers: `h += d * row` over a coupling
//! row, the symmetric packed mat-vec of one tensor slice and the one-pass
//! gradient of a packed 3-tensor. Each is written once as a plain loop with
//! fixed lane-wise accumulators and compiled two or three times: generic, with
//! AVX2 and (for the Metropolis row updates) with AVX-512F, chosen at run time.
//! No FMA contraction and no reassociation happen, so every build gives
//! bit-identical results.

use super::storage::Coupling;

/// Lanes of the split accumulators of the dot products (fixes the summation order).
const LANES: usize = 8;

/// True when the AVX-512F build of the kernels can run on this CPU.
fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// True when the AVX2 build of the kernels can run on this CPU.
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Calls the widest build the CPU supports: `$avx512` (optional), `$avx2`, `$generic`.
macro_rules! dispatch {
    ($generic:ident, $avx2:ident, $avx512:ident, ($($arg:expr),*)) => {{
        #[cfg(target_arch = "x86_64")]
        {
            if has_avx512() {
                // SAFETY: the CPU supports AVX-512F (checked just above).
                return unsafe { $avx512($($arg),*) };
            }
        }
        dispatch!($generic, $avx2, ($($arg),*))
    }};
    ($generic:ident, $avx2:ident, ($($arg:expr),*)) => {{
        #[cfg(target_arch = "x86_64")]
        {
            if has_avx2() {
                // SAFETY: the CPU supports AVX2 (checked just above).
                return unsafe { $avx2($($arg),*) };
            }
        }
        $generic($($arg),*)
    }};
}

/// `h[j] += d * row[j]` for every `j`.
pub fn axpy<S: Coupling>(h: &mut [f64], d: f64, row: &[S]) {
    dispatch!(axpy_generic, axpy_avx2, axpy_avx512, (h, d, row))
}

#[inline(always)]
fn axpy_generic<S: Coupling>(h: &mut [f64], d: f64, row: &[S]) {
    for (hj, &c) in h.iter_mut().zip(row) {
        *hj += d * c.to_f64();
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn axpy_avx2<S: Coupling>(h: &mut [f64], d: f64, row: &[S]) {
    axpy_generic(h, d, row)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn axpy_avx512<S: Coupling>(h: &mut [f64], d: f64, row: &[S]) {
    axpy_generic(h, d, row)
}

/// `h += sum_r d_r row_r`, the rows added one after another to each element
/// (so bit-identical to calling `axpy` row by row) but streamed together in
/// groups of up to 8, which keeps several memory streams in flight.
pub fn add_rows<S: Coupling>(h: &mut [f64], rows: &[(f64, &[S])]) {
    let mut rest = rows;
    while !rest.is_empty() {
        let k = [8, 4, 2, 1].into_iter().find(|&k| k <= rest.len()).unwrap_or(1);
        let (group, tail) = rest.split_at(k);
        match k {
            8 => add_group::<S, 8>(h, group),
            4 => add_group::<S, 4>(h, group),
            2 => add_group::<S, 2>(h, group),
            _ => axpy(h, group[0].0, group[0].1),
        }
        rest = tail;
    }
}

fn add_group<S: Coupling, const K: usize>(h: &mut [f64], group: &[(f64, &[S])]) {
    let d: [f64; K] = std::array::from_fn(|k| group[k].0);
    let rows: [&[S]; K] = std::array::from_fn(|k| &group[k].1[..h.len()]);
    dispatch!(group_generic, group_avx2, group_avx512, (h, d, rows))
}

#[inline(always)]
fn group_generic<S: Coupling, const K: usize>(h: &mut [f64], d: [f64; K], rows: [&[S]; K]) {
    for (j, hj) in h.iter_mut().enumerate() {
        let mut acc = *hj;
        for k in 0..K {
            acc += d[k] * rows[k][j].to_f64();
        }
        *hj = acc;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn group_avx512<S: Coupling, const K: usize>(h: &mut [f64], d: [f64; K], rows: [&[S]; K]) {
    group_generic(h, d, rows)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn group_avx2<S: Coupling, const K: usize>(h: &mut [f64], d: [f64; K], rows: [&[S]; K]) {
    group_generic(h, d, rows)
}

/// `sum_j row[j] * x[j]` with `LANES` interleaved partial sums.
#[inline(always)]
fn dot<S: Coupling>(row: &[S], x: &[f64]) -> f64 {
    let mut acc = [0.0f64; LANES];
    let chunks = row.len() / LANES * LANES;
    for (r, xs) in row[..chunks].chunks_exact(LANES).zip(x[..chunks].chunks_exact(LANES)) {
        for l in 0..LANES {
            acc[l] += r[l].to_f64() * xs[l];
        }
    }
    let mut tail = 0.0;
    for (&r, &xj) in row[chunks..].iter().zip(&x[chunks..]) {
        tail += r.to_f64() * xj;
    }
    acc.iter().sum::<f64>() + tail
}

/// `h += d * S x` for a symmetric matrix `S` with zero diagonal stored as its
/// packed upper triangle (`packed::pair_index` order).
pub fn packed_symmetric_matvec_add<S: Coupling>(triangle: &[S], x: &[f64], d: f64, h: &mut [f64]) {
    dispatch!(matvec_generic, matvec_avx2, (triangle, x, d, h))
}

#[inline(always)]
fn matvec_generic<S: Coupling>(triangle: &[S], x: &[f64], d: f64, h: &mut [f64]) {
    let n = x.len();
    let mut offset = 0;
    for i in 0..n.saturating_sub(1) {
        let row = &triangle[offset..offset + n - i - 1];
        offset += row.len();
        let own = dot(row, &x[i + 1..]);
        if x[i] != 0.0 {
            axpy_generic(&mut h[i + 1..], d * x[i], row);
        }
        h[i] += d * own;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn matvec_avx2<S: Coupling>(triangle: &[S], x: &[f64], d: f64, h: &mut [f64]) {
    matvec_generic(triangle, x, d, h)
}

/// The unscaled gradient of `sum_{i<j<k} Y_ijk x_i x_j x_k`, in one pass over
/// the packed triples: `g_i = sum_{j<k; j,k != i} Y_ijk x_j x_k`. Each stored
/// triple adds to the three fields. Returns the polynomial itself (`x.g / 3`).
pub fn triple_gradient(triples: &[f32], x: &[f64], g: &mut [f64]) -> f64 {
    dispatch!(gradient_generic, gradient_avx2, (triples, x, g))
}

#[inline(always)]
fn gradient_generic(triples: &[f32], x: &[f64], g: &mut [f64]) -> f64 {
    let n = x.len();
    g.iter_mut().for_each(|v| *v = 0.0);
    let mut offset = 0;
    for i in 0..n.saturating_sub(2) {
        let mut gi = 0.0;
        for j in i + 1..n - 1 {
            let row = &triples[offset..offset + n - j - 1];
            offset += row.len();
            // One read of Y_ij. gives sum_k Y_ijk x_k (for g_i and g_j) and adds x_i x_j Y_ijk to g_k.
            let (head, tail) = g.split_at_mut(j + 1);
            let partial = dot_and_axpy(row, &x[j + 1..], tail, x[i] * x[j]);
            gi += x[j] * partial;
            head[j] += x[i] * partial;
        }
        g[i] += gi;
    }
    x.iter().zip(g.iter()).map(|(a, b)| a * b).sum::<f64>() / 3.0
}

/// Returns `sum_k row[k] x[k]` and does `g[k] += c row[k]`, in one pass.
#[inline(always)]
fn dot_and_axpy(row: &[f32], x: &[f64], g: &mut [f64], c: f64) -> f64 {
    let mut acc = [0.0f64; LANES];
    let chunks = row.len() / LANES * LANES;
    let (row_main, row_tail) = row.split_at(chunks);
    let (g_main, g_tail) = g[..row.len()].split_at_mut(chunks);
    for ((r, xs), gs) in row_main.chunks_exact(LANES).zip(x.chunks_exact(LANES)).zip(g_main.chunks_exact_mut(LANES)) {
        for l in 0..LANES {
            let y = r[l] as f64;
            acc[l] += y * xs[l];
            gs[l] += c * y;
        }
    }
    let mut tail = 0.0;
    for ((&r, &xk), gk) in row_tail.iter().zip(&x[chunks..]).zip(g_tail) {
        let y = r as f64;
        tail += y * xk;
        *gk += c * y;
    }
    acc.iter().sum::<f64>() + tail
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn gradient_avx2(triples: &[f32], x: &[f64], g: &mut [f64]) -> f64 {
    gradient_generic(triples, x, g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::packed;

    fn sample_x(n: usize) -> Vec<f64> {
        (0..n).map(|i| ((i * 7 + 3) as f64 * 0.61).sin()).collect()
    }

    #[test]
    fn gradient_matches_naive_sum_and_generic_build() {
        let n = 23;
        let x = sample_x(n);
        let y: Vec<f32> = (0..packed::len(n, 3)).map(|a| (a as f32 * 0.013).cos()).collect();
        let mut g = vec![0.0; n];
        let poly = triple_gradient(&y, &x, &mut g);
        let mut naive = vec![0.0; n];
        for i in 0..n {
            for j in i + 1..n {
                for k in j + 1..n {
                    let c = y[packed::triple_index(n, i, j, k)] as f64;
                    naive[i] += c * x[j] * x[k];
                    naive[j] += c * x[i] * x[k];
                    naive[k] += c * x[i] * x[j];
                }
            }
        }
        for i in 0..n {
            assert!((g[i] - naive[i]).abs() < 1e-10, "site {i}: {} vs {}", g[i], naive[i]);
        }
        assert!((poly - packed::triple_polynomial(&y, &x)).abs() < 1e-9);
        let mut g2 = vec![0.0; n];
        let poly2 = gradient_generic(&y, &x, &mut g2);
        assert_eq!(g, g2);
        assert_eq!(poly.to_bits(), poly2.to_bits());
    }

    #[test]
    fn row_kernels_agree_bit_for_bit_across_builds() {
        let n = 203;
        let rows: Vec<Vec<f32>> =
            (0..11).map(|r| (0..n).map(|j| ((r * n + j) as f32 * 0.77).sin()).collect()).collect();
        let list: Vec<(f64, &[f32])> =
            rows.iter().enumerate().map(|(r, v)| (if r % 2 == 0 { 2.0 } else { -2.0 }, &v[..])).collect();
        let start: Vec<f64> = (0..n).map(|j| (j as f64 * 0.1).cos()).collect();
        let mut fused = start.clone();
        add_rows(&mut fused, &list);
        let mut generic = start.clone();
        for &(d, row) in &list {
            axpy_generic(&mut generic, d, row);
        }
        let mut dispatched = start;
        for &(d, row) in &list {
            axpy(&mut dispatched, d, row);
        }
        assert!(fused.iter().zip(&generic).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(dispatched.iter().zip(&generic).all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    #[test]
    fn matvec_matches_dense_product() {
        let n = 19;
        let x = sample_x(n);
        let tri: Vec<f64> = (0..packed::len(n, 2)).map(|a| (a as f64 * 0.37).sin()).collect();
        let mut g = vec![0.0; n];
        packed_symmetric_matvec_add(&tri, &x, 1.0, &mut g);
        for i in 0..n {
            let expected: f64 =
                (0..n).filter(|&j| j != i).map(|j| tri[packed::pair_index(n, i.min(j), i.max(j))] * x[j]).sum();
            assert!((g[i] - expected).abs() < 1e-12);
        }
        let mut g2 = vec![0.0; n];
        matvec_generic(&tri, &x, 1.0, &mut g2);
        assert_eq!(g, g2);
    }
}
