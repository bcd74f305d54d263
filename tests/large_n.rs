//! Large-n physics: SK in the paramagnetic phase against the exact annealed
//! energy, and planted SK from a random start against the Bayes-optimal
//! overlap predicted by state evolution.

mod common;

use quench::eval::overlaps::planted_overlap;
use quench::eval::stats;
use quench::models::{Disorder, Prior};
use quench::observe::Silent;
use quench::samplers::metropolis::{self, MetropolisParams};
use quench::samplers::{Init, Precision, Rule};

fn params(chains: usize, sweeps: u64, burn_in: u64, rule: Rule) -> MetropolisParams {
    MetropolisParams { chains, sweeps, burn_in, record_every: 1, init: Init::Random, rule, precision: Precision::F64 }
}

#[test]
fn sk_high_temperature_energy_is_paramagnetic() {
    // T = 2, N = 500: E e = -(beta/2)(1 - 1/N) up to instance fluctuations O(beta/N) = 0.001.
    let d = Disorder::sk(500, 0.5, 41);
    let expected = d.equilibrium_energy_per_spin().unwrap();
    assert!((expected + 0.25 * (1.0 - 1.0 / 500.0)).abs() < 1e-12);
    let run = metropolis::run(&d, &params(4, 1500, 100, Rule::Metropolis), 1, &Silent).unwrap();
    let (_, s) = common::z_score(&common::energy_series(&run), expected);
    eprintln!("SK T=2: energy {:.5} +- {:.5} (tau {:.1}) vs {expected:.5}", s.mean, s.error_from_tau, s.tau_corr);
    assert!((s.mean - expected).abs() < 4.0 * s.error_from_tau + 0.002, "energy {} +- {}", s.mean, s.error_from_tau);
    assert!(s.error_from_tau < 0.001);
}

/// Bayes-optimal overlap of the Rademacher spiked matrix: the fixed point of
/// `m = E_z tanh(m/Delta + sqrt(m/Delta) z)` reached from m = 1 (trapezoid rule
/// on z in [-12, 12], exponentially accurate for this smooth Gaussian integrand).
fn se_overlap(delta: f64) -> f64 {
    let nodes = 4001;
    let h = 24.0 / (nodes - 1) as f64;
    let z: Vec<f64> = (0..nodes).map(|k| -12.0 + k as f64 * h).collect();
    let w: Vec<f64> = z.iter().map(|z| (-z * z / 2.0).exp() * h / (2.0 * std::f64::consts::PI).sqrt()).collect();
    let mut m = 1.0;
    for _ in 0..500 {
        let lam: f64 = m / delta;
        m = z.iter().zip(&w).map(|(z, w)| w * (lam + lam.sqrt() * z).tanh()).sum();
    }
    m
}

#[test]
fn planted_sk_overlap_matches_state_evolution() {
    assert!((se_overlap(0.49) - 0.632).abs() < 1e-3, "PHYSICS.md section 10: SE 0.632 at T = 0.7");
    // T = 0.5 (Delta = 0.25), N = 1000, random start: the chains find the planted state.
    let delta = 0.25;
    let m_se = se_overlap(delta);
    let d = Disorder::spiked_matrix(1000, Prior::Rademacher, delta, 43);
    let run = metropolis::run(&d, &params(4, 400, 200, Rule::HeatBath), 2, &Silent).unwrap();
    let planted = d.planted.as_ref().unwrap();
    let series: Vec<Vec<f64>> = run
        .chains
        .iter()
        .map(|c| c.samples.iter().map(|x| planted_overlap(x, planted, d.prior, true)).collect())
        .collect();
    let s = stats::statistics(&series);
    eprintln!(
        "planted SK T=0.5: |m| = {:.4} +- {:.4} (tau {:.1}) vs SE {m_se:.4}",
        s.mean, s.error_from_tau, s.tau_corr
    );
    // Finite-size spread of the overlap is O(N^-1/2) = 0.03.
    assert!((s.mean - m_se).abs() < 0.03, "overlap {} vs SE {m_se}", s.mean);
    // The random start reaches the equilibrium of this instance: same energy as
    // chains started at x* (an exact sample). The Nishimori value itself is
    // only matched up to the instance spread (about 0.02 at N = 1000).
    let e = stats::statistics(&common::energy_series(&run));
    let planted_params = MetropolisParams { init: Init::Planted, ..params(4, 400, 200, Rule::HeatBath) };
    let from_planted = metropolis::run(&d, &planted_params, 3, &Silent).unwrap();
    let e0 = stats::statistics(&common::energy_series(&from_planted));
    let nishimori = d.equilibrium_energy_per_spin().unwrap();
    let err = e.error_from_tau.hypot(e0.error_from_tau);
    eprintln!(
        "planted SK T=0.5: energy {:.4} (random start), {:.4} (planted start) +- {err:.4}, Nishimori {nishimori:.4}",
        e.mean, e0.mean
    );
    assert!((e.mean - e0.mean).abs() < 5.0 * err + 0.001);
    assert!((e.mean - nishimori).abs() < 0.04);
}
