//! What AMP's iterates do where a diffusion solve hits the iteration cap
//! (Ising 3-spin below T_d): replays each capped solve from its warm start and
//! prints the per-iteration root-mean-square change, the period-2 residual
//! `|x_k - x_{k-2}|` and `|x̂|^2/N`.
//!
//! With `plain`, solves iterate plain damped AMP (damping 0.2, no adaptive
//! damping: how `Amp::solve` behaved before), else `Amp::solve`.
//!
//! Run: `cargo run --release --example amp_jitter -- [n] [temperature] [seed] [max_prints] [plain]`.

use std::sync::atomic::{AtomicUsize, Ordering};

use quench::amp::oracle::PosteriorMean;
use quench::amp::{Amp, AmpParams, AmpState, Measure, Precision, Solve};
use quench::models::{delta_from_temperature, Disorder, Prior};
use quench::observe::Silent;
use quench::rng::Rng;
use quench::samplers::diffusion::{Schedule, StochasticLocalization};

struct Probe<'a> {
    amp: &'a Amp,
    solves: AtomicUsize,
    capped: AtomicUsize,
    iterations: AtomicUsize,
    printed: AtomicUsize,
    max_prints: usize,
    plain: bool,
}

fn rms(a: &[f64], b: &[f64]) -> f64 {
    (a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>() / a.len() as f64).sqrt()
}

impl PosteriorMean for Probe<'_> {
    type State = AmpState;
    fn n(&self) -> usize {
        self.amp.n()
    }
    fn prior(&self) -> Prior {
        self.amp.prior
    }
    fn start(&self) -> AmpState {
        self.amp.start()
    }
    fn solve(&self, state: &mut AmpState, measure: &Measure) -> Solve {
        let before = state.clone();
        let level = state.damping_level();
        let solve = if self.plain {
            let mut iterations = 0;
            let mut converged = false;
            while iterations < self.amp.params.max_iterations && !converged {
                converged = self.amp.step(state, measure).converged(&self.amp.params, measure);
                iterations += 1;
            }
            Solve { iterations, converged, m_hat_sq: state.m_hat_sq(), overlap: None }
        } else {
            self.amp.solve(state, measure)
        };
        if state.damping_level() > level {
            println!(
                "damping level {} at t = {:.4} ({} iterations, converged {})",
                state.damping_level(),
                measure.t,
                solve.iterations,
                solve.converged
            );
        }
        self.solves.fetch_add(1, Ordering::Relaxed);
        self.iterations.fetch_add(solve.iterations, Ordering::Relaxed);
        if !solve.converged {
            self.capped.fetch_add(1, Ordering::Relaxed);
            if self.printed.fetch_add(1, Ordering::Relaxed) < self.max_prints {
                let mut fixed_points: Vec<(f64, Vec<f64>)> = Vec::new();
                for damping in [0.2, 0.4, 0.6, 0.8, 0.9, 0.95] {
                    let amp = Amp {
                        params: AmpParams { damping, max_iterations: 3000, ..self.amp.params },
                        ..self.amp.clone()
                    };
                    let mut s = before.clone();
                    let out = amp.solve(&mut s, measure);
                    let mut strict = s.clone();
                    let tight = Measure { accuracy: 0.0, ..*measure };
                    let out2 = amp.solve(&mut strict, &tight);
                    println!(
                        "  damping {damping}: {} iterations converged {} m {:.5}; to tol: {} more, converged {}, m {:.5}",
                        out.iterations, out.converged, out.m_hat_sq, out2.iterations, out2.converged, out2.m_hat_sq
                    );
                    if out2.converged {
                        fixed_points.push((damping, strict.x_hat.clone()));
                    }
                }
                for w in fixed_points.windows(2) {
                    println!(
                        "  rms between fixed points at damping {} and {}: {:.2e}",
                        w[0].0,
                        w[1].0,
                        rms(&w[0].1, &w[1].1)
                    );
                }
                let mut s = before;
                let mut history: Vec<Vec<f64>> = vec![s.x_hat.clone()];
                println!("capped solve at t = {:.4}, accuracy {:.2e}", measure.t, measure.accuracy);
                for k in 0..self.amp.params.max_iterations {
                    let change = self.amp.step(&mut s, measure);
                    history.push(s.x_hat.clone());
                    let p2 = if k >= 1 { rms(&history[k + 1], &history[k - 1]) } else { f64::NAN };
                    let p4 = if k >= 3 { rms(&history[k + 1], &history[k - 3]) } else { f64::NAN };
                    if k < 30 || k % 10 == 0 || k + 5 > self.amp.params.max_iterations {
                        println!(
                            "  it {k:3} rms {:.3e} max {:.3e} |x_k-x_k-2| {p2:.3e} |x_k-x_k-4| {p4:.3e} m {:.5}",
                            change.rms,
                            change.max,
                            s.m_hat_sq()
                        );
                    }
                }
            }
        }
        solve
    }
    fn estimate<'s>(&self, state: &'s AmpState) -> &'s [f64] {
        &state.x_hat
    }
    fn draw_site(&self, state: &AmpState, i: usize, rng: &mut Rng) -> f64 {
        self.amp.draw_site(state, i, rng)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().map_or(100, |a| a.parse().unwrap());
    let temperature: f64 = args.get(1).map_or(0.66, |a| a.parse().unwrap());
    let seed: u64 = args.get(2).map_or(1, |a| a.parse().unwrap());
    let max_prints: usize = args.get(3).map_or(3, |a| a.parse().unwrap());
    let d = Disorder::spiked_tensor(n, Prior::Rademacher, delta_from_temperature(3, temperature), seed);
    let amp = Amp::new(&d, Precision::F32, AmpParams::default());
    let probe = Probe {
        amp: &amp,
        solves: AtomicUsize::new(0),
        capped: AtomicUsize::new(0),
        iterations: AtomicUsize::new(0),
        printed: AtomicUsize::new(0),
        max_prints,
        plain: args.get(4).is_some_and(|a| a == "plain"),
    };
    let schedule = Schedule { step_error: Some(1e-6), ..Schedule::default() };
    let run = StochasticLocalization { schedule, trajectories: 1, batch: 1, seed }.run(&probe, &Silent).unwrap();
    let x = &run.trajectories[0].sample;
    println!(
        "n {n} T {temperature}: {} solves, {} capped, {} AMP iterations, energy {:.4} (Nishimori {:.4})",
        probe.solves.load(Ordering::Relaxed),
        probe.capped.load(Ordering::Relaxed),
        probe.iterations.load(Ordering::Relaxed),
        d.energy_per_spin(x),
        d.equilibrium_energy_per_spin().unwrap()
    );
}
