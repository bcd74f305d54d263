//! AMP benchmarks: one iteration of dense spiked-matrix AMP at N = 4000 (f32
//! and f64 storage; memory-bound, throughput in bytes of couplings read) and
//! the one-pass p = 3 contraction / iteration at N = 200, each on rayon pools
//! of 1 and 2 threads. Compare with `/work/shared/bench/stream.c` (read
//! bandwidth) and `amp_numpy.py` run in the same session.
//!
//! Each measurement loop runs inside its pool (`pool.install` once, not per
//! iteration, whose cross-thread hand-off would cost ~0.1 ms).
//!
//! Run: `cargo bench --bench amp`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use quench::amp::{Amp, AmpParams, Measure, Precision, Work};
use quench::models::{Disorder, Prior};
use rayon::ThreadPool;

fn pool(threads: usize) -> ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool")
}

/// An undamped AMP started from `0.3 x*` (an informative, non-trivial iterate).
fn amp_and_state(d: &Disorder, precision: Precision) -> (Amp, quench::amp::AmpState) {
    let amp = Amp::new(d, precision, AmpParams { damping: 0.0, ..AmpParams::default() });
    let mut state = amp.start();
    let x_star = d.planted_f64().expect("planted");
    state.x_hat.iter_mut().zip(&x_star).for_each(|(x, s)| *x = 0.3 * s);
    (amp, state)
}

fn dense_matrix(c: &mut Criterion) {
    let d = Disorder::spiked_matrix(4000, Prior::SparseRademacher { rho: 0.08 }, 0.8 * 0.0064, 0);
    let mut group = c.benchmark_group("amp_dense_N4000");
    group.sample_size(40);
    for precision in [Precision::F32, Precision::F64] {
        let (amp, state) = amp_and_state(&d, precision);
        group.throughput(Throughput::Bytes(amp.couplings.bytes() as u64));
        for threads in [1, 2] {
            let pool = pool(threads);
            let id = BenchmarkId::new(format!("{precision:?}_iteration"), format!("{threads}threads"));
            group.bench_function(id, |b| {
                let mut s = state.clone();
                pool.install(|| b.iter(|| amp.step(&mut s, &Measure::default())))
            });
            let id = BenchmarkId::new(format!("{precision:?}_matvec"), format!("{threads}threads"));
            group.bench_function(id, |b| {
                let (mut out, mut work) = (vec![0.0; 4000], Work::default());
                pool.install(|| b.iter(|| amp.couplings.field(&state.x_hat, &mut out, &mut work)))
            });
        }
    }
    group.finish();
}

fn tensor(c: &mut Criterion) {
    let d = Disorder::spiked_tensor(200, Prior::Rademacher, 0.2, 0);
    let (amp, state) = amp_and_state(&d, Precision::F32);
    let mut group = c.benchmark_group("amp_tensor_N200");
    group.throughput(Throughput::Bytes(amp.couplings.bytes() as u64));
    for threads in [1, 2] {
        let pool = pool(threads);
        group.bench_function(BenchmarkId::new("contraction", format!("{threads}threads")), |b| {
            let (mut out, mut work) = (vec![0.0; 200], Work::default());
            pool.install(|| b.iter(|| amp.couplings.field(&state.x_hat, &mut out, &mut work)))
        });
        group.bench_function(BenchmarkId::new("iteration", format!("{threads}threads")), |b| {
            let mut s = state.clone();
            pool.install(|| b.iter(|| amp.step(&mut s, &Measure::default())))
        });
    }
    group.finish();
}

criterion_group!(benches, dense_matrix, tensor);
criterion_main!(benches);
