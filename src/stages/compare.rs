//! `eval.compare` and `eval.aggregate`: what tells a right sample from a wrong
//! one. For each sampler on one instance: energy per spin against the
//! Nishimori equilibrium value, overlap with the planted signal against the
//! Bayes-optimal SE overlap, the overlap distribution P(q) between independent
//! samples, and for Markov chains R-hat, autocorrelation time and ESS. The
//! aggregate averages comparisons over disorder instances.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::samples::Samples;
use crate::eval::overlaps::{magnetisation, pairwise_overlaps, planted_overlap};
use crate::eval::stats::{histogram, mean, standard_error, statistics};
use crate::models::{Disorder, Family};
use crate::observe::Observer;
use crate::pipeline::schema::{Arity, InputSlot, KindSpec};
use crate::theory;

pub const COMPARISON: &str = "comparison";
pub const AGGREGATE: &str = "aggregate";

pub const COMPARE: KindSpec = KindSpec {
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
};

pub const AGGREGATE_KIND: KindSpec = KindSpec {
    name: "eval.aggregate",
    version: 1,
    summary: "averages eval.compare rows over instances (use `gather = [\"inst.instance\"]`), with error bars",
    output: AGGREGATE,
    inputs: &[InputSlot { accepts: &[COMPARISON], arity: Arity::AtLeastOne }],
    params: &[],
    exactly_one_of: &[],
    check: KindSpec::no_check,
};

