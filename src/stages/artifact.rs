//! The artifacts stages produce, as one enum the codec stores; their summaries
//! (what `quench show` prints) and their export tables.

use serde::{Deserialize, Serialize};

use super::compare;
use super::generative;
use super::samples::{self, Samples};
use super::theory as kinds;
use crate::engine::codec;
use crate::eval::aggregate::Aggregate;
use crate::eval::compare::{Comparison, SamplerRow};
use crate::eval::denoiser_path::DenoiserPath;
use crate::models::{packed, Disorder};
use crate::report::export::{Column, Table};
use crate::report::table;
use crate::theory::{temperature_from_delta, Landscape, LinePoint, PhaseDiagram, SePath};

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
}

impl Artifact {
    /// The artifact type name used for input checking.
    pub fn type_name(&self) -> &'static str {
        match self {
            Artifact::Disorder(_) => super::disorder::OUTPUT,
            Artifact::Samples(_) => samples::OUTPUT,
            Artifact::Comparison(_) => compare::COMPARISON,
            Artifact::Aggregate(_) => compare::AGGREGATE_OUTPUT,
            Artifact::DenoiserPath(_) => generative::DENOISER_PATH_OUTPUT,
            Artifact::SePath(_) => kinds::SE_PATH_OUTPUT,
            Artifact::PhaseDiagram(_) => kinds::DIAGRAM_OUTPUT,
            Artifact::Landscape(_) => kinds::LANDSCAPE_OUTPUT,
            Artifact::Network(_) => super::train::NETWORK_OUTPUT,
            Artifact::LearnedDenoiser(_) => super::train::DENOISER_OUTPUT,
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
            Artifact::DenoiserPath(p) => generative::denoiser_path_summary(p),
            Artifact::SePath(s) => kinds::se_path_summary(s),
            Artifact::PhaseDiagram(d) => kinds::diagram_summary(d),
            Artifact::Landscape(l) => kinds::landscape_summary(l),
            Artifact::Network(net) => super::train::network_summary(net),
            Artifact::LearnedDenoiser(den) => super::train::denoiser_summary(den),
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
        }
        check.result()
    }

    /// A human-readable table, for artifacts that are results to read.
    pub fn report(&self) -> Option<String> {
        match self {
            Artifact::Comparison(c) => Some(table::comparison_table(c)),
            Artifact::Aggregate(a) => Some(table::aggregate_table(a)),
            _ => None,
        }
    }

    /// The artifact's data as named tables of equal-length columns.
    pub fn tables(&self) -> Vec<Table> {
        match self {
            Artifact::Disorder(d) => disorder_tables(d),
            Artifact::Samples(s) => samples_tables(s),
            Artifact::Comparison(c) => comparison_tables(c),
            Artifact::DenoiserPath(p) => vec![Table {
                name: "denoiser_path".into(),
                columns: vec![
                    ("t".into(), Column::Float(p.t.clone())),
                    ("overlap_uninf".into(), Column::Float(p.overlap_uninf.clone())),
                    ("overlap_inf".into(), Column::Float(p.overlap_inf.clone())),
                    ("se_m_uninf".into(), Column::Float(p.se_m_uninf.clone())),
                    ("se_m_inf".into(), Column::Float(p.se_m_inf.clone())),
                ],
            }],
            Artifact::Aggregate(a) => vec![Table {
                name: "aggregate".into(),
                columns: vec![
                    ("sampler".into(), Column::Text(a.rows.iter().map(|r| r.stages[0].clone()).collect())),
                    ("energy_excess".into(), opt_col(a.rows.iter().map(|r| r.energy_excess_mean))),
                    ("energy_excess_stderr".into(), opt_col(a.rows.iter().map(|r| r.energy_excess_stderr))),
                    ("overlap_planted".into(), opt_col(a.rows.iter().map(|r| r.overlap_planted_mean))),
                    ("overlap_planted_stderr".into(), opt_col(a.rows.iter().map(|r| r.overlap_planted_stderr))),
                ],
            }],
            Artifact::SePath(s) => vec![se_path_table(s)],
            Artifact::Network(net) => vec![Table {
                name: "training".into(),
                columns: std::iter::once(("step".to_string(), Column::Float(super::train::network_traces(net)[0].x.clone())))
                    .chain(super::train::network_traces(net).into_iter().map(|t| (t.name, Column::Float(t.y))))
                    .collect(),
            }],
            Artifact::LearnedDenoiser(den) => vec![Table {
                name: "mse".into(),
                columns: vec![
                    ("t".into(), Column::Float(den.t.clone())),
                    ("mse_learned".into(), Column::Float(den.mse_learned.clone())),
                    ("mse_amp".into(), Column::Float(den.mse_amp.clone())),
                    ("mmse_bayes".into(), Column::Float(den.mmse_bayes.clone())),
                ],
            }],
            Artifact::PhaseDiagram(d) => diagram_tables(d),
            Artifact::Landscape(l) => vec![Table {
                name: "landscape".into(),
                columns: vec![
                    ("m".into(), Column::Float(l.m.clone())),
                    ("phi".into(), Column::Float(l.phi.clone())),
                    ("se_map".into(), Column::Float(l.se_map.clone())),
                ],
            }],
        }
    }
}

