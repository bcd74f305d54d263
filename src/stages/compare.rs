//! `eval.compare` and `eval.aggregate`: adapt `eval::compare` (samplers on
//! one instance against the equilibrium predictions and a reference sampler,
//! with verdicts) and `eval::aggregate` (comparisons over instances) to the
//! engine: parameters, resolving `reference` to an input, summaries.

use anyhow::{bail, Result};
use serde_json::json;

use super::params::{int_param, problem, real, Args, KindParams};
use super::{Artifact, Kind, StageRun};
use crate::eval::aggregate;
use crate::eval::compare::{self, finite, CompareError, Comparison, Settings};
use crate::eval::verdict::Thresholds;
use crate::pipeline::schema::{Arity, Default, InputSlot, KindSpec, ParamKind, ParamProblem, ParamSpec};

pub use crate::eval::aggregate::Aggregate;

pub const COMPARISON: &str = "comparison";
pub const AGGREGATE_OUTPUT: &str = "aggregate";

pub const COMPARE: Kind = Kind {
    spec: KindSpec {
        name: "eval.compare",
        version: 2,
        summary: "energies, overlaps, P(q), R-hat / tau / ESS of samplers on one instance, against the equilibrium \
                  prediction and a reference sampler (verdicts), with the theory's prediction",
        output: COMPARISON,
        inputs: &[
            InputSlot { accepts: &[super::disorder::OUTPUT], arity: Arity::One },
            InputSlot { accepts: &[super::samples::OUTPUT], arity: Arity::AtLeastOne },
        ],
        params: &[
            ParamSpec {
                name: "reference",
                kind: ParamKind::Input,
                default: Default::None,
                unit: "stage",
                doc: "the sampler input every other sampler is tested against (e.g. MCMC with init = \"planted\" or \
                      parallel tempering); without it there are no verdicts",
            },
            ParamSpec {
                name: "alpha",
                kind: ParamKind::Float { min: 0.0, max: 0.5, min_open: true, max_open: false },
                default: Default::Float(0.01),
                unit: "probability",
                doc: "false-alarm rate of a verdict `biased` (Bonferroni over the tests made)",
            },
            real(
                "tolerance",
                0.0,
                10.0,
                0.01,
                "energy per spin",
                "a sampler is `consistent` only if an energy bias this large would have been detected, else `inconclusive`",
            ),
            int_param(
                "permutations",
                19,
                1_000_000,
                999,
                "",
                "random relabellings of each two-sample permutation test (p-values no smaller than 1 / (1 + this))",
            ),
        ],
        exactly_one_of: &[],
        at_most_one_given: &[],
        check: super::params::check::<CompareParams>,
    },
    run: run_compare,
    model: None,
    input_model: None,
    example: concat!(
        "[stage.inst]\nkind = \"disorder.spiked-matrix\"\nn = 8\ntemperature = 0.7\n",
        "[stage.mcmc]\nkind = \"sample.metropolis\"\ninputs = [\"inst\"]\nchains = 2\nsweeps = 8\nburn_in = 2\nrecord_every = 2\n",
        "[stage.ref]\nkind = \"sample.metropolis\"\ninputs = [\"inst\"]\nchains = 2\nsweeps = 8\nburn_in = 2\nrecord_every = 2\ninit = \"planted\"\n",
        "[stage.this]\nkind = \"eval.compare\"\ninputs = [\"inst\", \"mcmc\", \"ref\"]\nreference = \"ref\"\npermutations = 99\n"
    ),
};

/// The parameters of `eval.compare` (the reference as its stage name).
pub struct CompareParams {
    pub reference: Option<String>,
    pub thresholds: Thresholds,
    pub permutations: usize,
}

impl KindParams for CompareParams {
    const KIND: &'static KindSpec = &COMPARE.spec;

    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        Ok(CompareParams {
            reference: args.opt_input("reference")?,
            thresholds: Thresholds { alpha: args.float("alpha")?, tolerance: args.float("tolerance")? },
            permutations: args.count("permutations")?,
        })
    }
}

/// The index among the sampler inputs (`input_names[1..]`) of the stage named
/// `reference` (a concrete copy `reference[...]` of it counts).
fn reference_index(reference: &str, input_names: &[String]) -> Result<usize, ParamProblem> {
    let is = |name: &str| name == reference || name.strip_prefix(reference).is_some_and(|rest| rest.starts_with('['));
    if input_names.first().is_some_and(|n| is(n)) {
        return Err(problem("reference", format!("`{reference}` is the disorder input, not a sampler")));
    }
    let hits: Vec<usize> = input_names.iter().skip(1).enumerate().filter(|(_, n)| is(n)).map(|(i, _)| i).collect();
    match hits.as_slice() {
        [i] => Ok(*i),
        [] => Err(problem("reference", format!("`{reference}` is not one of the sampler inputs"))),
        _ => Err(problem(
            "reference",
            format!("`{reference}` matches {} inputs (gathered copies): compare one instance per stage", hits.len()),
        )),
    }
}

