//! The variational autoregressive network against exact enumeration (n <= 16):
//! normalised log-probabilities, a free energy that approaches the exact one
//! from above, MH-corrected samples that match the Gibbs measure, and the
//! REINFORCE gradient against the exact gradient of F_q.

mod common;

use candle_core::{DType, Device, Tensor};
use quench::eval::exact::{self, ExactGibbs};
use quench::models::{delta_from_temperature, Disorder, Prior};
use quench::observe::Silent;
use quench::samplers::neural::{independence_mh, AncestralSampler};
use quench::samplers::{SpinChain, SpinRun};
use quench::train::made::{Made, MadeShape};
use quench::train::van::{self, VanConfig};

/// Every ±1 configuration of `n` spins, row-major (`2^n x n`).
fn all_states(n: usize) -> Vec<f32> {
    (0..1usize << n).flat_map(|s| (0..n).map(move |i| if s >> i & 1 == 1 { 1.0 } else { -1.0 })).collect()
}

fn log_weights(d: &Disorder, states: &[f32]) -> Vec<f64> {
    states.chunks_exact(d.n).map(|x| d.log_weight(&x.iter().map(|&v| v as f64).collect::<Vec<_>>())).collect()
}

/// `F_q = sum_x q(x) (E(x) + T log q(x)) / n`, exactly.
fn exact_variational_free_energy(d: &Disorder, net: &Made) -> f64 {
    let states = all_states(d.n);
    let log_q = net.log_q_of(&states).unwrap();
    let l = log_weights(d, &states);
    let t = d.temperature;
    log_q.iter().zip(&l).map(|(lq, l)| lq.exp() * (-t * l + t * lq)).sum::<f64>() / d.n as f64
}

#[test]
fn log_probabilities_are_normalised() {
    for (n, depth) in [(10, 1), (12, 2), (16, 1)] {
        let net = Made::new(MadeShape { n, hidden: 2 * n, depth }, DType::F64, 5).unwrap();
        let states = all_states(n);
        let log_q = net.log_q_of(&states).unwrap();
        let total: f64 = log_q.iter().map(|v| v.exp()).sum();
        assert!((total - 1.0).abs() < 1e-6, "n = {n}, depth {depth}: sum q = {total}");
        // The sampler's degree-ordered pass gives the same log q as candle's dense pass.
        let sampler = AncestralSampler::new(&net.weights().unwrap());
        for (s, x) in states.chunks_exact(n).enumerate().step_by(997) {
            let x: Vec<f64> = x.iter().map(|&v| v as f64).collect();
            assert!((sampler.log_q(&x) - log_q[s]).abs() < 1e-9);
        }
    }
}

fn trained(d: &Disorder, steps: usize, seed: u64) -> van::TrainedVan {
    let config = VanConfig { steps, batch: 256, lr: 5e-3, beta_anneal: steps / 4, ..VanConfig::for_n(d.n) };
    let config = VanConfig { dtype: DType::F64, ..config };
    van::train(d, &config, seed, &Silent).unwrap()
}

#[test]
fn free_energy_approaches_exact_from_above() {
    let d = Disorder::sk(12, 1.0, 3);
    let exact_f = van::exact_free_energy(&d).unwrap();
    let untrained = Made::new(MadeShape { n: 12, hidden: 24, depth: 1 }, DType::F64, 11).unwrap();
    let f_untrained = exact_variational_free_energy(&d, &untrained);
    let run = trained(&d, 400, 11);
    let net = Made::from_weights(&run.weights, DType::F64).unwrap();
    let f_q = exact_variational_free_energy(&d, &net);
    eprintln!(
        "exact F {exact_f:.5}; F_q untrained {f_untrained:.5}, trained {f_q:.5}; estimate {:.5} +- {:.5}",
        run.estimate.free_energy, run.estimate.free_energy_stderr
    );
    assert!(f_q >= exact_f - 1e-12, "the variational bound is violated: F_q {f_q} < F {exact_f}");
    assert!(f_q - exact_f < 0.02, "training left F_q - F = {}", f_q - exact_f);
    assert!(f_untrained - exact_f > 5.0 * (f_q - exact_f), "training did not reduce F_q: {f_untrained} -> {f_q}");
    // The batch estimate is unbiased for F_q.
    let z = (run.estimate.free_energy - f_q) / run.estimate.free_energy_stderr;
    assert!(z.abs() < 5.0, "estimate {} vs exact F_q {f_q} (z = {z:.2})", run.estimate.free_energy);
    assert_eq!(run.exact_free_energy, Some(exact_f));
}

