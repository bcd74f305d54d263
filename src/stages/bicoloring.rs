//! The sparse side: hypergraph bicoloring adapted to the engine.
//!
//! - `disorder.bicoloring`: a random k-uniform hypergraph (planted or not).
//!   Its artifact has the `disorder` type, so the generic sampler and compare
//!   kinds accept it; they hand it to the functions here (BP as the denoiser of
//!   `sample.diffusion` / `sample.flow` / `sample.autoregressive`, Glauber
//!   dynamics for `sample.metropolis`, the bicoloring evaluation for
//!   `eval.compare`).
//! - `theory.bicoloring-path` and `theory.bicoloring-diagram`: population
//!   dynamics along a path and across alpha. These are their own kinds, not a
//!   `model` of `theory.se-path` / `theory.phase-diagram`: the parameters are
//!   disjoint (k, alpha, population, iterations against delta, prior, p), and
//!   population dynamics is random (it uses the stage seed) where SE is
//!   deterministic. Their summaries use the se-path's field names.

use anyhow::{bail, Result};
use serde_json::json;

use super::params::{self as p, problem, Args, KindParams};
use super::{Artifact, Kind, StageRun};
use crate::bp::decimation::BpDecimation;
use crate::bp::{Bp, BpParams};
use crate::eval::bicoloring::{self as eval, BicoloringComparison};
use crate::eval::samples::{PathTrace, SampleChain, Samples};
use crate::models::bicoloring::{check as check_instance, Bicoloring};
use crate::pipeline::schema::{Default, InputSlot, KindSpec, ParamKind, ParamProblem, ParamSpec};
use crate::report::export::{Column, Table};
use crate::samplers::autoregressive::Order;
use crate::samplers::bicoloring::{self as glauber, GlauberParams};
use crate::samplers::diffusion::{Schedule, StochasticLocalization};
use crate::samplers::flow::{FlowSchedule, StochasticInterpolant};
use crate::samplers::path::SamplerRun;
use crate::samplers::Init;
use crate::theory::popdyn_path::{pop_diagram, pop_path, PathKind, PopDiagram, PopPath, PopSettings};

pub const PATH_OUTPUT: &str = "bicoloring-path";
pub const DIAGRAM_OUTPUT: &str = "bicoloring-diagram";
const NO_INPUTS: &[InputSlot] = &[];
/// Points of theta at which BP-guided decimation records its path.
const DECIMATION_RECORDS: usize = 100;

const K: ParamSpec =
    ParamSpec { name: "k", kind: p::int(3, 8), default: Default::Int(5), unit: "", doc: "hyperedge size" };
const ALPHA: ParamSpec = ParamSpec {
    name: "alpha",
    kind: ParamKind::Float { min: 0.0, max: 256.0, min_open: true, max_open: false },
    default: Default::Required,
    unit: "hyperedges/vertex",
    doc: "hyperedges per vertex (average degree k alpha); at most 2^k",
};

pub const DISORDER: Kind = Kind {
    spec: KindSpec {
        name: "disorder.bicoloring",
        version: 1,
        summary:
            "random k-uniform hypergraph, M = alpha N hyperedges; planted: x* uniform, hyperedges it leaves bichromatic",
        output: super::disorder::OUTPUT,
        inputs: NO_INPUTS,
        params: &[
            ParamSpec {
                name: "n",
                kind: p::int(6, 2_000_000),
                default: Default::Required,
                unit: "vertices",
                doc: "number of vertices N",
            },
            K,
            ALPHA,
            ParamSpec {
                name: "planted",
                kind: ParamKind::Bool,
                default: Default::Bool(true),
                unit: "",
                doc: "quiet planting (x* is then an equilibrium sample); false: hyperedges uniform",
            },
            p::INSTANCE,
        ],
        exactly_one_of: &[],
        at_most_one_given: &[],
        check: p::check::<DisorderParams>,
    },
    run: run_disorder,
    model: None,
    input_model: None,
    example: "[stage.this]\nkind = \"disorder.bicoloring\"\nn = 200\nk = 4\nalpha = 2.0\n",
};

struct DisorderParams {
    n: usize,
    k: usize,
    alpha: f64,
    planted: bool,
}

