//! The `disorder.*` kinds: planted spiked matrix, planted spiked tensor and SK
//! couplings, adapted from `models` to the engine. Each also tells validation
//! the model its parameters determine (`DisorderModel`), so samplers that
//! cannot handle it are refused before anything runs.

use std::fmt;

use anyhow::Result;
use serde_json::json;

use super::params::{self as p, choices, problem, Args, KindParams};
use super::{Artifact, Kind, StageRun};
use crate::models::{Disorder, Family, Prior};
use crate::pipeline::schema::{Default, InputSlot, KindSpec, ParamKind, ParamProblem, ParamSpec};
use crate::pipeline::Params;

pub const OUTPUT: &str = "disorder";

/// What validation knows of a disorder before generating it (displayed with its article).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DisorderModel {
    pub family: Family,
    pub prior: Prior,
    pub p: usize,
    /// Number of variables.
    pub n: usize,
}

impl DisorderModel {
    pub fn planted(&self) -> bool {
        self.family != Family::Sk
    }
}

impl fmt::Display for DisorderModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.family {
            Family::Sk => write!(f, "an SK disorder (Ising spins, no planted signal)"),
            family => write!(f, "a {} disorder with a {} prior (p = {})", family.name(), self.prior.name(), self.p),
        }
    }
}

/// The spins' prior as named in pipeline files (`rho` is a separate parameter).
#[derive(Debug, Clone, Copy, PartialEq)]
enum PriorName {
    Rademacher,
    SparseRademacher,
    Spherical,
}

choices!(PriorName {
    "rademacher" => PriorName::Rademacher,
    "sparse-rademacher" => PriorName::SparseRademacher,
    "spherical" => PriorName::Spherical,
});

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

const SK_TEMPERATURE: ParamSpec = ParamSpec {
    name: "temperature",
    kind: p::TEMPERATURE_RANGE,
    default: Default::None,
    unit: "T",
    doc: "temperature T = 1/beta of the Gibbs measure exp(beta sum J_ij x_i x_j) (give this or `beta`)",
};

const BETA: ParamSpec = ParamSpec {
    name: "beta",
    kind: p::TEMPERATURE_RANGE,
    default: Default::None,
    unit: "1/T",
    doc: "inverse temperature (give this or `temperature`)",
};

const NO_INPUTS: &[InputSlot] = &[];

pub const SPIKED_MATRIX: Kind = Kind {
    spec: KindSpec {
        name: "disorder.spiked-matrix",
        version: 1,
        summary: "planted spiked Wigner matrix Y = x* x*^T/sqrt(N) + sqrt(Delta) W (planted SK for rademacher)",
        output: OUTPUT,
        inputs: NO_INPUTS,
        params: &[size(30_000), MATRIX_PRIOR, p::RHO, p::DELTA, p::TEMPERATURE, p::INSTANCE],
        exactly_one_of: &[&["delta", "temperature"]],
        at_most_one_given: &[],
        check: p::check::<MatrixParams>,
    },
    run: |run| generate(run, run.params::<MatrixParams>()?.0),
    model: Some(|params| MatrixParams::from_params(params).ok().map(|m| m.0.model())),
    input_model: None,
    example: "[stage.this]\nkind = \"disorder.spiked-matrix\"\nn = 8\nprior = \"sparse-rademacher\"\nrho = 0.5\ndelta = 0.1\n",
};

pub const SPIKED_TENSOR: Kind = Kind {
    spec: KindSpec {
        name: "disorder.spiked-tensor",
        version: 1,
        summary: "planted spiked tensor Y = sqrt(2)/N x*^(x)3 + sqrt(Delta) W, stored as its i<j<k entries",
        output: OUTPUT,
        inputs: NO_INPUTS,
        params: &[size(1_000), ORDER, TENSOR_PRIOR, p::DELTA, p::TEMPERATURE, p::INSTANCE],
        exactly_one_of: &[&["delta", "temperature"]],
        at_most_one_given: &[],
        check: p::check::<TensorParams>,
    },
    run: |run| generate(run, run.params::<TensorParams>()?.0),
    model: Some(|params| TensorParams::from_params(params).ok().map(|m| m.0.model())),
    input_model: None,
    example: "[stage.this]\nkind = \"disorder.spiked-tensor\"\nn = 8\nprior = \"spherical\"\ntemperature = 0.8\n",
};

