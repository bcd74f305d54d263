//! Averages of comparisons over disorder instances: per sampler, the mean and
//! standard error over instances of the energy excess and the overlap with
//! the planted signal.

use serde::{Deserialize, Serialize};

use super::compare::{finite, Comparison, SamplerRow};
use super::stats::{mean, standard_error};

#[derive(Debug, thiserror::Error)]
pub enum AggregateError {
    #[error("the comparisons compare different numbers of samplers")]
    Mismatch,
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
pub fn aggregate(comparisons: &[Comparison]) -> Result<Aggregate, AggregateError> {
    let rows = comparisons.first().map_or(0, |c| c.rows.len());
    if comparisons.iter().any(|c| c.rows.len() != rows) {
        return Err(AggregateError::Mismatch);
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