impl KindParams for DisorderParams {
    const KIND: &'static KindSpec = &DISORDER.spec;
    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        let (n, k, alpha) = (args.count("n")?, args.count("k")?, args.float("alpha")?);
        check_instance(n, k, alpha).map_err(|e| problem("alpha", e.to_string()))?;
        let planted = args.params.bool("planted").unwrap_or(true);
        Ok(DisorderParams { n, k, alpha, planted })
    }
}

fn run_disorder(run: &StageRun) -> Result<Artifact> {
    let p: DisorderParams = run.params()?;
    let graph = Bicoloring::generate(p.n, p.k, p.alpha, p.planted, run.seed, run.observer)??;
    Ok(Artifact::Bicoloring(graph))
}

/// What `quench show` reports about a hypergraph.
pub fn disorder_summary(g: &Bicoloring) -> serde_json::Value {
    json!({
        "model": "bicoloring",
        "n": g.n,
        "k": g.k,
        "alpha": g.alpha,
        "hyperedges": g.m(),
        "mean_degree": g.edges.len() as f64 / g.n as f64,
        "planted": g.planted.is_some(),
        "planted_violated": g.planted_f64().map(|x| g.violated(&x)),
    })
}

/// `hyperedges` (a, i_1..i_k) and `planted` (i, x).
pub fn disorder_tables(g: &Bicoloring) -> Vec<Table> {
    let mut columns = vec![("a".to_string(), Column::Int((0..g.m()).map(|a| a as i64).collect()))];
    for j in 0..g.k {
        columns.push((format!("i{}", j + 1), Column::Int((0..g.m()).map(|a| g.edge(a)[j] as i64).collect())));
    }
    let mut tables = vec![Table { name: "hyperedges".into(), columns }];
    if let Some(x) = &g.planted {
        tables.push(Table {
            name: "planted".into(),
            columns: vec![
                ("i".into(), Column::Int((0..g.n as i64).collect())),
                ("x".into(), Column::Float(x.iter().map(|&v| v as f64).collect())),
            ],
        });
    }
    tables
}

/// The hypergraph when a stage's first input is one.
pub fn input<'a>(run: &StageRun<'a>) -> Option<&'a Bicoloring> {
    match run.inputs.first() {
        Some(Artifact::Bicoloring(g)) => Some(g),
        _ => None,
    }
}

/// `denoiser = "bp"` needs a hypergraph: the error for a dense disorder.
pub fn refuse_bp_on_dense(run: &StageRun) -> Result<()> {
    if run.params.str("denoiser") == Some("bp") {
        bail!(
            "{}: denoiser \"bp\" needs a bicoloring disorder (disorder.bicoloring); use \"amp\" on dense models",
            run.spec.name
        );
    }
    Ok(())
}

/// BP settings from the generative kinds' shared `damping`, `tol`, `max_iterations`;
/// refuses a denoiser other than BP (`amp` means the model's message passing, BP here).
fn bp_of(run: &StageRun, g: &Bicoloring) -> Result<Bp> {
    if let Some(other) = run.params.str("denoiser").filter(|d| !matches!(*d, "bp" | "amp")) {
        bail!(
            "{}: denoiser \"{other}\" cannot drive a bicoloring disorder; use \"bp\" (belief propagation)",
            run.spec.name
        );
    }
    let args = Args { spec: run.spec, params: run.params };
    let params = BpParams {
        damping: args.float("damping").map_err(|e| anyhow::anyhow!(e.message))?,
        tol: args.float("tol").map_err(|e| anyhow::anyhow!(e.message))?,
        max_iterations: args.count("max_iterations").map_err(|e| anyhow::anyhow!(e.message))?,
    };
    let mut bp = Bp::new(g, params);
    if let Some(x) = g.planted_f64() {
        bp = bp.with_reference(x);
    }
    Ok(bp)
}

fn args<'a>(run: &'a StageRun) -> Args<'a> {
    Args { spec: run.spec, params: run.params }
}

fn get<T>(r: Result<T, ParamProblem>) -> Result<T> {
    r.map_err(|e| anyhow::anyhow!(e.message))
}

