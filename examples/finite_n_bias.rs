//! Where the AMP-driven samplers' energy bias on planted Ising 3-spin comes
//! from (issue 11, T = 0.80 above both end points): small instances against
//! exact enumeration, n = 8..16, several instances each.
//!
//! For each n it prints, averaged over instances (± the standard error of the
//! mean over instances):
//! - the energy per spin of diffusion (adaptive steps, the stage defaults) and
//!   of decimation (block 1), both driven by AMP, minus the exact mean energy;
//! - the Kullback-Leibler divergence, for the whole configuration (not per
//!   variable), between the exact process and the AMP-driven one, measured
//!   along exact paths: diffusion `(1/2) int |x̂_amp - x̂_exact|^2 dt` (Girsanov)
//!   on `y_t = t x + W_t` with `x` an exact posterior draw; decimation
//!   `sum_k KL(exact marginal || AMP marginal)` of the next site given exactly
//!   drawn fixed sites (chain rule). Both are the divergence of the sampled law
//!   from the target on the path space, an upper bound on the divergence of
//!   the final configurations; an energy bias `b` per spin needs a divergence
//!   of at least `b^2 / (2 var(e))` (Pinsker / transport), so a total divergence
//!   of O(1) as n grows means a bias of O(1/sqrt n) per spin.
//!
//! Run: `cargo run --release --example finite_n_bias -- T n1,n2,.. instances trajectories [paths]`.

use quench::amp::{Amp, AmpParams, Measure, Precision};
use quench::eval::exact_posterior::ExactPosterior;
use quench::models::{delta_from_temperature, Disorder, Prior};
use quench::observe::Silent;
use quench::rng::Rng;
use quench::samplers::autoregressive::{Decimation, Order};
use quench::samplers::diffusion::{Schedule, StochasticLocalization};
use quench::samplers::path::SamplerRun;
use rand::seq::SliceRandom;
use rand::Rng as _;
use rand_distr::StandardNormal;

fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, (var / n).sqrt())
}

fn mean_energy(exact: &ExactPosterior, run: &SamplerRun) -> f64 {
    let s = run.samples();
    s.iter().map(|x| exact.energy(exact.index_of(x))).sum::<f64>() / s.len() as f64
}

/// A configuration drawn from `probs`.
fn draw(exact: &ExactPosterior, probs: &[f64], rng: &mut Rng) -> Vec<f64> {
    let u: f64 = rng.random();
    let mut acc = 0.0;
    for (c, p) in probs.iter().enumerate() {
        acc += p;
        if u < acc {
            return exact.configuration(c).to_vec();
        }
    }
    exact.configuration(probs.len() - 1).to_vec()
}

/// The grid of the divergence integrals: 0.01 to t = 3, then 30 geometric steps to 100.
fn kl_times() -> Vec<f64> {
    let mut times: Vec<f64> = (0..=300).map(|k| k as f64 * 0.01).collect();
    times.extend((1..=30).map(|k| 3.0 * (100.0f64 / 3.0).powf(k as f64 / 30.0)));
    times
}

/// Girsanov KL (whole configuration) of SL driven by `amp` along one exact path.
fn diffusion_kl(exact: &ExactPosterior, amp: &Amp, x: &[f64], rng: &mut Rng) -> f64 {
    let n = x.len();
    let times = kl_times();
    let mut y = vec![0.0; n];
    let mut state = amp.start();
    let mut kl = 0.0;
    for w in times.windows(2) {
        let (t, dt) = (w[0], w[1] - w[0]);
        let measure = Measure::tilted(&y, t);
        amp.solve(&mut state, &measure);
        let truth = exact.moments(&measure).mean;
        let err: f64 = state.x_hat.iter().zip(&truth).map(|(a, b)| (a - b).powi(2)).sum();
        kl += 0.5 * err * dt;
        for (y_i, &x_i) in y.iter_mut().zip(x) {
            *y_i += x_i * dt + dt.sqrt() * rng.sample::<f64, _>(StandardNormal);
        }
    }
    kl
}

