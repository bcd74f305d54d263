//! What tells a right sample from a wrong one, for each sampler on one
//! instance: energy per spin against the Nishimori equilibrium value, overlap
//! with the planted signal against the Bayes-optimal SE overlap, the overlap
//! distribution P(q) between independent samples, and for Markov chains R-hat,
//! autocorrelation time and ESS (PHYSICS.md section 10). With a reference
//! sampler on the same instance, each other sampler is tested against it
//! (energy difference, overlap and P(q) two-sample tests, `verdict`), and every
//! sampler gets the theory's prediction (`verdict::Theory`).

use serde::{Deserialize, Serialize};

use super::overlaps::{magnetisation, pairwise_overlaps, planted_overlap};
use super::samples::Samples;
use super::se_model::se_model_of;
use super::stats::{histogram, mean, standard_error, statistics};
use super::two_sample::{ks_test, pq_test, TwoSample};
use super::verdict::{self, welch, Decision, Difference, Predicted, Thresholds};
use crate::models::{Disorder, Family};
use crate::observe::Observer;
use crate::theory;

/// Why a comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("samples of `{stage}` have n = {samples}, the instance has n = {instance}")]
    Size { stage: String, samples: usize, instance: usize },
    #[error("cancelled")]
    Cancelled,
}

const BINS: usize = 40;

/// Configurations per sampler entering the two-sample tests (the P(q) test
/// costs `(2 MAX_CONFIGS)^2 N` for the Gram matrix).
pub const MAX_CONFIGS: usize = 64;

/// How samplers are tested against the reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Index (into the sampler inputs) of the reference sampler.
    pub reference: Option<usize>,
    pub thresholds: Thresholds,
    /// Relabellings of each permutation test.
    pub permutations: usize,
    /// Seed of the permutation streams.
    pub seed: u64,
}

/// One sampler against the reference on the same instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VsReference {
    /// Stage name of the reference.
    pub reference: String,
    /// Mean energy per spin minus the reference's, with error and dof.
    pub energy_diff: Difference,
    /// KS test of the overlap-with-x* distributions (planted models).
    pub overlap_test: Option<TwoSample>,
    /// KS test of P(q) (both samplers with at least 3 independent configurations).
    pub q_test: Option<TwoSample>,
    pub decision: Decision,
}

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
    /// Degrees of freedom of `energy_stderr` (chains - 1, or samples - 1).
    pub energy_dof: f64,
    /// Independent configurations used by the two-sample tests.
    pub independent: usize,
    /// None for the reference itself and when there is no reference.
    pub vs_reference: Option<VsReference>,
    pub predicted: Predicted,
    /// Whether `verdict` and `predicted` agree (None if either is missing or inconclusive).
    pub agrees: Option<bool>,
}

impl SamplerRow {
    pub fn verdict(&self) -> Option<verdict::Verdict> {
        self.vs_reference.as_ref().map(|v| v.decision.verdict)
    }
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
    /// Stage name of the reference sampler, if any.
    pub reference: Option<String>,
    pub thresholds: Thresholds,
}

pub fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Bayes-optimal overlap `m_eq / rho` at t = 0 from state evolution (planted models).
fn bayes_overlap(d: &Disorder) -> Option<f64> {
    if d.family == Family::Sk {
        return None;
    }
    let model = se_model_of(d)?;
    let point = theory::solve_point(&model, theory::Path::Diffusion, 0.0).ok()?;
    Some(point.m_eq / d.prior.rho())
}

/// Compares each sampler's samples (named by their stage) on instance `d`.
pub fn compare(
    d: &Disorder,
    inputs: &[(&str, &Samples)],
    settings: &Settings,
    observer: &dyn Observer,
) -> Result<Comparison, CompareError> {
    let edges: Vec<f64> = (0..=BINS).map(|i| -1.0 + 2.0 * i as f64 / BINS as f64).collect();
    let equilibrium_energy = d.equilibrium_energy_per_spin();
    let planted = d.planted_f64();
    let theory = verdict::Theory::of(d);
    let mut rows = Vec::new();
    for (stage, s) in inputs {
        if s.n != d.n {
            return Err(CompareError::Size { stage: stage.to_string(), samples: s.n, instance: d.n });
        }
        let mut row = sampler_row(d, planted.as_deref(), stage, s, &edges, equilibrium_energy);
        let init_planted = s.notes.iter().find(|(k, _)| k == "init_planted").map(|(_, v)| *v > 0.5);
        row.predicted = theory.predict(&s.sampler, init_planted);
        observer.histogram(&format!("P(q) {stage}"), &edges, &row.q_hist);
        if planted.is_some() {
            observer.histogram(&format!("overlap {stage}"), &edges, &row.overlap_hist);
        }
        rows.push(row);
        observer.checkpoint().map_err(|_| CompareError::Cancelled)?;
    }
    if let Some(r) = settings.reference {
        let configs: Vec<Vec<&[f32]>> =
            inputs.iter().zip(&rows).map(|((_, s), row)| independent_configurations(s, row.tau)).collect();
        for (row, c) in rows.iter_mut().zip(&configs) {
            row.independent = c.len();
        }
        let reference = &rows[r];
        let vs: Vec<Option<VsReference>> = (0..rows.len())
            .map(|i| {
                (i != r).then(|| {
                    let mut rng = crate::rng::stream(settings.seed, "compare-permutations", i as u64);
                    against(d, planted.as_deref(), &rows[i], &configs[i], reference, &configs[r], settings, &mut rng)
                })
            })
            .collect();
        for (row, v) in rows.iter_mut().zip(vs) {
            row.vs_reference = v;
            row.agrees = verdict::agrees(row.verdict(), row.predicted.prediction);
        }
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
        reference: settings.reference.map(|r| inputs[r].0.to_string()),
        thresholds: settings.thresholds,
    })
}