const BINS: usize = 40;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplerRow {
    pub stage: String,
    pub sampler: String,
    pub samples: usize,
    pub chains: usize,
    pub energy_mean: f64,
    pub energy_stderr: f64,
    /// `energy_mean - equilibrium_energy`, where that is known.
    pub energy_excess: Option<f64>,
    pub overlap_planted_mean: Option<f64>,
    pub overlap_planted_stderr: Option<f64>,
    pub overlap_hist: Vec<u64>,
    pub q_mean: Option<f64>,
    pub q_abs_mean: Option<f64>,
    pub q_hist: Vec<u64>,
    pub magnetization_mean: f64,
    pub r_hat: Option<f64>,
    pub tau: Option<f64>,
    pub ess: Option<f64>,
    pub acceptance: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub model: String,
    pub n: usize,
    pub temperature: f64,
    pub delta: f64,
    pub equilibrium_energy: Option<f64>,
    pub planted_energy: Option<f64>,
    pub bayes_overlap: Option<f64>,
    pub edges: Vec<f64>,
    pub rows: Vec<SamplerRow>,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Bayes-optimal overlap `m_eq / rho` at t = 0 from state evolution (planted models).
fn bayes_overlap(d: &Disorder) -> Option<f64> {
    if d.family == Family::Sk {
        return None;
    }
    let model = super::theory::se_model_of(d)?;
    let point = theory::solve_point(&model, theory::Path::Diffusion, 0.0).ok()?;
    Some(point.m_eq / d.prior.rho())
}

pub fn compare(d: &Disorder, inputs: &[(String, Samples)], observer: &dyn Observer) -> Result<Comparison> {
    let edges: Vec<f64> = (0..=BINS).map(|i| -1.0 + 2.0 * i as f64 / BINS as f64).collect();
    let equilibrium_energy = d.equilibrium_energy_per_spin();
    let planted = d.planted_f64();
    let mut rows = Vec::new();
    for (stage, s) in inputs {
        if s.n != d.n {
            bail!("samples of `{stage}` have n = {}, the instance has n = {}", s.n, d.n);
        }
        let row = sampler_row(d, planted.as_deref(), stage, s, &edges, equilibrium_energy);
        observer.histogram(&format!("P(q) {stage}"), &edges, &row.q_hist);
        if planted.is_some() {
            observer.histogram(&format!("overlap {stage}"), &edges, &row.overlap_hist);
        }
        rows.push(row);
        observer.checkpoint()?;
    }
    Ok(Comparison {
        model: d.family.name().into(),
        n: d.n,
        temperature: d.temperature,
        delta: d.delta,
        equilibrium_energy,
        planted_energy: planted.as_ref().map(|x| d.energy_per_spin(x)),
        bayes_overlap: bayes_overlap(d),
        edges,
        rows,
    })
}

/// Mean and error of per-record values: chain statistics for Markov chains
/// (batch means over chains, NetKet's convention), plain for independent samples.
fn mean_and_error(per_chain: &[Vec<f64>], markov: bool) -> (f64, f64, Option<f64>, Option<f64>, Option<f64>) {
    if markov && per_chain.len() > 1 && per_chain.iter().all(|c| c.len() >= 4) {
        let st = statistics(per_chain);
        return (st.mean, st.error_of_mean, finite(st.r_hat), finite(st.tau_corr), finite(st.ess));
    }
    let all: Vec<f64> = per_chain.iter().flatten().copied().collect();
    let err = if all.len() > 1 { standard_error(&all) } else { f64::NAN };
    (mean(&all), err, None, None, None)
}

fn sampler_row(
    d: &Disorder,
    planted: Option<&[f64]>,
    stage: &str,
    s: &Samples,
    edges: &[f64],
    eq: Option<f64>,
) -> SamplerRow {
    let n = d.n;
    let energies: Vec<Vec<f64>> = s.chains.iter().map(|c| c.energy.clone()).collect();
    let (energy_mean, energy_stderr, r_hat, tau, ess) = mean_and_error(&energies, s.markov);
    let z2 = d.p.is_multiple_of(2);
    let overlaps: Option<Vec<Vec<f64>>> = planted
        .map(|x| s.chains.iter().map(|c| c.records(n).map(|r| planted_overlap(r, x, d.prior, z2)).collect()).collect());
    let (overlap_planted_mean, overlap_planted_stderr) = match &overlaps {
        Some(o) => {
            let (m, e, ..) = mean_and_error(o, s.markov);
            (finite(m), finite(e))
        }
        None => (None, None),
    };
    let overlap_hist = overlaps.map(|o| histogram(&o.concat(), edges)).unwrap_or_default();
    // Independent samples: the last record of each chain (Markov) or every sample.
    let independent: Vec<&[f32]> = if s.markov {
        s.chains.iter().filter_map(|c| c.last(n)).collect()
    } else {
        s.chains.iter().flat_map(|c| c.records(n)).collect()
    };
    let q = pairwise_overlaps(&independent);
    let acceptance: Vec<f64> = s.chains.iter().filter_map(|c| c.acceptance).collect();
    let magnetizations: Vec<f64> = independent.iter().map(|x| magnetisation(x)).collect();
    SamplerRow {
        stage: stage.to_string(),
        sampler: s.sampler.clone(),
        samples: s.total_records(),
        chains: s.chains.len(),
        energy_mean,
        energy_stderr,
        energy_excess: eq.map(|e| energy_mean - e),
        overlap_planted_mean,
        overlap_planted_stderr,
        overlap_hist,
        q_mean: finite(mean(&q)),
        q_abs_mean: finite(mean(&q.iter().map(|v| v.abs()).collect::<Vec<_>>())),
        q_hist: histogram(&q, edges),
        magnetization_mean: mean(&magnetizations),
        r_hat,
        tau,
        ess,
        acceptance: (!acceptance.is_empty()).then(|| mean(&acceptance)),
    }
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

fn pm(v: Option<f64>, e: Option<f64>) -> String {
    match (v, e) {
        (Some(v), Some(e)) if e.is_finite() => format!("{v:+.4} ± {e:.4}"),
        (Some(v), _) => format!("{v:+.4}"),
        _ => "-".into(),
    }
}

/// The comparison as a text table.
pub fn comparison_table(c: &Comparison) -> String {
    let mut out = format!(
        "{} n={} T={:.4}: equilibrium e = {}, e(x*) = {}, Bayes overlap = {}\n",
        c.model,
        c.n,
        c.temperature,
        pm(c.equilibrium_energy, None),
        pm(c.planted_energy, None),
        pm(c.bayes_overlap, None)
    );
    out += &format!(
        "  {:<34} {:>7} {:>20} {:>9} {:>20} {:>8} {:>6}\n",
        "sampler", "samples", "energy/spin", "excess", "overlap x*", "<|q|>", "R-hat"
    );
    for r in &c.rows {
        out += &format!(
            "  {:<34} {:>7} {:>20} {:>9} {:>20} {:>8} {:>6}\n",
            r.stage,
            r.samples,
            pm(Some(r.energy_mean), Some(r.energy_stderr)),
            r.energy_excess.map_or("-".into(), |e| format!("{e:+.4}")),
            pm(r.overlap_planted_mean, r.overlap_planted_stderr),
            r.q_abs_mean.map_or("-".into(), |q| format!("{q:.3}")),
            r.r_hat.map_or("-".into(), |v| format!("{v:.3}")),
        );
    }
    out
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateRow {
    pub sampler: String,
    pub stages: Vec<String>,
    pub instances: usize,
    pub energy_excess_mean: Option<f64>,
    pub energy_excess_stderr: Option<f64>,
    pub overlap_planted_mean: Option<f64>,
    pub overlap_planted_stderr: Option<f64>,
    pub q_abs_mean: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    pub instances: usize,
    pub temperature: f64,
    pub bayes_overlap: Option<f64>,
    pub rows: Vec<AggregateRow>,
}

/// Rows are matched by position: row i of every comparison is the same sampler.
pub fn aggregate(comparisons: &[Comparison]) -> Result<Aggregate> {
    let rows = comparisons.first().map_or(0, |c| c.rows.len());
    if comparisons.iter().any(|c| c.rows.len() != rows) {
        bail!("the comparisons compare different numbers of samplers");
    }
    let stat = |v: Vec<f64>| -> (Option<f64>, Option<f64>) {
        if v.is_empty() {
            return (None, None);
        }
        (finite(mean(&v)), if v.len() > 1 { finite(standard_error(&v)) } else { None })
    };
    let out = (0..rows)
        .map(|i| {
            let all: Vec<&SamplerRow> = comparisons.iter().map(|c| &c.rows[i]).collect();
            let (energy_excess_mean, energy_excess_stderr) = stat(all.iter().filter_map(|r| r.energy_excess).collect());
            let (overlap_planted_mean, overlap_planted_stderr) =
                stat(all.iter().filter_map(|r| r.overlap_planted_mean).collect());
            AggregateRow {
                sampler: all[0].sampler.clone(),
                stages: all.iter().map(|r| r.stage.clone()).collect(),
                instances: all.len(),
                energy_excess_mean,
                energy_excess_stderr,
                overlap_planted_mean,
                overlap_planted_stderr,
                q_abs_mean: stat(all.iter().filter_map(|r| r.q_abs_mean).collect()).0,
            }
        })
        .collect();
    Ok(Aggregate {
        instances: comparisons.len(),
        temperature: comparisons.first().map_or(f64::NAN, |c| c.temperature),
        bayes_overlap: comparisons.first().and_then(|c| c.bayes_overlap),
        rows: out,
    })
}

pub fn aggregate_summary(a: &Aggregate) -> serde_json::Value {
    serde_json::to_value(a).unwrap_or_default()
}

pub fn aggregate_table(a: &Aggregate) -> String {
    let mut out =
        format!("{} instances, T={:.4}, Bayes overlap = {}\n", a.instances, a.temperature, pm(a.bayes_overlap, None));
    out +=
        &format!("  {:<34} {:>22} {:>22} {:>8}\n", "sampler (first instance)", "energy excess", "overlap x*", "<|q|>");
    for r in &a.rows {
        out += &format!(
            "  {:<34} {:>22} {:>22} {:>8}\n",
            r.stages[0],
            pm(r.energy_excess_mean, r.energy_excess_stderr),
            pm(r.overlap_planted_mean, r.overlap_planted_stderr),
            r.q_abs_mean.map_or("-".into(), |q| format!("{q:.3}"))
        );
    }
    out
}