/// `sample.diffusion` on a hypergraph: stochastic localisation with BP.
pub fn diffusion(run: &StageRun, g: &Bicoloring) -> Result<Artifact> {
    let a = args(run);
    let schedule = Schedule {
        dt_fine: get(a.float("dt"))?,
        t_fine: get(a.float("t_fine"))?,
        t_max: get(a.float("t_max"))?,
        geometric_steps: get(a.count("geometric_steps"))?,
        step_error: get(super::generative::step_error(&a))?,
    };
    let sampler = StochasticLocalization { schedule, trajectories: get(a.count("samples"))?, batch: 1, seed: run.seed };
    let bp = bp_of(run, g)?;
    let out = sampler.run(&bp, run.observer)?;
    Ok(Artifact::Samples(to_samples(run, g, &out)))
}

/// `sample.flow` on a hypergraph: the stochastic interpolant with BP.
pub fn flow(run: &StageRun, g: &Bicoloring) -> Result<Artifact> {
    let a = args(run);
    let schedule = FlowSchedule {
        ds_fine: get(a.float("ds"))?,
        s_fine: get(a.float("s_fine"))?,
        s_max: get(a.float("s_max"))?,
        geometric_steps: get(a.count("geometric_steps"))?,
    };
    let sampler = StochasticInterpolant {
        schedule,
        noise: get(a.float("noise"))?,
        trajectories: get(a.count("samples"))?,
        batch: 1,
        seed: run.seed,
    };
    let bp = bp_of(run, g)?;
    let out = sampler.run(&bp, run.observer)?;
    Ok(Artifact::Samples(to_samples(run, g, &out)))
}

/// `sample.autoregressive` on a hypergraph: BP-guided decimation, `block`
/// vertices at a time, each drawn from its BP marginal (sampling, not
/// maximising), BP re-converged locally after each block (`bp::decimation`).
pub fn autoregressive(run: &StageRun, g: &Bicoloring) -> Result<Artifact> {
    let a = args(run);
    let order = if run.params.str("order") == Some("natural") { Order::Natural } else { Order::Random };
    let sampler = BpDecimation {
        order,
        block: get(a.count("block"))?,
        trajectories: get(a.count("samples"))?,
        records: DECIMATION_RECORDS,
        seed: run.seed,
    };
    let bp = bp_of(run, g)?;
    let out = sampler.run(&bp, run.observer)?;
    Ok(Artifact::Samples(to_samples(run, g, &out)))
}

/// Samples of a BP-driven run: energy per vertex is (monochromatic hyperedges) / N;
/// notes report BP's mean iterations and how many solves did not converge.
fn to_samples(run: &StageRun, g: &Bicoloring, out: &SamplerRun) -> Samples {
    let chains = out
        .trajectories
        .iter()
        .map(|t| SampleChain {
            configurations: t.sample.iter().map(|&v| v as f32).collect(),
            energy: vec![g.violated(&t.sample) as f64 / g.n as f64],
            acceptance: None,
        })
        .collect();
    let path = out.mean_path();
    let trace = |name: &str, f: &dyn Fn(&crate::samplers::path::PathPoint) -> f64| PathTrace {
        name: name.into(),
        x: path.iter().map(|p| p.param).collect(),
        y: path.iter().map(f).collect(),
    };
    let traces = vec![
        trace("m_hat_sq", &|p| p.m_hat_sq),
        trace("overlap_final", &|p| p.overlap_final),
        trace("bp_iterations", &|p| p.amp_iterations as f64),
    ];
    let solves: Vec<_> = out.trajectories.iter().flat_map(|t| t.path.iter()).collect();
    let unconverged = solves.iter().filter(|p| !p.converged).count();
    let mean_iterations = solves.iter().map(|p| p.amp_iterations as f64).sum::<f64>() / solves.len().max(1) as f64;
    if unconverged > 0 {
        run.observer.log(&format!(
            "warning: BP did not converge at {unconverged} of {} recorded path points (a solve hit max_iterations, or stopped early because its relaxation rate could not reach the step's error budget)",
            solves.len()
        ));
    }
    Samples {
        sampler: run.spec.name.into(),
        n: g.n,
        markov: false,
        chains,
        record_at: Vec::new(),
        traces,
        notes: vec![
            ("bp_iterations_mean".into(), mean_iterations),
            ("bp_unconverged_fraction".into(), unconverged as f64 / solves.len().max(1) as f64),
        ],
    }
}

