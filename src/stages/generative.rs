//! The generative sampler kinds, each driven by the Bayes-optimal (AMP)
//! denoiser: `sample.diffusion` (stochastic localisation), `sample.flow`
//! (stochastic interpolant, ODE or SDE) and `sample.autoregressive`
//! (sequential decimation). Each emits its path traces with the
//! state-evolution branches of the same path as companion series. The AMP
//! parameters here are shared with `eval.denoiser-path`.

use anyhow::Result;

use super::disorder::DisorderModel;
use super::params::{self as p, choices, problem, real, Args, Choice, KindParams};
use super::samples::{PathTrace, SampleChain, Samples, OUTPUT};
use super::{Artifact, Kind, StageRun};
use crate::amp::{Amp, AmpParams, Precision};
use crate::eval::se_model::se_model_of;
use crate::models::Disorder;
use crate::observe::Observer;
use crate::pipeline::schema::{Arity, Default, InputSlot, KindSpec, ParamKind, ParamProblem, ParamSpec};
use crate::pipeline::Params;
use crate::samplers::autoregressive::{Decimation, Order, DRAW_ACCURACY};
use crate::samplers::diffusion::{Schedule, StochasticLocalization};
use crate::samplers::flow::{FlowSchedule, StochasticInterpolant};
use crate::samplers::neural_denoiser::LearnedDenoiser;
use crate::samplers::path::SamplerRun;
use crate::theory;

pub(super) const DISORDER_INPUT: &[InputSlot] = &[InputSlot { accepts: &[super::disorder::OUTPUT], arity: Arity::One }];
/// The disorder, then (with `denoiser = "learned"`) a `train.denoiser` stage.
const DENOISED_INPUTS: &[InputSlot] = &[
    InputSlot { accepts: &[super::disorder::OUTPUT], arity: Arity::One },
    InputSlot { accepts: &[super::train::DENOISER_OUTPUT], arity: Arity::Optional },
];

/// The denoiser driving a generative sampler (one so far).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Denoiser {
    Amp,
    /// A `train.denoiser` network (diffusion and flow only).
    Learned,
    /// Belief propagation (bicoloring disorders only; see `stages::bicoloring`).
    Bp,
}

choices!(Denoiser { "amp" => Denoiser::Amp, "learned" => Denoiser::Learned, "bp" => Denoiser::Bp });
choices!(Precision { "f32" => Precision::F32, "f64" => Precision::F64 });
choices!(Order { "random" => Order::Random, "natural" => Order::Natural });

const SAMPLES: ParamSpec =
    p::int_param("samples", 1, 100_000, 16, "trajectories", "independent samples, one trajectory each");
const BATCH: ParamSpec =
    p::int_param("batch", 1, 8, 8, "trajectories", "trajectories sharing one pass over the couplings");
const DENOISER: ParamSpec = ParamSpec {
    name: "denoiser",
    kind: ParamKind::Choice(&["amp", "bp"]),
    default: Default::Str("amp"),
    unit: "",
    doc: "posterior-mean estimator: amp = the model's message passing (AMP with Onsager term; BP on a bicoloring hypergraph), bp = belief propagation (bicoloring only)",
};
const LEARNABLE_DENOISER: ParamSpec = ParamSpec {
    name: "denoiser",
    kind: ParamKind::Choice(Denoiser::NAMES),
    default: Default::Str("amp"),
    unit: "",
    doc: "posterior-mean estimator: amp = the model's message passing (AMP with Onsager term; BP on a bicoloring hypergraph), bp = belief propagation (bicoloring only), learned = a train.denoiser stage as the second input",
};
pub(super) const PRECISION: ParamSpec = ParamSpec {
    name: "precision",
    kind: ParamKind::Choice(Precision::NAMES),
    default: Default::Str("f32"),
    unit: "",
    doc: "dense coupling storage for matrix AMP (the tensor is always f32)",
};
pub(super) const DAMPING: ParamSpec = ParamSpec {
    name: "damping",
    kind: ParamKind::Float { min: 0.0, max: 1.0, min_open: false, max_open: true },
    default: Default::Float(0.2),
    unit: "",
    doc: "weight of the previous estimate in AMP's update",
};
/// Local error per adaptive diffusion step (0: fixed steps on the grid).
pub(super) const STEP_ERROR: ParamSpec = ParamSpec {
    name: "step_error",
    kind: ParamKind::Float { min: 0.0, max: 1.0, min_open: false, max_open: false },
    default: Default::Float(1e-6),
    unit: "",
    doc: "adaptive Euler steps holding the Kullback-Leibler error per step and variable at this (dt = sqrt(4 step_error / m'(t))); the grid then only says where the path is recorded; 0 = Euler steps on the grid",
};
pub(super) const TOL: ParamSpec = real("tol", 0.0, 1.0, 1e-5, "", "AMP stops at max |change| < tol");
pub(super) const MAX_ITER: ParamSpec =
    p::int_param("max_iterations", 1, 100_000, 300, "iterations", "AMP iteration cap per solve");

