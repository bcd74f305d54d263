//! Metropolis, heat-bath and parallel tempering against exact enumeration
//! (n <= 16) on the three discrete models: mean energy and every single-site
//! marginal by z-tests with the autocorrelation-corrected standard error
//! (|z| < 4.5: about 100 tests at once), P(q) by a chi-square test (p > 1e-3).

mod common;

use quench::eval::exact::enumerate;
use quench::models::{delta_from_temperature, Disorder, Prior};
use quench::observe::Silent;
use quench::samplers::metropolis::{self, MetropolisParams};
use quench::samplers::tempering::{self, Ladder, TemperingParams};
use quench::samplers::{Init, Precision, Rule};

const Z_MAX: f64 = 4.5;

fn params(rule: Rule, sweeps: u64) -> MetropolisParams {
    MetropolisParams {
        chains: 16,
        sweeps,
        burn_in: 200,
        record_every: 2,
        init: Init::Random,
        rule,
        precision: Precision::F64,
    }
}

fn check_both_rules(label: &str, disorder: &Disorder, sweeps: u64) {
    let exact = enumerate(disorder).unwrap();
    for rule in [Rule::Metropolis, Rule::HeatBath] {
        let run = metropolis::run(disorder, &params(rule, sweeps), 17, &Silent).unwrap();
        common::assert_agrees(&format!("{label} {rule:?}"), &run, &exact, Z_MAX);
    }
}

#[test]
fn sk_matches_exact_enumeration() {
    // SK at T = 0.8 (spin-glass phase), n = 14.
    check_both_rules("SK", &Disorder::sk(14, 1.25, 3), 40_000);
}

#[test]
fn sparse_spiked_matrix_matches_exact_enumeration() {
    // rho = 0.4, Delta / rho^2 = 0.8 (above the spectral threshold), n = 10.
    let rho = 0.4;
    let d = Disorder::spiked_matrix(10, Prior::SparseRademacher { rho }, 0.8 * rho * rho, 5);
    check_both_rules("sparse", &d, 40_000);
}

#[test]
fn ising_spiked_tensor_matches_exact_enumeration() {
    // p = 3, T = 0.8, n = 12.
    let d = Disorder::spiked_tensor(12, Prior::Rademacher, delta_from_temperature(3, 0.8), 7);
    check_both_rules("ising3", &d, 40_000);
}

#[test]
fn parallel_tempering_matches_exact_enumeration() {
    // p = 3 at T = 0.5: several replicas down to beta/3.
    let d = Disorder::spiked_tensor(12, Prior::Rademacher, delta_from_temperature(3, 0.5), 9);
    let exact = enumerate(&d).unwrap();
    let params = TemperingParams {
        chains: 16,
        sweeps: 20_000,
        burn_in: 200,
        record_every: 2,
        init: Init::Random,
        rule: Rule::Metropolis,
        precision: Precision::F64,
        ladder: Ladder::Geometric { replicas: 4, min_ratio: 1.0 / 3.0 },
    };
    let run = tempering::run(&d, &params, 23, &Silent).unwrap();
    assert!(run.swap_acceptance.iter().all(|&a| a > 0.2 && a < 1.0), "swap acceptance {:?}", run.swap_acceptance);
    assert!((run.betas[3] - d.beta()).abs() < 1e-12 && (run.betas[0] - d.beta() / 3.0).abs() < 1e-12);
    common::assert_agrees("tempering", &run.spins, &exact, Z_MAX);
}
