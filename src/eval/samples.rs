//! What every sampler produces, whatever the algorithm: per chain (a Markov
//! chain, or one generative trajectory) the recorded configurations and their
//! energies per spin, plus the path traces generative samplers record.
//! Comparisons read only this.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleChain {
    /// Recorded configurations, concatenated (`records x n`).
    #[serde(with = "crate::models::f32_bytes")]
    pub configurations: Vec<f32>,
    /// Energy per spin of each record.
    pub energy: Vec<f64>,
    /// Fraction of accepted moves (Markov chains only).
    pub acceptance: Option<f64>,
}

impl SampleChain {
    pub fn records(&self, n: usize) -> impl Iterator<Item = &[f32]> {
        self.configurations.chunks_exact(n.max(1))
    }

    pub fn last(&self, n: usize) -> Option<&[f32]> {
        self.records(n).last()
    }
}

/// A named series along a sampler's path (time or theta) averaged over trajectories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathTrace {
    pub name: String,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Samples {
    /// The kind that produced them.
    pub sampler: String,
    pub n: usize,
    /// True for Markov chains (autocorrelation, R-hat apply), false for
    /// independent generative samples (one record per chain).
    pub markov: bool,
    pub chains: Vec<SampleChain>,
    /// Sweep / step / time of each record (Markov chains).
    pub record_at: Vec<f64>,
    pub traces: Vec<PathTrace>,
    /// Free-form facts about the run (e.g. AMP iterations, exchange rates).
    pub notes: Vec<(String, f64)>,
}

impl Samples {
    pub fn total_records(&self) -> usize {
        self.chains.iter().map(|c| c.energy.len()).sum()
    }
}

impl Samples {
    /// The recorded configurations and energies of a run of spin chains
    /// (Metropolis, heat bath, tempering), as sampler `kind` with `notes`.
    pub fn from_spin_run(kind: &str, run: crate::samplers::SpinRun, notes: Vec<(String, f64)>) -> Samples {
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
}
