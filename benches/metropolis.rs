//! Throughput of the samplers' hot loops, single chain:
//! - Metropolis on SK, sequential sweeps, n = 1000 / 4000, beta = 0.5 / 1.5,
//!   f64 and f32 couplings: criterion's "elements" are spin-flip attempts;
//! - Langevin on the spherical 3-tensor at n = 200: one gradient (the tensor
//!   contraction) and one full step.
//!
//! cargo bench --bench metropolis [-- FILTER]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;

use quench::models::{delta_from_temperature, Disorder, Prior};
use quench::rng;
use quench::samplers::{langevin, Coupling, Rule, SpinModel, SpinState};

fn metropolis_case<S: Coupling>(c: &mut Criterion, n: usize, beta: f64, name: &str) {
    let disorder = Disorder::sk(n, beta, 0);
    let model = SpinModel::<S>::new(&disorder);
    let mut rng = rng::stream(0, "chain", 0);
    let x = disorder.prior.sample(n, &mut rng).iter().map(|&v| v as i8).collect();
    let mut state = SpinState::new(&model, x);
    for _ in 0..20 {
        state.sweep(&model, Rule::Metropolis, 1.0, &mut rng);
    }
    let mut group = c.benchmark_group("metropolis_sk");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(BenchmarkId::new(name, format!("n{n}_beta{beta}")), |b| {
        b.iter(|| state.sweep(&model, Rule::Metropolis, 1.0, &mut rng))
    });
    group.finish();
}

fn metropolis(c: &mut Criterion) {
    for n in [1000, 4000] {
        for beta in [0.5, 1.5] {
            metropolis_case::<f64>(c, n, beta, "f64");
            metropolis_case::<f32>(c, n, beta, "f32");
        }
    }
}

fn langevin_spherical(c: &mut Criterion) {
    let n = 200;
    let d = Disorder::spiked_tensor(n, Prior::Spherical, delta_from_temperature(3, 0.8), 1);
    let mut x = d.planted_f64().unwrap();
    let mut g = vec![0.0; n];
    let mut rng = rng::stream(0, "chain", 0);
    let mut group = c.benchmark_group("langevin_sph3_n200");
    group.sample_size(30).measurement_time(Duration::from_secs(3));
    group.bench_function("gradient", |b| b.iter(|| langevin::gradient(&d, &x, &mut g)));
    group.bench_function("step", |b| {
        b.iter(|| {
            langevin::gradient(&d, &x, &mut g);
            langevin::step(&mut x, &g, 0.002, &mut rng)
        })
    });
    group.finish();
}

criterion_group!(benches, metropolis, langevin_spherical);
criterion_main!(benches);
