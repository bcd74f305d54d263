//! The classical sampler kinds: `sample.metropolis`, `sample.parallel-tempering`
//! and `sample.langevin`, adapted from `samplers` to the engine; each returns
//! the common `samples` artifact.

use anyhow::Result;

use super::disorder::DisorderModel;
use super::params::{self as p, choices, Args, Choice, KindParams};
use super::samples::{SampleChain, Samples, OUTPUT};
use super::{Artifact, Kind, StageRun};
use crate::models::Prior;
use crate::pipeline::schema::{Arity, Default, InputSlot, KindSpec, ParamKind, ParamProblem, ParamSpec};
use crate::pipeline::Params;
use crate::samplers::langevin::{self, LangevinParams};
use crate::samplers::metropolis::{self, MetropolisParams};
use crate::samplers::tempering::{self, Ladder, TemperingParams};
use crate::samplers::{Init, Precision, Rule, SamplerError};

choices!(Init { "random" => Init::Random, "planted" => Init::Planted });
choices!(Rule { "metropolis" => Rule::Metropolis, "heat-bath" => Rule::HeatBath });
choices!(Precision { "f64" => Precision::F64, "f32" => Precision::F32 });

const DISORDER_INPUT: &[InputSlot] = &[InputSlot { accepts: &[super::disorder::OUTPUT], arity: Arity::One }];

/// Sweeps or steps: a billion is days of work at any N.
const MAX_STEPS: i64 = 1_000_000_000;

/// A number of sweeps or steps.
const fn count(name: &'static str, min: i64, default: i64, unit: &'static str, doc: &'static str) -> ParamSpec {
    p::int_param(name, min, MAX_STEPS, default, unit, doc)
}
const CHAINS: ParamSpec =
    p::int_param("chains", 1, 10_000, 8, "chains", "independent chains, each its own random stream");
const SWEEPS: ParamSpec =
    count("sweeps", 1, 1000, "sweeps", "recorded sweeps after burn-in (one sweep = N site updates)");
const BURN_IN: ParamSpec = count("burn_in", 0, 200, "sweeps", "sweeps discarded first");
const RECORD_EVERY: ParamSpec = count("record_every", 1, 10, "sweeps", "record a configuration every this many sweeps");
const INIT: ParamSpec = ParamSpec {
    name: "init",
    kind: ParamKind::Choice(Init::NAMES),
    default: Default::Str("random"),
    unit: "",
    doc: "start from a prior draw or from the planted signal (an equilibrium sample)",
};
const RULE: ParamSpec = ParamSpec {
    name: "rule",
    kind: ParamKind::Choice(Rule::NAMES),
    default: Default::Str("metropolis"),
    unit: "",
    doc: "single-site update rule",
};
const PRECISION: ParamSpec = ParamSpec {
    name: "precision",
    kind: ParamKind::Choice(Precision::NAMES),
    default: Default::Str("f64"),
    unit: "",
    doc: "coupling storage (f32 halves memory traffic)",
};

const BICOLORING_BETA: ParamSpec = ParamSpec {
    name: "beta",
    kind: p::closed(0.0, 1e3),
    default: Default::None,
    unit: "1/T",
    doc:
        "bicoloring only: inverse temperature on the number of monochromatic hyperedges (absent: proper colorings only)",
};

/// Examples: a tiny instance of the right model, then the sampler.
macro_rules! example {
    ($model:literal, $kind:literal, $params:literal) => {
        concat!(
            "[stage.inst]\nkind = \"disorder.spiked-tensor\"\nn = 8\nprior = \"",
            $model,
            "\"\ntemperature = 0.8\n[stage.this]\nkind = \"",
            $kind,
            "\"\ninputs = [\"inst\"]\nchains = 2\nburn_in = 2\nrecord_every = 2\n",
            $params
        )
    };
}

