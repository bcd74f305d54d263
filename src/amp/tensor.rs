//! The p = 3 contraction `S_i = scale * sum_{j<k; j,k != i} Y_ijk x_j x_k` in one
//! pass over the packed `i<j<k` couplings: each stored triple adds to three
//! fields. The couplings are re-stored in the padded, block-aligned row
//! groups of `tensor_kernel`; the
//! slabs are cut into a fixed number of chunks, each accumulating its own
//! partial field, and the partials are summed in chunk order, so the result
//! does not depend on the number of threads.

use std::ops::Range;

use rayon::prelude::*;

use super::hugepages::advise_huge_pages;
use super::tensor_kernel::{row_groups, slab_blocks, tensor_slabs, Block, LANES};
use crate::models::packed;

/// Number of slab chunks (fixed: it defines the summation order).
const CHUNKS: usize = 8;

/// Packed symmetric 3-tensor with zero-padded rows.
#[derive(Debug, Clone)]
pub struct PackedTensor {
    n: usize,
    scale: f64,
    values: Vec<Block>,
    /// `slab_offsets[i]`: first block of slab `i` in `values` (length `n + 1`).
    slab_offsets: Vec<usize>,
    chunks: Vec<Range<usize>>,
}

/// Reusable buffers of one contraction.
#[derive(Debug, Clone, Default)]
pub struct TensorWork {
    x: Vec<Block>,
    scratch: Vec<Vec<Block>>,
    partial: Vec<Vec<f64>>,
}

impl PackedTensor {
    /// From `C(n,3)` couplings in `models::packed` order; the field is multiplied by `scale`.
    pub fn from_packed(n: usize, couplings: &[f32], scale: f64) -> PackedTensor {
        assert_eq!(couplings.len(), packed::len(n, 3), "packed 3-tensor of {n} variables");
        let mut slab_offsets = vec![0; n + 1];
        for i in 0..n {
            slab_offsets[i + 1] = slab_offsets[i] + slab_blocks(n, i);
        }
        let mut values = vec![Block::default(); slab_offsets[n]];
        advise_huge_pages(&mut values);
        let mut slabs = split_by_offsets(&mut values, &slab_offsets);
        slabs.par_iter_mut().enumerate().for_each(|(i, slab)| fill_slab(n, i, couplings, slab));
        let chunks = balanced_chunks(&slab_offsets, CHUNKS);
        PackedTensor { n, scale, values, slab_offsets, chunks }
    }

    pub fn n(&self) -> usize {
        self.n
    }

    /// Bytes of couplings read per contraction.
    pub fn bytes(&self) -> usize {
        self.values.len() * std::mem::size_of::<Block>()
    }

    /// `out_i = scale * sum_{j<k; j,k != i} Y_ijk x_j x_k`.
    pub fn contract(&self, x: &[f64], out: &mut [f64], work: &mut TensorWork) {
        let n = self.n;
        assert!(x.len() == n && out.len() == n);
        let blocks = n.div_ceil(LANES);
        work.x.clear();
        work.x.resize(blocks, Block::default());
        for (i, &v) in x.iter().enumerate() {
            work.x[i / LANES].0[i % LANES] = v as f32;
        }
        work.scratch.resize_with(self.chunks.len(), Vec::new);
        work.partial.resize_with(self.chunks.len(), Vec::new);
        let xs = &work.x;
        (&self.chunks, &mut work.scratch, &mut work.partial).into_par_iter().for_each(|(slabs, scratch, partial)| {
            scratch.resize(blocks, Block::default());
            partial.clear();
            partial.resize(n, 0.0);
            let values = &self.values[self.slab_offsets[slabs.start]..self.slab_offsets[slabs.end]];
            tensor_slabs(values, slabs.clone(), xs, scratch, partial);
        });
        out.fill(0.0);
        for partial in &work.partial {
            out.iter_mut().zip(partial).for_each(|(o, p)| *o += p);
        }
        out.iter_mut().for_each(|o| *o *= self.scale);
    }
}

impl PackedTensor {
    /// `outs[c] = S(xs[c])` for several vectors in one pass over the couplings:
    /// each chunk is cut into runs of slabs of about `RUN_BYTES` (cache-resident)
    /// and every vector is contracted with a run before the next run is read,
    /// so memory traffic is that of one contraction. Each `outs[c]` is
    /// bit-identical to `contract(xs[c])` (the per-slab flushes and the chunk
    /// order of the sums are the same).
    pub fn contract_many(&self, xs: &[&[f64]], outs: &mut [&mut [f64]], work: &mut ManyWork) {
        let (n, columns) = (self.n, xs.len());
        assert!(outs.len() == columns && xs.iter().all(|x| x.len() == n) && outs.iter().all(|o| o.len() == n));
        let blocks = n.div_ceil(LANES);
        work.x.resize_with(columns, Vec::new);
        for (xb, x) in work.x.iter_mut().zip(xs) {
            xb.clear();
            xb.resize(blocks, Block::default());
            for (i, &v) in x.iter().enumerate() {
                xb[i / LANES].0[i % LANES] = v as f32;
            }
        }
        let chunks = self.chunks.len();
        work.scratch.resize_with(chunks, Vec::new);
        work.partial.resize_with(chunks, Vec::new);
        let xs_blocks = &work.x[..columns];
        (&self.chunks, &mut work.scratch, &mut work.partial).into_par_iter().for_each(|(slabs, scratch, partial)| {
            scratch.resize(blocks, Block::default());
            partial.resize_with(columns, Vec::new);
            partial.iter_mut().for_each(|p| {
                p.clear();
                p.resize(n, 0.0)
            });
            let mut start = slabs.start;
            while start < slabs.end {
                let mut end = start + 1;
                let run_bytes = |end: usize| (self.slab_offsets[end] - self.slab_offsets[start]) * size_of::<Block>();
                while end < slabs.end && run_bytes(end + 1) <= RUN_BYTES {
                    end += 1;
                }
                let values = &self.values[self.slab_offsets[start]..self.slab_offsets[end]];
                for (x, p) in xs_blocks.iter().zip(partial.iter_mut()) {
                    tensor_slabs(values, start..end, x, scratch, p);
                }
                start = end;
            }
        });
        for (c, out) in outs.iter_mut().enumerate() {
            out.fill(0.0);
            for partial in &work.partial {
                out.iter_mut().zip(&partial[c]).for_each(|(o, p)| *o += p);
            }
            out.iter_mut().for_each(|o| *o *= self.scale);
        }
    }
}

