//! The artifacts stages produce, as one enum the codec stores; their summaries
//! (what `quench show` prints), the numbers that must be finite, and which
//! report table shows each.

use serde::{Deserialize, Serialize};

use super::bicoloring as sparse;
use super::compare;
use super::denoiser_path;
use super::samples::{self, Samples};
use super::theory as kinds;
use crate::engine::codec;
use crate::eval::aggregate::Aggregate;
use crate::eval::bicoloring::BicoloringComparison;
use crate::eval::compare::Comparison;
use crate::eval::denoiser_path::DenoiserPath;
use crate::models::bicoloring::Bicoloring;
use crate::models::Disorder;
use crate::report::export::Table;
use crate::report::{table, table_data};
use crate::theory::popdyn_path::{PopDiagram, PopPath};
use crate::theory::{Landscape, PhaseDiagram, SePath};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)] // one artifact at a time; boxing buys nothing
pub enum Artifact {
    Disorder(Disorder),
    Samples(Samples),
    Comparison(Comparison),
    Aggregate(Aggregate),
    DenoiserPath(DenoiserPath),
    SePath(SePath),
    PhaseDiagram(PhaseDiagram),
    Landscape(Landscape),
    Network(super::train::Network),
    LearnedDenoiser(super::train::Denoiser),
    /// A bicoloring hypergraph (type `disorder`: samplers and compare take it).
    Bicoloring(Bicoloring),
    BicoloringPath(PopPath),
    BicoloringDiagram(PopDiagram),
    BicoloringComparison(BicoloringComparison),
}

