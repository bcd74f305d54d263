//! Quick timing of one AMP contraction / iteration (medians), 1 and 2 threads.
//! Run: `cargo run --release --example amp_timing -- [matrix|tensor|all] [reps]`.

use quench::amp::{Amp, AmpParams, Measure, Precision};
use quench::models::{Disorder, Prior};

#[path = "common/timing.rs"]
mod timing;
use timing::median_ms;

fn bench(label: &str, d: &Disorder, precision: Precision, reps: usize) {
    let amp = Amp::new(d, precision, AmpParams { damping: 0.0, ..AmpParams::default() });
    let bytes = amp.couplings.bytes() as f64;
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let mut state = amp.start();
            let x = d.planted_f64().unwrap();
            state.x_hat.copy_from_slice(&x.iter().map(|v| 0.3 * v).collect::<Vec<_>>());
            let mut out = vec![0.0; amp.n()];
            let mut work = quench::amp::Work::default();
            let contract = median_ms(reps, || amp.couplings.field(&state.x_hat, &mut out, &mut work));
            let mut s2 = state.clone();
            let iter = median_ms(reps, || {
                amp.step(&mut s2, &Measure::default());
            });
            println!(
                "{label} threads={threads}: contraction {contract:.4} ms ({:.1} GB/s), iteration {iter:.4} ms",
                bytes / contract / 1e6
            );
        });
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let what = args.get(1).map(String::as_str).unwrap_or("all");
    let reps: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(50);
    if what == "all" || what == "matrix" {
        let d = Disorder::spiked_matrix(4000, Prior::SparseRademacher { rho: 0.08 }, 0.8 * 0.0064, 0);
        bench("matrix N=4000 f32", &d, Precision::F32, reps);
        bench("matrix N=4000 f64", &d, Precision::F64, reps);
    }
    if what == "all" || what == "tensor" {
        let d = Disorder::spiked_tensor(200, Prior::Rademacher, 0.2, 0);
        bench("tensor N=200 f32", &d, Precision::F32, reps * 20);
    }
}
