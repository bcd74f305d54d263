//! Matrix pass cost: one column (`apply`) vs 8 interleaved columns (`apply_columns`).
//! Run: `cargo run --release --example batch_timing -- N [threads]`.

use quench::amp::columns::COLUMNS;
use quench::amp::dense::DenseMatrix;
use quench::models::{Disorder, Prior};

#[path = "common/timing.rs"]
mod timing;
use timing::median_ms;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("integer")).collect();
    let n = args.first().copied().unwrap_or(4000);
    let threads = args.get(1).copied().unwrap_or(1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let d = Disorder::spiked_matrix(n, Prior::Rademacher, 0.5, 0);
    let m32 = DenseMatrix::<f32>::from_packed(n, &d.couplings, d.coupling_scale);
    let m64 = DenseMatrix::<f64>::from_packed(n, &d.couplings, d.coupling_scale);
    let reps = (2e9 / (n * n) as f64).clamp(20.0, 2000.0) as usize;
    pool.install(|| {
        let x32: Vec<f32> = (0..n).map(|i| (i as f32).sin()).collect();
        let x64: Vec<f64> = x32.iter().map(|&v| v as f64).collect();
        let xs32: Vec<[f32; COLUMNS]> = x32.iter().map(|&v| [v; COLUMNS]).collect();
        let xs64: Vec<[f64; COLUMNS]> = x64.iter().map(|&v| [v; COLUMNS]).collect();
        let mut out = vec![0.0; n];
        let mut outs = vec![[0.0; COLUMNS]; n];
        let one32 = median_ms(reps, || m32.apply(&x32, &mut out));
        let many32 = median_ms(reps, || m32.apply_columns(&xs32, &mut outs));
        let one64 = median_ms(reps, || m64.apply(&x64, &mut out));
        let many64 = median_ms(reps, || m64.apply_columns(&xs64, &mut outs));
        println!("N={n} threads={threads}: f32 one column {one32:.4} ms, {COLUMNS} columns {many32:.4} ms ({:.2}x per column)", one32 * COLUMNS as f64 / many32);
        println!("N={n} threads={threads}: f64 one column {one64:.4} ms, {COLUMNS} columns {many64:.4} ms ({:.2}x per column)", one64 * COLUMNS as f64 / many64);
    });
}