fn to_spin_run(d: &Disorder, chains: &[quench::samplers::neural::MhChain]) -> SpinRun {
    let steps = chains[0].log_weights.len();
    SpinRun {
        n: d.n,
        record_sweeps: (1..=steps as u64).collect(),
        chains: chains
            .iter()
            .map(|c| SpinChain {
                samples: c.configurations.chunks_exact(d.n).map(|x| x.iter().map(|&v| v as i8).collect()).collect(),
                energy: c.log_weights.iter().map(|l| -d.temperature * l / d.n as f64).collect(),
                acceptance: c.acceptance,
            })
            .collect(),
    }
}

#[test]
fn mh_corrected_samples_match_enumeration() {
    // Low temperature, short training: the raw network is biased, MH removes it.
    let d = Disorder::sk(10, 1.5, 8);
    let gibbs: ExactGibbs = exact::enumerate(&d).unwrap();
    let run = trained(&d, 150, 4);
    let sampler = AncestralSampler::new(&run.weights);
    let chains = independence_mh(&d, &sampler, 8, 4000, 21, &Silent).unwrap();
    let acceptance = chains.iter().map(|c| c.acceptance).sum::<f64>() / chains.len() as f64;
    eprintln!("acceptance {acceptance:.3}");
    assert!(acceptance > 0.05, "acceptance {acceptance}");
    common::assert_agrees("VAN + independence MH, SK n=10 beta=1.5", &to_spin_run(&d, &chains), &gibbs, 4.5);
}

#[test]
fn planted_and_tensor_disorders_train() {
    // The Rademacher spiked matrix: F_q close to the exact F. The p = 3 Ising
    // tensor: F_q above F (the variational bound), but this small network
    // stays 0.04-0.05 per spin above it at T = 1.2 and 0.8 after 1000 steps
    // (measured; the 3-body measure is not learned to the spiked matrix's accuracy).
    let tensor = |t: f64| Disorder::spiked_tensor(9, Prior::Rademacher, delta_from_temperature(3, t), 2);
    let cases =
        [(Disorder::spiked_matrix(10, Prior::Rademacher, 0.5, 2), 0.03), (tensor(1.2), 0.1), (tensor(0.8), 0.1)];
    for (d, tol) in cases {
        let exact_f = van::exact_free_energy(&d).unwrap();
        let run = trained(&d, 1000, 1);
        let net = Made::from_weights(&run.weights, DType::F64).unwrap();
        let f_q = exact_variational_free_energy(&d, &net);
        eprintln!("{:?} p={} T={}: exact F {exact_f:.5}, F_q {f_q:.5}", d.family, d.p, d.temperature);
        assert!(f_q >= exact_f - 1e-12 && f_q - exact_f < tol, "F_q {f_q} vs F {exact_f}");
    }
}

/// The REINFORCE estimator's mean (over independent batches) against the
/// exact gradient of `beta F_q` by enumeration, on a tiny network: every
/// component within 5 standard errors, and the whole vector within 5% of the
/// exact one's norm. With the batch mean as baseline (it includes the sample
/// itself), the estimator's mean is `(1 - 1/B)` times the exact gradient.
#[test]
fn reinforce_gradient_matches_exact_gradient() {
    let d = Disorder::sk(6, 1.0, 4);
    let shape = MadeShape { n: 6, hidden: 5, depth: 1 };
    let net = Made::new(shape, DType::F64, 2).unwrap();
    let vars = net.vars();
    let flatten = |grads: &candle_core::backprop::GradStore| -> Vec<f64> {
        vars.iter()
            .flat_map(|v| grads.get(v.as_tensor()).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap())
            .collect()
    };
    // Exact: beta F_q = sum_x q(x) (-l(x) + log q(x)), differentiated by autograd.
    let states = all_states(6);
    let x = net.batch_tensor(&states).unwrap();
    let log_q = net.log_q(&x).unwrap();
    let minus_l: Vec<f64> = log_weights(&d, &states).iter().map(|l| -l).collect();
    let minus_l = Tensor::from_vec(minus_l, states.len() / 6, &Device::Cpu).unwrap();
    let objective = log_q.exp().unwrap().mul(&(minus_l + &log_q).unwrap()).unwrap().sum_all().unwrap();
    let exact_grad = flatten(&objective.backward().unwrap());

    let (batch, reps) = (64, 3000);
    let sampler = AncestralSampler::new(&net.weights().unwrap());
    let mut sum = vec![0.0; exact_grad.len()];
    let mut sum_sq = vec![0.0; exact_grad.len()];
    for r in 0..reps {
        let draws = sampler.draw_many(99, "grad-test", (r * batch) as u64, batch);
        let (_, f) = van::local_free_energies(&d, &draws, 1.0);
        let g = flatten(&van::reinforce_loss(&net, &draws, &f).unwrap().backward().unwrap());
        for (k, v) in g.iter().enumerate() {
            sum[k] += v;
            sum_sq[k] += v * v;
        }
    }
    let shrink = 1.0 - 1.0 / batch as f64;
    let (mut worst, mut diff_sq, mut norm_sq) = (0.0f64, 0.0, 0.0);
    for k in 0..exact_grad.len() {
        let mean = sum[k] / reps as f64;
        let var = (sum_sq[k] / reps as f64 - mean * mean).max(0.0);
        let err = (var / reps as f64).sqrt();
        let expected = shrink * exact_grad[k];
        if err > 0.0 {
            worst = worst.max(((mean - expected) / err).abs());
        } else {
            assert!((mean - expected).abs() < 1e-12, "component {k}: {mean} vs {expected} with no variance");
        }
        diff_sq += (mean - expected).powi(2);
        norm_sq += expected.powi(2);
    }
    eprintln!("worst |z| = {worst:.2}; relative error {:.4}", (diff_sq / norm_sq).sqrt());
    assert!(worst < 5.0, "a gradient component is off by {worst:.1} standard errors");
    assert!((diff_sq / norm_sq).sqrt() < 0.05);
}