pub const SK: Kind = Kind {
    spec: KindSpec {
        name: "disorder.sk",
        version: 1,
        summary: "Sherrington-Kirkpatrick couplings J ~ N(0, 1/N), no planted signal",
        output: OUTPUT,
        inputs: NO_INPUTS,
        params: &[size(30_000), SK_TEMPERATURE, BETA, p::INSTANCE],
        exactly_one_of: &[&["temperature", "beta"]],
        at_most_one_given: &[],
        check: p::check::<SkParams>,
    },
    run: |run| generate(run, run.params::<SkParams>()?.0),
    model: Some(|params| SkParams::from_params(params).ok().map(|m| m.0.model())),
    input_model: None,
    example: "[stage.this]\nkind = \"disorder.sk\"\nn = 8\nbeta = 0.5\n",
};

/// What generating one instance takes, whatever the kind.
#[derive(Debug, Clone, Copy)]
pub struct Generation {
    family: Family,
    n: usize,
    prior: Prior,
    /// Noise variance (for SK the formal `1/beta^2`).
    delta: f64,
}

impl Generation {
    fn model(&self) -> DisorderModel {
        let p = if self.family == Family::SpikedTensor { 3 } else { 2 };
        DisorderModel { family: self.family, prior: self.prior, p, n: self.n }
    }
}

fn prior(args: &Args) -> Result<Prior, ParamProblem> {
    let name: PriorName = args.choice("prior")?;
    let rho = p::rho(args, name == PriorName::SparseRademacher)?;
    Ok(match (name, rho) {
        (PriorName::Rademacher, _) => Prior::Rademacher,
        (PriorName::Spherical, _) => Prior::Spherical,
        (PriorName::SparseRademacher, Some(rho)) => Prior::SparseRademacher { rho },
        (PriorName::SparseRademacher, None) => return Err(problem("rho", "prior \"sparse-rademacher\" needs `rho`")),
    })
}

struct MatrixParams(Generation);
struct TensorParams(Generation);
struct SkParams(Generation);

impl KindParams for MatrixParams {
    const KIND: &'static KindSpec = &SPIKED_MATRIX.spec;
    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        let n = args.count("n")?;
        Ok(MatrixParams(Generation { family: Family::SpikedMatrix, n, prior: prior(args)?, delta: p::delta(args, 2)? }))
    }
}

impl KindParams for TensorParams {
    const KIND: &'static KindSpec = &SPIKED_TENSOR.spec;
    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        let (n, order) = (args.count("n")?, args.count("p")?);
        let delta = p::delta(args, order)?;
        Ok(TensorParams(Generation { family: Family::SpikedTensor, n, prior: prior(args)?, delta }))
    }
}

impl KindParams for SkParams {
    const KIND: &'static KindSpec = &SK.spec;
    fn parse(args: &Args) -> Result<Self, ParamProblem> {
        let n = args.count("n")?;
        let beta = match (args.opt_float("beta")?, args.opt_float("temperature")?) {
            (Some(beta), None) => beta,
            (None, Some(t)) => 1.0 / t,
            _ => return Err(problem("beta", "give exactly one of `temperature`, `beta`")),
        };
        Ok(SkParams(Generation { family: Family::Sk, n, prior: Prior::Rademacher, delta: 1.0 / (beta * beta) }))
    }
}

fn generate(run: &StageRun, g: Generation) -> Result<Artifact> {
    let d = Disorder::generate(g.family, g.n, g.prior, g.delta, run.seed, run.observer)?;
    Ok(Artifact::Disorder(d))
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

/// Accepts only planted models.
pub fn planted_only(_: &Params, model: &DisorderModel) -> Result<(), String> {
    if !model.planted() {
        return Err("it follows the planted path, which needs a planted signal".into());
    }
    Ok(())
}
