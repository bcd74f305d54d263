//! The training kinds and the sampler of a trained network:
//! `train.autoregressive` (a VAN on an Ising-spin disorder),
//! `sample.autoregressive-net` (its ancestral draws, raw or as independence
//! Metropolis-Hastings proposals, with importance weights) and
//! `train.denoiser` (a network regressing `E[x | y_t]` on a samples stage,
//! judged on held-out samples against AMP and the Bayes MMSE of state
//! evolution). Decode inputs, call `crate::train` / `crate::samplers`, encode.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::disorder::DisorderModel;
use super::params::{self as p, problem, real, Args, KindParams, CHECKPOINT_EVERY};
use super::samples::{PathTrace, SampleChain, Samples, OUTPUT as SAMPLES_OUTPUT};
use super::{Artifact, Kind, StageRun};
use crate::amp::{Amp, AmpParams, Precision};
use crate::engine::checkpoint::EVERY_PARAM;
use crate::models::Disorder;
use crate::pipeline::schema::{Arity, Default, InputSlot, KindSpec, ParamKind, ParamProblem, ParamSpec};
use crate::pipeline::{ParamValue, Params};
use crate::report::export::{Column, Table};
use crate::samplers::neural::{importance, independence_mh, AncestralSampler};
use crate::samplers::neural_denoiser::{mse_curve, LearnedDenoiser, MsePoint};
use crate::train::denoiser::{self, DenoiserConfig, DenoiserWeights, LossPoint};
use crate::train::made::MadeWeights;
use crate::train::van::{self, CurvePoint, Estimate, VanConfig};
use crate::train::TrainError;

/// Artifact type of `train.autoregressive`.
pub const NETWORK_OUTPUT: &str = "autoregressive-network";
/// Artifact type of `train.denoiser`.
pub const DENOISER_OUTPUT: &str = "learned-denoiser";

const HIDDEN: ParamSpec = p::int_param("hidden", 0, 100_000, 0, "units", "hidden width (0 = 2n)");
const LR: ParamSpec = real("lr", 0.0, 1.0, 1e-3, "", "AdamW learning rate");

const ISING_DISORDER: InputSlot = InputSlot { accepts: &[super::disorder::OUTPUT], arity: Arity::One };

/// The networks model ±1 spins: refuse other priors at validation.
fn ising_only(_: &Params, model: &DisorderModel) -> Result<(), String> {
    if model.prior != crate::models::Prior::Rademacher {
        return Err(format!("the network models ±1 spins; this is a {model}"));
    }
    Ok(())
}

/// A boolean parameter (given, else the spec's default).
fn flag(args: &Args, name: &'static str) -> Result<bool, ParamProblem> {
    let default = args.spec.param(name).and_then(|s| s.default.value());
    match args.params.get(name).cloned().or(default) {
        Some(ParamValue::Bool(v)) => Ok(v),
        other => Err(problem(name, format!("parameter `{name}`: expected a boolean, found {other:?}"))),
    }
}

/// `hidden`, with 0 meaning 2n (resolved when n is known).
fn hidden_width(hidden: usize, n: usize) -> usize {
    if hidden == 0 {
        2 * n
    } else {
        hidden
    }
}

pub const TRAIN_AUTOREGRESSIVE: Kind = Kind {
    spec: KindSpec {
        name: "train.autoregressive",
        version: 1,
        summary:
            "variational autoregressive network (MADE) trained by REINFORCE on the variational free energy; ±1 spins",
        output: NETWORK_OUTPUT,
        inputs: &[ISING_DISORDER],
        params: &[
            p::int_param("steps", 1, 10_000_000, 1000, "steps", "training steps (one batch and one AdamW update each)"),
            p::int_param("batch", 2, 65_536, 256, "samples", "ancestral samples per step"),
            LR,
            p::int_param(
                "beta_anneal",
                0,
                10_000_000,
                0,
                "steps",
                "steps over which beta ramps up to its target (0 = none)",
            ),
            HIDDEN,
            p::int_param("depth", 1, 16, 1, "layers", "hidden layers"),
            CHECKPOINT_EVERY,
        ],
        exactly_one_of: &[],
        at_most_one_given: &[],
        check: p::check::<VanParams>,
    },
    run: run_train_autoregressive,
    model: None,
    input_model: Some(ising_only),
    example: concat!(
        "[stage.inst]\nkind = \"disorder.sk\"\nn = 8\ntemperature = 1.0\n",
        "[stage.this]\nkind = \"train.autoregressive\"\ninputs = [\"inst\"]\nsteps = 20\nbatch = 32\n"
    ),
};