/// `sample.metropolis` on a hypergraph: Glauber dynamics (proper colorings
/// only, or at `beta` on the violated count); `rule` and `precision` do not apply.
pub fn metropolis(run: &StageRun, g: &Bicoloring) -> Result<Artifact> {
    let a = args(run);
    let init = if run.params.str("init") == Some("planted") { Init::Planted } else { Init::Random };
    let params = GlauberParams {
        chains: get(a.count("chains"))?,
        burn_in: get(a.u64("burn_in"))?,
        sweeps: get(a.u64("sweeps"))?,
        record_every: get(a.u64("record_every"))?,
        init,
        beta: get(a.opt_float("beta"))?,
    };
    let out = glauber::run(g, &params, run.seed, run.observer).map_err(|why| anyhow::anyhow!("{why}"))?;
    run.observer.checkpoint()?;
    let n = g.n as f64;
    let chains = out
        .chains
        .into_iter()
        .map(|c| SampleChain {
            configurations: c.samples.concat().into_iter().map(f32::from).collect(),
            energy: c.violated.iter().map(|&v| v as f64 / n).collect(),
            acceptance: Some(c.acceptance),
        })
        .collect();
    Ok(Artifact::Samples(Samples {
        sampler: "sample.metropolis".into(),
        n: g.n,
        markov: true,
        chains,
        record_at: out.record_sweeps.iter().map(|&s| s as f64).collect(),
        traces: Vec::new(),
        notes: vec![("beta".into(), params.beta.unwrap_or(f64::MAX))],
    }))
}

/// `eval.compare` on a hypergraph. The overlap a sample of `x*`'s own cluster
/// would have (informed population dynamics at t = 0) is computed beside it.
pub fn compare(run: &StageRun, g: &Bicoloring) -> Result<Artifact> {
    let samples: Vec<(&str, &Samples)> = run.inputs[1..]
        .iter()
        .zip(&run.input_names[1..])
        .filter_map(|(a, name)| match a {
            Artifact::Samples(s) => Some((name.as_str(), s)),
            _ => None,
        })
        .collect();
    for (name, s) in &samples {
        if s.n != g.n {
            bail!("samples of `{name}` have n = {}, the hypergraph has n = {}", s.n, g.n);
        }
    }
    let settings = PopSettings { population: 20_000, iterations: 150, bethe_samples: 0, seed: run.seed };
    let cluster = crate::theory::popdyn_path::informed_overlap_at_zero(g.k, g.alpha, settings);
    run.observer.checkpoint()?;
    Ok(Artifact::BicoloringComparison(eval::compare(g, &samples, Some(cluster))))
}

pub fn comparison_summary(c: &BicoloringComparison) -> serde_json::Value {
    let rows: serde_json::Map<String, serde_json::Value> = c
        .rows
        .iter()
        .map(|r| {
            (
                r.stage.clone(),
                json!({
                    "sampler": r.sampler,
                    "samples": r.samples,
                    "violated_mean": r.violated_mean,
                    "violated_stderr": r.violated_stderr,
                    "proper_fraction": r.proper_fraction,
                    "overlap_planted_mean": r.overlap_planted_mean,
                    "overlap_planted_stderr": r.overlap_planted_stderr,
                    "q_abs_mean": r.q_abs_mean,
                    "tau": r.tau,
                }),
            )
        })
        .collect();
    json!({
        "model": "bicoloring",
        "n": c.n,
        "k": c.k,
        "alpha": c.alpha,
        "hyperedges": c.hyperedges,
        "overlap_equilibrium": c.overlap_equilibrium,
        "overlap_cluster": c.overlap_cluster,
        "samplers": rows,
    })
}

