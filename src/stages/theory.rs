//! The `theory.*` kinds: state evolution along a path, phase diagrams and
//! free-entropy landscapes, adapted from `theory` to the engine. Model
//! parameters share their names with the `disorder.*` kinds.

use anyhow::Result;
use serde_json::json;

use super::params::{self as p, choices, problem, Args, Choice, KindParams};
use super::{Artifact, Kind, StageRun};
use crate::observe::Observer;
use crate::pipeline::schema::{Default, KindSpec, ParamKind, ParamProblem, ParamSpec};
use crate::theory::{self, Landscape, Model, Path, PhaseDiagram, PhaseDiagramSpec, Prior, SePath};

/// Which model the theory describes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ModelName {
    SpikedMatrix,
    SpikedTensor,
}

/// The prior as named in pipeline files (`rho` is a separate parameter).
#[derive(Debug, Clone, Copy, PartialEq)]
enum PriorName {
    Rademacher,
    SparseRademacher,
    Spherical,
}

choices!(ModelName { "spiked-matrix" => ModelName::SpikedMatrix, "spiked-tensor" => ModelName::SpikedTensor });
choices!(PriorName {
    "rademacher" => PriorName::Rademacher,
    "sparse-rademacher" => PriorName::SparseRademacher,
    "spherical" => PriorName::Spherical,
});
choices!(Path { "diffusion" => Path::Diffusion, "decimation" => Path::Decimation });

pub const SE_PATH_OUTPUT: &str = "se-path";
pub const DIAGRAM_OUTPUT: &str = "phase-diagram";
pub const LANDSCAPE_OUTPUT: &str = "landscape";

const MODEL: ParamSpec = ParamSpec {
    name: "model",
    kind: ParamKind::Choice(ModelName::NAMES),
    default: Default::Required,
    unit: "",
    doc: "spiked-matrix (p = 2) or spiked-tensor (order `p`)",
};
const PRIOR: ParamSpec = ParamSpec {
    name: "prior",
    kind: ParamKind::Choice(PriorName::NAMES),
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
    kind: ParamKind::Choice(Path::NAMES),
    default: Default::Str("diffusion"),
    unit: "",
    doc: "diffusion / flow (t = gamma^2) or autoregressive decimation (t = theta)",
};
/// Path values: gamma^2 past 1e6 is the end of any path.
const NON_NEGATIVE: ParamKind = p::closed(0.0, 1e6);
const fn t_param(name: &'static str, default: f64, doc: &'static str) -> ParamSpec {
    ParamSpec { name, kind: NON_NEGATIVE, default: Default::Float(default), unit: "gamma^2 or theta", doc }
}
const fn points(name: &'static str, default: i64, doc: &'static str) -> ParamSpec {
    p::int_param(name, 2, 5000, default, "points", doc)
}
const fn range_end(name: &'static str, kind: ParamKind, unit: &'static str, doc: &'static str) -> ParamSpec {
    ParamSpec { name, kind, default: Default::None, unit, doc }
}

pub const SE_PATH: Kind = Kind {
    spec: KindSpec {
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
        at_most_one_given: &[],
        check: p::check::<SePathParams>,
    },
    run: run_se_path,
    model: None,
    input_model: None,
    example: "[stage.this]\nkind = \"theory.se-path\"\nmodel = \"spiked-tensor\"\ntemperature = 0.71\nt_max = 0.5\nt_points = 5\n",
};

pub const PHASE_DIAGRAM: Kind = Kind {
    spec: KindSpec {
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
            range_end("delta_min", p::DELTA_RANGE, "noise variance", "smallest Delta (or give temperature_min)"),
            range_end("delta_max", p::DELTA_RANGE, "noise variance", "largest Delta (or give temperature_max)"),
            range_end("temperature_min", p::TEMPERATURE_RANGE, "T", "smallest T (the grid is uniform in Delta)"),
            range_end("temperature_max", p::TEMPERATURE_RANGE, "T", "largest T"),
            points("delta_points", 200, "Delta values"),
            t_param("t_min", 0.0, "first path value"),
            t_param("t_max", 1.0, "last path value"),
            points("t_points", 200, "path values"),
            p::CHECKPOINT_EVERY,
        ],
        exactly_one_of: &[&["delta_min", "temperature_min"], &["delta_max", "temperature_max"]],
        at_most_one_given: &[],
        check: p::check::<DiagramParams>,
    },
    run: run_phase_diagram,
    model: None,
    input_model: None,
    example: "[stage.this]\nkind = \"theory.phase-diagram\"\nmodel = \"spiked-tensor\"\ntemperature_min = 0.6\ntemperature_max = 0.8\ndelta_points = 3\nt_max = 0.5\nt_points = 3\n",
};

pub const LANDSCAPE: Kind = Kind {
    spec: KindSpec {
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
        at_most_one_given: &[],
        check: p::check::<LandscapeParams>,
    },
    run: run_landscape,
    model: None,
    input_model: None,
    example: "[stage.this]\nkind = \"theory.landscape\"\nmodel = \"spiked-matrix\"\nprior = \"sparse-rademacher\"\nrho = 0.3\ndelta = 0.05\nm_points = 5\n",
};

/// Order and prior of the model (the noise comes separately: one value or a range).
struct ModelArgs {
    p: u32,
    prior: Prior,
}

