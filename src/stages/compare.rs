//! `eval.compare` and `eval.aggregate`: adapt `eval::compare` (samplers on
//! one instance against the equilibrium predictions) and `eval::aggregate`
//! (comparisons averaged over instances) to the engine.

use anyhow::{bail, Result};
use serde_json::json;

use super::{Artifact, Kind, StageRun};
use crate::eval::aggregate;
use crate::eval::compare::{self, finite, CompareError, Comparison};
use crate::pipeline::schema::{Arity, InputSlot, KindSpec};

pub use crate::eval::aggregate::Aggregate;

pub const COMPARISON: &str = "comparison";
pub const AGGREGATE_OUTPUT: &str = "aggregate";

pub const COMPARE: Kind = Kind {
    spec: KindSpec {
        name: "eval.compare",
        version: 1,
        summary:
            "energies, overlaps, P(q), R-hat / tau / ESS of samplers on one instance, against the equilibrium prediction",
        output: COMPARISON,
        inputs: &[
            InputSlot { accepts: &[super::disorder::OUTPUT], arity: Arity::One },
            InputSlot { accepts: &[super::samples::OUTPUT], arity: Arity::AtLeastOne },
        ],
        params: &[],
        exactly_one_of: &[],
        check: KindSpec::no_check,
    },
    run: run_compare,
    model: None,
    input_model: None,
    example: concat!(
        "[stage.inst]\nkind = \"disorder.spiked-matrix\"\nn = 8\ntemperature = 0.7\n",
        "[stage.mcmc]\nkind = \"sample.metropolis\"\ninputs = [\"inst\"]\nchains = 2\nsweeps = 8\nburn_in = 2\nrecord_every = 2\n",
        "[stage.this]\nkind = \"eval.compare\"\ninputs = [\"inst\", \"mcmc\"]\n"
    ),
};

pub const AGGREGATE: Kind = Kind {
    spec: KindSpec {
        name: "eval.aggregate",
        version: 1,
        summary: "averages eval.compare rows over instances (use `gather = [\"inst.instance\"]`), with error bars",
        output: AGGREGATE_OUTPUT,
        inputs: &[InputSlot { accepts: &[COMPARISON], arity: Arity::AtLeastOne }],
        params: &[],
        exactly_one_of: &[],
        check: KindSpec::no_check,
    },
    run: run_aggregate,
    model: None,
    input_model: None,
    example: concat!(
        "[stage.inst]\nkind = \"disorder.spiked-matrix\"\nn = 8\ntemperature = 0.7\n",
        "[stage.mcmc]\nkind = \"sample.metropolis\"\ninputs = [\"inst\"]\nchains = 2\nsweeps = 8\nburn_in = 2\nrecord_every = 2\n",
        "[stage.cmp]\nkind = \"eval.compare\"\ninputs = [\"inst\", \"mcmc\"]\n",
        "[stage.this]\nkind = \"eval.aggregate\"\ninputs = [\"cmp\"]\ngather = [\"inst.instance\"]\n",
        "[sweep]\n\"inst.instance\" = [0, 1]\n"
    ),
};

fn run_compare(run: &StageRun) -> Result<Artifact> {
    if let Some(g) = super::bicoloring::input(run) {
        return super::bicoloring::compare(run, g);
    }
    let d = run.disorder()?;
    let samples = run.inputs[1..]
        .iter()
        .zip(&run.input_names[1..])
        .map(|(a, name)| match a {
            Artifact::Samples(s) => Ok((name.as_str(), s)),
            other => bail!("input `{name}` is a {} artifact, not samples", other.type_name()),
        })
        .collect::<Result<Vec<_>>>()?;
    let comparison = compare::compare(d, &samples, run.observer).map_err(|e| match e {
        CompareError::Cancelled => anyhow::Error::new(crate::observe::Cancelled),
        other => other.into(),
    })?;
    Ok(Artifact::Comparison(comparison))
}

fn run_aggregate(run: &StageRun) -> Result<Artifact> {
    let comparisons = run
        .inputs
        .iter()
        .zip(run.input_names)
        .map(|(a, name)| match a {
            Artifact::Comparison(c) => Ok(c.clone()),
            other => bail!("input `{name}` is a {} artifact, not a comparison", other.type_name()),
        })
        .collect::<Result<Vec<Comparison>>>()?;
    Ok(Artifact::Aggregate(aggregate::aggregate(&comparisons)?))
}

pub fn comparison_summary(c: &Comparison) -> serde_json::Value {
    let samplers: Vec<_> = c
        .rows
        .iter()
        .map(|r| {
            json!({
                "stage": r.stage, "sampler": r.sampler, "samples": r.samples,
                "energy_mean": r.energy_mean, "energy_stderr": finite(r.energy_stderr), "energy_excess": r.energy_excess,
                "overlap_planted_mean": r.overlap_planted_mean, "overlap_planted_stderr": r.overlap_planted_stderr,
                "q_mean": r.q_mean, "q_abs_mean": r.q_abs_mean, "magnetization_mean": finite(r.magnetization_mean),
                "r_hat": r.r_hat, "tau": r.tau, "ess": r.ess, "acceptance": r.acceptance,
            })
        })
        .collect();
    json!({
        "model": c.model, "n": c.n, "temperature": c.temperature, "delta": c.delta,
        "equilibrium_energy": c.equilibrium_energy, "planted_energy": c.planted_energy,
        "bayes_overlap": c.bayes_overlap, "samplers": samplers,
    })
}

pub fn aggregate_summary(a: &Aggregate) -> serde_json::Value {
    serde_json::to_value(a).unwrap_or_default()
}
