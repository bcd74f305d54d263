//! The classical sampler kinds: `sample.metropolis`, `sample.parallel-tempering`
//! and `sample.langevin`, adapted from `samplers` to the engine; each returns
//! the common `samples` artifact.

use anyhow::Result;

use super::params as p;
use super::samples::{SampleChain, Samples, OUTPUT};
use crate::models::Disorder;
use crate::observe::Observer;
use crate::pipeline::schema::{Arity, Default, InputSlot, KindSpec, ParamKind, ParamProblem, ParamSpec};
use crate::pipeline::Params;
use crate::samplers::langevin::{self, LangevinParams};
use crate::samplers::metropolis::{self, MetropolisParams};
use crate::samplers::tempering::{self, Ladder, TemperingParams};
use crate::samplers::{Init, Precision, Rule, SamplerError, SpinRun};

const DISORDER_INPUT: &[InputSlot] = &[InputSlot { accepts: &[super::disorder::OUTPUT], arity: Arity::One }];

/// A count with no upper bound.
const fn count(name: &'static str, min: i64, default: i64, unit: &'static str, doc: &'static str) -> ParamSpec {
    p::int_param(name, min, i64::MAX, default, unit, doc)
}
const CHAINS: ParamSpec = count("chains", 1, 8, "chains", "independent chains, each its own random stream");
const SWEEPS: ParamSpec =
    count("sweeps", 1, 1000, "sweeps", "recorded sweeps after burn-in (one sweep = N site updates)");
const BURN_IN: ParamSpec = count("burn_in", 0, 200, "sweeps", "sweeps discarded first");
const RECORD_EVERY: ParamSpec = count("record_every", 1, 10, "sweeps", "record a configuration every this many sweeps");
const INIT: ParamSpec = ParamSpec {
    name: "init",
    kind: ParamKind::Choice(&["random", "planted"]),
    default: Default::Str("random"),
    unit: "",
    doc: "start from a prior draw or from the planted signal (an equilibrium sample)",
};
const RULE: ParamSpec = ParamSpec {
    name: "rule",
    kind: ParamKind::Choice(&["metropolis", "heat-bath"]),
    default: Default::Str("metropolis"),
    unit: "",
    doc: "single-site update rule",
};
const PRECISION: ParamSpec = ParamSpec {
    name: "precision",
    kind: ParamKind::Choice(&["f64", "f32"]),
    default: Default::Str("f64"),
    unit: "",
    doc: "coupling storage (f32 halves memory traffic)",
};

pub const METROPOLIS: KindSpec = KindSpec {
    name: "sample.metropolis",
    version: 1,
    summary: "single-spin-flip Metropolis / heat-bath for +-1 and {0,+-1} spins (p = 2 and p = 3 Ising)",
    output: OUTPUT,
    inputs: DISORDER_INPUT,
    params: &[CHAINS, SWEEPS, BURN_IN, RECORD_EVERY, INIT, RULE, PRECISION],
    exactly_one_of: &[],
    check: KindSpec::no_check,
};

pub const TEMPERING: KindSpec = KindSpec {
    name: "sample.parallel-tempering",
    version: 1,
    summary: "replica exchange over a geometric ladder beta_r = beta * min_ratio^((R-1-r)/(R-1))",
    output: OUTPUT,
    inputs: DISORDER_INPUT,
    params: &[
        CHAINS,
        SWEEPS,
        BURN_IN,
        RECORD_EVERY,
        INIT,
        RULE,
        PRECISION,
        count("replicas", 2, 8, "replicas", "temperatures in the ladder"),
        ParamSpec {
            name: "min_ratio",
            kind: ParamKind::Float { min: 0.0, max: 1.0, min_open: true, max_open: true },
            default: Default::Float(0.4),
            unit: "beta_min / beta",
            doc: "hottest replica's inverse temperature relative to the target",
        },
    ],
    exactly_one_of: &[],
    check: KindSpec::no_check,
};

pub const LANGEVIN: KindSpec = KindSpec {
    name: "sample.langevin",
    version: 1,
    summary:
        "overdamped Langevin on the sphere |x|^2 = N (spherical spiked tensor); tangent-plane step, then renormalise",
    output: OUTPUT,
    inputs: DISORDER_INPUT,
    params: &[
        CHAINS,
        count("steps", 1, 20_000, "steps", "recorded steps after burn-in"),
        count("burn_in", 0, 5_000, "steps", "steps discarded first"),
        count("record_every", 1, 100, "steps", "record every this many steps"),
        ParamSpec {
            name: "dt",
            kind: ParamKind::Float { min: 0.0, max: 0.5, min_open: true, max_open: false },
            default: Default::Float(0.003),
            unit: "time",
            doc: "time step; the energy bias grows ~linearly in dt (check dt/2)",
        },
        INIT,
    ],
    exactly_one_of: &[],
    check: check_langevin,
};