/// An observer that saves the state whenever asked at the given steps and can hand one back.
struct Saver {
    due_every: usize,
    calls: std::sync::atomic::AtomicUsize,
    saved: std::sync::Mutex<Vec<Vec<u8>>>,
    resume: Option<Vec<u8>>,
}

impl quench::observe::Observer for Saver {
    fn progress(&self, _: u64, _: u64) {}
    fn trace(&self, _: &str, _: f64, _: f64) {}
    fn histogram(&self, _: &str, _: &[f64], _: &[u64]) {}
    fn log(&self, _: &str) {}
    fn cancelled(&self) -> bool {
        false
    }
    fn resume_state(&self) -> Option<Vec<u8>> {
        self.resume.clone()
    }
    fn checkpoint_due(&self) -> bool {
        let k = self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        k > 0 && k.is_multiple_of(self.due_every)
    }
    fn save_state(&self, state: &[u8]) {
        self.saved.lock().unwrap().push(state.to_vec());
    }
}

fn saver(due_every: usize, resume: Option<Vec<u8>>) -> Saver {
    Saver { due_every, calls: Default::default(), saved: Default::default(), resume }
}

#[test]
fn resuming_from_any_saved_state_gives_the_same_network() {
    let d = Disorder::sk(12, 1.0, 1);
    let config = VanConfig { steps: 40, batch: 32, lr: 3e-3, beta_anneal: 10, ..VanConfig::for_n(12) };
    let first = saver(7, None);
    let straight = van::train(&d, &config, 5, &first).unwrap();
    let states = first.saved.into_inner().unwrap();
    assert!(states.len() >= 4, "{} states saved", states.len());
    for state in [&states[0], states.last().unwrap()] {
        let resumed = van::train(&d, &config, 5, &saver(1000, Some(state.clone()))).unwrap();
        assert_eq!(resumed, straight, "resumed run differs");
    }
    // A state saved under another configuration is ignored, not trusted.
    let other = VanConfig { lr: 1e-3, ..config };
    let fresh = van::train(&d, &other, 5, &Silent).unwrap();
    assert_eq!(van::train(&d, &other, 5, &saver(1000, Some(states[0].clone()))).unwrap(), fresh);
}

#[test]
fn a_non_finite_loss_stops_the_run_with_an_error() {
    // A coupling that is not a number makes every local free energy NaN.
    let mut d = Disorder::sk(12, 1.0, 1);
    d.couplings[3] = f32::NAN;
    let config = VanConfig { steps: 50, batch: 32, ..VanConfig::for_n(12) };
    match van::train(&d, &config, 5, &saver(1, None)) {
        Err(e @ quench::train::TrainError::Diverged { step: 0, .. }) => {
            assert!(e.to_string().contains("diverged at step 0"), "{e}")
        }
        Err(e) => panic!("expected divergence, got the error {e}"),
        Ok(_) => panic!("expected divergence, got a trained network"),
    }
}