pub const SAMPLE_AUTOREGRESSIVE_NET: Kind = Kind {
    spec: KindSpec {
        name: "sample.autoregressive-net",
        version: 1,
        summary: "ancestral samples of a trained network; mh_correct = true: independence Metropolis-Hastings on the Boltzmann weight",
        output: SAMPLES_OUTPUT,
        inputs: &[ISING_DISORDER, InputSlot { accepts: &[NETWORK_OUTPUT], arity: Arity::One }],
        params: &[
            p::int_param("samples", 2, 10_000_000, 1000, "samples", "independent draws (raw), and draws for the importance weights"),
            ParamSpec {
                name: "mh_correct",
                kind: ParamKind::Bool,
                default: Default::Bool(false),
                unit: "",
                doc: "use the draws as independence MH proposals (exact asymptotically)",
            },
            p::int_param("chains", 1, 10_000, 8, "chains", "MH chains (mh_correct only)"),
            p::int_param("steps", 1, 10_000_000, 1000, "proposals", "MH proposals per chain, each recorded (mh_correct only)"),
        ],
        exactly_one_of: &[],
        at_most_one_given: &[],
        check: p::check::<NetSampleParams>,
    },
    run: run_sample_net,
    model: None,
    input_model: Some(ising_only),
    example: concat!(
        "[stage.inst]\nkind = \"disorder.sk\"\nn = 8\ntemperature = 1.0\n",
        "[stage.net]\nkind = \"train.autoregressive\"\ninputs = [\"inst\"]\nsteps = 20\nbatch = 32\n",
        "[stage.this]\nkind = \"sample.autoregressive-net\"\ninputs = [\"inst\", \"net\"]\nsamples = 50\nmh_correct = true\nchains = 2\nsteps = 20\n"
    ),
};

pub const TRAIN_DENOISER: Kind = Kind {
    spec: KindSpec {
        name: "train.denoiser",
        version: 1,
        summary: "network f(y,t) ~ E[x | y_t = t x + sqrt(t) z] regressed on equilibrium samples; held-out MSE(t) vs AMP and the Bayes MMSE",
        output: DENOISER_OUTPUT,
        inputs: &[ISING_DISORDER, InputSlot { accepts: &[SAMPLES_OUTPUT], arity: Arity::One }],
        params: &[
            p::int_param("steps", 1, 10_000_000, 2000, "steps", "regression steps"),
            p::int_param("batch", 1, 65_536, 128, "samples", "noisy samples per step"),
            LR,
            HIDDEN,
            real("t_max", 0.0, 1e4, 4.0, "t", "largest t trained on (t uniform on [0, t_max])"),
            ParamSpec {
                name: "holdout",
                kind: ParamKind::Float { min: 0.0, max: 1.0, min_open: true, max_open: true },
                default: Default::Float(0.2),
                unit: "fraction",
                doc: "samples held out for the MSE curve",
            },
            p::int_param("t_points", 2, 1000, 12, "points", "values of t in the MSE curve"),
            p::int_param(
                "mse_samples",
                1,
                100_000,
                24,
                "samples",
                "held-out samples in the MSE curve (one noisy observation each per t; AMP solves each)",
            ),
            CHECKPOINT_EVERY,
        ],
        exactly_one_of: &[],
        at_most_one_given: &[],
        check: p::check::<DenoiserParams>,
    },
    run: run_train_denoiser,
    model: None,
    input_model: Some(ising_only),
    example: concat!(
        "[stage.inst]\nkind = \"disorder.spiked-tensor\"\nn = 8\ntemperature = 0.8\nprior = \"rademacher\"\n",
        "[stage.pt]\nkind = \"sample.parallel-tempering\"\ninputs = [\"inst\"]\nchains = 2\nsweeps = 20\nburn_in = 5\nrecord_every = 1\n",
        "[stage.this]\nkind = \"train.denoiser\"\ninputs = [\"inst\", \"pt\"]\nsteps = 20\nbatch = 16\nt_points = 3\n"
    ),
};

