//! Figures of theory artifacts, in the paper's style: phase diagrams
//! (hysteresis region shaded, the failure window between the first-order
//! line and the upper spinodal shaded darker, spinodals dashed, end point
//! marked, T_d / T_K on the axis), SE paths (m vs t, both branches, the
//! transitions marked), free-entropy landscapes, and the bicoloring's
//! population-dynamics path and (alpha, t) diagram.

use super::chart::{Corner, ErrPoint, Figure, Item, Panel, BLACK, BLUE, GREY, ORANGE, RED};
use crate::theory::popdyn_path::{PopDiagram, PopPath};
use crate::theory::{temperature_from_delta, Landscape, LinePoint, PhaseDiagram, Prior, SePath};

fn rho_of(prior: &Prior) -> Option<f64> {
    match prior {
        Prior::SparseRademacher { rho } => Some(*rho),
        _ => None,
    }
}

fn prior_name(prior: &Prior) -> String {
    match prior {
        Prior::Rademacher => "Ising".into(),
        Prior::SparseRademacher { rho } => format!("sparse rho={rho}"),
        Prior::Gaussian => "spherical".into(),
    }
}

/// The path variable's axis name.
pub fn path_axis(path: crate::theory::Path) -> &'static str {
    match path {
        crate::theory::Path::Diffusion => "gamma^2 (diffusion / flow)",
        crate::theory::Path::Decimation => "theta (autoregressive)",
    }
}

/// The x coordinate of a phase diagram: T for Ising / spherical, Delta/rho^2
/// for the sparse prior (the literature's axes).
pub fn diagram_x(d: &PhaseDiagram, delta: f64) -> f64 {
    match rho_of(&d.spec.prior) {
        Some(rho) => delta / (rho * rho),
        None => temperature_from_delta(d.spec.p, delta),
    }
}

pub fn diagram(d: &PhaseDiagram) -> Figure {
    let x_label = if rho_of(&d.spec.prior).is_some() { "Delta / rho^2" } else { "temperature T" };
    let title = format!("{} p={} · {}", prior_name(&d.spec.prior), d.spec.p, path_axis(d.spec.path));
    let mut panel = Panel::new(title, x_label, path_axis(d.spec.path));
    let xs: Vec<f64> = d.delta.iter().map(|&v| diagram_x(d, v)).collect();
    let (x0, x1) = xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
    let (y0, y1) = (d.t.first().copied().unwrap_or(0.0), d.t.last().copied().unwrap_or(1.0));
    if x0 < x1 {
        panel.x_range = Some((x0, x1));
    }
    if y0 < y1 {
        panel.y_range = Some((y0, y1));
    }
    panel.legend = Corner::UpperLeft;
    let line = |pts: &[LinePoint]| -> Vec<(f64, f64)> {
        pts.iter().map(|pt| (diagram_x(d, pt.delta), pt.t.clamp(y0.min(y1), y1.max(y0)))).collect()
    };
    let (low, first, high) = (line(&d.lower_spinodal), line(&d.first_order), line(&d.upper_spinodal));
    let band =
        |a: &[(f64, f64)], b: &[(f64, f64)]| -> Vec<(f64, f64)> { a.iter().chain(b.iter().rev()).copied().collect() };
    if !low.is_empty() {
        panel.push(Item::Fill {
            polygon: band(&low, &high),
            color: ORANGE,
            opacity: 0.25,
            label: Some("two fixed points (hysteresis)".into()),
        });
        panel.push(Item::Fill {
            polygon: band(&first, &high),
            color: RED,
            opacity: 0.3,
            label: Some("sampler fails: AMP on the metastable branch".into()),
        });
    }
    panel.push(Item::dashed(low, ORANGE, "lower spinodal"));
    panel.push(Item::dashed(high, RED, "upper spinodal"));
    panel.push(Item::line(first, BLACK, "first-order line"));
    if let Some(e) = d.end_point {
        let x = diagram_x(d, e.delta);
        panel.push(Item::Dot { x, y: e.t, color: BLACK, label: Some(format!("end point ({x:.4}, {:.4})", e.t)) });
    }
    let sparse = rho_of(&d.spec.prior).is_some();
    for (name, delta) in [("T_d", Some(d.statics.delta_d)), ("T_K", d.statics.delta_k)] {
        if let Some(x) = delta.map(|v| diagram_x(d, v)) {
            let label = if sparse { name.replace('T', "Delta") } else { name.to_string() };
            panel.push(Item::AxisMark { x, color: BLUE, text: format!("{label}={x:.4}") });
        }
    }
    Figure::single(panel)
}

/// What an SE path's overlaps are divided by in its figure: rho for the
/// sparse prior (m / rho), else 1.
pub fn overlap_scale(s: &SePath) -> f64 {
    rho_of(&s.model.prior).unwrap_or(1.0)
}