fn check_langevin(_: &Params) -> Result<(), ParamProblem> {
    Ok(())
}

fn init(params: &Params) -> Init {
    if params.str("init") == Some("planted") {
        Init::Planted
    } else {
        Init::Random
    }
}

fn rule(params: &Params) -> Rule {
    if params.str("rule") == Some("heat-bath") {
        Rule::HeatBath
    } else {
        Rule::Metropolis
    }
}

fn precision(params: &Params) -> Precision {
    if params.str("precision") == Some("f32") {
        Precision::F32
    } else {
        Precision::F64
    }
}

fn int(params: &Params, name: &str) -> u64 {
    params.int(name).unwrap_or(0).max(0) as u64
}

fn sampler_error(e: SamplerError) -> anyhow::Error {
    match e {
        SamplerError::Cancelled => anyhow::Error::new(crate::observe::Cancelled),
        SamplerError::Unsupported(why) => anyhow::anyhow!("{why}"),
    }
}

fn from_spin_run(kind: &str, run: SpinRun, notes: Vec<(String, f64)>) -> Samples {
    Samples {
        sampler: kind.into(),
        n: run.n,
        markov: true,
        record_at: run.record_sweeps.iter().map(|&s| s as f64).collect(),
        chains: run
            .chains
            .into_iter()
            .map(|c| SampleChain {
                configurations: c.samples.concat().into_iter().map(f32::from).collect(),
                energy: c.energy,
                acceptance: Some(c.acceptance),
            })
            .collect(),
        traces: Vec::new(),
        notes,
    }
}

pub fn run_metropolis(d: &Disorder, params: &Params, seed: u64, observer: &dyn Observer) -> Result<Samples> {
    let mp = MetropolisParams {
        chains: int(params, "chains") as usize,
        sweeps: int(params, "sweeps"),
        burn_in: int(params, "burn_in"),
        record_every: int(params, "record_every"),
        init: init(params),
        rule: rule(params),
        precision: precision(params),
    };
    let run = metropolis::run(d, &mp, seed, observer).map_err(sampler_error)?;
    Ok(from_spin_run(METROPOLIS.name, run, Vec::new()))
}

pub fn run_tempering(d: &Disorder, params: &Params, seed: u64, observer: &dyn Observer) -> Result<Samples> {
    let tp = TemperingParams {
        chains: int(params, "chains") as usize,
        sweeps: int(params, "sweeps"),
        burn_in: int(params, "burn_in"),
        record_every: int(params, "record_every"),
        init: init(params),
        rule: rule(params),
        precision: precision(params),
        ladder: Ladder::Geometric {
            replicas: int(params, "replicas") as usize,
            min_ratio: params.float("min_ratio").unwrap_or(0.4),
        },
    };
    let run = tempering::run(d, &tp, seed, observer).map_err(sampler_error)?;
    let mut notes: Vec<(String, f64)> =
        run.swap_acceptance.iter().enumerate().map(|(i, a)| (format!("swap_acceptance_{i}"), *a)).collect();
    notes.extend(run.betas.iter().enumerate().map(|(i, b)| (format!("beta_{i}"), *b)));
    Ok(from_spin_run(TEMPERING.name, run.spins, notes))
}

pub fn run_langevin(d: &Disorder, params: &Params, seed: u64, observer: &dyn Observer) -> Result<Samples> {
    let lp = LangevinParams {
        chains: int(params, "chains") as usize,
        steps: int(params, "steps"),
        burn_in: int(params, "burn_in"),
        record_every: int(params, "record_every"),
        dt: params.float("dt").unwrap_or(0.003),
        init: init(params),
    };
    let run = langevin::run(d, &lp, seed, observer).map_err(sampler_error)?;
    let worst = run.chains.iter().map(|c| c.max_norm_error).fold(0.0, f64::max);
    Ok(Samples {
        sampler: LANGEVIN.name.into(),
        n: run.n,
        markov: true,
        record_at: run.record_steps.iter().map(|&s| s as f64 * lp.dt).collect(),
        chains: run
            .chains
            .into_iter()
            .map(|c| SampleChain { configurations: c.samples.concat(), energy: c.energy, acceptance: None })
            .collect(),
        traces: Vec::new(),
        notes: vec![("max_norm_error".into(), worst), ("dt".into(), lp.dt)],
    })
}
