//! The Bethe free entropy of a BP state (PHYSICS.md section 13), per vertex:
//! `(1/N)[Σ_i ln Z_i + Σ_a ln Z_a - Σ_(i,a) ln Z_ia]` with
//! `ln Z_i = ln 2cosh H_i - Σ_a ln 2cosh u_{a->i}` (a clamped vertex of color
//! `s` keeps only its allowed color: `Σ_a (s u_{a->i} - ln 2cosh u_{a->i})`),
//! `ln Z_a = ln(1 - Π p_j^+ - Π p_j^-)` over the cavity fields, and
//! `ln Z_ia = ln cosh(h + u) - ln cosh h - ln cosh u - ln 2`. On a tree at a BP
//! fixed point this is `(1/N) ln Σ_x Π_a ψ_a(x) exp(Σ_free B_i x_i)` exactly.

use rayon::prelude::*;

use super::{probabilities, BpState, CLAMP};
use crate::models::bicoloring::{Bicoloring, K_RANGE};

/// `ln 2cosh x` without overflow.
fn ln_2cosh(x: f64) -> f64 {
    x.abs() + (-2.0 * x.abs()).exp().ln_1p()
}

/// `ln cosh x`.
fn ln_cosh(x: f64) -> f64 {
    ln_2cosh(x) - std::f64::consts::LN_2
}

/// Bethe free entropy per vertex of `state` on `graph`.
pub fn bethe_free_entropy(graph: &Bicoloring, state: &BpState) -> f64 {
    let k = graph.k;
    let vertices: f64 = chunked_sum(graph.n, 4096, |i| {
        let (b, h) = (state.external[i], state.field(i));
        let slots = graph.vertex_slots(i).iter().map(|&s| state.u[s as usize]);
        if b.abs() >= CLAMP {
            let s = b.signum();
            slots.map(|u| s * u - ln_2cosh(u)).sum::<f64>()
        } else {
            ln_2cosh(h) - slots.map(ln_2cosh).sum::<f64>()
        }
    });
    let edges: f64 = chunked_sum(graph.m(), 2048, |a| {
        let (mut plus, mut minus) = ([0.0; K_RANGE.1], [0.0; K_RANGE.1]);
        let mut links = 0.0;
        for (j, &v) in graph.edge(a).iter().enumerate() {
            let u = state.u[a * k + j];
            let h = state.field(v as usize) - u;
            (plus[j], minus[j]) = probabilities(h);
            links += ln_cosh(h + u) - ln_cosh(h) - ln_cosh(u) - std::f64::consts::LN_2;
        }
        let (mut not_all_plus, mut prefix) = (0.0, 1.0);
        for j in 0..k {
            not_all_plus += minus[j] * prefix;
            prefix *= plus[j];
        }
        let all_minus: f64 = minus[..k].iter().product();
        (not_all_plus - all_minus).max(f64::MIN_POSITIVE).ln() - links
    });
    (vertices + edges) / graph.n as f64
}

/// `Σ_{i<len} f(i)` in fixed chunks summed in order: the same bits for any thread count.
pub(crate) fn chunked_sum(len: usize, chunk: usize, f: impl Fn(usize) -> f64 + Sync) -> f64 {
    let starts: Vec<usize> = (0..len).step_by(chunk).collect();
    let partial: Vec<f64> = starts.into_par_iter().map(|s| (s..(s + chunk).min(len)).map(&f).sum::<f64>()).collect();
    partial.iter().sum()
}