/// Examples: a tiny spiked tensor, then the kind.
macro_rules! example {
    ($kind:literal, $params:literal) => {
        concat!(
            "[stage.inst]\nkind = \"disorder.spiked-tensor\"\nn = 8\ntemperature = 0.8\n",
            "[stage.this]\nkind = \"",
            $kind,
            "\"\ninputs = [\"inst\"]\n",
            $params
        )
    };
}

pub const DIFFUSION: Kind = Kind {
    spec: KindSpec {
        name: "sample.diffusion",
        // 2: AMP raises its damping on a limit cycle (src/amp/mod.rs); BP diffusion stops at the step budget.
        // 3: a BP solve that cannot reach its budget within the cap stops early, and
        //    does not set the next adaptive step (AMP trajectories are bit-identical to 2).
        version: 3,
        summary: "stochastic localisation dy = m(y,t) dt + dB with the AMP denoiser; fine Euler steps to t_fine, then geometric to t_max",
        output: OUTPUT,
        inputs: DENOISED_INPUTS,
        params: &[
            SAMPLES,
            real("dt", 0.0, 1.0, 0.002, "time", "Euler step up to t_fine (step_error = 0); the first step otherwise"),
            STEP_ERROR,
            real("t_fine", 0.0, 1e4, 3.0, "time", "end of the fine steps (where m(t) is about 0.95)"),
            real("t_max", 0.0, 1e6, 200.0, "time", "final time; the sample is drawn from the marginals there"),
            p::int_param("geometric_steps", 1, 10_000, 40, "steps", "geometric steps from t_fine to t_max"),
            BATCH,
            LEARNABLE_DENOISER,
            PRECISION,
            DAMPING,
            TOL,
            MAX_ITER,
            p::CHECKPOINT_EVERY,
        ],
        exactly_one_of: &[],
        at_most_one_given: &[],
        check: p::check::<DiffusionParams>,
    },
    run: run_diffusion,
    model: None,
    input_model: Some(samples_fit),
    example: example!("sample.diffusion", "samples = 2\ndt = 0.05\nt_fine = 1\nt_max = 10\ngeometric_steps = 4\n"),
};

