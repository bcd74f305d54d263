//! The i.i.d. priors of the planted signal and of the spins: Rademacher (+-1),
//! sparse Rademacher ({0, +-1} with density rho) and the sphere |x|^2 = N.

use serde::{Deserialize, Serialize};

use crate::rng::Rng;
use rand::Rng as _;
use rand_distr::StandardNormal;

/// Prior of each variable.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Prior {
    /// +-1 with probability 1/2 each.
    Rademacher,
    /// 0 with probability 1-rho, else +-1 with probability rho/2 each.
    SparseRademacher { rho: f64 },
    /// Uniform on the sphere x.x = N.
    Spherical,
}

impl Prior {
    /// The name used in pipeline files.
    pub fn name(&self) -> &'static str {
        match self {
            Prior::Rademacher => "rademacher",
            Prior::SparseRademacher { .. } => "sparse-rademacher",
            Prior::Spherical => "spherical",
        }
    }

    /// Density of non-zero variables, `E x^2` (1 except for the sparse prior).
    pub fn rho(&self) -> f64 {
        match self {
            Prior::SparseRademacher { rho } => *rho,
            _ => 1.0,
        }
    }

    /// True when every configuration has the same `x.x` (Ising, sphere).
    pub fn has_fixed_norm(&self) -> bool {
        !matches!(self, Prior::SparseRademacher { .. })
    }

    /// Draws `n` i.i.d. variables (for the sphere: a uniform point of radius sqrt(n)).
    pub fn sample(&self, n: usize, rng: &mut Rng) -> Vec<f64> {
        match *self {
            Prior::Rademacher => (0..n).map(|_| rademacher(rng)).collect(),
            Prior::SparseRademacher { rho } => {
                (0..n).map(|_| if rng.random::<f64>() < rho { rademacher(rng) } else { 0.0 }).collect()
            }
            Prior::Spherical => {
                let mut x: Vec<f64> = (0..n).map(|_| rng.sample(StandardNormal)).collect();
                project_to_sphere(&mut x);
                x
            }
        }
    }
}

fn rademacher(rng: &mut Rng) -> f64 {
    if rng.random::<bool>() {
        1.0
    } else {
        -1.0
    }
}

/// Rescales `x` in place to `x.x = x.len()`.
pub fn project_to_sphere(x: &mut [f64]) {
    let norm2: f64 = x.iter().map(|v| v * v).sum();
    if norm2 > 0.0 {
        let scale = (x.len() as f64 / norm2).sqrt();
        x.iter_mut().for_each(|v| *v *= scale);
    }
}