pub fn se_path(s: &SePath) -> Figure {
    let scale = overlap_scale(s);
    let title = format!(
        "SE along the path · {} p={} · Delta={:.4} (T={:.4})",
        prior_name(&s.model.prior),
        s.model.p,
        s.model.delta,
        s.model.temperature()
    );
    let mut panel = Panel::new(title, path_axis(s.path), if scale < 1.0 { "m / rho" } else { "overlap m" });
    panel.y_range = Some((0.0, 1.02));
    panel.legend = Corner::LowerRight;
    let series = |f: fn(&crate::theory::SePoint) -> f64| -> Vec<(f64, f64)> {
        s.points.iter().map(|p| (p.t, f(p) / scale)).collect()
    };
    panel.push(Item::line(series(|p| p.m_uninf), BLUE, "uninformed branch (what AMP follows)"));
    panel.push(Item::dashed(series(|p| p.m_inf), RED, "informed branch"));
    panel.push(Item::Line {
        points: series(|p| p.m_eq),
        dashed: false,
        color: GREY,
        width: 1,
        label: Some("equilibrium".into()),
    });
    for (name, t) in [("sp1", s.spinodal_low_t), ("first order", s.first_order_t), ("sp2", s.spinodal_high_t)] {
        if let Some(t) = t {
            panel.push(Item::VLine { x: t, color: BLACK, label: Some(name.into()) });
        }
    }
    Figure::single(panel)
}

pub fn landscape(l: &Landscape) -> Figure {
    let title = format!("free entropy Phi(m) · Delta={:.4} · t={}", l.model.delta, l.t);
    let panel = Panel::new(title, "overlap m", "Phi(m)").with(Item::line(Item::xy(&l.m, &l.phi), BLUE, ""));
    Figure::single(panel)
}

/// The bicoloring's population-dynamics path: both branches' overlap with
/// their errors, and their free entropies, against the path value.
pub fn pop_path(p: &PopPath) -> Figure {
    let title = format!("population dynamics · bicoloring k={} alpha={} · {}", p.k, p.alpha, p.path.name());
    let axis = match p.path {
        crate::theory::popdyn_path::PathKind::Diffusion => "gamma^2 (diffusion)",
        crate::theory::popdyn_path::PathKind::Decimation => "theta (decimation)",
    };
    let point = |t: f64, e: crate::theory::popdyn::Estimate| ErrPoint { x: t, y: e.mean, err: Some(e.err) };
    let mut m = Panel::new("overlap with x*", axis, "m");
    m.legend = Corner::LowerRight;
    m.push(Item::Points {
        points: p.points.iter().map(|q| point(q.t, q.m_uninf)).collect(),
        color: BLUE,
        joined: true,
        label: Some("uninformed branch".into()),
    });
    m.push(Item::Points {
        points: p.points.iter().map(|q| point(q.t, q.m_inf)).collect(),
        color: RED,
        joined: true,
        label: Some("informed branch".into()),
    });
    let mut phi = Panel::new("free entropy per vertex", axis, "Phi");
    phi.push(Item::Points {
        points: p.points.iter().map(|q| point(q.t, q.phi_uninf)).collect(),
        color: BLUE,
        joined: true,
        label: Some("uninformed".into()),
    });
    phi.push(Item::Points {
        points: p.points.iter().map(|q| point(q.t, q.phi_inf)).collect(),
        color: RED,
        joined: true,
        label: Some("informed".into()),
    });
    let tr = p.transitions;
    for panel in [&mut m, &mut phi] {
        for (name, t) in [("sp1", tr.spinodal_low_t), ("first order", tr.first_order_t), ("sp2", tr.spinodal_high_t)] {
            if let Some(t) = t {
                panel.push(Item::VLine { x: t, color: BLACK, label: Some(name.into()) });
            }
        }
    }
    Figure { title, rows: vec![vec![m, phi]] }
}

/// The bicoloring's diagram in (alpha, t): the spinodals and the first-order
/// line of each row, the end point and alpha_d.
pub fn pop_diagram(d: &PopDiagram) -> Figure {
    let title = format!("population dynamics · bicoloring k={} · {} path", d.k, d.path.name());
    let mut panel = Panel::new(title, "alpha (hyperedges per vertex)", "path value t");
    panel.legend = Corner::UpperLeft;
    let line = |f: fn(&crate::theory::popdyn_path::PopTransitions) -> Option<f64>| -> Vec<(f64, f64)> {
        d.rows.iter().filter_map(|r| f(&r.transitions).map(|t| (r.alpha, t))).collect()
    };
    let (low, first, high) = (line(|t| t.spinodal_low_t), line(|t| t.first_order_t), line(|t| t.spinodal_high_t));
    if !low.is_empty() && low.len() == high.len() {
        let polygon = low.iter().chain(high.iter().rev()).copied().collect();
        panel.push(Item::Fill {
            polygon,
            color: ORANGE,
            opacity: 0.25,
            label: Some("two fixed points (hysteresis)".into()),
        });
    }
    panel.push(Item::dashed(low, ORANGE, "lower spinodal"));
    panel.push(Item::dashed(high, RED, "upper spinodal"));
    panel.push(Item::line(first, BLACK, "first-order line"));
    if let Some((alpha, t)) = d.end_point {
        panel.push(Item::Dot { x: alpha, y: t, color: BLACK, label: Some(format!("end point ({alpha:.3}, {t:.3})")) });
    }
    if let Some(a) = d.alpha_d {
        panel.push(Item::AxisMark { x: a, color: BLUE, text: format!("alpha_d={a:.3}") });
    }
    if let (Some(&t0), Some(&t1)) = (d.t.first(), d.t.last()) {
        if t0 < t1 {
            panel.y_range = Some((t0, t1));
        }
    }
    Figure::single(panel)
}
