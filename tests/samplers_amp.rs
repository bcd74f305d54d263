//! AMP-driven samplers at moderate N: determinism across thread counts, the
//! sphere constraint, the planted SK control against state evolution, and the
//! planted-path hysteresis of the Ising 3-spin model (PHYSICS.md sections 9-10).

#[path = "amp_common/mod.rs"]
mod common;

use common::gaussian_expectation;
use quench::amp::{Amp, AmpParams, Precision};
use quench::eval::denoiser_path::{hysteresis_window, planted_path};
use quench::models::{delta_from_temperature, Disorder, Prior};
use quench::observe::Silent;
use quench::samplers::autoregressive::{Decimation, Order};
use quench::samplers::diffusion::{Schedule, StochasticLocalization};
use quench::samplers::flow::{FlowSchedule, StochasticInterpolant};
use quench::samplers::path::SamplerRun;

fn short_schedule() -> Schedule {
    Schedule { dt_fine: 0.02, t_fine: 1.0, t_max: 100.0, geometric_steps: 10, step_error: None }
}

fn short_flow() -> FlowSchedule {
    FlowSchedule { ds_fine: 0.02, s_fine: 0.5, s_max: 0.99, geometric_steps: 10 }
}

/// The three samplers on one oracle, 3 trajectories each, `batch` per oracle call.
fn run_all(amp: &Amp, batch: usize) -> Vec<SamplerRun> {
    let sl = StochasticLocalization { schedule: short_schedule(), trajectories: 3, batch, seed: 9 };
    let flow = StochasticInterpolant { schedule: short_flow(), noise: 0.5, trajectories: 3, batch, seed: 9 };
    let decimation = Decimation { order: Order::Random, block: 7, trajectories: 3, batch, seed: 9 };
    vec![sl.run(amp, &Silent).unwrap(), flow.run(amp, &Silent).unwrap(), decimation.run(amp, &Silent).unwrap()]
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
}

/// Bit-identical samples and paths with 1 and 2 rayon threads (p = 3 tensor
/// and p = 2 dense matrix, whose contractions are themselves parallel; the
/// matrix also through the batched product).
#[test]
fn samplers_do_not_depend_on_the_thread_count() {
    let cases = [
        (Disorder::spiked_tensor(70, Prior::Rademacher, 0.4, 1), 1),
        (Disorder::spiked_matrix(300, Prior::SparseRademacher { rho: 0.2 }, 0.04, 1), 1),
        (Disorder::spiked_matrix(300, Prior::SparseRademacher { rho: 0.2 }, 0.04, 1), 2),
    ];
    for (d, batch) in cases {
        let amp = Amp::new(&d, Precision::F32, AmpParams::default());
        let one = in_pool(1, || run_all(&amp, batch));
        let two = in_pool(2, || run_all(&amp, batch));
        assert_eq!(one, two, "p = {}, batch {batch}", d.p);
    }
}

/// Lock-step batches (one batched matrix pass per AMP iteration) change a
/// trajectory only through the rounding of the contraction: same samples,
/// paths within 1e-4, for planted SK (N = 300, T = 0.7).
#[test]
fn batched_trajectories_match_single_ones() {
    let d = Disorder::spiked_matrix(300, Prior::Rademacher, 0.49, 6);
    let amp = Amp::new(&d, Precision::F64, AmpParams::default());
    let (single, batched) = (run_all(&amp, 1), run_all(&amp, 3));
    for (a, b) in single.iter().zip(&batched) {
        assert_eq!(a.samples(), b.samples());
        for (ta, tb) in a.trajectories.iter().zip(&b.trajectories) {
            for (pa, pb) in ta.path.iter().zip(&tb.path) {
                assert!((pa.m_hat_sq - pb.m_hat_sq).abs() < 1e-4 && (pa.overlap_final - pb.overlap_final).abs() < 1e-4);
            }
        }
    }
}

/// Spherical p = 3, N = 100, T = 0.8: every final sample has `|x|^2 = N`.
#[test]
fn spherical_samples_lie_on_the_sphere() {
    let d = Disorder::spiked_tensor(100, Prior::Spherical, delta_from_temperature(3, 0.8), 2);
    let amp = Amp::new(&d, Precision::F32, AmpParams::default());
    for run in run_all(&amp, 1) {
        for x in run.samples() {
            let norm2: f64 = x.iter().map(|v| v * v).sum();
            assert!((norm2 - 100.0).abs() < 1e-9, "|x|^2 = {norm2}");
        }
    }
}