impl ModelArgs {
    fn parse(args: &Args) -> Result<ModelArgs, ParamProblem> {
        let p = match args.choice("model")? {
            ModelName::SpikedMatrix => 2,
            ModelName::SpikedTensor => args.count("p")? as u32,
        };
        let name: PriorName = args.choice("prior")?;
        let rho = p::rho(args, name == PriorName::SparseRademacher)?;
        let prior = match (name, rho) {
            (PriorName::Rademacher, _) => Prior::Rademacher,
            (PriorName::Spherical, _) => Prior::Gaussian,
            (PriorName::SparseRademacher, Some(rho)) => Prior::SparseRademacher { rho },
            (PriorName::SparseRademacher, None) => {
                return Err(problem("rho", "prior \"sparse-rademacher\" needs `rho`"))
            }
        };
        Ok(ModelArgs { p, prior })
    }

    /// The model at the given `delta` / `temperature` (exactly one given).
    fn model(&self, args: &Args) -> Result<Model, ParamProblem> {
        let delta = match (args.opt_float("delta")?, args.opt_float("temperature")?) {
            (Some(delta), None) => delta,
            (None, Some(t)) => theory::delta_from_temperature(self.p, t),
            _ => return Err(problem("delta", "give exactly one of `delta`, `temperature`")),
        };
        Model::new(self.p, self.prior, delta).map_err(|e| problem("delta", e.to_string()))
    }
}

/// A path grid `[t_min, t_max]`; theta is a fraction on the decimation path.
fn t_range(args: &Args, path: Path) -> Result<(f64, f64), ParamProblem> {
    let (lo, hi) = (args.float("t_min")?, args.float("t_max")?);
    if lo >= hi {
        return Err(problem("t_max", format!("t_max ({hi}) must exceed t_min ({lo})")));
    }
    if path == Path::Decimation && hi > 1.0 {
        return Err(problem("t_max", "theta is a fraction: t_max <= 1 on the decimation path"));
    }
    Ok((lo, hi))
}

struct SePathParams {
    model: Model,
    path: Path,
    grid: Vec<f64>,
}

impl KindParams for SePathParams {
    const KIND: &'static KindSpec = &SE_PATH.spec;
    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        let model = ModelArgs::parse(args)?.model(args)?;
        let path: Path = args.choice("path")?;
        let (lo, hi) = t_range(args, path)?;
        Ok(SePathParams { model, path, grid: theory::linspace(lo, hi, args.count("t_points")?) })
    }
}

struct DiagramParams(PhaseDiagramSpec);

impl KindParams for DiagramParams {
    const KIND: &'static KindSpec = &PHASE_DIAGRAM.spec;
    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        let ModelArgs { p, prior } = ModelArgs::parse(args)?;
        let path: Path = args.choice("path")?;
        let (t_min, t_max) = t_range(args, path)?;
        let by_delta = args.opt_float("delta_min")?.is_some();
        if by_delta != args.opt_float("delta_max")?.is_some() {
            return Err(problem(
                "delta_min",
                "give the range in one unit: delta_min with delta_max, or temperature_min with temperature_max",
            ));
        }
        let (lo, hi) = if by_delta { ("delta_min", "delta_max") } else { ("temperature_min", "temperature_max") };
        let (low, high) = (args.float(lo)?, args.float(hi)?);
        if low >= high {
            return Err(problem(hi, format!("`{hi}` must exceed `{lo}`")));
        }
        let delta = |v: f64| if by_delta { v } else { theory::delta_from_temperature(p, v) };
        Ok(DiagramParams(PhaseDiagramSpec {
            p,
            prior,
            path,
            delta_min: delta(low),
            delta_max: delta(high),
            delta_points: args.count("delta_points")?,
            t_min,
            t_max,
            t_points: args.count("t_points")?,
        }))
    }
}

struct LandscapeParams {
    model: Model,
    path: Path,
    t: f64,
    m_points: usize,
}

impl KindParams for LandscapeParams {
    const KIND: &'static KindSpec = &LANDSCAPE.spec;
    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        let model = ModelArgs::parse(args)?.model(args)?;
        let (path, t) = (args.choice("path")?, args.float("t")?);
        if path == Path::Decimation && t > 1.0 {
            return Err(problem("t", "theta is a fraction: t <= 1 on the decimation path"));
        }
        Ok(LandscapeParams { model, path, t, m_points: args.count("m_points")? })
    }
}

fn run_se_path(run: &StageRun) -> Result<Artifact> {
    let p: SePathParams = run.params()?;
    run.observer.progress(0, 1);
    let result = theory::se_path(&p.model, p.path, &p.grid)?;
    for point in &result.points {
        run.observer.trace("m_uninf", point.t, point.m_uninf);
        run.observer.trace("m_inf", point.t, point.m_inf);
    }
    run.observer.progress(1, 1);
    Ok(Artifact::SePath(result))
}

fn run_phase_diagram(run: &StageRun) -> Result<Artifact> {
    let DiagramParams(spec) = run.params()?;
    let progress = |done: usize, total: usize| {
        run.observer.progress(done as u64, total as u64);
        !run.observer.cancelled()
    };
    let diagram = theory::phase_diagram_resumable(&spec, &progress, run.observer).map_err(|e| match e {
        theory::TheoryError::Cancelled => anyhow::Error::new(crate::observe::Cancelled),
        other => other.into(),
    })?;
    emit_diagram_traces(&diagram, run.observer);
    Ok(Artifact::PhaseDiagram(diagram))
}

fn run_landscape(run: &StageRun) -> Result<Artifact> {
    let p: LandscapeParams = run.params()?;
    let m = theory::linspace(0.0, p.model.e0(), p.m_points);
    Ok(Artifact::Landscape(theory::landscape(&p.model, p.path, p.t, &m)?))
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
