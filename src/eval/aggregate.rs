//! Averages of comparisons over disorder instances: per sampler, the mean and
//! standard error over instances (error bars from the instance spread) of the
//! energy excess, the overlap with the planted signal and the energy
//! difference to the reference; the count of per-instance verdicts, and a
//! verdict over instances (the `verdict` rule on the mean difference, with
//! `instances - 1` degrees of freedom, no two-sample tests) beside the
//! theory's prediction.

use serde::{Deserialize, Serialize};

use super::compare::{finite, Comparison, SamplerRow};
use super::stats::{mean, standard_error};
use super::verdict::{self, Decision, Difference, Predicted, Verdict};

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
    /// Energy per spin minus the reference's, over instances.
    pub energy_diff_mean: Option<f64>,
    pub energy_diff_stderr: Option<f64>,
    /// Per-instance verdicts: consistent, biased, inconclusive.
    pub verdict_counts: [usize; 3],
    /// The verdict on the mean difference over instances (None without a reference).
    pub decision: Option<Decision>,
    pub predicted: Predicted,
    pub agrees: Option<bool>,
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
            let diffs: Vec<f64> =
                all.iter().filter_map(|r| r.vs_reference.as_ref()).map(|v| v.energy_diff.value).collect();
            let (energy_diff_mean, energy_diff_stderr) = stat(diffs.clone());
            let mut verdict_counts = [0; 3];
            for v in all.iter().filter_map(|r| r.verdict()) {
                verdict_counts[match v {
                    Verdict::Consistent => 0,
                    Verdict::Biased => 1,
                    Verdict::Inconclusive => 2,
                }] += 1;
            }
            let decision = (!diffs.is_empty()).then(|| {
                let d = energy_diff_mean.zip(energy_diff_stderr).map(|(value, stderr)| Difference {
                    value,
                    stderr,
                    dof: (diffs.len() - 1) as f64,
                });
                verdict::decide(d, &[], comparisons[0].thresholds)
            });
            let predicted = all[0].predicted.clone();
            let agrees = verdict::agrees(decision.as_ref().map(|d| d.verdict), predicted.prediction);
            AggregateRow {
                sampler: all[0].sampler.clone(),
                stages: all.iter().map(|r| r.stage.clone()).collect(),
                instances: all.len(),
                energy_excess_mean,
                energy_excess_stderr,
                overlap_planted_mean,
                overlap_planted_stderr,
                q_abs_mean: stat(all.iter().filter_map(|r| r.q_abs_mean).collect()).0,
                energy_diff_mean,
                energy_diff_stderr,
                verdict_counts,
                decision,
                predicted,
                agrees,
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