/// The comparison as a text table.
pub fn comparison_table(c: &BicoloringComparison) -> String {
    let mut out = format!(
        "bicoloring k = {}, alpha = {}, n = {} ({} hyperedges); theory overlap with x*: equilibrium {:.3}, x*'s cluster {}\n",
        c.k,
        c.alpha,
        c.n,
        c.hyperedges,
        c.overlap_equilibrium,
        c.overlap_cluster.map_or("-".into(), |v| format!("{v:.3}"))
    );
    out.push_str(&format!(
        "{:<24} {:>7} {:>18} {:>8} {:>16} {:>7} {:>9}\n",
        "stage", "samples", "violated", "proper", "overlap x*", "|q|", "tau"
    ));
    for r in &c.rows {
        let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
        out.push_str(&format!(
            "{:<24} {:>7} {:>9.2e}±{:<8.1e} {:>8.3} {:>8}±{:<7} {:>7} {:>9}\n",
            r.stage,
            r.samples,
            r.violated_mean,
            r.violated_stderr,
            r.proper_fraction,
            opt(r.overlap_planted_mean),
            opt(r.overlap_planted_stderr),
            opt(r.q_abs_mean),
            r.tau.map_or("-".into(), |t| format!("{t:.1}"))
        ));
    }
    out
}

pub fn comparison_tables(c: &BicoloringComparison) -> Vec<Table> {
    let rows = &c.rows;
    let f = |g: fn(&eval::BicoloringRow) -> Option<f64>| {
        Column::Float(rows.iter().map(|r| g(r).unwrap_or(f64::NAN)).collect())
    };
    vec![Table {
        name: "comparison".into(),
        columns: vec![
            ("stage".into(), Column::Text(rows.iter().map(|r| r.stage.clone()).collect())),
            ("violated_mean".into(), f(|r| Some(r.violated_mean))),
            ("violated_stderr".into(), f(|r| Some(r.violated_stderr))),
            ("proper_fraction".into(), f(|r| Some(r.proper_fraction))),
            ("overlap_planted_mean".into(), f(|r| r.overlap_planted_mean)),
            ("overlap_planted_stderr".into(), f(|r| r.overlap_planted_stderr)),
            ("q_abs_mean".into(), f(|r| r.q_abs_mean)),
            ("tau".into(), f(|r| r.tau)),
        ],
    }]
}

const PATH: ParamSpec = ParamSpec {
    name: "path",
    kind: ParamKind::Choice(&["diffusion", "decimation"]),
    default: Default::Str("diffusion"),
    unit: "",
    doc: "diffusion (t = gamma^2) or decimation (t = theta, the revealed fraction)",
};
const T_MAX: ParamSpec = ParamSpec {
    name: "t_max",
    kind: ParamKind::Float { min: 0.0, max: 1.0, min_open: true, max_open: true },
    default: Default::Float(0.4),
    unit: "gamma^2 or theta",
    doc: "largest path value of the grid (the grid starts at 0)",
};
const T_POINTS: ParamSpec = p::int_param("t_points", 2, 1000, 21, "points", "grid points on [0, t_max]");
const POPULATION: ParamSpec = p::int_param(
    "population",
    100,
    10_000_000,
    100_000,
    "elements",
    "population size (1e5-1e6 gives about ±0.01 on spinodals)",
);
const ITERATIONS: ParamSpec =
    p::int_param("iterations", 10, 100_000, 200, "iterations", "cap on iterations per point before measuring");
const BETHE_SAMPLES: ParamSpec =
    p::int_param("bethe_samples", 0, 100_000_000, 20_000, "draws", "draws per term of the Bethe check");

pub const PATH_KIND: Kind = Kind {
    spec: KindSpec {
        name: "theory.bicoloring-path",
        version: 1,
        summary: "population dynamics for hypergraph bicoloring along a path: both branches, spinodals, first-order point",
        output: PATH_OUTPUT,
        inputs: NO_INPUTS,
        params: &[K, ALPHA, PATH, T_MAX, T_POINTS, POPULATION, ITERATIONS, BETHE_SAMPLES, p::CHECKPOINT_EVERY],
        exactly_one_of: &[],
        at_most_one_given: &[],
        check: p::check::<PathParams>,
    },
    run: run_path,
    model: None,
    input_model: None,
    example: "[stage.this]\nkind = \"theory.bicoloring-path\"\nalpha = 9.0\nt_points = 3\npopulation = 200\niterations = 10\nbethe_samples = 100\n",
};

struct PathParams {
    k: usize,
    alpha: f64,
    path: PathKind,
    ts: Vec<f64>,
    population: usize,
    iterations: usize,
    bethe_samples: usize,
}

