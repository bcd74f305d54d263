//! What tells a right sample from a wrong one, for each sampler on one
//! instance: energy per spin against the Nishimori equilibrium value, overlap
//! with the planted signal against the Bayes-optimal SE overlap, the overlap
//! distribution P(q) between independent samples, and for Markov chains R-hat,
//! autocorrelation time and ESS (PHYSICS.md section 10).

use serde::{Deserialize, Serialize};

use super::overlaps::{magnetisation, pairwise_overlaps, planted_overlap};
use super::samples::Samples;
use super::se_model::se_model_of;
use super::stats::{histogram, mean, standard_error, statistics};
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
pub fn compare(d: &Disorder, inputs: &[(&str, &Samples)], observer: &dyn Observer) -> Result<Comparison, CompareError> {
    let edges: Vec<f64> = (0..=BINS).map(|i| -1.0 + 2.0 * i as f64 / BINS as f64).collect();
    let equilibrium_energy = d.equilibrium_energy_per_spin();
    let planted = d.planted_f64();
    let mut rows = Vec::new();
    for (stage, s) in inputs {
        if s.n != d.n {
            return Err(CompareError::Size { stage: stage.to_string(), samples: s.n, instance: d.n });
        }
        let row = sampler_row(d, planted.as_deref(), stage, s, &edges, equilibrium_energy);
        observer.histogram(&format!("P(q) {stage}"), &edges, &row.q_hist);
        if planted.is_some() {
            observer.histogram(&format!("overlap {stage}"), &edges, &row.overlap_hist);
        }
        rows.push(row);
        observer.checkpoint().map_err(|_| CompareError::Cancelled)?;
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
