//! Same seed, same output, whatever the number of threads (1 vs 2, local pools).

use quench::models::{delta_from_temperature, Disorder, Prior};
use quench::observe::Silent;
use quench::samplers::langevin::{self, LangevinParams};
use quench::samplers::metropolis::{self, MetropolisParams};
use quench::samplers::tempering::{self, Ladder, TemperingParams};
use quench::samplers::{Init, Precision, Rule};

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
}

fn same_for_1_and_2_threads<T: PartialEq + std::fmt::Debug + Send>(f: impl Fn() -> T + Sync) {
    let one = in_pool(1, &f);
    let two = in_pool(2, &f);
    assert_eq!(one, two);
}

#[test]
fn metropolis_is_thread_count_independent() {
    let sk = Disorder::sk(300, 1.2, 1);
    let tensor = Disorder::spiked_tensor(30, Prior::Rademacher, 0.4, 2);
    let sparse = Disorder::spiked_matrix(80, Prior::SparseRademacher { rho: 0.2 }, 0.03, 3);
    for (d, rule, precision) in [
        (&sk, Rule::Metropolis, Precision::F32),
        (&tensor, Rule::HeatBath, Precision::F64),
        (&sparse, Rule::Metropolis, Precision::F64),
    ] {
        let params = MetropolisParams {
            chains: 5,
            sweeps: 200,
            burn_in: 10,
            record_every: 7,
            init: Init::Random,
            rule,
            precision,
        };
        same_for_1_and_2_threads(|| metropolis::run(d, &params, 42, &Silent).unwrap());
    }
}

#[test]
fn tempering_and_langevin_are_thread_count_independent() {
    let d = Disorder::spiked_tensor(20, Prior::Rademacher, 0.3, 4);
    let params = TemperingParams {
        chains: 3,
        sweeps: 300,
        burn_in: 0,
        record_every: 10,
        init: Init::Planted,
        rule: Rule::HeatBath,
        precision: Precision::F64,
        ladder: Ladder::Geometric { replicas: 3, min_ratio: 0.5 },
    };
    same_for_1_and_2_threads(|| tempering::run(&d, &params, 7, &Silent).unwrap());
    let d = Disorder::spiked_tensor(40, Prior::Spherical, delta_from_temperature(3, 0.8), 5);
    let params = LangevinParams { chains: 3, steps: 300, burn_in: 10, record_every: 20, dt: 0.01, init: Init::Random };
    same_for_1_and_2_threads(|| langevin::run(&d, &params, 9, &Silent).unwrap());
}

#[test]
fn different_seeds_give_different_chains() {
    let d = Disorder::sk(50, 1.0, 1);
    let params = MetropolisParams {
        chains: 2,
        sweeps: 20,
        burn_in: 0,
        record_every: 20,
        init: Init::Random,
        rule: Rule::Metropolis,
        precision: Precision::F64,
    };
    let a = metropolis::run(&d, &params, 1, &Silent).unwrap();
    let b = metropolis::run(&d, &params, 2, &Silent).unwrap();
    assert_ne!(a.chains[0].samples, b.chains[0].samples);
    assert_ne!(a.chains[0].samples, a.chains[1].samples);
}
