//! Overlaps between configurations (PHYSICS.md section 9): with the planted
//! signal, between independent samples (`q_ab`) and the magnetisation. All
//! are normalised by N; the planted overlap is divided by `rho` for the sparse
//! prior and taken in absolute value for Z2-symmetric (even p) measures.

use crate::models::Prior;

/// A spin value stored compactly (i8 for discrete spins, f32/f64 for the sphere).
pub trait SpinValue: Copy {
    fn value(self) -> f64;
}

impl SpinValue for i8 {
    fn value(self) -> f64 {
        self as f64
    }
}

impl SpinValue for f32 {
    fn value(self) -> f64 {
        self as f64
    }
}

impl SpinValue for f64 {
    fn value(self) -> f64 {
        self
    }
}

/// `a.b / N`.
pub fn overlap<A: SpinValue, B: SpinValue>(a: &[A], b: &[B]) -> f64 {
    assert_eq!(a.len(), b.len(), "overlap: lengths differ");
    let dot: f64 = a.iter().zip(b).map(|(&u, &v)| u.value() * v.value()).sum();
    dot / a.len() as f64
}

/// `x.x* / (N rho)`, in absolute value when the measure is Z2-symmetric.
pub fn planted_overlap<A: SpinValue, B: SpinValue>(x: &[A], planted: &[B], prior: Prior, z2_symmetric: bool) -> f64 {
    let m = overlap(x, planted) / prior.rho();
    if z2_symmetric {
        m.abs()
    } else {
        m
    }
}

/// `q_ab = x_a.x_b / N` for every pair `a < b` of `samples`, in lexicographic order.
pub fn pairwise_overlaps<A: SpinValue>(samples: &[&[A]]) -> Vec<f64> {
    let mut q = Vec::with_capacity(samples.len() * samples.len().saturating_sub(1) / 2);
    for (a, xa) in samples.iter().enumerate() {
        for xb in &samples[a + 1..] {
            q.push(overlap(xa, xb));
        }
    }
    q
}

/// `sum_i x_i / N`.
pub fn magnetisation<A: SpinValue>(x: &[A]) -> f64 {
    x.iter().map(|v| v.value()).sum::<f64>() / x.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlaps_follow_their_definitions() {
        let a: [i8; 4] = [1, -1, 1, 0];
        let b: [i8; 4] = [1, 1, 1, -1];
        assert_eq!(overlap(&a, &b), 0.25);
        assert_eq!(magnetisation(&a), 0.25);
        let planted = [-1.0f32, 1.0, -1.0, 0.0];
        let sparse = Prior::SparseRademacher { rho: 0.5 };
        assert_eq!(planted_overlap(&a, &planted, sparse, true), 1.5);
        assert_eq!(planted_overlap(&a, &planted, sparse, false), -1.5);
        let c: [i8; 4] = [-1, -1, -1, -1];
        assert_eq!(pairwise_overlaps(&[&a[..], &b[..], &c[..]]), vec![0.25, -0.25, -0.5]);
    }
}
