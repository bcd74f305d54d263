//! The `disorder.*` kinds: planted spiked matrix, planted spiked tensor and SK
//! couplings, adapted from `models` to the engine.

use anyhow::Result;
use serde_json::json;

use super::params::{self as p, check_rho, delta_of, required_int};
use crate::models::{Disorder, Family, Prior};
use crate::observe::Observer;
use crate::pipeline::schema::{Default, InputSlot, KindSpec, ParamKind, ParamProblem, ParamSpec};
use crate::pipeline::Params;

pub const OUTPUT: &str = "disorder";

const fn size(max: i64) -> ParamSpec {
    ParamSpec {
        name: "n",
        kind: p::int(3, max),
        default: Default::Required,
        unit: "variables",
        doc: "number of variables N",
    }
}

const MATRIX_PRIOR: ParamSpec = ParamSpec {
    name: "prior",
    kind: ParamKind::Choice(&["rademacher", "sparse-rademacher"]),
    default: Default::Str("rademacher"),
    unit: "",
    doc: "prior of the planted signal and of the spins",
};

const TENSOR_PRIOR: ParamSpec = ParamSpec {
    name: "prior",
    kind: ParamKind::Choice(&["rademacher", "spherical"]),
    default: Default::Str("rademacher"),
    unit: "",
    doc: "prior: Ising spins or the sphere |x|^2 = N",
};

const ORDER: ParamSpec = ParamSpec {
    name: "p",
    kind: p::int(3, 3),
    default: Default::Int(3),
    unit: "",
    doc: "tensor order (only p = 3 is implemented)",
};

const BETA: ParamSpec = ParamSpec {
    name: "beta",
    kind: p::POSITIVE,
    default: Default::None,
    unit: "1/T",
    doc: "inverse temperature (give this or `temperature`)",
};

const NO_INPUTS: &[InputSlot] = &[];

pub const SPIKED_MATRIX: KindSpec = KindSpec {
    name: "disorder.spiked-matrix",
    version: 1,
    summary: "planted spiked Wigner matrix Y = x* x*^T/sqrt(N) + sqrt(Delta) W (planted SK for rademacher)",
    output: OUTPUT,
    inputs: NO_INPUTS,
    params: &[size(30_000), MATRIX_PRIOR, p::RHO, p::DELTA, p::TEMPERATURE, p::INSTANCE],
    exactly_one_of: &[&["delta", "temperature"]],
    check: check_rho,
};

pub const SPIKED_TENSOR: KindSpec = KindSpec {
    name: "disorder.spiked-tensor",
    version: 1,
    summary: "planted spiked tensor Y = sqrt(2)/N x*^(x)3 + sqrt(Delta) W, stored as its i<j<k entries",
    output: OUTPUT,
    inputs: NO_INPUTS,
    params: &[size(1_000), ORDER, TENSOR_PRIOR, p::DELTA, p::TEMPERATURE, p::INSTANCE],
    exactly_one_of: &[&["delta", "temperature"]],
    check: KindSpec::no_check,
};

pub const SK: KindSpec = KindSpec {
    name: "disorder.sk",
    version: 1,
    summary: "Sherrington-Kirkpatrick couplings J ~ N(0, 1/N), no planted signal",
    output: OUTPUT,
    inputs: NO_INPUTS,
    params: &[size(30_000), p::TEMPERATURE, BETA, p::INSTANCE],
    exactly_one_of: &[&["temperature", "beta"]],
    check: check_sk,
};

fn check_sk(_: &Params) -> Result<(), ParamProblem> {
    Ok(())
}

fn prior_of(params: &Params) -> Prior {
    match params.str("prior") {
        Some("sparse-rademacher") => Prior::SparseRademacher { rho: params.float("rho").unwrap_or(1.0) },
        Some("spherical") => Prior::Spherical,
        _ => Prior::Rademacher,
    }
}

/// Generates the disorder of one of the three kinds.
pub fn generate(kind: &str, params: &Params, seed: u64, observer: &dyn Observer) -> Result<Disorder> {
    let n = required_int(params, "n")? as usize;
    let (family, delta) = match kind {
        "disorder.spiked-matrix" => (Family::SpikedMatrix, delta_of(params, 2)),
        "disorder.spiked-tensor" => (Family::SpikedTensor, delta_of(params, 3)),
        _ => {
            let beta = params.float("beta").or(params.float("temperature").map(|t| 1.0 / t)).unwrap_or(f64::NAN);
            (Family::Sk, 1.0 / (beta * beta))
        }
    };
    Ok(Disorder::generate(family, n, prior_of(params), delta, seed, observer)?)
}

/// What `quench show` reports about a disorder artifact.
pub fn summary(d: &Disorder) -> serde_json::Value {
    let planted_energy = d.planted_f64().map(|x| d.energy_per_spin(&x));
    json!({
        "model": d.family.name(),
        "n": d.n,
        "p": d.p,
        "prior": d.prior.name(),
        "rho": d.prior.rho(),
        "delta": d.delta,
        "temperature": d.temperature,
        "beta": d.beta(),
        "planted": d.family != Family::Sk,
        "planted_energy_per_spin": planted_energy,
        "equilibrium_energy_per_spin": d.equilibrium_energy_per_spin(),
        "couplings": d.couplings.len(),
    })
}
