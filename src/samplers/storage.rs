//! Coupling storage for the discrete samplers: the element type (f64 or f32)
//! and the unpacked layouts built once from a `Disorder`'s packed couplings,
//! already multiplied by `coupling_scale` so that `l(x) = sum_S c_S x_S - quadratic`.
//! p = 2: the dense symmetric N x N matrix, zero diagonal, one row per site.
//! p = 3: for every site k the packed triangle `c_ijk` over pairs i<j (zero
//! when i or j is k): the slice that an accepted change of `x_k` reads.

use serde::{Deserialize, Serialize};

use crate::models::{packed, Disorder};

/// Element type of stored couplings; fields and energies are always f64.
pub trait Coupling: Copy + Send + Sync + 'static {
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
}

impl Coupling for f64 {
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
}

impl Coupling for f32 {
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}

/// Which element type the samplers store couplings in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Precision {
    /// Exact products `coupling_scale * Y` (8 bytes per entry).
    #[default]
    F64,
    /// Half the memory traffic; couplings rounded to f32 (relative 6e-8).
    F32,
}

/// The scaled couplings of a p = 2 or p = 3 disorder in sampler layout.
#[derive(Debug, Clone)]
pub enum Interactions<S> {
    /// Dense row-major `n x n` matrix `c_ij`, zero diagonal.
    Pairs { n: usize, matrix: Vec<S> },
    /// `n` slices of `packed::len(n, 2)` entries: slice k holds `c_ijk` at `pair_index(i, j)`.
    Triples { n: usize, slices: Vec<S> },
}

impl<S: Coupling> Interactions<S> {
    /// Builds the layout for `disorder` (p must be 2 or 3).
    pub fn new(disorder: &Disorder) -> Interactions<S> {
        match disorder.p {
            2 => Self::pairs(disorder),
            3 => Self::triples(disorder),
            p => panic!("Interactions: unsupported order p = {p}"),
        }
    }

    fn pairs(disorder: &Disorder) -> Interactions<S> {
        let n = disorder.n;
        let scale = disorder.coupling_scale;
        let mut matrix = vec![S::from_f64(0.0); n * n];
        for i in 0..n {
            for j in i + 1..n {
                let c = S::from_f64(scale * disorder.couplings[packed::pair_index(n, i, j)] as f64);
                matrix[i * n + j] = c;
                matrix[j * n + i] = c;
            }
        }
        Interactions::Pairs { n, matrix }
    }

    fn triples(disorder: &Disorder) -> Interactions<S> {
        let n = disorder.n;
        let scale = disorder.coupling_scale;
        let width = packed::len(n, 2);
        let mut slices = vec![S::from_f64(0.0); n * width];
        let mut t = 0;
        for i in 0..n {
            for j in i + 1..n {
                for k in j + 1..n {
                    let c = S::from_f64(scale * disorder.couplings[t] as f64);
                    t += 1;
                    slices[k * width + packed::pair_index(n, i, j)] = c;
                    slices[j * width + packed::pair_index(n, i, k)] = c;
                    slices[i * width + packed::pair_index(n, j, k)] = c;
                }
            }
        }
        Interactions::Triples { n, slices }
    }

    pub fn n(&self) -> usize {
        match self {
            Interactions::Pairs { n, .. } | Interactions::Triples { n, .. } => *n,
        }
    }

    /// Bytes of coupling storage (the working set of one chain's updates).
    pub fn bytes(&self) -> usize {
        let len = match self {
            Interactions::Pairs { matrix, .. } => matrix.len(),
            Interactions::Triples { slices, .. } => slices.len(),
        };
        len * std::mem::size_of::<S>()
    }
}