fn disorder_tables(d: &Disorder) -> Vec<Table> {
    let mut tables = Vec::new();
    if let Some(x) = &d.planted {
        tables.push(Table {
            name: "planted".into(),
            columns: vec![
                ("i".into(), Column::Int((0..d.n as i64).collect())),
                ("x".into(), Column::Float(x.iter().map(|&v| v as f64).collect())),
            ],
        });
    }
    let mut index: Vec<Vec<i64>> = vec![Vec::with_capacity(d.couplings.len()); d.p];
    for i in 0..d.n {
        for j in i + 1..d.n {
            if d.p == 2 {
                index[0].push(i as i64);
                index[1].push(j as i64);
                continue;
            }
            for k in j + 1..d.n {
                index[0].push(i as i64);
                index[1].push(j as i64);
                index[2].push(k as i64);
            }
        }
    }
    debug_assert_eq!(index[0].len(), packed::len(d.n, d.p));
    let mut columns: Vec<(String, Column)> =
        ["i", "j", "k"].iter().zip(index).map(|(n, v)| (n.to_string(), Column::Int(v))).collect();
    columns.push(("value".into(), Column::Float(d.couplings.iter().map(|&v| v as f64).collect())));
    tables.push(Table { name: "couplings".into(), columns });
    tables
}

fn se_path_table(s: &SePath) -> Table {
    let col = |f: fn(&crate::theory::SePoint) -> f64| Column::Float(s.points.iter().map(f).collect());
    Table {
        name: "se_path".into(),
        columns: vec![
            ("t".into(), col(|p| p.t)),
            ("m_uninf".into(), col(|p| p.m_uninf)),
            ("m_inf".into(), col(|p| p.m_inf)),
            ("phi_uninf".into(), col(|p| p.phi_uninf)),
            ("phi_inf".into(), col(|p| p.phi_inf)),
        ],
    }
}

/// `lines` (`line,delta,temperature,t`, with the end point as a one-point line)
/// and `grid` (`delta,t,delta_m`, delta slow).
fn diagram_tables(d: &PhaseDiagram) -> Vec<Table> {
    let p = d.spec.p;
    let mut rows: Vec<(&str, LinePoint)> = Vec::new();
    for (name, line) in
        [("spinodal_low", &d.lower_spinodal), ("first_order", &d.first_order), ("spinodal_high", &d.upper_spinodal)]
    {
        rows.extend(line.iter().map(|pt| (name, *pt)));
    }
    if let Some(e) = d.end_point {
        rows.push(("end_point", LinePoint { delta: e.delta, t: e.t }));
    }
    let lines = Table {
        name: "lines".into(),
        columns: vec![
            ("line".into(), Column::Text(rows.iter().map(|(n, _)| n.to_string()).collect())),
            ("delta".into(), Column::Float(rows.iter().map(|(_, pt)| pt.delta).collect())),
            (
                "temperature".into(),
                Column::Float(rows.iter().map(|(_, pt)| temperature_from_delta(p, pt.delta)).collect()),
            ),
            ("t".into(), Column::Float(rows.iter().map(|(_, pt)| pt.t).collect())),
        ],
    };
    let (nd, nt) = (d.delta.len(), d.t.len());
    let grid = Table {
        name: "grid".into(),
        columns: vec![
            ("delta".into(), Column::Float((0..nd * nt).map(|c| d.delta[c / nt]).collect())),
            ("t".into(), Column::Float((0..nd * nt).map(|c| d.t[c % nt]).collect())),
            ("delta_m".into(), Column::Float(d.delta_m.clone())),
        ],
    };
    vec![lines, grid]
}