pub const METROPOLIS: Kind = Kind {
    spec: KindSpec {
        name: "sample.metropolis",
        version: 1,
        summary: "single-spin-flip Metropolis / heat-bath for +-1 and {0,+-1} spins (p = 2 and p = 3 Ising)",
        output: OUTPUT,
        inputs: DISORDER_INPUT,
        params: &[CHAINS, SWEEPS, BURN_IN, RECORD_EVERY, INIT, RULE, PRECISION, BICOLORING_BETA, p::CHECKPOINT_EVERY],
        exactly_one_of: &[],
        at_most_one_given: &[],
        check: p::check::<MetropolisParams>,
    },
    run: run_metropolis,
    model: None,
    input_model: Some(ising_spins),
    example: example!("rademacher", "sample.metropolis", "sweeps = 8\n"),
};

pub const TEMPERING: Kind = Kind {
    spec: KindSpec {
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
            p::int_param("replicas", 2, 64, 8, "replicas", "temperatures in the ladder"),
            ParamSpec {
                name: "min_ratio",
                kind: ParamKind::Float { min: 0.0, max: 1.0, min_open: true, max_open: true },
                default: Default::Float(0.4),
                unit: "beta_min / beta",
                doc: "hottest replica's inverse temperature relative to the target",
            },
            p::CHECKPOINT_EVERY,
        ],
        exactly_one_of: &[],
        at_most_one_given: &[],
        check: p::check::<TemperingParams>,
    },
    run: run_tempering,
    model: None,
    input_model: Some(ising_spins),
    example: example!("rademacher", "sample.parallel-tempering", "sweeps = 8\nreplicas = 3\nrule = \"heat-bath\"\n"),
};

pub const LANGEVIN: Kind = Kind {
    spec: KindSpec {
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
            p::CHECKPOINT_EVERY,
        ],
        exactly_one_of: &[],
        at_most_one_given: &[],
        check: p::check::<LangevinParams>,
    },
    run: run_langevin,
    model: None,
    input_model: Some(spherical_spins),
    example: example!("spherical", "sample.langevin", "steps = 8\n"),
};

impl KindParams for MetropolisParams {
    const KIND: &'static KindSpec = &METROPOLIS.spec;
    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        Ok(MetropolisParams {
            chains: args.count("chains")?,
            sweeps: args.u64("sweeps")?,
            burn_in: args.u64("burn_in")?,
            record_every: args.u64("record_every")?,
            init: args.choice("init")?,
            rule: args.choice("rule")?,
            precision: args.choice("precision")?,
        })
    }
}

impl KindParams for TemperingParams {
    const KIND: &'static KindSpec = &TEMPERING.spec;
    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        Ok(TemperingParams {
            chains: args.count("chains")?,
            sweeps: args.u64("sweeps")?,
            burn_in: args.u64("burn_in")?,
            record_every: args.u64("record_every")?,
            init: args.choice("init")?,
            rule: args.choice("rule")?,
            precision: args.choice("precision")?,
            ladder: Ladder::Geometric { replicas: args.count("replicas")?, min_ratio: args.float("min_ratio")? },
        })
    }
}

impl KindParams for LangevinParams {
    const KIND: &'static KindSpec = &LANGEVIN.spec;
    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        Ok(LangevinParams {
            chains: args.count("chains")?,
            steps: args.u64("steps")?,
            burn_in: args.u64("burn_in")?,
            record_every: args.u64("record_every")?,
            dt: args.float("dt")?,
            init: args.choice("init")?,
        })
    }
}

/// Accepts Ising spins (not the sphere); a planted start needs a planted signal.
fn ising_spins(params: &Params, model: &DisorderModel) -> Result<(), String> {
    if model.prior == Prior::Spherical {
        return Err("it updates discrete spins; use sample.langevin for spherical spins".into());
    }
    planted_start(params, model)?;
    fits_in_memory(params, "sweeps", model)
}

/// Accepts spherical spins only.
fn spherical_spins(params: &Params, model: &DisorderModel) -> Result<(), String> {
    if model.prior != Prior::Spherical {
        return Err("it moves on the sphere |x|^2 = N; use a disorder with prior = \"spherical\"".into());
    }
    planted_start(params, model)?;
    fits_in_memory(params, "steps", model)
}