fn path_kind(args: &Args) -> PathKind {
    if args.params.str("path") == Some("decimation") {
        PathKind::Decimation
    } else {
        PathKind::Diffusion
    }
}

impl KindParams for PathParams {
    const KIND: &'static KindSpec = &PATH_KIND.spec;
    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        let (k, alpha) = (args.count("k")?, args.float("alpha")?);
        check_instance(1000, k, alpha).map_err(|e| problem("alpha", e.to_string()))?;
        let ts = crate::theory::linspace(0.0, args.float("t_max")?, args.count("t_points")?);
        Ok(PathParams {
            k,
            alpha,
            path: path_kind(args),
            ts,
            population: args.count("population")?,
            iterations: args.count("iterations")?,
            bethe_samples: args.count("bethe_samples")?,
        })
    }
}

fn run_path(run: &StageRun) -> Result<Artifact> {
    let p: PathParams = run.params()?;
    let settings = PopSettings {
        population: p.population,
        iterations: p.iterations,
        bethe_samples: p.bethe_samples,
        seed: run.seed,
    };
    Ok(Artifact::BicoloringPath(pop_path(p.k, p.alpha, p.path, &p.ts, settings, run.observer)?))
}

pub fn path_summary(s: &PopPath) -> serde_json::Value {
    let col = |f: fn(&crate::theory::popdyn_path::PopPoint) -> f64| s.points.iter().map(f).collect::<Vec<f64>>();
    json!({
        "model": "bicoloring",
        "k": s.k,
        "alpha": s.alpha,
        "path": s.path.name(),
        "spinodal_low_t": s.transitions.spinodal_low_t,
        "spinodal_high_t": s.transitions.spinodal_high_t,
        "first_order_t": s.transitions.first_order_t,
        "t": col(|p| p.t),
        "m_uninf": col(|p| p.m_uninf.mean),
        "m_inf": col(|p| p.m_inf.mean),
        "m_err": col(|p| p.m_uninf.err.max(p.m_inf.err)),
        "phi_uninf": col(|p| p.phi_uninf.mean),
        "phi_inf": col(|p| p.phi_inf.mean),
        "closure": s.closure,
    })
}

pub fn path_table(s: &PopPath) -> Table {
    let col = |f: fn(&crate::theory::popdyn_path::PopPoint) -> f64| Column::Float(s.points.iter().map(f).collect());
    Table {
        name: "bicoloring_path".into(),
        columns: vec![
            ("t".into(), col(|p| p.t)),
            ("m_uninf".into(), col(|p| p.m_uninf.mean)),
            ("m_uninf_err".into(), col(|p| p.m_uninf.err)),
            ("m_inf".into(), col(|p| p.m_inf.mean)),
            ("m_inf_err".into(), col(|p| p.m_inf.err)),
            ("q_uninf".into(), col(|p| p.q_uninf)),
            ("q_inf".into(), col(|p| p.q_inf)),
            ("phi_uninf".into(), col(|p| p.phi_uninf.mean)),
            ("phi_inf".into(), col(|p| p.phi_inf.mean)),
            ("phi_err".into(), col(|p| p.phi_uninf.err.max(p.phi_inf.err))),
            ("bethe_uninf".into(), col(|p| p.bethe_uninf.mean)),
            ("bethe_inf".into(), col(|p| p.bethe_inf.mean)),
            ("bethe_err".into(), col(|p| p.bethe_uninf.err.max(p.bethe_inf.err))),
        ],
    }
}

pub const DIAGRAM_KIND: Kind = Kind {
    spec: KindSpec {
        name: "theory.bicoloring-diagram",
        // 2: the end point's alpha from the square-root law of the branches' gap
        // between the grid rows (`popdyn_path::end_point`), not the first row with a window.
        version: 2,
        summary: "population-dynamics phase diagram of hypergraph bicoloring in (alpha, t): window, end point, alpha_d",
        output: DIAGRAM_OUTPUT,
        inputs: NO_INPUTS,
        params: &[
            K,
            PATH,
            ParamSpec { name: "alpha_min", kind: ALPHA.kind, default: Default::Float(8.0), unit: "", doc: "smallest alpha" },
            ParamSpec { name: "alpha_max", kind: ALPHA.kind, default: Default::Float(10.0), unit: "", doc: "largest alpha" },
            p::int_param("alpha_points", 2, 200, 9, "points", "alpha grid points"),
            T_MAX,
            T_POINTS,
            POPULATION,
            ITERATIONS,
            p::int_param("bisections", 0, 40, 8, "steps", "bisection steps for alpha_d in [alpha_min, alpha_max]"),
            p::CHECKPOINT_EVERY,
        ],
        exactly_one_of: &[],
        at_most_one_given: &[],
        check: p::check::<DiagramParams>,
    },
    run: run_diagram,
    model: None,
    input_model: None,
    example: "[stage.this]\nkind = \"theory.bicoloring-diagram\"\nalpha_points = 2\nt_points = 3\npopulation = 200\niterations = 10\nbisections = 1\n",
};