impl Artifact {
    /// The artifact type name used for input checking.
    pub fn type_name(&self) -> &'static str {
        match self {
            Artifact::Disorder(_) => super::disorder::OUTPUT,
            Artifact::Samples(_) => samples::OUTPUT,
            Artifact::Comparison(_) => compare::COMPARISON,
            Artifact::Aggregate(_) => compare::AGGREGATE_OUTPUT,
            Artifact::DenoiserPath(_) => denoiser_path::OUTPUT,
            Artifact::SePath(_) => kinds::SE_PATH_OUTPUT,
            Artifact::PhaseDiagram(_) => kinds::DIAGRAM_OUTPUT,
            Artifact::Landscape(_) => kinds::LANDSCAPE_OUTPUT,
            Artifact::Network(_) => super::train::NETWORK_OUTPUT,
            Artifact::LearnedDenoiser(_) => super::train::DENOISER_OUTPUT,
            Artifact::Bicoloring(_) => super::disorder::OUTPUT,
            Artifact::BicoloringPath(_) => sparse::PATH_OUTPUT,
            Artifact::BicoloringDiagram(_) => sparse::DIAGRAM_OUTPUT,
            Artifact::BicoloringComparison(_) => compare::COMPARISON,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    pub fn decode(payload: &[u8]) -> Result<Artifact, codec::CodecError> {
        codec::decode(payload)
    }

    pub fn summary(&self) -> serde_json::Value {
        match self {
            Artifact::Disorder(d) => super::disorder::summary(d),
            Artifact::Samples(s) => samples::summary(s),
            Artifact::Comparison(c) => compare::comparison_summary(c),
            Artifact::Aggregate(a) => compare::aggregate_summary(a),
            Artifact::DenoiserPath(p) => denoiser_path::summary(p),
            Artifact::SePath(s) => kinds::se_path_summary(s),
            Artifact::PhaseDiagram(d) => kinds::diagram_summary(d),
            Artifact::Landscape(l) => kinds::landscape_summary(l),
            Artifact::Network(net) => super::train::network_summary(net),
            Artifact::LearnedDenoiser(den) => super::train::denoiser_summary(den),
            Artifact::Bicoloring(g) => sparse::disorder_summary(g),
            Artifact::BicoloringPath(p) => sparse::path_summary(p),
            Artifact::BicoloringDiagram(d) => sparse::diagram_summary(d),
            Artifact::BicoloringComparison(c) => sparse::comparison_summary(c),
        }
    }

    /// Checks that the numbers the summary reports are finite (a NaN or an
    /// infinity there is a failed stage, not a result); the error names the first bad one.
    pub fn check_finite(&self) -> Result<(), String> {
        let mut check = Finite::default();
        match self {
            Artifact::Disorder(d) => {
                check.all("delta", [d.delta, d.temperature, d.coupling_scale]);
                check.all("couplings", d.couplings.iter().map(|&v| v as f64));
                check.all("planted signal", d.planted.iter().flatten().map(|&v| v as f64));
            }
            Artifact::Samples(s) => {
                for (c, chain) in s.chains.iter().enumerate() {
                    check.all(&format!("energy of chain {c}"), chain.energy.iter().copied());
                    check.all(&format!("acceptance of chain {c}"), chain.acceptance);
                }
                for (name, v) in &s.notes {
                    check.one(name, *v);
                }
            }
            Artifact::Comparison(c) => {
                check.all("temperature", [c.temperature, c.delta]);
                check.all("equilibrium energy", c.equilibrium_energy.into_iter().chain(c.planted_energy));
                check.all("Bayes overlap", c.bayes_overlap);
                for r in &c.rows {
                    check.one(&format!("energy of `{}`", r.stage), r.energy_mean);
                    check.all(&format!("energy excess of `{}`", r.stage), r.energy_excess);
                }
            }
            Artifact::Aggregate(a) => {
                check.one("temperature", a.temperature);
                for r in &a.rows {
                    check.all(&format!("energy excess of `{}`", r.sampler), r.energy_excess_mean);
                    check.all(&format!("overlap of `{}`", r.sampler), r.overlap_planted_mean);
                }
            }
            Artifact::Network(net) => {
                let e = &net.estimate;
                check.all("free energy estimate", [e.free_energy, e.free_energy_stderr, e.energy, e.entropy]);
                check.all("training curve", net.curve.iter().flat_map(|p| [p.free_energy, p.grad_norm]));
            }
            Artifact::LearnedDenoiser(den) => {
                check.all("training loss", den.curve.iter().map(|p| p.loss));
                check.all("held-out MSE", den.mse_learned.iter().copied());
            }
            Artifact::DenoiserPath(p) => {
                check.all("t", p.t.iter().copied());
                check.all("overlap", p.overlap_uninf.iter().chain(&p.overlap_inf).copied());
            }
            Artifact::SePath(s) => {
                check.one("delta", s.model.delta);
                check.all("m_eq", s.points.iter().map(|p| p.m_eq));
            }
            Artifact::PhaseDiagram(d) => {
                check.one("delta_d", d.statics.delta_d);
                check.one("temperature_d", d.statics.temperature_d);
                check.all("delta_k", d.statics.delta_k);
            }
            Artifact::Landscape(l) => {
                check.one("t", l.t);
                check.all("m", l.m.iter().copied());
            }
            Artifact::Bicoloring(g) => check.one("alpha", g.alpha),
            Artifact::BicoloringPath(p) => {
                check.all("m", p.points.iter().flat_map(|q| [q.m_uninf.mean, q.m_inf.mean]));
                check.all("phi", p.points.iter().flat_map(|q| [q.phi_uninf.mean, q.phi_inf.mean]));
            }
            Artifact::BicoloringDiagram(d) => {
                check.all("delta_m", d.rows.iter().flat_map(|r| r.delta_m.iter().copied()))
            }
            Artifact::BicoloringComparison(c) => {
                for r in &c.rows {
                    check.one(&format!("violated fraction of `{}`", r.stage), r.violated_mean);
                    check.all(&format!("overlap of `{}`", r.stage), r.overlap_planted_mean);
                }
            }
        }
        check.result()
    }

    /// A human-readable table, for artifacts that are results to read.
    pub fn report(&self) -> Option<String> {
        match self {
            Artifact::Comparison(c) => Some(table::comparison_table(c)),
            Artifact::Aggregate(a) => Some(table::aggregate_table(a)),
            Artifact::BicoloringComparison(c) => Some(sparse::comparison_table(c)),
            _ => None,
        }
    }

    /// The artifact's data as named tables of equal-length columns.
    pub fn tables(&self) -> Vec<Table> {
        match self {
            Artifact::Disorder(d) => table_data::disorder(d),
            Artifact::Samples(s) => table_data::samples(s),
            Artifact::Comparison(c) => table_data::comparison(c),
            Artifact::DenoiserPath(p) => vec![table_data::denoiser_path(p)],
            Artifact::Aggregate(a) => vec![table_data::aggregate(a)],
            Artifact::SePath(s) => vec![table_data::se_path(s)],
            Artifact::PhaseDiagram(d) => table_data::diagram(d),
            Artifact::Landscape(l) => vec![table_data::landscape(l)],
            Artifact::Network(net) => vec![super::train::network_table(net)],
            Artifact::LearnedDenoiser(den) => vec![super::train::denoiser_table(den)],
            Artifact::Bicoloring(g) => sparse::disorder_tables(g),
            Artifact::BicoloringPath(p) => vec![sparse::path_table(p)],
            Artifact::BicoloringDiagram(d) => sparse::diagram_tables(d),
            Artifact::BicoloringComparison(c) => sparse::comparison_tables(c),
        }
    }
}

/// Collects the first non-finite value seen.
#[derive(Default)]
struct Finite(Option<String>);

impl Finite {
    fn one(&mut self, what: &str, v: f64) {
        if self.0.is_none() && !v.is_finite() {
            self.0 = Some(format!("{what} is {v}"));
        }
    }

    fn all(&mut self, what: &str, values: impl IntoIterator<Item = f64>) {
        if self.0.is_none() {
            if let Some(v) = values.into_iter().find(|v| !v.is_finite()) {
                self.0 = Some(format!("{what} is {v}"));
            }
        }
    }

    fn result(self) -> Result<(), String> {
        self.0.map_or(Ok(()), Err)
    }
}