pub const FLOW: Kind = Kind {
    spec: KindSpec {
        name: "sample.flow",
        // 2: AMP raises its damping on a limit cycle (src/amp/mod.rs); BP diffusion stops at the step budget.
        version: 2,
        summary: "stochastic interpolant x_s = s x0 + (1-s) z; velocity from the AMP denoiser; ODE (noise = 0) or SDE",
        output: OUTPUT,
        inputs: DENOISED_INPUTS,
        params: &[
            SAMPLES,
            real("ds", 0.0, 0.5, 0.001, "s", "step in s up to s_fine"),
            real("s_fine", 0.0, 1.0, 0.6, "s", "end of the fine steps"),
            real("s_max", 0.0, 1.0, 0.995, "s", "last s before drawing from the marginals (< 1)"),
            p::int_param("geometric_steps", 1, 10_000, 60, "steps", "steps from s_fine to s_max, geometric in 1-s"),
            ParamSpec {
                name: "noise",
                kind: ParamKind::Float { min: 0.0, max: 100.0, min_open: false, max_open: false },
                default: Default::Float(0.0),
                unit: "",
                doc: "SDE noise level eps = noise * (1-s)^2; 0 integrates the probability-flow ODE",
            },
            BATCH,
            LEARNABLE_DENOISER,
            PRECISION,
            DAMPING,
            TOL,
            MAX_ITER,
            p::CHECKPOINT_EVERY,
        ],
        exactly_one_of: &[],
        at_most_one_given: &[],
        check: p::check::<FlowParams>,
    },
    run: run_flow,
    model: None,
    input_model: Some(samples_fit),
    example: example!("sample.flow", "samples = 2\nds = 0.05\ngeometric_steps = 4\nnoise = 0.5\n"),
};

pub const AUTOREGRESSIVE: Kind = Kind {
    spec: KindSpec {
        name: "sample.autoregressive",
        // 2: AMP raises its damping on a limit cycle (src/amp/mod.rs); BP diffusion stops at the step budget.
        // 3: AMP's decimated solves stop at the draw accuracy (samplers::autoregressive::DRAW_ACCURACY).
        version: 3,
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
                name: "block_fraction",
                kind: ParamKind::Float { min: 0.0, max: 1.0, min_open: true, max_open: false },
                default: Default::None,
                unit: "",
                doc: "instead of `block` (leave it at 1): this fraction of N per block (rounded, at least 1), the same step in theta at every N",
            },
            ParamSpec {
                name: "order",
                kind: ParamKind::Choice(Order::NAMES),
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
            p::CHECKPOINT_EVERY,
        ],
        exactly_one_of: &[],
        at_most_one_given: &[&["block", "block_fraction"]],
        check: p::check::<AutoregressiveParams>,
    },
    run: run_autoregressive,
    model: None,
    input_model: Some(samples_fit),
    example: example!("sample.autoregressive", "samples = 2\nblock = 3\norder = \"natural\"\nprecision = \"f64\"\n"),
};

/// The most memory the drawn samples may take (as f64 while running).
const MAX_SAMPLE_BYTES: u128 = 16 << 30;

/// Any disorder model (AMP handles every prior, p = 2 and 3), if the samples fit in memory.
fn samples_fit(params: &Params, model: &DisorderModel) -> Result<(), String> {
    let samples = params.int("samples").map_or(0, |v| v.max(0) as u128);
    let bytes = samples * model.n as u128 * 8;
    if bytes > MAX_SAMPLE_BYTES {
        return Err(format!(
            "{samples} samples x {} variables would take {:.0} GiB (at most {} GiB): lower `samples`",
            model.n,
            bytes as f64 / (1u128 << 30) as f64,
            MAX_SAMPLE_BYTES >> 30
        ));
    }
    Ok(())
}

/// How AMP runs, for every kind here.
pub(super) struct AmpArgs {
    precision: Precision,
    params: AmpParams,
}

impl AmpArgs {
    pub(super) fn parse(args: &Args) -> Result<AmpArgs, ParamProblem> {
        Ok(AmpArgs {
            precision: args.choice("precision")?,
            params: AmpParams {
                damping: args.float("damping")?,
                tol: args.float("tol")?,
                max_iterations: args.count("max_iterations")?,
            },
        })
    }

    pub(super) fn amp(&self, d: &Disorder) -> Amp {
        Amp::new(d, self.precision, self.params)
    }
}

/// Trajectories, batching and the denoiser, shared by the three samplers.
struct Trajectories {
    samples: usize,
    batch: usize,
    denoiser: Denoiser,
    amp: AmpArgs,
}

impl Trajectories {
    fn parse(args: &Args) -> Result<Trajectories, ParamProblem> {
        Ok(Trajectories {
            samples: args.count("samples")?,
            batch: args.count("batch")?,
            denoiser: args.choice("denoiser")?,
            amp: AmpArgs::parse(args)?,
        })
    }
}

