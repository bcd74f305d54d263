//! The data of each artifact type as named tables of equal-length columns
//! (what `quench export` writes as csv / json / npy).

use super::export::{Column, Table};
use crate::eval::aggregate::Aggregate;
use crate::eval::compare::{Comparison, SamplerRow};
use crate::eval::denoiser_path::DenoiserPath;
use crate::eval::samples::Samples;
use crate::models::{packed, Disorder};
use crate::theory::{temperature_from_delta, Landscape, LinePoint, PhaseDiagram, SePath};

pub fn denoiser_path(p: &DenoiserPath) -> Table {
    Table {
        name: "denoiser_path".into(),
        columns: vec![
            ("t".into(), Column::Float(p.t.clone())),
            ("overlap_uninf".into(), Column::Float(p.overlap_uninf.clone())),
            ("overlap_inf".into(), Column::Float(p.overlap_inf.clone())),
            ("se_m_uninf".into(), Column::Float(p.se_m_uninf.clone())),
            ("se_m_inf".into(), Column::Float(p.se_m_inf.clone())),
        ],
    }
}

pub fn aggregate(a: &Aggregate) -> Table {
    Table {
        name: "aggregate".into(),
        columns: vec![
            ("sampler".into(), Column::Text(a.rows.iter().map(|r| r.stages[0].clone()).collect())),
            ("energy_excess".into(), opt_col(a.rows.iter().map(|r| r.energy_excess_mean))),
            ("energy_excess_stderr".into(), opt_col(a.rows.iter().map(|r| r.energy_excess_stderr))),
            ("overlap_planted".into(), opt_col(a.rows.iter().map(|r| r.overlap_planted_mean))),
            ("overlap_planted_stderr".into(), opt_col(a.rows.iter().map(|r| r.overlap_planted_stderr))),
            ("energy_diff".into(), opt_col(a.rows.iter().map(|r| r.energy_diff_mean))),
            ("energy_diff_stderr".into(), opt_col(a.rows.iter().map(|r| r.energy_diff_stderr))),
            ("consistent".into(), Column::Int(a.rows.iter().map(|r| r.verdict_counts[0] as i64).collect())),
            ("biased".into(), Column::Int(a.rows.iter().map(|r| r.verdict_counts[1] as i64).collect())),
            ("inconclusive".into(), Column::Int(a.rows.iter().map(|r| r.verdict_counts[2] as i64).collect())),
            (
                "verdict".into(),
                Column::Text(
                    a.rows
                        .iter()
                        .map(|r| r.decision.as_ref().map_or(String::new(), |d| d.verdict.name().into()))
                        .collect(),
                ),
            ),
            (
                "predicted".into(),
                Column::Text(
                    a.rows.iter().map(|r| r.predicted.prediction.map_or(String::new(), |p| p.name().into())).collect(),
                ),
            ),
        ],
    }
}

pub fn landscape(l: &Landscape) -> Table {
    Table {
        name: "landscape".into(),
        columns: vec![
            ("m".into(), Column::Float(l.m.clone())),
            ("phi".into(), Column::Float(l.phi.clone())),
            ("se_map".into(), Column::Float(l.se_map.clone())),
        ],
    }
}

pub fn disorder(d: &Disorder) -> Vec<Table> {
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

pub fn se_path(s: &SePath) -> Table {
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
pub fn diagram(d: &PhaseDiagram) -> Vec<Table> {
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
pub fn samples(s: &Samples) -> Vec<Table> {
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

pub fn comparison(c: &Comparison) -> Vec<Table> {
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
            ("energy_diff".into(), f(|r| r.vs_reference.as_ref().map(|v| v.energy_diff.value))),
            ("energy_diff_stderr".into(), f(|r| r.vs_reference.as_ref().map(|v| v.energy_diff.stderr))),
            ("overlap_p_value".into(), f(|r| r.vs_reference.as_ref().and_then(|v| v.overlap_test).map(|t| t.p_value))),
            ("q_p_value".into(), f(|r| r.vs_reference.as_ref().and_then(|v| v.q_test).map(|t| t.p_value))),
            ("detectable_bias".into(), f(|r| r.vs_reference.as_ref().and_then(|v| v.decision.detectable_bias))),
            (
                "verdict".into(),
                Column::Text(rows.iter().map(|r| r.verdict().map_or(String::new(), |v| v.name().into())).collect()),
            ),
            (
                "predicted".into(),
                Column::Text(
                    rows.iter().map(|r| r.predicted.prediction.map_or(String::new(), |p| p.name().into())).collect(),
                ),
            ),
            ("predicted_at".into(), f(|r| r.predicted.at)),
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
