//! Evaluation of bicoloring samplers on one hypergraph: per sample the
//! fraction of monochromatic hyperedges (0 for a proper coloring), whether it
//! is proper, its overlap `|x . x*| / N` with the planted coloring (absolute:
//! the measure is symmetric under a global flip), the mean `|q|` between
//! independent samples (final records of different chains / trajectories),
//! and for Markov chains the integrated autocorrelation time of the overlap
//! with `x*` (in sweeps), the chain's decorrelation time.

use serde::{Deserialize, Serialize};

use super::samples::Samples;
use super::stats;
use crate::models::bicoloring::Bicoloring;

/// One sampler's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BicoloringRow {
    pub stage: String,
    pub sampler: String,
    /// Samples evaluated (every record of every chain).
    pub samples: usize,
    /// Mean fraction of monochromatic hyperedges, and its standard error.
    pub violated_mean: f64,
    pub violated_stderr: f64,
    /// Fraction of samples that are proper colorings.
    pub proper_fraction: f64,
    pub overlap_planted_mean: Option<f64>,
    pub overlap_planted_stderr: Option<f64>,
    /// Mean `|q|` between independent samples.
    pub q_abs_mean: Option<f64>,
    /// Integrated autocorrelation time of the overlap with `x*`, in sweeps (Markov chains).
    pub tau: Option<f64>,
}

/// All rows on one instance, with the theory's overlap values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BicoloringComparison {
    pub n: usize,
    pub k: usize,
    pub alpha: f64,
    pub hyperedges: usize,
    /// Overlap with `x*` of an equilibrium sample (0: below condensation a
    /// sample lies in another cluster, or the measure is unclustered).
    pub overlap_equilibrium: f64,
    /// Overlap of a sample from `x*`'s own cluster: the informed branch of
    /// population dynamics at `t = 0` (0 below `alpha_d`), when computed.
    pub overlap_cluster: Option<f64>,
    pub rows: Vec<BicoloringRow>,
}

/// Evaluates each `(stage name, samples)` on `graph`.
pub fn compare(graph: &Bicoloring, samples: &[(&str, &Samples)], overlap_cluster: Option<f64>) -> BicoloringComparison {
    let planted = graph.planted_f64();
    let rows = samples.iter().map(|(stage, s)| row(graph, planted.as_deref(), stage, s)).collect();
    BicoloringComparison {
        n: graph.n,
        k: graph.k,
        alpha: graph.alpha,
        hyperedges: graph.m(),
        overlap_equilibrium: 0.0,
        overlap_cluster,
        rows,
    }
}

fn row(graph: &Bicoloring, planted: Option<&[f64]>, stage: &str, s: &Samples) -> BicoloringRow {
    let n = graph.n;
    let m = graph.m().max(1) as f64;
    let (mut violated, mut overlaps) = (Vec::new(), Vec::new());
    let mut per_chain_overlaps: Vec<Vec<f64>> = Vec::new();
    for chain in &s.chains {
        let mut chain_overlaps = Vec::new();
        for x in chain.records(n) {
            violated.push(graph.violated(x) as f64 / m);
            if let Some(p) = planted {
                let o = x.iter().zip(p).map(|(&a, &b)| a as f64 * b).sum::<f64>() / n as f64;
                chain_overlaps.push(o.abs());
            }
        }
        overlaps.extend_from_slice(&chain_overlaps);
        per_chain_overlaps.push(chain_overlaps);
    }
    let finals: Vec<&[f32]> = s.chains.iter().filter_map(|c| c.last(n)).collect();
    let mut qs = Vec::new();
    for a in 0..finals.len() {
        for b in a + 1..finals.len() {
            let q = finals[a].iter().zip(finals[b]).map(|(&x, &y)| x as f64 * y as f64).sum::<f64>() / n as f64;
            qs.push(q.abs());
        }
    }
    let spacing = s.record_at.windows(2).next().map_or(1.0, |w| w[1] - w[0]);
    let tau = (s.markov && planted.is_some()).then(|| {
        let taus: Vec<f64> =
            per_chain_overlaps.iter().filter(|o| o.len() >= 4).map(|o| stats::integrated_time(o, 5.0)).collect();
        spacing * taus.iter().sum::<f64>() / taus.len().max(1) as f64
    });
    BicoloringRow {
        stage: stage.to_string(),
        sampler: s.sampler.clone(),
        samples: violated.len(),
        violated_mean: stats::mean(&violated),
        violated_stderr: if violated.len() > 1 { stats::standard_error(&violated) } else { 0.0 },
        proper_fraction: violated.iter().filter(|&&v| v == 0.0).count() as f64 / violated.len().max(1) as f64,
        overlap_planted_mean: planted.map(|_| stats::mean(&overlaps)),
        overlap_planted_stderr: planted
            .map(|_| if overlaps.len() > 1 { stats::standard_error(&overlaps) } else { 0.0 }),
        q_abs_mean: (!qs.is_empty()).then(|| stats::mean(&qs)),
        tau: tau.filter(|t| t.is_finite()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::samples::SampleChain;
    use crate::observe::Silent;

    #[test]
    fn planted_and_flipped_colorings_are_proper_with_full_overlap() {
        let g = Bicoloring::generate(500, 5, 8.0, true, 1, &Silent).unwrap().unwrap();
        let x: Vec<f32> = g.planted.as_ref().unwrap().iter().map(|&v| v as f32).collect();
        let flipped: Vec<f32> = x.iter().map(|v| -v).collect();
        let random: Vec<f32> = (0..g.n).map(|i| if i % 2 == 0 { 1.0 } else { -1.0 }).collect();
        let chain = |c: &[f32]| SampleChain { configurations: c.to_vec(), energy: vec![0.0], acceptance: None };
        let s = Samples {
            sampler: "test".into(),
            n: g.n,
            markov: false,
            chains: vec![chain(&x), chain(&flipped), chain(&random)],
            record_at: vec![],
            traces: vec![],
            notes: vec![],
        };
        let c = compare(&g, &[("s", &s)], None);
        let r = &c.rows[0];
        assert!((r.proper_fraction - 2.0 / 3.0).abs() < 1e-12);
        assert!(r.violated_mean > 0.0);
        let r_random = random.iter().zip(&x).map(|(&a, &b)| a as f64 * b as f64).sum::<f64>().abs() / g.n as f64;
        assert!((r.overlap_planted_mean.unwrap() - (2.0 + r_random) / 3.0).abs() < 1e-12);
        assert!(r.q_abs_mean.unwrap() > 1.0 / 3.0);
    }
}