/// The learned denoiser input of a diffusion / flow stage: present exactly
/// when `denoiser = "learned"`, and trained on the same instance.
fn learned_oracle(run: &StageRun, d: &Disorder, denoiser: Denoiser) -> Result<Option<LearnedDenoiser>> {
    let name = run.spec.name;
    match (denoiser, run.inputs.get(1)) {
        (Denoiser::Amp, None) => Ok(None),
        (Denoiser::Amp, Some(_)) => {
            anyhow::bail!("{name}: a second input (a train.denoiser stage) needs denoiser = \"learned\"")
        }
        (Denoiser::Learned, Some(Artifact::LearnedDenoiser(learned))) => {
            super::train::check_same_instance(name, learned, d)?;
            Ok(Some(LearnedDenoiser { weights: learned.weights.clone() }))
        }
        (Denoiser::Learned, _) => {
            anyhow::bail!("{name}: denoiser = \"learned\" needs a train.denoiser stage as the second input")
        }
        (Denoiser::Bp, _) => anyhow::bail!("{name}: denoiser = \"bp\" needs a bicoloring disorder"),
    }
}

/// `step_error` as the schedule takes it (`None` for fixed steps).
pub(super) fn step_error(args: &Args) -> Result<Option<f64>, ParamProblem> {
    Ok(Some(args.float("step_error")?).filter(|&eps| eps > 0.0))
}

struct DiffusionParams {
    schedule: Schedule,
    run: Trajectories,
}

impl KindParams for DiffusionParams {
    const KIND: &'static KindSpec = &DIFFUSION.spec;
    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        let schedule = Schedule {
            dt_fine: args.float("dt")?,
            t_fine: args.float("t_fine")?,
            t_max: args.float("t_max")?,
            geometric_steps: args.count("geometric_steps")?,
            step_error: step_error(args)?,
        };
        if schedule.t_max <= schedule.t_fine {
            let (max, fine) = (schedule.t_max, schedule.t_fine);
            return Err(problem("t_max", format!("t_max ({max}) must exceed t_fine ({fine})")));
        }
        Ok(DiffusionParams { schedule, run: Trajectories::parse(args)? })
    }
}

struct FlowParams {
    schedule: FlowSchedule,
    noise: f64,
    run: Trajectories,
}

impl KindParams for FlowParams {
    const KIND: &'static KindSpec = &FLOW.spec;
    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        let schedule = FlowSchedule {
            ds_fine: args.float("ds")?,
            s_fine: args.float("s_fine")?,
            s_max: args.float("s_max")?,
            geometric_steps: args.count("geometric_steps")?,
        };
        if schedule.s_max >= 1.0 || schedule.s_max <= schedule.s_fine {
            let (fine, max) = (schedule.s_fine, schedule.s_max);
            return Err(problem("s_max", format!("need s_fine < s_max < 1 (got {fine} and {max})")));
        }
        Ok(FlowParams { schedule, noise: args.float("noise")?, run: Trajectories::parse(args)? })
    }
}

/// Variables fixed per block: a number, or a fraction of N.
#[derive(Debug, Clone, Copy, PartialEq)]
enum BlockSize {
    Sites(usize),
    Fraction(f64),
}

impl BlockSize {
    /// Sites per block for `n` variables (a fraction rounds to the nearest, at least 1).
    fn sites(self, n: usize) -> usize {
        match self {
            BlockSize::Sites(sites) => sites,
            BlockSize::Fraction(fraction) => ((fraction * n as f64).round() as usize).max(1),
        }
    }
}

struct AutoregressiveParams {
    block: BlockSize,
    order: Order,
    run: Trajectories,
}

