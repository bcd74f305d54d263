//! The generative sampler kinds, each driven by the Bayes-optimal (AMP)
//! denoiser: `sample.diffusion` (stochastic localisation), `sample.flow`
//! (stochastic interpolant, ODE or SDE), `sample.autoregressive` (sequential
//! decimation), and `eval.denoiser-path` (AMP along the planted path from an
//! uninformed and an informed start). Each emits its path traces with the
//! state-evolution branches of the same path as companion series.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::params as p;
use super::samples::{PathTrace, SampleChain, Samples, OUTPUT};
use crate::amp::{Amp, AmpParams, Precision};
use crate::eval::denoiser_path::{hysteresis_window, planted_path};
use crate::models::Disorder;
use crate::observe::Observer;
use crate::pipeline::schema::{Arity, Default, InputSlot, KindSpec, ParamKind, ParamSpec};
use crate::pipeline::Params;
use crate::samplers::autoregressive::{Decimation, Order};
use crate::samplers::diffusion::{Schedule, StochasticLocalization};
use crate::samplers::flow::{FlowSchedule, StochasticInterpolant};
use crate::samplers::path::SamplerRun;
use crate::theory;

pub const DENOISER_PATH_OUTPUT: &str = "denoiser-path";
const DISORDER_INPUT: &[InputSlot] = &[InputSlot { accepts: &[super::disorder::OUTPUT], arity: Arity::One }];

const fn real(
    name: &'static str,
    min: f64,
    max: f64,
    default: f64,
    unit: &'static str,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamKind::Float { min, max, min_open: true, max_open: false },
        default: Default::Float(default),
        unit,
        doc,
    }
}
const SAMPLES: ParamSpec =
    p::int_param("samples", 1, 100_000, 16, "trajectories", "independent samples, one trajectory each");
const BATCH: ParamSpec =
    p::int_param("batch", 1, 8, 8, "trajectories", "trajectories sharing one pass over the couplings");
const DENOISER: ParamSpec = ParamSpec {
    name: "denoiser",
    kind: ParamKind::Choice(&["amp"]),
    default: Default::Str("amp"),
    unit: "",
    doc: "posterior-mean estimator (AMP with Onsager term)",
};
const PRECISION: ParamSpec = ParamSpec {
    name: "precision",
    kind: ParamKind::Choice(&["f32", "f64"]),
    default: Default::Str("f32"),
    unit: "",
    doc: "dense coupling storage for matrix AMP (the tensor is always f32)",
};
const DAMPING: ParamSpec = ParamSpec {
    name: "damping",
    kind: ParamKind::Float { min: 0.0, max: 1.0, min_open: false, max_open: true },
    default: Default::Float(0.2),
    unit: "",
    doc: "weight of the previous estimate in AMP's update",
};
const TOL: ParamSpec = real("tol", 0.0, 1.0, 1e-5, "", "AMP stops at max |change| < tol");
const MAX_ITER: ParamSpec =
    p::int_param("max_iterations", 1, 100_000, 300, "iterations", "AMP iteration cap per solve");

pub const DIFFUSION: KindSpec = KindSpec {
    name: "sample.diffusion",
    version: 1,
    summary: "stochastic localisation dy = m(y,t) dt + dB with the AMP denoiser; fine Euler steps to t_fine, then geometric to t_max",
    output: OUTPUT,
    inputs: DISORDER_INPUT,
    params: &[
        SAMPLES,
        real("dt", 0.0, 1.0, 0.002, "time", "Euler step up to t_fine"),
        real("t_fine", 0.0, 1e4, 3.0, "time", "end of the fine steps (where m(t) is about 0.95)"),
        real("t_max", 0.0, 1e6, 200.0, "time", "final time; the sample is drawn from the marginals there"),
        p::int_param("geometric_steps", 0, 10_000, 40, "steps", "geometric steps from t_fine to t_max"),
        BATCH,
        DENOISER,
        PRECISION,
        DAMPING,
        TOL,
        MAX_ITER,
    ],
    exactly_one_of: &[],
    check: KindSpec::no_check,
};

