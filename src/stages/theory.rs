//! The `theory.*` kinds: state evolution along a path, phase diagrams and
//! free-entropy landscapes, adapted from `theory` to the engine. Model
//! parameters share their names with the `disorder.*` kinds.

use anyhow::{anyhow, bail, Result};
use serde_json::json;

use super::params::{self as p, check_rho};
use crate::observe::Observer;
use crate::pipeline::schema::{Default, KindSpec, ParamKind, ParamProblem, ParamSpec};
use crate::pipeline::Params;
use crate::theory::{self, Landscape, Model, Path, PhaseDiagram, PhaseDiagramSpec, Prior, SePath};

pub const SE_PATH_OUTPUT: &str = "se-path";
pub const DIAGRAM_OUTPUT: &str = "phase-diagram";
pub const LANDSCAPE_OUTPUT: &str = "landscape";

const MODEL: ParamSpec = ParamSpec {
    name: "model",
    kind: ParamKind::Choice(&["spiked-matrix", "spiked-tensor"]),
    default: Default::Required,
    unit: "",
    doc: "spiked-matrix (p = 2) or spiked-tensor (order `p`)",
};
const PRIOR: ParamSpec = ParamSpec {
    name: "prior",
    kind: ParamKind::Choice(&["rademacher", "sparse-rademacher", "spherical"]),
    default: Default::Str("rademacher"),
    unit: "",
    doc: "prior of the signal (spherical: the Gaussian channel of the sphere)",
};
const ORDER: ParamSpec = ParamSpec {
    name: "p",
    kind: p::int(3, 8),
    default: Default::Int(3),
    unit: "",
    doc: "tensor order (spiked-tensor only)",
};
const PATH: ParamSpec = ParamSpec {
    name: "path",
    kind: ParamKind::Choice(&["diffusion", "decimation"]),
    default: Default::Str("diffusion"),
    unit: "",
    doc: "diffusion / flow (t = gamma^2) or autoregressive decimation (t = theta)",
};
const NON_NEGATIVE: ParamKind = ParamKind::Float { min: 0.0, max: f64::INFINITY, min_open: false, max_open: true };
const fn t_param(name: &'static str, default: f64, doc: &'static str) -> ParamSpec {
    ParamSpec { name, kind: NON_NEGATIVE, default: Default::Float(default), unit: "gamma^2 or theta", doc }
}
const fn points(name: &'static str, default: i64, doc: &'static str) -> ParamSpec {
    p::int_param(name, 2, 5000, default, "points", doc)
}
const fn range_end(name: &'static str, unit: &'static str, doc: &'static str) -> ParamSpec {
    ParamSpec { name, kind: p::POSITIVE, default: Default::None, unit, doc }
}

pub const SE_PATH: KindSpec = KindSpec {
    name: "theory.se-path",
    version: 1,
    summary: "state evolution along the diffusion or decimation path: both branches, free entropies, spinodals, first-order point",
    output: SE_PATH_OUTPUT,
    inputs: &[],
    params: &[
        MODEL,
        PRIOR,
        p::RHO,
        ORDER,
        p::DELTA,
        p::TEMPERATURE,
        PATH,
        t_param("t_min", 0.0, "first path value"),
        t_param("t_max", 1.0, "last path value (theta <= 1)"),
        points("t_points", 201, "path values"),
    ],
    exactly_one_of: &[&["delta", "temperature"]],
    check: check_se_path,
};

pub const PHASE_DIAGRAM: KindSpec = KindSpec {
    name: "theory.phase-diagram",
    version: 1,
    summary: "phase diagram on (delta or temperature) x path: spinodals, first-order line, end point, Delta_d, Delta_K, delta_m grid",
    output: DIAGRAM_OUTPUT,
    inputs: &[],
    params: &[
        MODEL,
        PRIOR,
        p::RHO,
        ORDER,
        PATH,
        range_end("delta_min", "noise variance", "smallest Delta (or give temperature_min)"),
        range_end("delta_max", "noise variance", "largest Delta (or give temperature_max)"),
        range_end("temperature_min", "T", "smallest T (the grid is uniform in Delta)"),
        range_end("temperature_max", "T", "largest T"),
        points("delta_points", 200, "Delta values"),
        t_param("t_min", 0.0, "first path value"),
        t_param("t_max", 1.0, "last path value"),
        points("t_points", 200, "path values"),
    ],
    exactly_one_of: &[&["delta_min", "temperature_min"], &["delta_max", "temperature_max"]],
    check: check_diagram,
};