struct VanParams {
    config: VanConfig,
}

impl KindParams for VanParams {
    const KIND: &'static KindSpec = &TRAIN_AUTOREGRESSIVE.spec;
    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        let config = VanConfig {
            steps: args.count("steps")?,
            batch: args.count("batch")?,
            lr: args.float("lr")?,
            beta_anneal: args.count("beta_anneal")?,
            hidden: args.count("hidden")?,
            depth: args.count("depth")?,
            ..VanConfig::for_n(0)
        };
        args.float(EVERY_PARAM)?;
        Ok(VanParams { config })
    }
}

struct NetSampleParams {
    samples: usize,
    mh_correct: bool,
    chains: usize,
    steps: usize,
}

impl KindParams for NetSampleParams {
    const KIND: &'static KindSpec = &SAMPLE_AUTOREGRESSIVE_NET.spec;
    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        Ok(NetSampleParams {
            samples: args.count("samples")?,
            mh_correct: flag(args, "mh_correct")?,
            chains: args.count("chains")?,
            steps: args.count("steps")?,
        })
    }
}

struct DenoiserParams {
    config: DenoiserConfig,
    t_points: usize,
    mse_samples: usize,
}

impl KindParams for DenoiserParams {
    const KIND: &'static KindSpec = &TRAIN_DENOISER.spec;
    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        let config = DenoiserConfig {
            steps: args.count("steps")?,
            batch: args.count("batch")?,
            lr: args.float("lr")?,
            hidden: args.count("hidden")?,
            t_max: args.float("t_max")?,
            holdout: args.float("holdout")?,
        };
        args.float(EVERY_PARAM)?;
        Ok(DenoiserParams { config, t_points: args.count("t_points")?, mse_samples: args.count("mse_samples")? })
    }
}

/// A fingerprint of a disorder instance (model, size, temperature, couplings).
pub fn instance_id(d: &Disorder) -> String {
    let mut h = blake3::Hasher::new();
    h.update(d.family.name().as_bytes());
    h.update(&(d.n as u64).to_le_bytes());
    h.update(&(d.p as u64).to_le_bytes());
    h.update(&d.temperature.to_bits().to_le_bytes());
    for c in &d.couplings {
        h.update(&c.to_le_bytes());
    }
    h.finalize().to_hex()[..16].to_string()
}

/// A trained VAN: weights (safetensors), training curve, final estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    pub instance: String,
    pub n: usize,
    pub hidden: usize,
    pub depth: usize,
    pub weights: Vec<u8>,
    pub curve: Vec<CurvePoint>,
    pub estimate: Estimate,
    pub exact_free_energy: Option<f64>,
}

/// A trained denoiser with its curve and held-out MSE against AMP and the Bayes MMSE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Denoiser {
    pub instance: String,
    pub weights: DenoiserWeights,
    pub curve: Vec<LossPoint>,
    pub samples: usize,
    pub held_out: usize,
    pub t: Vec<f64>,
    pub mse_learned: Vec<f64>,
    pub mse_amp: Vec<f64>,
    /// `rho - m_eq(t)` from state evolution (NaN where there is none).
    pub mmse_bayes: Vec<f64>,
}