/// SE of the diffusion path for planted SK: `m = ov(m/Delta + t)`, uninformed branch.
fn se_diffusion_sk(delta: f64, t: f64) -> f64 {
    let mut m: f64 = 1e-6;
    for _ in 0..2000 {
        let lam = m / delta + t;
        m = gaussian_expectation(|z| (lam + lam.sqrt() * z).tanh());
    }
    m
}

/// Planted SK at T = 0.7 (Delta = 0.49), N = 500, 8 SL trajectories with the
/// recommended schedule: the mean trace `|x̂_t|^2/N` follows the SE
/// `m(t) = ov(m/Delta + t)` within 0.05 at t = 0.25, 1, 3, and the samples
/// have `|x.x*|/N` and mutual `|q_ab|` at the SE value `m(0) = 0.632` within
/// 0.08 (finite-N spread about 1/sqrt(N) per sample; PHYSICS.md section 10
/// reports 0.64-0.71 at N = 1000).
#[test]
fn diffusion_on_planted_sk_follows_state_evolution() {
    let (n, delta) = (500, 0.49);
    let d = Disorder::spiked_matrix(n, Prior::Rademacher, delta, 4);
    let x_star = d.planted_f64().unwrap();
    let amp = Amp::new(&d, Precision::F32, AmpParams::default());
    let run = StochasticLocalization { schedule: Schedule::default(), trajectories: 8, batch: 4, seed: 2 }
        .run(&amp, &Silent)
        .unwrap();
    let path = run.mean_path();
    for t_check in [0.25, 1.0, 3.0] {
        let point = path.iter().find(|p| (p.param - t_check).abs() < 1e-9).unwrap();
        let m_se = se_diffusion_sk(delta, t_check);
        println!(
            "t = {t_check}: |x̂|^2/N = {:.3}, x̂.x_final/N = {:.3}, SE {m_se:.3}",
            point.m_hat_sq, point.overlap_final
        );
        assert!((point.m_hat_sq - m_se).abs() < 0.05, "t = {t_check}: {} vs SE {m_se}", point.m_hat_sq);
    }
    let samples = run.samples();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(u, v)| u * v).sum::<f64>().abs() / n as f64;
    let overlap = samples.iter().map(|x| dot(x, &x_star)).sum::<f64>() / samples.len() as f64;
    let q_ab = samples.windows(2).map(|w| dot(w[0], w[1])).sum::<f64>() / (samples.len() - 1) as f64;
    let m0 = se_diffusion_sk(delta, 0.0);
    println!("overlap with x* {overlap:.3}, q_ab {q_ab:.3}, SE {m0:.3}");
    assert!((m0 - 0.632).abs() < 0.005);
    assert!((overlap - m0).abs() < 0.08 && (q_ab - m0).abs() < 0.08);
}

/// Ising 3-spin, N = 200, T = 0.66 (PHYSICS.md section 10): AMP from `x*`
/// stays informed (overlap > 0.7) at every t, while AMP from the uninformed
/// start stays below 0.25 up to t = 0.08 and joins the informed branch by
/// t = 0.2; the observed hysteresis window closes between t = 0.08 and 0.18
/// (SE spinodal sp2 = 0.108).
#[test]
fn planted_path_shows_the_hysteresis_window() {
    let d = Disorder::spiked_tensor(200, Prior::Rademacher, delta_from_temperature(3, 0.66), 3);
    let amp = Amp::new(&d, Precision::F32, AmpParams::default());
    let x_star = d.planted_f64().unwrap();
    let times: Vec<f64> = (1..=10).map(|k| 0.02 * k as f64).chain([0.3, 0.5]).collect();
    let points = planted_path(&amp, &x_star, &times, 1, &Silent).unwrap();
    for p in &points {
        println!("t = {:.2}: uninformed {:.3}, informed {:.3}", p.t, p.overlap_uninf, p.overlap_inf);
        assert!(p.overlap_inf > 0.7);
        if p.t <= 0.08 {
            assert!(p.overlap_uninf < 0.25);
        }
        if p.t >= 0.2 {
            assert!((p.overlap_inf - p.overlap_uninf).abs() < 0.02);
        }
    }
    let (open, close) = hysteresis_window(&points, 0.3).unwrap();
    assert!(open <= 0.02 && (0.08..0.18).contains(&close), "window [{open}, {close}]");
}