pub const LANDSCAPE: KindSpec = KindSpec {
    name: "theory.landscape",
    version: 1,
    summary: "replica-symmetric free entropy Phi(m) at one (model, delta, path, t) point",
    output: LANDSCAPE_OUTPUT,
    inputs: &[],
    params: &[
        MODEL,
        PRIOR,
        p::RHO,
        ORDER,
        p::DELTA,
        p::TEMPERATURE,
        PATH,
        t_param("t", 0.0, "path value"),
        points("m_points", 401, "overlap values from 0 to E[x^2]"),
    ],
    exactly_one_of: &[&["delta", "temperature"]],
    check: check_model,
};

fn problem(param: &'static str, message: impl Into<String>) -> ParamProblem {
    ParamProblem { param: Some(param), message: message.into() }
}

fn check_model(params: &Params) -> Result<(), ParamProblem> {
    check_rho(params)?;
    if params.str("path") == Some("decimation") && params.float("t").is_some_and(|t| t > 1.0) {
        return Err(problem("t", "theta is a fraction: t <= 1 on the decimation path"));
    }
    Ok(())
}

fn check_t_range(params: &Params) -> Result<(), ParamProblem> {
    let (lo, hi) = (params.float("t_min").unwrap_or(0.0), params.float("t_max").unwrap_or(1.0));
    if lo >= hi {
        return Err(problem("t_max", format!("t_max ({hi}) must exceed t_min ({lo})")));
    }
    if params.str("path") == Some("decimation") && hi > 1.0 {
        return Err(problem("t_max", "theta is a fraction: t_max <= 1 on the decimation path"));
    }
    Ok(())
}

fn check_se_path(params: &Params) -> Result<(), ParamProblem> {
    check_model(params)?;
    check_t_range(params)
}

fn check_diagram(params: &Params) -> Result<(), ParamProblem> {
    check_rho(params)?;
    check_t_range(params)?;
    let by_delta = params.float("delta_min").is_some();
    if by_delta != params.float("delta_max").is_some() {
        return Err(problem(
            "delta_min",
            "give the range in one unit: delta_min with delta_max, or temperature_min with temperature_max",
        ));
    }
    let (lo, hi) = if by_delta { ("delta_min", "delta_max") } else { ("temperature_min", "temperature_max") };
    if params.float(lo) >= params.float(hi) {
        return Err(problem(hi, format!("`{hi}` must exceed `{lo}`")));
    }
    Ok(())
}

fn order(params: &Params) -> u32 {
    match params.str("model") {
        Some("spiked-matrix") => 2,
        _ => params.int("p").unwrap_or(3) as u32,
    }
}

fn prior(params: &Params) -> Prior {
    match params.str("prior") {
        Some("sparse-rademacher") => Prior::SparseRademacher { rho: params.float("rho").unwrap_or(1.0) },
        Some("spherical") => Prior::Gaussian,
        _ => Prior::Rademacher,
    }
}

fn path(params: &Params) -> Path {
    if params.str("path") == Some("decimation") {
        Path::Decimation
    } else {
        Path::Diffusion
    }
}

fn model(params: &Params) -> Result<Model> {
    let p = order(params);
    let delta = match params.float("delta") {
        Some(d) => d,
        None => theory::delta_from_temperature(p, params.float("temperature").ok_or_else(|| anyhow!("no delta"))?),
    };
    Ok(Model::new(p, prior(params), delta)?)
}

pub fn se_path(params: &Params, observer: &dyn Observer) -> Result<SePath> {
    let model = model(params)?;
    let grid = theory::linspace(
        params.float("t_min").unwrap_or(0.0),
        params.float("t_max").unwrap_or(1.0),
        params.int("t_points").unwrap_or(201) as usize,
    );
    observer.progress(0, 1);
    let result = theory::se_path(&model, path(params), &grid)?;
    for point in &result.points {
        observer.trace("m_uninf", point.t, point.m_uninf);
        observer.trace("m_inf", point.t, point.m_inf);
    }
    observer.progress(1, 1);
    Ok(result)
}

pub fn phase_diagram(params: &Params, observer: &dyn Observer) -> Result<PhaseDiagram> {
    let p = order(params);
    let delta_of = |d: &str, t: &str| -> Result<f64> {
        match (params.float(d), params.float(t)) {
            (Some(delta), _) => Ok(delta),
            (None, Some(temp)) => Ok(theory::delta_from_temperature(p, temp)),
            _ => bail!("neither `{d}` nor `{t}` given"),
        }
    };
    let spec = PhaseDiagramSpec {
        p,
        prior: prior(params),
        path: path(params),
        delta_min: delta_of("delta_min", "temperature_min")?,
        delta_max: delta_of("delta_max", "temperature_max")?,
        delta_points: params.int("delta_points").unwrap_or(200) as usize,
        t_min: params.float("t_min").unwrap_or(0.0),
        t_max: params.float("t_max").unwrap_or(1.0),
        t_points: params.int("t_points").unwrap_or(200) as usize,
    };
    let progress = |done: usize, total: usize| {
        observer.progress(done as u64, total as u64);
        !observer.cancelled()
    };
    let diagram = theory::phase_diagram(&spec, &progress).map_err(|e| match e {
        theory::TheoryError::Cancelled => anyhow::Error::new(crate::observe::Cancelled),
        other => other.into(),
    })?;
    emit_diagram_traces(&diagram, observer);
    Ok(diagram)
}