fn train_error(stage: &str, e: TrainError) -> anyhow::Error {
    match e {
        TrainError::Cancelled(c) => anyhow::Error::new(c),
        e => anyhow::anyhow!("{stage}: {e}"),
    }
}

fn run_train_autoregressive(stage: &StageRun) -> Result<Artifact> {
    let (d, p) = (stage.disorder()?, stage.params::<VanParams>()?);
    let hidden = hidden_width(p.config.hidden, d.n);
    let config = VanConfig { hidden, ..p.config };
    let run = van::train(d, &config, stage.seed, stage.observer)
        .map_err(|e| train_error(TRAIN_AUTOREGRESSIVE.spec.name, e))?;
    Ok(Artifact::Network(Network {
        instance: instance_id(d),
        n: d.n,
        hidden,
        depth: config.depth,
        weights: run.weights.to_safetensors()?,
        curve: run.curve,
        estimate: run.estimate,
        exact_free_energy: run.exact_free_energy,
    }))
}

pub fn network_summary(net: &Network) -> serde_json::Value {
    let e = &net.estimate;
    json!({
        "n": net.n,
        "hidden": net.hidden,
        "depth": net.depth,
        "steps": net.curve.len(),
        "free_energy_per_spin": e.free_energy,
        "free_energy_stderr": e.free_energy_stderr,
        "energy_per_spin": e.energy,
        "entropy_per_spin": e.entropy,
        "exact_free_energy_per_spin": net.exact_free_energy,
        "final_grad_norm": net.curve.last().map(|p| p.grad_norm),
    })
}

/// Checks that a learned denoiser was trained on this instance.
pub(super) fn check_same_instance(stage: &str, learned: &Denoiser, d: &Disorder) -> Result<()> {
    same_instance(stage, "learned denoiser", &learned.instance, d)
}

/// Checks that a trained artifact was made on this instance.
fn same_instance(stage: &str, what: &str, instance: &str, d: &Disorder) -> Result<()> {
    if instance != instance_id(d) {
        bail!(
            "{stage}: the {what} input was made on another instance ({instance}) than the disorder input ({})",
            instance_id(d)
        );
    }
    Ok(())
}

fn run_sample_net(run: &StageRun) -> Result<Artifact> {
    let stage = SAMPLE_AUTOREGRESSIVE_NET.spec.name;
    let (d, p) = (run.disorder()?, run.params::<NetSampleParams>()?);
    let Some(Artifact::Network(net)) = run.inputs.get(1) else {
        bail!("{stage}: the second input must be a trained network")
    };
    let (seed, observer) = (run.seed, run.observer);
    same_instance(stage, "network", &net.instance, d)?;
    let weights =
        MadeWeights::from_safetensors(&net.weights).with_context(|| format!("{stage}: reading the network"))?;
    let sampler = AncestralSampler::new(&weights);
    let count = p.samples;
    let draws = sampler.draw_many(seed, "net-sample", 0, count);
    let log_w: Vec<f64> = draws.iter().map(|dr| d.log_weight(&dr.x) - dr.log_q).collect();
    let imp = importance(&log_w);
    let n = d.n as f64;
    let mut notes = vec![
        ("importance_ess".to_string(), imp.ess),
        ("importance_ess_fraction".to_string(), imp.ess / count as f64),
        ("log_z".to_string(), imp.log_z),
        ("log_z_stderr".to_string(), imp.log_z_stderr),
        ("free_energy_per_spin_is".to_string(), -d.temperature * imp.log_z / n),
    ];
    observer.log(&format!(
        "importance weights: ESS {:.1} of {count}; log Z = {:.4} ± {:.4}",
        imp.ess, imp.log_z, imp.log_z_stderr
    ));
    let energy = |x: &[f32]| d.energy_per_spin(&x.iter().map(|&v| v as f64).collect::<Vec<_>>());
    if p.mh_correct {
        let (chains, steps) = (p.chains, p.steps);
        let mh = independence_mh(d, &sampler, chains, steps, seed, observer)?;
        let acceptance = mh.iter().map(|c| c.acceptance).sum::<f64>() / mh.len().max(1) as f64;
        notes.push(("acceptance".to_string(), acceptance));
        observer.log(&format!("independence MH acceptance {acceptance:.3}"));
        return Ok(Artifact::Samples(Samples {
            sampler: stage.into(),
            n: d.n,
            markov: true,
            chains: mh
                .into_iter()
                .map(|c| SampleChain {
                    energy: c.log_weights.iter().map(|l| -d.temperature * l / n).collect(),
                    configurations: c.configurations,
                    acceptance: Some(c.acceptance),
                })
                .collect(),
            record_at: (1..=steps).map(|s| s as f64).collect(),
            traces: Vec::new(),
            notes,
        }));
    }
    let chains = draws
        .iter()
        .map(|dr| {
            let configurations: Vec<f32> = dr.x.iter().map(|&v| v as f32).collect();
            SampleChain { energy: vec![energy(&configurations)], configurations, acceptance: None }
        })
        .collect();
    observer.progress(count as u64, count as u64);
    Ok(Artifact::Samples(Samples {
        sampler: stage.into(),
        n: d.n,
        markov: false,
        chains,
        record_at: Vec::new(),
        traces: Vec::new(),
        notes,
    }))
}