pub const FLOW: KindSpec = KindSpec {
    name: "sample.flow",
    version: 1,
    summary: "stochastic interpolant x_s = s x0 + (1-s) z; velocity from the AMP denoiser; ODE (noise = 0) or SDE",
    output: OUTPUT,
    inputs: DISORDER_INPUT,
    params: &[
        SAMPLES,
        real("ds", 0.0, 0.5, 0.001, "s", "step in s up to s_fine"),
        real("s_fine", 0.0, 1.0, 0.6, "s", "end of the fine steps"),
        real("s_max", 0.0, 1.0, 0.995, "s", "last s before drawing from the marginals (< 1)"),
        p::int_param("geometric_steps", 0, 10_000, 60, "steps", "steps from s_fine to s_max, geometric in 1-s"),
        ParamSpec {
            name: "noise",
            kind: ParamKind::Float { min: 0.0, max: 100.0, min_open: false, max_open: false },
            default: Default::Float(0.0),
            unit: "",
            doc: "SDE noise level eps = noise * (1-s)^2; 0 integrates the probability-flow ODE",
        },
        BATCH,
        DENOISER,
        PRECISION,
        DAMPING,
        TOL,
        MAX_ITER,
    ],
    exactly_one_of: &[],
    check: KindSpec::no_check,
};

pub const AUTOREGRESSIVE: KindSpec = KindSpec {
    name: "sample.autoregressive",
    version: 1,
    summary: "sequential decimation: each variable drawn from its AMP marginal given those already fixed",
    output: OUTPUT,
    inputs: DISORDER_INPUT,
    params: &[
        SAMPLES,
        p::int_param(
            "block",
            1,
            1_000_000,
            1,
            "variables",
            "variables fixed per AMP re-convergence (1 matches the theory)",
        ),
        ParamSpec {
            name: "order",
            kind: ParamKind::Choice(&["random", "natural"]),
            default: Default::Str("random"),
            unit: "",
            doc: "a fresh random order per trajectory, or 0..N-1",
        },
        BATCH,
        DENOISER,
        PRECISION,
        DAMPING,
        TOL,
        MAX_ITER,
    ],
    exactly_one_of: &[],
    check: KindSpec::no_check,
};

pub const DENOISER_PATH: KindSpec = KindSpec {
    name: "eval.denoiser-path",
    version: 1,
    summary: "AMP along y_t = t x* + W_t from an uninformed and an informed start, against both SE branches (the hysteresis window)",
    output: DENOISER_PATH_OUTPUT,
    inputs: DISORDER_INPUT,
    params: &[
        ParamSpec { name: "t_min", kind: ParamKind::Float { min: 0.0, max: 1e4, min_open: false, max_open: false }, default: Default::Float(0.0), unit: "gamma^2", doc: "first t" },
        real("t_max", 0.0, 1e4, 0.3, "gamma^2", "last t"),
        p::int_param("t_points", 2, 10_000, 31, "points", "values of t"),
        PRECISION,
        DAMPING,
        TOL,
        MAX_ITER,
    ],
    exactly_one_of: &[],
    check: KindSpec::no_check,
};

fn amp(d: &Disorder, params: &Params) -> Amp {
    let precision = if params.str("precision") == Some("f64") { Precision::F64 } else { Precision::F32 };
    let amp_params = AmpParams {
        damping: params.float("damping").unwrap_or(0.2),
        tol: params.float("tol").unwrap_or(1e-5),
        max_iterations: params.int("max_iterations").unwrap_or(300) as usize,
    };
    Amp::new(d, precision, amp_params)
}

fn count(params: &Params, name: &str) -> usize {
    params.int(name).unwrap_or(1).max(1) as usize
}

/// Emits the SE branches along the sampler's own path grid as `m_uninf` / `m_inf`.
fn emit_se(d: &Disorder, path: theory::Path, grid: &[f64], observer: &dyn Observer) -> Vec<PathTrace> {
    let Some(model) = super::theory::se_model_of(d).filter(|_| d.planted.is_some()) else { return Vec::new() };
    let mut grid: Vec<f64> = grid.iter().copied().filter(|t| t.is_finite() && *t >= 0.0).collect();
    grid.dedup();
    let Ok(se) = theory::se_path(&model, path, &grid) else { return Vec::new() };
    let scale = d.prior.rho();
    let (mut uninf, mut inf) = (Vec::new(), Vec::new());
    for point in &se.points {
        observer.trace("m_uninf", point.t, point.m_uninf / scale);
        observer.trace("m_inf", point.t, point.m_inf / scale);
        uninf.push(point.m_uninf / scale);
        inf.push(point.m_inf / scale);
    }
    let x: Vec<f64> = se.points.iter().map(|p| p.t).collect();
    vec![
        PathTrace { name: "se m_uninf".into(), x: x.clone(), y: uninf },
        PathTrace { name: "se m_inf".into(), x, y: inf },
    ]
}