/// Couplings read per run of `contract_many` (fits in a core's L2 cache).
const RUN_BYTES: usize = 256 << 10;

/// Reusable buffers of `contract_many`.
#[derive(Debug, Clone, Default)]
pub struct ManyWork {
    x: Vec<Vec<Block>>,
    scratch: Vec<Vec<Block>>,
    /// Per chunk, per vector.
    partial: Vec<Vec<Vec<f64>>>,
}

/// Copies slab `i` from the packed order into its padded row groups.
fn fill_slab(n: usize, i: usize, couplings: &[f32], slab: &mut [Block]) {
    let mut at = 0;
    for g in row_groups(n, i) {
        for (r, j) in (g.j0..g.j0 + g.rows).enumerate() {
            let from = packed::triple_index(n, i, j, j + 1);
            for (k, &v) in (j + 1..n).zip(&couplings[from..from + (n - j - 1)]) {
                let local = k - g.first * LANES;
                slab[at + (local / LANES) * g.rows + r].0[local % LANES] = v;
            }
        }
        at += g.rows * g.blocks;
    }
}

fn split_by_offsets<'a>(values: &'a mut [Block], offsets: &[usize]) -> Vec<&'a mut [Block]> {
    let mut rest = values;
    let mut out = Vec::with_capacity(offsets.len() - 1);
    for w in offsets.windows(2) {
        let (slab, tail) = rest.split_at_mut(w[1] - w[0]);
        out.push(slab);
        rest = tail;
    }
    out
}

/// Cuts slabs `0..n` into at most `count` consecutive ranges of similar stored length.
fn balanced_chunks(offsets: &[usize], count: usize) -> Vec<Range<usize>> {
    let n = offsets.len() - 1;
    let total = offsets[n].max(1);
    let mut chunks = Vec::with_capacity(count);
    let mut start = 0;
    for c in 1..=count {
        let target = total * c / count;
        let mut end = start;
        while end < n && (offsets[end] < target || c == count) {
            end += 1;
        }
        if end > start {
            chunks.push(start..end);
        }
        start = end;
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pass_contraction_matches_naive_sum() {
        for n in [3, 5, 17, 40] {
            let y: Vec<f32> = (0..packed::len(n, 3)).map(|a| ((a * 37 % 101) as f32 / 50.0) - 1.0).collect();
            let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.61).cos()).collect();
            let t = PackedTensor::from_packed(n, &y, 0.5);
            let mut out = vec![0.0; n];
            t.contract(&x, &mut out, &mut TensorWork::default());
            for (i, &got) in out.iter().enumerate() {
                let mut s = 0.0;
                for j in 0..n {
                    for k in j + 1..n {
                        if j != i && k != i {
                            let mut idx = [i, j, k];
                            idx.sort();
                            let v = y[packed::triple_index(n, idx[0], idx[1], idx[2])] as f64;
                            s += v * (x[j] as f32 as f64) * (x[k] as f32 as f64);
                        }
                    }
                }
                assert!((got - 0.5 * s).abs() < 1e-4 * (1.0 + s.abs()), "n={n} i={i}: {got} vs {}", 0.5 * s);
            }
        }
    }

    #[test]
    fn contract_many_is_bitwise_contract() {
        for n in [5, 40, 130] {
            let y: Vec<f32> = (0..packed::len(n, 3)).map(|a| ((a * 37 % 101) as f32 / 50.0) - 1.0).collect();
            let t = PackedTensor::from_packed(n, &y, 0.5);
            let xs: Vec<Vec<f64>> =
                (0..3).map(|c| (0..n).map(|i| (i as f64 * 0.61 + c as f64).cos()).collect()).collect();
            let mut outs = vec![vec![0.0; n]; 3];
            let x_refs: Vec<&[f64]> = xs.iter().map(|x| x.as_slice()).collect();
            let mut out_refs: Vec<&mut [f64]> = outs.iter_mut().map(|o| o.as_mut_slice()).collect();
            t.contract_many(&x_refs, &mut out_refs, &mut ManyWork::default());
            for (x, out) in xs.iter().zip(&outs) {
                let mut single = vec![0.0; n];
                t.contract(x, &mut single, &mut TensorWork::default());
                assert_eq!(&single, out, "n = {n}");
            }
        }
    }

    #[test]
    fn chunks_cover_all_slabs() {
        let offsets: Vec<usize> = (0..=30).map(|i| 1000 - (30 - i) * (30 - i)).collect();
        let chunks = balanced_chunks(&offsets, 8);
        assert_eq!(chunks.first().unwrap().start, 0);
        assert_eq!(chunks.last().unwrap().end, 30);
        assert!(chunks.windows(2).all(|w| w[0].end == w[1].start));
    }
}