pub const AGGREGATE: Kind = Kind {
    spec: KindSpec {
        name: "eval.aggregate",
        version: 2,
        summary: "averages eval.compare rows over instances (use `gather = [\"inst.instance\"]`), with error bars",
        output: AGGREGATE_OUTPUT,
        inputs: &[InputSlot { accepts: &[COMPARISON], arity: Arity::AtLeastOne }],
        params: &[],
        exactly_one_of: &[],
        at_most_one_given: &[],
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
    let params: CompareParams = run.params()?;
    let reference = params
        .reference
        .as_deref()
        .map(|r| reference_index(r, run.input_names))
        .transpose()
        .map_err(|p| anyhow::anyhow!("{}: parameter `reference`: {}", run.spec.name, p.message))?;
    let settings =
        Settings { reference, thresholds: params.thresholds, permutations: params.permutations, seed: run.seed };
    let comparison = compare::compare(d, &samples, &settings, run.observer).map_err(|e| match e {
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
            let mut row = json!({
                "stage": r.stage, "sampler": r.sampler, "samples": r.samples,
                "energy_mean": r.energy_mean, "energy_stderr": finite(r.energy_stderr), "energy_excess": r.energy_excess,
                "overlap_planted_mean": r.overlap_planted_mean, "overlap_planted_stderr": r.overlap_planted_stderr,
                "q_mean": r.q_mean, "q_abs_mean": r.q_abs_mean, "magnetization_mean": finite(r.magnetization_mean),
                "r_hat": r.r_hat, "tau": r.tau, "ess": r.ess, "acceptance": r.acceptance,
                "independent": r.independent,
                "is_reference": c.reference.as_deref() == Some(r.stage.as_str()),
                "predicted": r.predicted.prediction.map(|p| p.name()), "predicted_why": r.predicted.why,
                "predicted_at": r.predicted.at, "agrees": r.agrees,
            });
            if let (Some(v), Some(map)) = (&r.vs_reference, row.as_object_mut()) {
                let test = |t: Option<crate::eval::two_sample::TwoSample>| (t.map(|t| t.statistic), t.map(|t| t.p_value));
                let ((overlap_ks, overlap_p), (q_ks, q_p)) = (test(v.overlap_test), test(v.q_test));
                for (k, val) in [
                    ("verdict", json!(v.decision.verdict.name())),
                    ("verdict_by", json!(v.decision.decided_by)),
                    ("detectable_bias", json!(v.decision.detectable_bias.and_then(finite))),
                    ("tests", json!(v.decision.tests)),
                    ("energy_diff", json!(finite(v.energy_diff.value))),
                    ("energy_diff_stderr", json!(finite(v.energy_diff.stderr))),
                    ("energy_diff_dof", json!(finite(v.energy_diff.dof))),
                    ("overlap_ks", json!(overlap_ks)),
                    ("overlap_p_value", json!(overlap_p)),
                    ("q_ks", json!(q_ks)),
                    ("q_p_value", json!(q_p)),
                ] {
                    map.insert(k.into(), val);
                }
            }
            row
        })
        .collect();
    json!({
        "model": c.model, "n": c.n, "temperature": c.temperature, "delta": c.delta,
        "equilibrium_energy": c.equilibrium_energy, "planted_energy": c.planted_energy,
        "bayes_overlap": c.bayes_overlap, "reference": c.reference,
        "alpha": c.thresholds.alpha, "tolerance": c.thresholds.tolerance, "samplers": samplers,
    })
}

/// The aggregate with, per row, the verdict fields flat as in a comparison's
/// summary (`verdict`, `verdict_by`, `detectable_bias`, `predicted`, ...).
pub fn aggregate_summary(a: &Aggregate) -> serde_json::Value {
    let mut value = serde_json::to_value(a).unwrap_or_default();
    let rows = value.get_mut("rows").and_then(serde_json::Value::as_array_mut);
    for (row, r) in rows.into_iter().flatten().zip(&a.rows) {
        let Some(map) = row.as_object_mut() else { continue };
        map.remove("decision");
        let [consistent, biased, inconclusive] = r.verdict_counts;
        let d = r.decision.as_ref();
        for (k, val) in [
            ("verdict", json!(d.map(|d| d.verdict.name()))),
            ("verdict_by", json!(d.map(|d| d.decided_by.clone()))),
            ("detectable_bias", json!(d.and_then(|d| d.detectable_bias).and_then(finite))),
            ("verdict_counts", json!({"consistent": consistent, "biased": biased, "inconclusive": inconclusive})),
            ("predicted", json!(r.predicted.prediction.map(|p| p.name()))),
            ("predicted_why", json!(r.predicted.why)),
            ("predicted_at", json!(r.predicted.at)),
        ] {
            map.insert(k.into(), val);
        }
    }
    value
}