impl KindParams for AutoregressiveParams {
    const KIND: &'static KindSpec = &AUTOREGRESSIVE.spec;
    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        // `block` and `block_fraction` are never both written (`at_most_one_given`).
        let block = match args.opt_float("block_fraction")? {
            Some(fraction) => BlockSize::Fraction(fraction),
            None => BlockSize::Sites(args.count("block")?),
        };
        Ok(AutoregressiveParams { block, order: args.choice("order")?, run: Trajectories::parse(args)? })
    }
}

/// Emits the SE branches along the sampler's own path grid as `m_uninf` / `m_inf`.
pub(super) fn emit_se(d: &Disorder, path: theory::Path, grid: &[f64], observer: &dyn Observer) -> Vec<PathTrace> {
    let Some(model) = se_model_of(d).filter(|_| d.planted.is_some()) else { return Vec::new() };
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
    let taken: usize = run.trajectories.iter().flat_map(|t| t.path.iter()).map(|p| p.steps).sum();
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
            ("steps_per_trajectory".into(), taken as f64 / run.trajectories.len().max(1) as f64),
        ],
    }
}

fn run_diffusion(run: &StageRun) -> Result<Artifact> {
    if let Some(g) = super::bicoloring::input(run) {
        return super::bicoloring::diffusion(run, g);
    }
    super::bicoloring::refuse_bp_on_dense(run)?;
    let (d, p) = (run.disorder()?, run.params::<DiffusionParams>()?);
    let se = emit_se(d, theory::Path::Diffusion, &p.schedule.times(), run.observer);
    let sampler = StochasticLocalization {
        schedule: p.schedule,
        trajectories: p.run.samples,
        batch: p.run.batch,
        seed: run.seed,
    };
    let out = match learned_oracle(run, d, p.run.denoiser)? {
        Some(learned) => sampler.run(&learned, run.observer)?,
        None => sampler.run(&p.run.amp.amp(d), run.observer)?,
    };
    Ok(Artifact::Samples(to_samples(DIFFUSION.spec.name, d, &out, se)))
}

fn run_flow(run: &StageRun) -> Result<Artifact> {
    if let Some(g) = super::bicoloring::input(run) {
        return super::bicoloring::flow(run, g);
    }
    super::bicoloring::refuse_bp_on_dense(run)?;
    let (d, p) = (run.disorder()?, run.params::<FlowParams>()?);
    let gamma2: Vec<f64> = p.schedule.grid().iter().map(|&s| crate::samplers::flow::gamma2(s)).collect();
    let se = emit_se(d, theory::Path::Diffusion, &gamma2, run.observer);
    let sampler = StochasticInterpolant {
        schedule: p.schedule,
        noise: p.noise,
        trajectories: p.run.samples,
        batch: p.run.batch,
        seed: run.seed,
    };
    let out = match learned_oracle(run, d, p.run.denoiser)? {
        Some(learned) => sampler.run(&learned, run.observer)?,
        None => sampler.run(&p.run.amp.amp(d), run.observer)?,
    };
    Ok(Artifact::Samples(to_samples(FLOW.spec.name, d, &out, se)))
}

fn run_autoregressive(run: &StageRun) -> Result<Artifact> {
    if let Some(g) = super::bicoloring::input(run) {
        if run.params.get("block_fraction").is_some() {
            anyhow::bail!("parameter `block_fraction`: only for dense models; give `block` on a hypergraph");
        }
        return super::bicoloring::autoregressive(run, g);
    }
    super::bicoloring::refuse_bp_on_dense(run)?;
    let (d, p) = (run.disorder()?, run.params::<AutoregressiveParams>()?);
    let block = p.block.sites(d.n);
    let thetas: Vec<f64> = (0..=d.n).step_by(block).map(|k| k as f64 / d.n as f64).collect();
    let se = emit_se(d, theory::Path::Decimation, &thetas, run.observer);
    let sampler = Decimation { order: p.order, block, trajectories: p.run.samples, batch: p.run.batch, seed: run.seed };
    let out = sampler.run_to(&p.run.amp.amp(d), DRAW_ACCURACY, run.observer)?;
    Ok(Artifact::Samples(to_samples(AUTOREGRESSIVE.spec.name, d, &out, se)))
}
