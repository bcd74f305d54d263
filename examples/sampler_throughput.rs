//! Trajectories per second of the AMP-driven samplers on the Ising 3-spin
//! model, N = 200, T = 0.8 (PHYSICS.md section 10's demonstration point), with
//! the default schedules: SL (dt 0.002 to t = 3, 40 geometric steps to 200),
//! flow ODE (ds 0.001 to s = 0.6, 60 geometric steps to 0.995), decimation
//! (block 1 and block 2 = 1%), and SL with adaptive steps (local error 1e-6). Each measurement runs `trajectories` in
//! parallel on the global rayon pool; medians over `repeats`.
//!
//! Run: `cargo run --release --example sampler_throughput -- [repeats] [trajectories] [threads]`.

use std::time::Instant;

use quench::amp::{Amp, AmpParams, Precision};
use quench::models::{delta_from_temperature, Disorder, Prior};
use quench::observe::Silent;
use quench::samplers::autoregressive::{Decimation, Order};
use quench::samplers::diffusion::{Schedule, StochasticLocalization};
use quench::samplers::flow::{FlowSchedule, StochasticInterpolant};
use quench::samplers::path::SamplerRun;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("integer argument")).collect();
    let (repeats, trajectories) = (args.first().copied().unwrap_or(3), args.get(1).copied().unwrap_or(4));
    if let Some(&threads) = args.get(2) {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().expect("global pool");
    }
    let d = Disorder::spiked_tensor(200, Prior::Rademacher, delta_from_temperature(3, 0.8), 3);
    let amp = Amp::new(&d, Precision::F32, AmpParams::default());
    type Runner<'a> = Box<dyn Fn(u64) -> SamplerRun + 'a>;
    let samplers: Vec<(&str, Runner)> = vec![
        (
            "diffusion (SL)",
            Box::new(|seed| {
                StochasticLocalization { schedule: Schedule::default(), trajectories, batch: 1, seed }
                    .run(&amp, &Silent)
                    .unwrap()
            }),
        ),
        (
            "diffusion (SL) adaptive, step_error 1e-6",
            Box::new(|seed| {
                let schedule = Schedule { step_error: Some(1e-6), ..Schedule::default() };
                StochasticLocalization { schedule, trajectories, batch: 1, seed }.run(&amp, &Silent).unwrap()
            }),
        ),
        (
            "flow (ODE)",
            Box::new(|seed| {
                let schedule = FlowSchedule::default();
                StochasticInterpolant { schedule, noise: 0.0, trajectories, batch: 1, seed }.run(&amp, &Silent).unwrap()
            }),
        ),
        (
            "decimation block 1",
            Box::new(|seed| {
                Decimation { order: Order::Random, block: 1, trajectories, batch: 1, seed }.run(&amp, &Silent).unwrap()
            }),
        ),
        (
            "decimation block 2",
            Box::new(|seed| {
                Decimation { order: Order::Random, block: 2, trajectories, batch: 1, seed }.run(&amp, &Silent).unwrap()
            }),
        ),
    ];
    println!(
        "N=200 p=3 Ising T=0.8, {trajectories} trajectories x {repeats} repeats, {} threads",
        rayon::current_num_threads()
    );
    for (name, run) in samplers {
        let (mut rates, mut iterations, mut steps, mut energies) = (Vec::new(), 0.0, 0.0, Vec::new());
        for r in 0..repeats {
            let start = Instant::now();
            let out = run(r as u64);
            rates.push(trajectories as f64 / start.elapsed().as_secs_f64());
            let total: usize = out.trajectories.iter().flat_map(|t| t.path.iter().map(|p| p.amp_iterations)).sum();
            iterations = total as f64 / trajectories as f64;
            let taken: usize = out.trajectories.iter().flat_map(|t| t.path.iter().map(|p| p.steps)).sum();
            steps = taken as f64 / trajectories as f64;
            energies.extend(out.samples().iter().map(|x| d.energy_per_spin(x)));
        }
        let e = energies.iter().sum::<f64>() / energies.len() as f64;
        println!(
            "RESULT {name}: {:.3} trajectories/s (median; all {rates:.3?}), {steps:.0} steps and {iterations:.0} AMP iterations/trajectory, \
             energy {e:.4} (Nishimori {:.4})",
            median(rates.clone()),
            d.equilibrium_energy_per_spin().unwrap()
        );
    }
}
