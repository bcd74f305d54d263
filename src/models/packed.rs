//! Packed storage of symmetric couplings with distinct indices: the upper
//! triangle `i<j` of a matrix or the `i<j<k` entries of a 3-tensor, in
//! lexicographic order. Index arithmetic and the polynomial `sum_S v_S x_S`.

/// Number of stored entries for `n` variables and order `p` (C(n, p)).
pub fn len(n: usize, p: usize) -> usize {
    match p {
        1 => n,
        2 => n * n.saturating_sub(1) / 2,
        3 => n * n.saturating_sub(1) * n.saturating_sub(2) / 6,
        _ => 0,
    }
}

/// Offset of the first pair `(i, i+1)` of row `i` in the packed triangle.
pub fn pair_row_offset(n: usize, i: usize) -> usize {
    i * (2 * n - i - 1) / 2
}

/// Position of the pair `i < j`.
pub fn pair_index(n: usize, i: usize, j: usize) -> usize {
    debug_assert!(i < j && j < n);
    pair_row_offset(n, i) + (j - i - 1)
}

/// Offset of the first triple `(i, i+1, i+2)` of slab `i`.
pub fn triple_slab_offset(n: usize, i: usize) -> usize {
    len(n, 3) - len(n - i, 3)
}

/// Position of the triple `i < j < k`.
pub fn triple_index(n: usize, i: usize, j: usize, k: usize) -> usize {
    debug_assert!(i < j && j < k && k < n);
    // Inside slab i the pairs (j, k) form the packed triangle of the n-i-1 variables after i.
    let m = n - i - 1;
    triple_slab_offset(n, i) + pair_index(m, j - i - 1, k - i - 1)
}

/// `sum_{i<j} v_ij x_i x_j` over a packed triangle, accumulated in f64.
pub fn pair_polynomial(values: &[f32], x: &[f64]) -> f64 {
    let n = x.len();
    let mut total = 0.0;
    let mut offset = 0;
    for i in 0..n {
        let row = &values[offset..offset + (n - i - 1)];
        let dot: f64 = row.iter().zip(&x[i + 1..]).map(|(&v, &xj)| v as f64 * xj).sum();
        total += x[i] * dot;
        offset += n - i - 1;
    }
    total
}

/// `sum_{i<j<k} v_ijk x_i x_j x_k` over packed triples, accumulated in f64.
pub fn triple_polynomial(values: &[f32], x: &[f64]) -> f64 {
    let n = x.len();
    let mut total = 0.0;
    let mut offset = 0;
    for i in 0..n {
        let m = n - i - 1;
        let slab = &values[offset..offset + len(m, 2)];
        total += x[i] * pair_polynomial(slab, &x[i + 1..]);
        offset += slab.len();
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_enumerate_in_lexicographic_order() {
        let n = 9;
        let mut expected = 0;
        for i in 0..n {
            for j in i + 1..n {
                assert_eq!(pair_index(n, i, j), expected);
                expected += 1;
            }
        }
        assert_eq!(expected, len(n, 2));
        let mut expected = 0;
        for i in 0..n {
            for j in i + 1..n {
                for k in j + 1..n {
                    assert_eq!(triple_index(n, i, j, k), expected);
                    expected += 1;
                }
            }
        }
        assert_eq!(expected, len(n, 3));
    }

    #[test]
    fn polynomials_match_naive_sums() {
        let n = 7;
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        let pairs: Vec<f32> = (0..len(n, 2)).map(|a| (a as f32 * 0.11).cos()).collect();
        let triples: Vec<f32> = (0..len(n, 3)).map(|a| (a as f32 * 0.07).cos()).collect();
        let (mut s2, mut s3) = (0.0, 0.0);
        for i in 0..n {
            for j in i + 1..n {
                s2 += pairs[pair_index(n, i, j)] as f64 * x[i] * x[j];
                for k in j + 1..n {
                    s3 += triples[triple_index(n, i, j, k)] as f64 * x[i] * x[j] * x[k];
                }
            }
        }
        assert!((pair_polynomial(&pairs, &x) - s2).abs() < 1e-12);
        assert!((triple_polynomial(&triples, &x) - s3).abs() < 1e-12);
    }
}