/// Bernoulli KL of two ±1 laws given by their means.
fn spin_kl(m_true: f64, m_model: f64) -> f64 {
    let term = |p: f64, q: f64| if p <= 0.0 { 0.0 } else { p * (p / q.max(1e-300)).ln() };
    let (p, q) = ((1.0 + m_true) / 2.0, (1.0 + m_model) / 2.0);
    term(p, q) + term(1.0 - p, 1.0 - q)
}

/// Chain-rule KL of decimation driven by `amp`, fixing `x` in a random order.
fn decimation_kl(exact: &ExactPosterior, amp: &Amp, x: &[f64], rng: &mut Rng) -> f64 {
    let n = x.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let mut fixed: Vec<Option<f64>> = vec![None; n];
    let mut state = amp.start();
    let mut kl = 0.0;
    for &i in &order {
        let measure = Measure::decimated(&fixed);
        amp.solve(&mut state, &measure);
        let truth = exact.moments(&measure).mean;
        kl += spin_kl(truth[i], state.x_hat[i]);
        fixed[i] = Some(x[i]);
    }
    kl
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let temperature: f64 = args.first().map_or(0.8, |a| a.parse().expect("T"));
    let sizes: Vec<usize> =
        args.get(1).map_or("8,10,12,14".into(), |a| a.clone()).split(',').map(|s| s.parse().expect("n")).collect();
    let instances: u64 = args.get(2).map_or(8, |a| a.parse().expect("instances"));
    let trajectories: usize = args.get(3).map_or(400, |a| a.parse().expect("trajectories"));
    let paths: usize = args.get(4).map_or(8, |a| a.parse().expect("paths"));
    let delta = delta_from_temperature(3, temperature);
    println!("T = {temperature}, {instances} instances, {trajectories} samples, {paths} exact paths per instance");
    println!("n | diffusion - exact | decimation - exact | KL diffusion | KL decimation | KL diffusion (AMP tol 1e-9)");
    for &n in &sizes {
        let (mut sl, mut dec, mut kl_sl, mut kl_dec, mut kl_tight) = (vec![], vec![], vec![], vec![], vec![]);
        for seed in 0..instances {
            let d = Disorder::spiked_tensor(n, Prior::Rademacher, delta, 1000 + seed);
            let exact = ExactPosterior::new(&d);
            let probs = exact.probabilities(&Measure::default());
            let e_exact = exact.mean_energy(&probs);
            let amp = Amp::new(&d, Precision::F32, AmpParams::default());
            let tight =
                Amp::new(&d, Precision::F32, AmpParams { tol: 1e-9, max_iterations: 5000, ..AmpParams::default() });
            let schedule = Schedule { step_error: Some(1e-6), ..Schedule::default() };
            let run = StochasticLocalization { schedule, trajectories, batch: 8, seed }.run(&amp, &Silent).unwrap();
            sl.push(mean_energy(&exact, &run) - e_exact);
            let run =
                Decimation { order: Order::Random, block: 1, trajectories, batch: 8, seed }.run(&amp, &Silent).unwrap();
            dec.push(mean_energy(&exact, &run) - e_exact);
            let mut rng = quench::rng::stream(seed, "finite-n-kl", n as u64);
            let (mut a, mut b, mut c) = (0.0, 0.0, 0.0);
            for _ in 0..paths {
                let x = draw(&exact, &probs, &mut rng);
                let mut r1 = rng.clone();
                a += diffusion_kl(&exact, &amp, &x, &mut rng);
                c += diffusion_kl(&exact, &tight, &x, &mut r1);
                b += decimation_kl(&exact, &amp, &x, &mut rng);
            }
            kl_sl.push(a / paths as f64);
            kl_dec.push(b / paths as f64);
            kl_tight.push(c / paths as f64);
        }
        let f = |v: &[f64]| {
            let (m, s) = mean_se(v);
            format!("{m:+.4} ± {s:.4}")
        };
        println!("{n} | {} | {} | {} | {} | {}", f(&sl), f(&dec), f(&kl_sl), f(&kl_dec), f(&kl_tight));
    }
}
