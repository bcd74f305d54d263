//! `eval.denoiser-path`: AMP along the planted path `y_t = t x* + W_t` from an
//! uninformed and an informed start, beside both state-evolution branches
//! (the hysteresis window), adapted from `eval::denoiser_path` to the engine.

use anyhow::{bail, Result};

use super::disorder::planted_only;
use super::generative::{AmpArgs, DAMPING, DISORDER_INPUT, MAX_ITER, PRECISION, TOL};
use super::params::{self as p, problem, Args, KindParams};
use super::{Artifact, Kind, StageRun};
use crate::eval::denoiser_path::{against_theory, planted_path, DenoiserPath};
use crate::eval::se_model::se_model_of;
use crate::pipeline::schema::{Default, KindSpec, ParamKind, ParamProblem, ParamSpec};
use crate::theory;

pub const OUTPUT: &str = "denoiser-path";

pub const DENOISER_PATH: Kind = Kind {
    spec: KindSpec {
        name: "eval.denoiser-path",
        // 2: AMP raises its damping on a limit cycle (src/amp/mod.rs).
        version: 2,
        summary: "AMP along y_t = t x* + W_t from an uninformed and an informed start, against both SE branches (the hysteresis window)",
        output: OUTPUT,
        inputs: DISORDER_INPUT,
        params: &[
            ParamSpec {
                name: "t_min",
                kind: ParamKind::Float { min: 0.0, max: 1e4, min_open: false, max_open: false },
                default: Default::Float(0.0),
                unit: "gamma^2",
                doc: "first t",
            },
            super::params::real("t_max", 0.0, 1e4, 0.3, "gamma^2", "last t"),
            p::int_param("t_points", 2, 10_000, 31, "points", "values of t"),
            PRECISION,
            DAMPING,
            TOL,
            MAX_ITER,
        ],
        exactly_one_of: &[],
        at_most_one_given: &[],
        check: p::check::<DenoiserPathParams>,
    },
    run: run_denoiser_path,
    model: None,
    input_model: Some(planted_only),
    example: concat!(
        "[stage.inst]\nkind = \"disorder.spiked-tensor\"\nn = 8\ntemperature = 0.8\n",
        "[stage.this]\nkind = \"eval.denoiser-path\"\ninputs = [\"inst\"]\nt_max = 1.0\nt_points = 3\n"
    ),
};

struct DenoiserPathParams {
    t_min: f64,
    t_max: f64,
    t_points: usize,
    amp: AmpArgs,
}

impl KindParams for DenoiserPathParams {
    const KIND: &'static KindSpec = &DENOISER_PATH.spec;
    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        let (t_min, t_max) = (args.float("t_min")?, args.float("t_max")?);
        if t_max <= t_min {
            return Err(problem("t_max", format!("t_max ({t_max}) must exceed t_min ({t_min})")));
        }
        Ok(DenoiserPathParams { t_min, t_max, t_points: args.count("t_points")?, amp: AmpArgs::parse(args)? })
    }
}

fn run_denoiser_path(run: &StageRun) -> Result<Artifact> {
    let (d, p) = (run.disorder()?, run.params::<DenoiserPathParams>()?);
    let Some(x_star) = d.planted_f64() else { bail!("eval.denoiser-path needs a planted instance (not disorder.sk)") };
    let grid = theory::linspace(p.t_min, p.t_max, p.t_points);
    let amp = p.amp.amp(d).with_reference(x_star.clone());
    let points = planted_path(&amp, &x_star, &grid, run.seed, run.observer)?;
    let se = se_model_of(d).and_then(|m| theory::se_path(&m, theory::Path::Diffusion, &grid).ok());
    let out = against_theory(&grid, &points, se.as_ref(), d.prior.rho());
    for (i, &t) in out.t.iter().enumerate() {
        run.observer.trace("overlap/AMP uninformed start", t, out.overlap_uninf[i]);
        run.observer.trace("overlap/AMP informed start", t, out.overlap_inf[i]);
        run.observer.trace("overlap/SE m_uninf", t, out.se_m_uninf[i]);
        run.observer.trace("overlap/SE m_inf", t, out.se_m_inf[i]);
    }
    Ok(Artifact::DenoiserPath(out))
}

pub fn summary(p: &DenoiserPath) -> serde_json::Value {
    serde_json::json!({
        "points": p.t.len(),
        "hysteresis_window": p.window.map(|(a, b)| serde_json::json!([a, b])),
        "se_spinodal_low_t": p.se_spinodal_low,
        "se_first_order_t": p.se_first_order,
        "se_spinodal_high_t": p.se_spinodal_high,
        "max_gap": p.max_gap(),
    })
}
