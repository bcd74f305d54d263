//! The stage registry: every kind quench can run, each one value (`Kind`):
//! its spec (name, doc, parameters with units, ranges and defaults, inputs,
//! version), the model-aware input checks validation applies, its run
//! function and a tiny example. The executor adapts the science modules to the
//! engine through it (decode inputs, run the kind, check its numbers, encode
//! the artifact and its summary). This is the only place where the engine and
//! the science meet.
//!
//! # Adding a kind
//! 1. Write `src/stages/my_kind.rs`: a `pub const MY_KIND: Kind` whose `spec`
//!    declares the parameters (`check: params::check::<MyParams>`), a
//!    `MyParams` struct implementing `params::KindParams` (read every value
//!    through `Args`; choices are enums with `choices!`), and a
//!    `fn run(run: &StageRun) -> Result<Artifact>` that parses `MyParams`,
//!    decodes its inputs (`run.disorder()`, ...), calls the science and wraps
//!    the result in an `Artifact` variant (add one in `artifact.rs` if new).
//! 2. Add `mod my_kind;` and one line `my_kind::MY_KIND,` to `REGISTRY` below.
//! 3. Give it an `example`: a tiny pipeline whose stage `this` is of the kind
//!    (tests/kinds.rs runs every registered kind's example through the binary);
//!    set `input_model` if it only accepts some disorder models, `model` if
//!    it produces a disorder.
//!
//! A kind written in the older style (a `KindSpec` const and a
//! `run(disorder, params, seed, observer)` function) ports in one line:
//! `Kind { spec: OLD_SPEC, run: |r| Ok(Artifact::Samples(old::run(r.disorder()?,
//! r.params, r.seed, r.observer)?)), model: None, input_model: None, example: "..." }`;
//! then move its `unwrap_or` defaults into a `KindParams` struct.

pub mod artifact;
mod bicoloring;
mod classical;
pub mod compare;
mod denoiser_path;
pub mod disorder;
mod generative;
pub mod params;
pub mod samples;
mod theory;
pub mod train;

use anyhow::{anyhow, bail, Context, Result};

pub use artifact::Artifact;
pub use bicoloring::PATH_OUTPUT as BICOLORING_PATH_OUTPUT;
pub use disorder::DisorderModel;
pub use theory::DIAGRAM_OUTPUT as PHASE_DIAGRAM_OUTPUT;
pub use theory::SE_PATH_OUTPUT;

use crate::engine::{Executor, Output, Payload, PlannedStage};
use crate::models::Disorder;
use crate::observe::Observer;
use crate::pipeline::schema::{Catalog, InputFacts, InputProblem};
use crate::pipeline::{KindSpec, Params};

/// Everything about one stage kind.
#[derive(Clone, Copy)]
pub struct Kind {
    pub spec: KindSpec,
    /// Computes the kind's artifact.
    pub run: fn(&StageRun) -> Result<Artifact>,
    /// For kinds producing a disorder: its model, as the (valid) parameters determine it.
    pub model: Option<fn(&Params) -> Option<DisorderModel>>,
    /// Which disorder models its disorder inputs may have, given its own
    /// parameters; the error says why not (checked at validation).
    pub input_model: Option<ModelCheck>,
    /// A tiny pipeline whose stage `this` is of this kind (with what it needs), run by tests.
    pub example: &'static str,
}

/// Whether a stage with these parameters can use a disorder of this model; the error says why not.
pub type ModelCheck = fn(&Params, &DisorderModel) -> Result<(), String>;

/// What a kind's run function gets.
pub struct StageRun<'a> {
    pub spec: &'static KindSpec,
    /// Canonical parameters (defaults filled in).
    pub params: &'a Params,
    pub seed: u64,
    /// Decoded inputs, in order, with the stage names they come from.
    pub inputs: &'a [Artifact],
    pub input_names: &'a [String],
    pub observer: &'a dyn Observer,
}

impl StageRun<'_> {
    /// The first input, which must be a disorder.
    pub fn disorder(&self) -> Result<&Disorder> {
        match self.inputs.first() {
            Some(Artifact::Disorder(d)) => Ok(d),
            Some(Artifact::Bicoloring(_)) => bail!(
                "{} does not handle a hypergraph bicoloring disorder (the kinds that do: sample.metropolis, \
                 sample.diffusion, sample.flow, sample.autoregressive, eval.compare)",
                self.spec.name
            ),
            Some(other) => bail!("the first input must be a disorder artifact, found {}", other.type_name()),
            None => bail!("the first input must be a disorder artifact, found none"),
        }
    }

    /// The kind's typed parameters; an error names the parameter.
    pub fn params<P: params::KindParams>(&self) -> Result<P> {
        P::from_params(self.params).map_err(|p| anyhow!("{}: {}", self.spec.name, p.message))
    }
}