fn to_samples(kind: &str, d: &Disorder, run: &SamplerRun, mut traces: Vec<PathTrace>) -> Samples {
    let mean = run.mean_path();
    let x: Vec<f64> = mean.iter().map(|p| p.param).collect();
    traces.push(PathTrace { name: "m_hat_sq".into(), x: x.clone(), y: mean.iter().map(|p| p.m_hat_sq).collect() });
    traces.push(PathTrace {
        name: "overlap_final".into(),
        x: x.clone(),
        y: mean.iter().map(|p| p.overlap_final).collect(),
    });
    traces.push(PathTrace {
        name: "amp_iterations".into(),
        x,
        y: mean.iter().map(|p| p.amp_iterations as f64).collect(),
    });
    let iterations: f64 = run.trajectories.iter().flat_map(|t| t.path.iter()).map(|p| p.amp_iterations as f64).sum();
    let unconverged = run.trajectories.iter().flat_map(|t| t.path.iter()).filter(|p| !p.converged).count();
    let steps = run.trajectories.iter().map(|t| t.path.len()).sum::<usize>().max(1);
    Samples {
        sampler: kind.into(),
        n: d.n,
        markov: false,
        chains: run
            .trajectories
            .iter()
            .map(|t| SampleChain {
                configurations: t.sample.iter().map(|&v| v as f32).collect(),
                energy: vec![d.energy_per_spin(&t.sample)],
                acceptance: None,
            })
            .collect(),
        record_at: Vec::new(),
        traces,
        notes: vec![
            ("amp_iterations_per_trajectory".into(), iterations / run.trajectories.len().max(1) as f64),
            ("unconverged_fraction".into(), unconverged as f64 / steps as f64),
        ],
    }
}

pub fn run_diffusion(d: &Disorder, params: &Params, seed: u64, observer: &dyn Observer) -> Result<Samples> {
    let schedule = Schedule {
        dt_fine: params.float("dt").unwrap_or(0.002),
        t_fine: params.float("t_fine").unwrap_or(3.0),
        t_max: params.float("t_max").unwrap_or(200.0),
        geometric_steps: count(params, "geometric_steps"),
    };
    if schedule.t_max <= schedule.t_fine {
        bail!("t_max ({}) must exceed t_fine ({})", schedule.t_max, schedule.t_fine);
    }
    let se = emit_se(d, theory::Path::Diffusion, &schedule.times(), observer);
    let sampler = StochasticLocalization {
        schedule,
        trajectories: count(params, "samples"),
        batch: count(params, "batch"),
        seed,
    };
    let run = sampler.run(&amp(d, params), observer)?;
    Ok(to_samples(DIFFUSION.name, d, &run, se))
}

pub fn run_flow(d: &Disorder, params: &Params, seed: u64, observer: &dyn Observer) -> Result<Samples> {
    let schedule = FlowSchedule {
        ds_fine: params.float("ds").unwrap_or(0.001),
        s_fine: params.float("s_fine").unwrap_or(0.6),
        s_max: params.float("s_max").unwrap_or(0.995),
        geometric_steps: count(params, "geometric_steps"),
    };
    if schedule.s_max >= 1.0 || schedule.s_max <= schedule.s_fine {
        bail!("need s_fine < s_max < 1 (got {} and {})", schedule.s_fine, schedule.s_max);
    }
    let gamma2: Vec<f64> = schedule.grid().iter().map(|&s| crate::samplers::flow::gamma2(s)).collect();
    let se = emit_se(d, theory::Path::Diffusion, &gamma2, observer);
    let sampler = StochasticInterpolant {
        schedule,
        noise: params.float("noise").unwrap_or(0.0),
        trajectories: count(params, "samples"),
        batch: count(params, "batch"),
        seed,
    };
    let run = sampler.run(&amp(d, params), observer)?;
    Ok(to_samples(FLOW.name, d, &run, se))
}