/// The most recorded configurations a chain sampler may keep (4 bytes a variable).
const MAX_RECORD_BYTES: u128 = 16 << 30;

/// The recorded configurations (`chains x length / record_every x n`) must fit.
fn fits_in_memory(params: &Params, length: &str, model: &DisorderModel) -> Result<(), String> {
    let int = |name: &str| params.int(name).map_or(0, |v| v.max(0) as u128);
    let (chains, records) = (int("chains"), int(length) / int("record_every").max(1));
    let bytes = chains * records * model.n as u128 * 4;
    if bytes > MAX_RECORD_BYTES {
        return Err(format!(
            "{chains} chains x {records} records x {} variables would keep {:.0} GiB of configurations \
             (at most {} GiB): raise `record_every` or lower `{length}` or `chains`",
            model.n,
            bytes as f64 / (1u128 << 30) as f64,
            MAX_RECORD_BYTES >> 30
        ));
    }
    Ok(())
}

fn planted_start(params: &Params, model: &DisorderModel) -> Result<(), String> {
    let init = params.str("init").and_then(Init::from_name);
    if init == Some(Init::Planted) && !model.planted() {
        return Err("init = \"planted\" needs a planted signal".into());
    }
    Ok(())
}

fn sampler_error(e: SamplerError) -> anyhow::Error {
    match e {
        SamplerError::Cancelled => anyhow::Error::new(crate::observe::Cancelled),
        SamplerError::Unsupported(why) => anyhow::anyhow!("{why}"),
    }
}

/// `init_planted` = 1 for chains started at x* (read by `eval.compare`'s prediction).
fn init_note(init: Init) -> (String, f64) {
    ("init_planted".into(), if init == Init::Planted { 1.0 } else { 0.0 })
}

fn run_metropolis(run: &StageRun) -> Result<Artifact> {
    if let Some(g) = super::bicoloring::input(run) {
        return super::bicoloring::metropolis(run, g);
    }
    let mp: MetropolisParams = run.params()?;
    let spins = metropolis::run(run.disorder()?, &mp, run.seed, run.observer).map_err(sampler_error)?;
    Ok(Artifact::Samples(Samples::from_spin_run(METROPOLIS.spec.name, spins, vec![init_note(mp.init)])))
}

fn run_tempering(run: &StageRun) -> Result<Artifact> {
    let tp: TemperingParams = run.params()?;
    let out = tempering::run(run.disorder()?, &tp, run.seed, run.observer).map_err(sampler_error)?;
    let mut notes: Vec<(String, f64)> =
        out.swap_acceptance.iter().enumerate().map(|(i, a)| (format!("swap_acceptance_{i}"), *a)).collect();
    notes.extend(out.betas.iter().enumerate().map(|(i, b)| (format!("beta_{i}"), *b)));
    notes.push(init_note(tp.init));
    Ok(Artifact::Samples(Samples::from_spin_run(TEMPERING.spec.name, out.spins, notes)))
}

fn run_langevin(run: &StageRun) -> Result<Artifact> {
    let lp: LangevinParams = run.params()?;
    let out = langevin::run(run.disorder()?, &lp, run.seed, run.observer).map_err(sampler_error)?;
    let worst = out.chains.iter().map(|c| c.max_norm_error).fold(0.0, f64::max);
    Ok(Artifact::Samples(Samples {
        sampler: LANGEVIN.spec.name.into(),
        n: out.n,
        markov: true,
        record_at: out.record_steps.iter().map(|&s| s as f64 * lp.dt).collect(),
        chains: out
            .chains
            .into_iter()
            .map(|c| SampleChain { configurations: c.samples.concat(), energy: c.energy, acceptance: None })
            .collect(),
        traces: Vec::new(),
        notes: vec![("max_norm_error".into(), worst), ("dt".into(), lp.dt), init_note(lp.init)],
    }))
}