/// The kinds, in the order `quench stages` lists them.
pub struct Registry(pub &'static [Kind]);

/// Every kind: one line each.
pub static REGISTRY: Registry = Registry(&[
    disorder::SPIKED_MATRIX,
    disorder::SPIKED_TENSOR,
    disorder::SK,
    classical::METROPOLIS,
    classical::TEMPERING,
    classical::LANGEVIN,
    generative::DIFFUSION,
    generative::FLOW,
    generative::AUTOREGRESSIVE,
    denoiser_path::DENOISER_PATH,
    compare::COMPARE,
    compare::AGGREGATE,
    theory::SE_PATH,
    theory::PHASE_DIAGRAM,
    theory::LANDSCAPE,
    train::TRAIN_AUTOREGRESSIVE,
    train::SAMPLE_AUTOREGRESSIVE_NET,
    train::TRAIN_DENOISER,
    bicoloring::DISORDER,
    bicoloring::PATH_KIND,
    bicoloring::DIAGRAM_KIND,
]);

/// The registry as the catalog validation reads (`Pipeline::load(path, CATALOG)`).
pub static CATALOG: &Registry = &REGISTRY;

impl Registry {
    pub fn kinds(&self) -> &'static [Kind] {
        self.0
    }

    pub fn get(&self, name: &str) -> Option<&'static Kind> {
        self.0.iter().find(|k| k.spec.name == name)
    }

    /// The specs, in catalog order.
    pub fn iter(&self) -> impl Iterator<Item = &'static KindSpec> {
        self.0.iter().map(|k| &k.spec)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl IntoIterator for &Registry {
    type Item = &'static KindSpec;
    type IntoIter = std::iter::Map<std::slice::Iter<'static, Kind>, fn(&'static Kind) -> &'static KindSpec>;

    fn into_iter(self) -> Self::IntoIter {
        fn spec(k: &'static Kind) -> &'static KindSpec {
            &k.spec
        }
        self.0.iter().map(spec as fn(&'static Kind) -> &'static KindSpec)
    }
}

impl Catalog for Registry {
    fn specs(&self) -> Vec<&KindSpec> {
        self.iter().collect()
    }

    fn find(&self, name: &str) -> Option<&KindSpec> {
        self.get(name).map(|k| &k.spec)
    }

    fn check_inputs(&self, kind: &KindSpec, params: &Params, inputs: &[InputFacts]) -> Result<(), InputProblem> {
        let Some(accepts) = self.get(kind.name).and_then(|k| k.input_model) else { return Ok(()) };
        for (i, input) in inputs.iter().enumerate() {
            let Some(model_of) = self.get(input.kind.name).and_then(|k| k.model) else { continue };
            let Some(model) = model_of(input.params) else { continue };
            accepts(params, &model).map_err(|why| InputProblem {
                input: i,
                message: format!("kind `{}` cannot use {model}: {why}", kind.name),
            })?;
        }
        Ok(())
    }
}

/// Runs registered kinds for the engine.
pub struct CatalogExecutor;

impl Executor for CatalogExecutor {
    fn execute(&self, stage: &PlannedStage, inputs: Vec<Vec<u8>>, observer: &dyn Observer) -> Result<Output> {
        let kind = REGISTRY
            .get(stage.kind)
            .ok_or_else(|| anyhow!("kind `{}` has no implementation in this build", stage.kind))?;
        let inputs: Vec<Artifact> = inputs
            .into_iter()
            .enumerate()
            .map(|(i, bytes)| Artifact::decode(&bytes).with_context(|| format!("decoding input {}", i + 1)))
            .collect::<Result<_>>()?;
        observer.checkpoint()?;
        let run = StageRun {
            spec: &kind.spec,
            params: &stage.params,
            seed: stage.seed,
            inputs: &inputs,
            input_names: &stage.input_names,
            observer,
        };
        let artifact = (kind.run)(&run)?;
        artifact.check_finite().map_err(|why| anyhow!("the result is not a number: {why}"))?;
        Ok(Output { summary: artifact.summary(), payload: Payload::value(artifact) })
    }
}
