//! The p = 2 coupling matrix `J = coupling_scale * Y` (zero diagonal), stored
//! dense N x N in f32 or f64 and built once from the packed `i<j` triangle.
//! One AMP iteration is one matrix-vector product, memory-bound at large N:
//! rows are split into chunks of at least 64k couplings run on all cores
//! (rayon); each output element is one row's dot product with a fixed lane
//! order, so the result is independent of the thread count and the chunking.

use rayon::prelude::*;

use super::columns::{Columns, COLUMNS};
use super::hugepages::advise_huge_pages;
use super::kernels::Element;
use crate::models::packed;

/// Couplings per parallel task, at least (small matrices run as one task).
const TASK_ELEMENTS: usize = 1 << 16;

/// Dense symmetric matrix with zero diagonal.
#[derive(Debug, Clone)]
pub struct DenseMatrix<T> {
    n: usize,
    values: Vec<T>,
}

impl<T: Element> DenseMatrix<T> {
    /// `J_ij = scale * Y_ij` from a packed upper triangle of `n` variables.
    pub fn from_packed(n: usize, couplings: &[f32], scale: f64) -> DenseMatrix<T> {
        assert_eq!(couplings.len(), packed::len(n, 2), "packed triangle of {n} variables");
        let mut values = vec![T::default(); n * n];
        advise_huge_pages(&mut values);
        values.par_chunks_mut(n.max(1)).enumerate().for_each(|(i, row)| {
            for (j, v) in row.iter_mut().enumerate() {
                let stored = match j.cmp(&i) {
                    std::cmp::Ordering::Less => couplings[packed::pair_index(n, j, i)],
                    std::cmp::Ordering::Greater => couplings[packed::pair_index(n, i, j)],
                    std::cmp::Ordering::Equal => 0.0,
                };
                *v = T::from_f64(scale * stored as f64);
            }
        });
        DenseMatrix { n, values }
    }

    pub fn n(&self) -> usize {
        self.n
    }

    /// Bytes of couplings read per product.
    pub fn bytes(&self) -> usize {
        self.values.len() * std::mem::size_of::<T>()
    }

    /// `out = J x` (accumulated in f64 per block of the row).
    pub fn apply(&self, x: &[T], out: &mut [f64]) {
        let n = self.n;
        assert!(x.len() == n && out.len() == n);
        let rows_per_task = TASK_ELEMENTS.div_ceil(n.max(1)).next_multiple_of(T::ROWS);
        out.par_chunks_mut(rows_per_task).enumerate().for_each(|(c, out_rows)| {
            let first = c * rows_per_task;
            T::rows_times_vector(&self.values[first * n..(first + out_rows.len()) * n], x, out_rows);
        });
    }
}

impl<T: Columns> DenseMatrix<T> {
    /// Batched product `out[i][c] = sum_j J_ij x[j][c]` for `COLUMNS`
    /// interleaved vectors: the matrix is read once for all of them.
    pub fn apply_columns(&self, x: &[[T; COLUMNS]], out: &mut [[f64; COLUMNS]]) {
        let n = self.n;
        assert!(x.len() == n && out.len() == n);
        let rows_per_task = (TASK_ELEMENTS / COLUMNS).div_ceil(n.max(1)).next_multiple_of(T::COLUMN_ROWS);
        out.par_chunks_mut(rows_per_task).enumerate().for_each(|(c, out_rows)| {
            let first = c * rows_per_task;
            T::rows_times_columns(&self.values[first * n..(first + out_rows.len()) * n], x, out_rows);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_vector_product_matches_packed_polynomial_gradient() {
        let n = 37;
        let y: Vec<f32> = (0..packed::len(n, 2)).map(|a| (a as f32 * 0.21).sin()).collect();
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.4).cos()).collect();
        let m64 = DenseMatrix::<f64>::from_packed(n, &y, 2.0);
        let m32 = DenseMatrix::<f32>::from_packed(n, &y, 2.0);
        let (mut out64, mut out32) = (vec![0.0; n], vec![0.0; n]);
        m64.apply(&x, &mut out64);
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        m32.apply(&x32, &mut out32);
        for i in 0..n {
            let expected: f64 = (0..n)
                .filter(|&j| j != i)
                .map(|j| 2.0 * y[packed::pair_index(n, i.min(j), i.max(j))] as f64 * x[j])
                .sum();
            assert!((out64[i] - expected).abs() < 1e-12);
            assert!((out32[i] - expected).abs() < 1e-4);
        }
    }
}