pub fn run_autoregressive(d: &Disorder, params: &Params, seed: u64, observer: &dyn Observer) -> Result<Samples> {
    let block = count(params, "block");
    let thetas: Vec<f64> = (0..=d.n).step_by(block).map(|k| k as f64 / d.n as f64).collect();
    let se = emit_se(d, theory::Path::Decimation, &thetas, observer);
    let order = if params.str("order") == Some("natural") { Order::Natural } else { Order::Random };
    let sampler =
        Decimation { order, block, trajectories: count(params, "samples"), batch: count(params, "batch"), seed };
    let run = sampler.run(&amp(d, params), observer)?;
    Ok(to_samples(AUTOREGRESSIVE.name, d, &run, se))
}

/// AMP's overlap with x* from both starts, with the SE branches, per t.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenoiserPath {
    pub t: Vec<f64>,
    pub overlap_uninf: Vec<f64>,
    pub overlap_inf: Vec<f64>,
    pub iterations_uninf: Vec<usize>,
    pub iterations_inf: Vec<usize>,
    pub se_m_uninf: Vec<f64>,
    pub se_m_inf: Vec<f64>,
    /// First and last t where the informed start stays above the uninformed by > 0.1.
    pub window: Option<(f64, f64)>,
    pub se_spinodal_low: Option<f64>,
    pub se_spinodal_high: Option<f64>,
    pub se_first_order: Option<f64>,
}

pub fn run_denoiser_path(d: &Disorder, params: &Params, seed: u64, observer: &dyn Observer) -> Result<DenoiserPath> {
    let Some(x_star) = d.planted_f64() else { bail!("eval.denoiser-path needs a planted instance (not disorder.sk)") };
    let grid = theory::linspace(
        params.float("t_min").unwrap_or(0.0),
        params.float("t_max").unwrap_or(0.3),
        count(params, "t_points"),
    );
    let amp = amp(d, params).with_reference(x_star.clone());
    let points = planted_path(&amp, &x_star, &grid, seed, observer)?;
    let scale = d.prior.rho();
    let se = super::theory::se_model_of(d).and_then(|m| theory::se_path(&m, theory::Path::Diffusion, &grid).ok());
    let se_col = |f: fn(&theory::SePoint) -> f64| {
        se.as_ref().map_or(vec![f64::NAN; grid.len()], |s| s.points.iter().map(|p| f(p) / scale).collect())
    };
    let out = DenoiserPath {
        t: grid.clone(),
        overlap_uninf: points.iter().map(|p| p.overlap_uninf / scale).collect(),
        overlap_inf: points.iter().map(|p| p.overlap_inf / scale).collect(),
        iterations_uninf: points.iter().map(|p| p.uninf.iterations).collect(),
        iterations_inf: points.iter().map(|p| p.inf.iterations).collect(),
        se_m_uninf: se_col(|p| p.m_uninf),
        se_m_inf: se_col(|p| p.m_inf),
        window: hysteresis_window(&points, 0.1),
        se_spinodal_low: se.as_ref().and_then(|s| s.spinodal_low_t),
        se_spinodal_high: se.as_ref().and_then(|s| s.spinodal_high_t),
        se_first_order: se.as_ref().and_then(|s| s.first_order_t),
    };
    for (i, &t) in out.t.iter().enumerate() {
        observer.trace("overlap/AMP uninformed start", t, out.overlap_uninf[i]);
        observer.trace("overlap/AMP informed start", t, out.overlap_inf[i]);
        observer.trace("overlap/SE m_uninf", t, out.se_m_uninf[i]);
        observer.trace("overlap/SE m_inf", t, out.se_m_inf[i]);
    }
    Ok(out)
}

pub fn denoiser_path_summary(p: &DenoiserPath) -> serde_json::Value {
    json!({
        "points": p.t.len(),
        "hysteresis_window": p.window.map(|(a, b)| json!([a, b])),
        "se_spinodal_low_t": p.se_spinodal_low,
        "se_first_order_t": p.se_first_order,
        "se_spinodal_high_t": p.se_spinodal_high,
        "max_gap": p.overlap_inf.iter().zip(&p.overlap_uninf).map(|(a, b)| a - b).fold(f64::NEG_INFINITY, f64::max),
    })
}