/// Every recorded configuration of `samples`, after checking they belong to `d`
/// (their recorded energies must be this instance's).
fn equilibrium_samples(stage: &str, d: &Disorder, samples: &Samples) -> Result<Vec<Vec<f64>>> {
    if samples.n != d.n {
        bail!("{stage}: the samples have n = {}, the disorder n = {}", samples.n, d.n);
    }
    let mut out = Vec::new();
    for chain in &samples.chains {
        for (x, &e) in chain.records(d.n).zip(&chain.energy) {
            let x: Vec<f64> = x.iter().map(|&v| v as f64).collect();
            if x.iter().any(|v| v.abs() != 1.0) {
                bail!("{stage}: the samples are not ±1 spins");
            }
            let here = d.energy_per_spin(&x);
            if (here - e).abs() > 1e-4 * (1.0 + e.abs()) {
                bail!(
                    "{stage}: the samples stage ({}) was run on another instance: a recorded energy {e:.6} is {here:.6} here",
                    samples.sampler
                );
            }
            out.push(x);
        }
    }
    Ok(out)
}

fn run_train_denoiser(run: &StageRun) -> Result<Artifact> {
    let stage = TRAIN_DENOISER.spec.name;
    let (d, p) = (run.disorder()?, run.params::<DenoiserParams>()?);
    let Some(Artifact::Samples(samples)) = run.inputs.get(1) else {
        bail!("{stage}: the second input must be samples")
    };
    let (seed, observer) = (run.seed, run.observer);
    if d.prior != crate::models::Prior::Rademacher {
        bail!("{stage}: the learned denoiser models ±1 spins; this disorder has the {} prior", d.prior.name());
    }
    let xs = equilibrium_samples(stage, d, samples)?;
    let config = DenoiserConfig { hidden: hidden_width(p.config.hidden, d.n), ..p.config };
    let trained = denoiser::train(&xs, d.n, &config, seed, observer).map_err(|e| train_error(stage, e))?;
    let held_out: Vec<Vec<f64>> = trained.held_out.iter().take(p.mse_samples).map(|&i| xs[i].clone()).collect();
    let t_points = p.t_points;
    let grid: Vec<f64> = (1..=t_points).map(|k| config.t_max * k as f64 / t_points as f64).collect();
    let amp = Amp::new(d, Precision::F64, AmpParams { damping: 0.2, tol: 1e-5, max_iterations: 300 });
    let learned = LearnedDenoiser { weights: trained.weights.clone() };
    let curve: Vec<MsePoint> = mse_curve(&learned, Some(&amp), &held_out, &grid, 1, seed);
    let scale = d.prior.rho();
    let se = crate::eval::se_model::se_model_of(d)
        .filter(|_| d.planted.is_some())
        .and_then(|m| crate::theory::se_path(&m, crate::theory::Path::Diffusion, &grid).ok());
    let mmse: Vec<f64> =
        se.map_or(vec![f64::NAN; grid.len()], |s| s.points.iter().map(|p| (scale - p.m_eq) / scale).collect());
    for (point, &bayes) in curve.iter().zip(&mmse) {
        observer.trace("MSE/learned", point.t, point.learned);
        if let Some(amp) = point.reference {
            observer.trace("MSE/AMP", point.t, amp);
        }
        if bayes.is_finite() {
            observer.trace("MSE/Bayes (SE)", point.t, bayes);
        }
    }
    Ok(Artifact::LearnedDenoiser(Denoiser {
        instance: instance_id(d),
        weights: trained.weights,
        curve: trained.curve,
        samples: xs.len(),
        held_out: held_out.len(),
        t: grid,
        mse_learned: curve.iter().map(|p| p.learned).collect(),
        mse_amp: curve.iter().map(|p| p.reference.unwrap_or(f64::NAN)).collect(),
        mmse_bayes: mmse,
    }))
}

