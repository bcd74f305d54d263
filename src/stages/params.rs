//! Parameter declarations shared by several kinds (model parameters used by
//! `disorder.*` and `theory.*` alike), so their names, ranges and docs agree.

use crate::pipeline::schema::{Default, ParamKind, ParamProblem, ParamSpec};
use crate::pipeline::Params;

/// An integer parameter with a default.
pub const fn int_param(
    name: &'static str,
    min: i64,
    max: i64,
    default: i64,
    unit: &'static str,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec { name, kind: int(min, max), default: Default::Int(default), unit, doc }
}

pub const POSITIVE: ParamKind = ParamKind::Float { min: 0.0, max: f64::INFINITY, min_open: true, max_open: true };

pub const fn int(min: i64, max: i64) -> ParamKind {
    ParamKind::Int { min, max }
}

pub const DELTA: ParamSpec = ParamSpec {
    name: "delta",
    kind: POSITIVE,
    default: Default::None,
    unit: "noise variance",
    doc: "noise variance Delta of the observation (give this or `temperature`)",
};

pub const TEMPERATURE: ParamSpec = ParamSpec {
    name: "temperature",
    kind: POSITIVE,
    default: Default::None,
    unit: "T",
    doc: "temperature T on the Nishimori line, Delta = 2 T^2 / p (give this or `delta`)",
};

pub const RHO: ParamSpec = ParamSpec {
    name: "rho",
    kind: ParamKind::Float { min: 0.0, max: 1.0, min_open: true, max_open: false },
    default: Default::None,
    unit: "fraction",
    doc: "density of non-zero variables (sparse-rademacher prior only)",
};

pub const INSTANCE: ParamSpec = ParamSpec {
    name: "instance",
    kind: int(0, i64::MAX),
    default: Default::Int(0),
    unit: "",
    doc: "disorder instance number: change it (or sweep it) for another draw",
};

/// `rho` is required by the sparse prior and meaningless for the others.
pub fn check_rho(params: &Params) -> Result<(), ParamProblem> {
    let sparse = params.str("prior") == Some("sparse-rademacher");
    match (sparse, params.float("rho")) {
        (true, None) => Err(ParamProblem {
            param: Some("prior"),
            message: "prior \"sparse-rademacher\" needs `rho` in (0, 1]".into(),
        }),
        (false, Some(_)) => Err(ParamProblem {
            param: Some("rho"),
            message: "`rho` applies only to prior \"sparse-rademacher\"".into(),
        }),
        _ => Ok(()),
    }
}

/// Delta from whichever of `delta` / `temperature` is given (validation ensures one is).
pub fn delta_of(params: &Params, p: usize) -> f64 {
    match params.float("delta") {
        Some(delta) => delta,
        None => crate::models::delta_from_temperature(p, params.float("temperature").unwrap_or(f64::NAN)),
    }
}

/// A required parameter that validation guarantees; a clear error otherwise.
pub fn required_int(params: &Params, name: &str) -> anyhow::Result<i64> {
    params.int(name).ok_or_else(|| anyhow::anyhow!("parameter `{name}` is missing"))
}