/// The diagram's lines as trace series (x = T, y = t) for the TUI's canvas.
fn emit_diagram_traces(d: &PhaseDiagram, observer: &dyn Observer) {
    let temp = |delta: f64| theory::temperature_from_delta(d.spec.p, delta);
    for (name, line) in
        [("lower spinodal", &d.lower_spinodal), ("first order", &d.first_order), ("upper spinodal", &d.upper_spinodal)]
    {
        for point in line.iter() {
            observer.trace(&format!("diagram/{name}"), temp(point.delta), point.t);
        }
    }
    if let Some(end) = &d.end_point {
        observer.trace("diagram/end point", end.temperature, end.t);
    }
    observer.trace("diagram/T_d", d.statics.temperature_d, 0.0);
    if let Some(tk) = d.statics.temperature_k {
        observer.trace("diagram/T_K", tk, 0.0);
    }
}

pub fn landscape(params: &Params) -> Result<Landscape> {
    let model = model(params)?;
    let n = params.int("m_points").unwrap_or(401) as usize;
    let m = theory::linspace(0.0, model.e0(), n);
    Ok(theory::landscape(&model, path(params), params.float("t").unwrap_or(0.0), &m)?)
}

/// The state-evolution model of a disorder instance (the sphere's SE is the Gaussian channel).
pub fn se_model_of(d: &crate::models::Disorder) -> Option<Model> {
    let prior = match d.prior {
        crate::models::Prior::Rademacher => Prior::Rademacher,
        crate::models::Prior::SparseRademacher { rho } => Prior::SparseRademacher { rho },
        crate::models::Prior::Spherical => Prior::Gaussian,
    };
    Model::new(d.p as u32, prior, d.delta).ok()
}

fn opt(v: Option<f64>) -> serde_json::Value {
    v.map_or(serde_json::Value::Null, |x| json!(x))
}

fn model_json(m: &Model) -> serde_json::Value {
    let rho = match m.prior {
        Prior::SparseRademacher { rho } => rho,
        _ => 1.0,
    };
    json!({"p": m.p, "prior": format!("{:?}", m.prior), "rho": rho, "delta": m.delta, "temperature": m.temperature(), "delta_over_rho2": m.delta / (rho * rho)})
}

pub fn se_path_summary(s: &SePath) -> serde_json::Value {
    json!({
        "model": model_json(&s.model),
        "path": format!("{:?}", s.path).to_lowercase(),
        "points": s.points.len(),
        "first_order_t": opt(s.first_order_t),
        "spinodal_low_t": opt(s.spinodal_low_t),
        "spinodal_high_t": opt(s.spinodal_high_t),
        "m_eq_at_t_min": s.points.first().map(|p| p.m_eq),
        "m_eq_at_t_max": s.points.last().map(|p| p.m_eq),
    })
}

pub fn diagram_summary(d: &PhaseDiagram) -> serde_json::Value {
    let end = d.end_point.map(|e| json!({"delta": e.delta, "temperature": e.temperature, "t": e.t, "m": e.m}));
    json!({
        "p": d.spec.p,
        "prior": format!("{:?}", d.spec.prior),
        "path": format!("{:?}", d.spec.path).to_lowercase(),
        "grid": [d.delta.len(), d.t.len()],
        "end_point": end,
        "delta_d": d.statics.delta_d,
        "temperature_d": d.statics.temperature_d,
        "delta_k": opt(d.statics.delta_k),
        "temperature_k": opt(d.statics.temperature_k),
        "continuous_at_delta_d": d.statics.continuous,
        "rows_with_transition": d.first_order.len(),
    })
}

pub fn landscape_summary(l: &Landscape) -> serde_json::Value {
    let maxima: Vec<f64> = (1..l.phi.len().saturating_sub(1))
        .filter(|&i| l.phi[i] >= l.phi[i - 1] && l.phi[i] > l.phi[i + 1])
        .map(|i| l.m[i])
        .collect();
    json!({"model": model_json(&l.model), "path": format!("{:?}", l.path).to_lowercase(), "t": l.t, "local_maxima_m": maxima})
}
