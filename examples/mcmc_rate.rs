//! Metropolis spin-flip attempts per second on SK, with the protocol of
//! /work/shared/bench/mcmc_numba.py: random start, 20 untimed sweeps, then
//! `reps` timed blocks of `sweeps` sequential sweeps of one chain; median rate.
//!
//! cargo run --release --example mcmc_rate -- N BETA f64|f32 [SWEEPS] [REPS]
//! (QUENCH_SWEEP=general times the site-by-site reference sweep instead.)

use std::time::Instant;

use quench::models::Disorder;
use quench::rng;
use quench::samplers::{Coupling, Rule, SpinModel, SpinState};

fn measure<S: Coupling>(n: usize, beta: f64, sweeps: u64, reps: usize, general: bool) -> (Vec<f64>, f64) {
    let disorder = Disorder::sk(n, beta, 0);
    let model = SpinModel::<S>::new(&disorder);
    let mut rng = rng::stream(0, "chain", 0);
    let x = disorder.prior.sample(n, &mut rng).iter().map(|&v| v as i8).collect();
    let mut state = SpinState::new(&model, x);
    for _ in 0..20 {
        state.sweep(&model, Rule::Metropolis, 1.0, &mut rng);
    }
    let (mut rates, mut accepted) = (Vec::new(), 0);
    for _ in 0..reps {
        let start = Instant::now();
        for _ in 0..sweeps {
            accepted += if general {
                state.sweep_general(&model, Rule::Metropolis, 1.0, &mut rng)
            } else {
                state.sweep(&model, Rule::Metropolis, 1.0, &mut rng)
            };
        }
        rates.push((n as u64 * sweeps) as f64 / start.elapsed().as_secs_f64());
    }
    let acceptance = accepted as f64 / (n as u64 * sweeps * reps as u64) as f64;
    (rates, acceptance)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(1000, |a| a.parse().unwrap());
    let beta: f64 = args.get(2).map_or(0.5, |a| a.parse().unwrap());
    let precision = args.get(3).map_or("f64", |a| a.as_str());
    let sweeps: u64 = args.get(4).map_or((5e6 / n as f64) as u64, |a| a.parse().unwrap()).max(1);
    let reps: usize = args.get(5).map_or(5, |a| a.parse().unwrap());
    let general = std::env::var("QUENCH_SWEEP").is_ok_and(|v| v == "general");
    let (mut rates, acceptance) = match precision {
        "f32" => measure::<f32>(n, beta, sweeps, reps, general),
        _ => measure::<f64>(n, beta, sweeps, reps, general),
    };
    rates.sort_by(f64::total_cmp);
    println!(
        "quench SK N={n} beta={beta} {precision} sweeps/rep={sweeps} reps={reps}: attempts/s median {:.4e} min {:.4e} max {:.4e} acceptance {acceptance:.3}",
        rates[rates.len() / 2],
        rates[0],
        rates[rates.len() - 1]
    );
}