/// Effectively independent configurations of a sampler, at most `MAX_CONFIGS`:
/// every sample of a generative sampler; for Markov chains, records `ceil(2 tau)`
/// apart counted back from each chain's last one, taken round-robin over chains.
fn independent_configurations(s: &Samples, tau: Option<f64>) -> Vec<&[f32]> {
    let per_chain: Vec<Vec<&[f32]>> = s.chains.iter().map(|c| c.records(s.n).collect()).collect();
    let step = if s.markov { tau.map_or(usize::MAX, |t| (2.0 * t).ceil().max(1.0) as usize) } else { 1 };
    let thinned: Vec<Vec<&[f32]>> =
        per_chain.iter().map(|c| c.iter().rev().step_by(step.min(c.len().max(1))).copied().collect()).collect();
    let longest = thinned.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = Vec::new();
    for k in 0..longest {
        for c in &thinned {
            if let Some(&x) = c.get(k) {
                if out.len() < MAX_CONFIGS {
                    out.push(x);
                }
            }
        }
    }
    out
}

/// Tests the sampler of `row` against the reference's.
#[allow(clippy::too_many_arguments)]
fn against(
    d: &Disorder,
    planted: Option<&[f64]>,
    row: &SamplerRow,
    configs: &[&[f32]],
    reference: &SamplerRow,
    reference_configs: &[&[f32]],
    settings: &Settings,
    rng: &mut crate::rng::Rng,
) -> VsReference {
    let energy_diff = welch(
        (row.energy_mean, row.energy_stderr, row.energy_dof),
        (reference.energy_mean, reference.energy_stderr, reference.energy_dof),
    );
    let z2 = d.p.is_multiple_of(2);
    let overlap_test = planted.filter(|_| !configs.is_empty() && !reference_configs.is_empty()).map(|x| {
        let m = |c: &[&[f32]]| c.iter().map(|r| planted_overlap(r, x, d.prior, z2)).collect::<Vec<f64>>();
        ks_test(&m(configs), &m(reference_configs), settings.permutations, rng)
    });
    let q_test = (configs.len() >= 3 && reference_configs.len() >= 3)
        .then(|| pq_test(configs, reference_configs, z2, settings.permutations, rng));
    let mut others = Vec::new();
    if let Some(t) = overlap_test {
        others.push(("overlap", t));
    }
    if let Some(t) = q_test {
        others.push(("P(q)", t));
    }
    let energy = energy_diff.value.is_finite().then_some(energy_diff);
    VsReference {
        reference: reference.stage.clone(),
        energy_diff,
        overlap_test,
        q_test,
        decision: verdict::decide(energy, &others, settings.thresholds),
    }
}

/// Mean of per-record values and its error: chain statistics for Markov
/// chains (batch means over chains, NetKet's convention, `chains - 1` degrees
/// of freedom), plain for independent samples (`samples - 1`).
struct Estimate {
    mean: f64,
    error: f64,
    dof: f64,
    r_hat: Option<f64>,
    tau: Option<f64>,
    ess: Option<f64>,
}

fn mean_and_error(per_chain: &[Vec<f64>], markov: bool) -> Estimate {
    if markov && per_chain.len() > 1 && per_chain.iter().all(|c| c.len() >= 4) {
        let st = statistics(per_chain);
        return Estimate {
            mean: st.mean,
            error: st.error_of_mean,
            dof: (per_chain.len() - 1) as f64,
            r_hat: finite(st.r_hat),
            tau: finite(st.tau_corr),
            ess: finite(st.ess),
        };
    }
    let all: Vec<f64> = per_chain.iter().flatten().copied().collect();
    let error = if all.len() > 1 { standard_error(&all) } else { f64::NAN };
    Estimate { mean: mean(&all), error, dof: all.len().saturating_sub(1) as f64, r_hat: None, tau: None, ess: None }
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
    let energy = mean_and_error(&energies, s.markov);
    let z2 = d.p.is_multiple_of(2);
    let overlaps: Option<Vec<Vec<f64>>> = planted
        .map(|x| s.chains.iter().map(|c| c.records(n).map(|r| planted_overlap(r, x, d.prior, z2)).collect()).collect());
    let (overlap_planted_mean, overlap_planted_stderr) = match &overlaps {
        Some(o) => {
            let e = mean_and_error(o, s.markov);
            (finite(e.mean), finite(e.error))
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
        energy_mean: energy.mean,
        energy_stderr: energy.error,
        energy_excess: eq.map(|e| energy.mean - e),
        overlap_planted_mean,
        overlap_planted_stderr,
        overlap_hist,
        q_mean: finite(mean(&q)),
        q_abs_mean: finite(mean(&q.iter().map(|v| v.abs()).collect::<Vec<_>>())),
        q_hist: histogram(&q, edges),
        magnetization_mean: mean(&magnetizations),
        r_hat: energy.r_hat,
        tau: energy.tau,
        ess: energy.ess,
        acceptance: (!acceptance.is_empty()).then(|| mean(&acceptance)),
        energy_dof: energy.dof,
        independent: 0,
        vs_reference: None,
        predicted: Predicted { prediction: None, why: String::new(), at: None },
        agrees: None,
    }
}