fn opt_col(values: impl Iterator<Item = Option<f64>>) -> Column {
    Column::Float(values.map(|v| v.unwrap_or(f64::NAN)).collect())
}

/// `records` (chain, record, energy) and `configurations` (chain, record, i, x).
fn samples_tables(s: &Samples) -> Vec<Table> {
    let (mut chain, mut record, mut energy) = (Vec::new(), Vec::new(), Vec::new());
    let (mut c2, mut r2, mut site, mut value) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (c, ch) in s.chains.iter().enumerate() {
        for (r, e) in ch.energy.iter().enumerate() {
            chain.push(c as i64);
            record.push(r as i64);
            energy.push(*e);
        }
        for (r, x) in ch.records(s.n).enumerate() {
            for (i, v) in x.iter().enumerate() {
                c2.push(c as i64);
                r2.push(r as i64);
                site.push(i as i64);
                value.push(*v as f64);
            }
        }
    }
    let mut tables = vec![
        Table {
            name: "records".into(),
            columns: vec![
                ("chain".into(), Column::Int(chain)),
                ("record".into(), Column::Int(record)),
                ("energy".into(), Column::Float(energy)),
            ],
        },
        Table {
            name: "configurations".into(),
            columns: vec![
                ("chain".into(), Column::Int(c2)),
                ("record".into(), Column::Int(r2)),
                ("i".into(), Column::Int(site)),
                ("x".into(), Column::Float(value)),
            ],
        },
    ];
    for t in &s.traces {
        tables.push(Table {
            name: format!("trace_{}", t.name.replace(['/', ' '], "_")),
            columns: vec![("x".into(), Column::Float(t.x.clone())), ("y".into(), Column::Float(t.y.clone()))],
        });
    }
    tables
}

fn comparison_tables(c: &Comparison) -> Vec<Table> {
    let rows = &c.rows;
    let f = |g: fn(&SamplerRow) -> Option<f64>| opt_col(rows.iter().map(g));
    let summary = Table {
        name: "comparison".into(),
        columns: vec![
            ("stage".into(), Column::Text(rows.iter().map(|r| r.stage.clone()).collect())),
            ("energy_mean".into(), f(|r| Some(r.energy_mean))),
            ("energy_stderr".into(), f(|r| Some(r.energy_stderr))),
            ("energy_excess".into(), f(|r| r.energy_excess)),
            ("overlap_planted_mean".into(), f(|r| r.overlap_planted_mean)),
            ("overlap_planted_stderr".into(), f(|r| r.overlap_planted_stderr)),
            ("q_mean".into(), f(|r| r.q_mean)),
            ("q_abs_mean".into(), f(|r| r.q_abs_mean)),
            ("r_hat".into(), f(|r| r.r_hat)),
            ("tau".into(), f(|r| r.tau)),
            ("ess".into(), f(|r| r.ess)),
        ],
    };
    let mut hist = Table {
        name: "histograms".into(),
        columns: vec![("bin_low".into(), Column::Float(c.edges[..c.edges.len() - 1].to_vec()))],
    };
    for r in rows {
        hist.columns.push((format!("q {}", r.stage), Column::Int(r.q_hist.iter().map(|&v| v as i64).collect())));
        if !r.overlap_hist.is_empty() {
            hist.columns.push((
                format!("overlap {}", r.stage),
                Column::Int(r.overlap_hist.iter().map(|&v| v as i64).collect()),
            ));
        }
    }
    vec![summary, hist]
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
