//! Where the time of `pipelines/finite-size.toml` goes at one (n, T): one
//! tensor pass (`contract` of 1 vector, `contract_many` of 8) against the
//! bytes it reads, then diffusion (adaptive, step_error 1e-6) and
//! autoregressive sampling (8 trajectories, batch 8, as in the pipeline) with
//! their counters: solves, AMP iterations per trajectory, lock-step rounds
//! (tensor passes: per solve the most iterations of the batch), and mean
//! energy per spin.
//!
//! Run: `cargo run --release --example fss_profile -- N T [diffusion|ar|pass|all] [block] [seed] [trajectories]`
//! (`AR_ACCURACY=0` for autoregressive solves to AMP's own `tol`).

use std::time::Instant;

use quench::amp::tensor::{ManyWork, PackedTensor, TensorWork};
use quench::amp::{Amp, AmpParams, Precision};
use quench::models::{delta_from_temperature, Disorder, Prior};
use quench::observe::Silent;
use quench::samplers::autoregressive::{Decimation, Order, DRAW_ACCURACY};
use quench::samplers::diffusion::{Schedule, StochasticLocalization};
use quench::samplers::path::SamplerRun;

#[path = "common/timing.rs"]
mod timing;
use timing::median_ms;

fn passes(d: &Disorder) {
    let n = d.n;
    let t = PackedTensor::from_packed(n, &d.couplings, d.coupling_scale);
    let xs: Vec<Vec<f64>> = (0..8).map(|c| (0..n).map(|i| ((i + c) as f64 * 0.37).cos()).collect()).collect();
    let mb = t.bytes() as f64 / 1e6;
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let mut out = vec![0.0; n];
            let mut work = TensorWork::default();
            let one = median_ms(30, || t.contract(&xs[0], &mut out, &mut work));
            let mut outs = vec![vec![0.0; n]; 8];
            let mut many = ManyWork::default();
            let eight = median_ms(15, || {
                let x_refs: Vec<&[f64]> = xs.iter().map(|x| x.as_slice()).collect();
                let mut o: Vec<&mut [f64]> = outs.iter_mut().map(|o| o.as_mut_slice()).collect();
                t.contract_many(&x_refs, &mut o, &mut many)
            });
            println!(
                "PASS n={n} {mb:.1} MB, {threads} threads: contract {one:.2} ms ({:.1} GB/s), contract_many x8 {eight:.2} ms ({:.2} ms per vector)",
                mb / one,
                eight / 8.0
            );
        });
    }
}

fn report(name: &str, d: &Disorder, run: &SamplerRun, seconds: f64) {
    let count = run.trajectories.len() as f64;
    let first = &run.trajectories[0].path;
    let iterations: usize = run.trajectories.iter().flat_map(|t| t.path.iter().map(|p| p.amp_iterations)).sum();
    let solves: usize = run.trajectories.iter().flat_map(|t| t.path.iter().map(|p| p.steps)).sum();
    let unconverged: usize = run.trajectories.iter().flat_map(|t| t.path.iter().filter(|p| !p.converged)).count();
    // Lock-step rounds: per recorded point, the most iterations in the batch.
    let rounds: usize =
        (0..first.len()).map(|k| run.trajectories.iter().map(|t| t.path[k].amp_iterations).max().unwrap_or(0)).sum();
    // Where along the path: steps and iterations per tenth of the recorded points.
    let tenth = first.len().div_ceil(10);
    for (b, range) in (0..first.len()).step_by(tenth).map(|s| (s, s..(s + tenth).min(first.len()))).enumerate() {
        let _ = b;
        let (s0, range) = range;
        let sum = |f: &dyn Fn(&quench::samplers::path::PathPoint) -> usize| -> f64 {
            run.trajectories.iter().flat_map(|t| t.path[range.clone()].iter().map(f)).sum::<usize>() as f64 / count
        };
        println!(
            "  path {:.3}..{:.3}: {:.0} solves, {:.0} iterations per trajectory",
            first[s0].param,
            first[range.end - 1].param,
            sum(&|p| p.steps),
            sum(&|p| p.amp_iterations)
        );
    }
    let energies: Vec<f64> = run.samples().iter().map(|x| d.energy_per_spin(x)).collect();
    let e = energies.iter().sum::<f64>() / count;
    let se = (energies.iter().map(|v| (v - e) * (v - e)).sum::<f64>() / (count - 1.0) / count).sqrt();
    println!(
        "RESULT {name}: {seconds:.1} s, {:.0} solves and {:.0} AMP iterations per trajectory, \
         >= {rounds} rounds (tensor passes), {unconverged} unconverged points, energy {e:.4} ± {se:.4} (Nishimori {:.4})",
        solves as f64 / count,
        iterations as f64 / count,
        d.equilibrium_energy_per_spin().unwrap()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().map_or(400, |a| a.parse().expect("N"));
    let temperature: f64 = args.get(1).map_or(0.8, |a| a.parse().expect("T"));
    let what = args.get(2).map_or("all", |a| a.as_str());
    let block: usize = args.get(3).map_or(4, |a| a.parse().expect("block"));
    let seed: u64 = args.get(4).map_or(1, |a| a.parse().expect("seed"));
    let trajectories: usize = args.get(5).map_or(8, |a| a.parse().expect("trajectories"));
    let d = Disorder::spiked_tensor(n, Prior::Rademacher, delta_from_temperature(3, temperature), seed);
    let amp = Amp::new(&d, Precision::F32, AmpParams::default());
    if what == "pass" || what == "all" {
        passes(&d);
    }
    if what == "diffusion" || what == "all" {
        let schedule = Schedule { step_error: Some(1e-6), ..Schedule::default() };
        let start = Instant::now();
        let run = StochasticLocalization { schedule, trajectories, batch: 8, seed }.run(&amp, &Silent).unwrap();
        report(&format!("diffusion n={n} T={temperature}"), &d, &run, start.elapsed().as_secs_f64());
    }
    if what == "ar" || what == "all" {
        let start = Instant::now();
        let accuracy: f64 = std::env::var("AR_ACCURACY").map_or(DRAW_ACCURACY, |v| v.parse().expect("accuracy"));
        let sampler = Decimation { order: Order::Random, block, trajectories, batch: 8, seed };
        let run = sampler.run_to(&amp, accuracy, &Silent).unwrap();
        report(&format!("autoregressive block {block} n={n} T={temperature}"), &d, &run, start.elapsed().as_secs_f64());
    }
}