struct DiagramParams {
    k: usize,
    path: PathKind,
    alphas: Vec<f64>,
    ts: Vec<f64>,
    population: usize,
    iterations: usize,
    bisections: usize,
}

impl KindParams for DiagramParams {
    const KIND: &'static KindSpec = &DIAGRAM_KIND.spec;
    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        let k = args.count("k")?;
        let (lo, hi) = (args.float("alpha_min")?, args.float("alpha_max")?);
        if lo >= hi {
            return Err(problem("alpha_max", format!("alpha_max ({hi}) must exceed alpha_min ({lo})")));
        }
        check_instance(1000, k, hi).map_err(|e| problem("alpha_max", e.to_string()))?;
        Ok(DiagramParams {
            k,
            path: path_kind(args),
            alphas: crate::theory::linspace(lo, hi, args.count("alpha_points")?),
            ts: crate::theory::linspace(0.0, args.float("t_max")?, args.count("t_points")?),
            population: args.count("population")?,
            iterations: args.count("iterations")?,
            bisections: args.count("bisections")?,
        })
    }
}

fn run_diagram(run: &StageRun) -> Result<Artifact> {
    let p: DiagramParams = run.params()?;
    let settings = PopSettings { population: p.population, iterations: p.iterations, bethe_samples: 0, seed: run.seed };
    let d = pop_diagram(p.k, p.path, &p.alphas, &p.ts, settings, p.bisections, run.observer)?;
    Ok(Artifact::BicoloringDiagram(d))
}

pub fn diagram_summary(d: &PopDiagram) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = d
        .rows
        .iter()
        .map(|r| {
            json!({
                "alpha": r.alpha,
                "spinodal_low_t": r.transitions.spinodal_low_t,
                "spinodal_high_t": r.transitions.spinodal_high_t,
                "first_order_t": r.transitions.first_order_t,
            })
        })
        .collect();
    json!({
        "model": "bicoloring",
        "k": d.k,
        "path": d.path.name(),
        "end_point": d.end_point.map(|(alpha, t)| json!({ "alpha": alpha, "t": t })),
        "alpha_d": d.alpha_d,
        "rows": rows,
    })
}

pub fn diagram_tables(d: &PopDiagram) -> Vec<Table> {
    let opt = |v: Option<f64>| v.unwrap_or(f64::NAN);
    let lines = Table {
        name: "lines".into(),
        columns: vec![
            ("alpha".into(), Column::Float(d.rows.iter().map(|r| r.alpha).collect())),
            (
                "spinodal_low_t".into(),
                Column::Float(d.rows.iter().map(|r| opt(r.transitions.spinodal_low_t)).collect()),
            ),
            ("first_order_t".into(), Column::Float(d.rows.iter().map(|r| opt(r.transitions.first_order_t)).collect())),
            (
                "spinodal_high_t".into(),
                Column::Float(d.rows.iter().map(|r| opt(r.transitions.spinodal_high_t)).collect()),
            ),
        ],
    };
    let nt = d.t.len();
    let grid = Table {
        name: "grid".into(),
        columns: vec![
            ("alpha".into(), Column::Float(d.rows.iter().flat_map(|r| std::iter::repeat_n(r.alpha, nt)).collect())),
            ("t".into(), Column::Float(d.rows.iter().flat_map(|_| d.t.iter().copied()).collect())),
            ("delta_m".into(), Column::Float(d.rows.iter().flat_map(|r| r.delta_m.iter().copied()).collect())),
        ],
    };
    vec![lines, grid]
}