pub fn denoiser_summary(den: &Denoiser) -> serde_json::Value {
    let worst = |v: &[f64], r: &[f64]| {
        v.iter().zip(r).map(|(a, b)| a - b).filter(|x| x.is_finite()).fold(f64::NEG_INFINITY, f64::max)
    };
    json!({
        "n": den.weights.n,
        "hidden": den.weights.hidden,
        "samples": den.samples,
        "held_out": den.held_out,
        "final_loss": den.curve.last().map(|p| p.loss),
        "mse_learned_mean": den.mse_learned.iter().sum::<f64>() / den.mse_learned.len().max(1) as f64,
        "mse_amp_mean": den.mse_amp.iter().sum::<f64>() / den.mse_amp.len().max(1) as f64,
        "max_excess_over_bayes": worst(&den.mse_learned, &den.mmse_bayes),
        "max_excess_over_amp": worst(&den.mse_learned, &den.mse_amp),
    })
}

/// Training curves as path traces (for `quench show` / export).
pub fn network_traces(net: &Network) -> Vec<PathTrace> {
    let x: Vec<f64> = net.curve.iter().map(|p| p.step as f64).collect();
    let series = |name: &str, f: fn(&CurvePoint) -> f64| PathTrace {
        name: name.into(),
        x: x.clone(),
        y: net.curve.iter().map(f).collect(),
    };
    vec![
        series("free_energy", |p| p.free_energy),
        series("free_energy_stderr", |p| p.free_energy_stderr),
        series("energy", |p| p.energy),
        series("entropy", |p| p.entropy),
        series("grad_norm", |p| p.grad_norm),
    ]
}

/// The training curve as one table: `step` and one column per traced series.
pub fn network_table(net: &Network) -> Table {
    let traces = network_traces(net);
    let steps = traces.first().map(|t| t.x.clone()).unwrap_or_default();
    Table {
        name: "training".into(),
        columns: std::iter::once(("step".to_string(), Column::Float(steps)))
            .chain(traces.into_iter().map(|t| (t.name, Column::Float(t.y))))
            .collect(),
    }
}

/// The held-out error of the learned denoiser beside AMP's and the Bayes MMSE, by `t`.
pub fn denoiser_table(den: &Denoiser) -> Table {
    Table {
        name: "mse".into(),
        columns: vec![
            ("t".into(), Column::Float(den.t.clone())),
            ("mse_learned".into(), Column::Float(den.mse_learned.clone())),
            ("mse_amp".into(), Column::Float(den.mse_amp.clone())),
            ("mmse_bayes".into(), Column::Float(den.mmse_bayes.clone())),
        ],
    }
}
