//! The stage catalog: every kind quench can run, and the executor that adapts
//! the science modules to the engine (decode inputs, call the science with the
//! stage's seed and observer, encode the artifact and its summary). This is
//! the only place where the engine and the science meet.

pub mod artifact;
mod classical;
pub mod compare;
mod disorder;
mod generative;
mod params;
pub mod samples;
mod theory;
mod train;

use anyhow::{bail, Context, Result};

pub use artifact::Artifact;

use crate::engine::{Executor, Output, PlannedStage};
use crate::observe::Observer;
use crate::pipeline::KindSpec;

/// Every kind, in the order `quench stages` lists them.
pub static CATALOG: &[KindSpec] = &[
    disorder::SPIKED_MATRIX,
    disorder::SPIKED_TENSOR,
    disorder::SK,
    classical::METROPOLIS,
    classical::TEMPERING,
    classical::LANGEVIN,
    generative::DIFFUSION,
    generative::FLOW,
    generative::AUTOREGRESSIVE,
    generative::DENOISER_PATH,
    compare::COMPARE,
    compare::AGGREGATE_KIND,
    theory::SE_PATH,
    theory::PHASE_DIAGRAM,
    theory::LANDSCAPE,
    train::TRAIN_AUTOREGRESSIVE,
    train::SAMPLE_AUTOREGRESSIVE_NET,
    train::TRAIN_DENOISER,
];

/// Runs catalog kinds for the engine.
pub struct CatalogExecutor;

impl Executor for CatalogExecutor {
    fn execute(&self, stage: &PlannedStage, inputs: Vec<Vec<u8>>, observer: &dyn Observer) -> Result<Output> {
        let inputs: Vec<Artifact> = inputs
            .iter()
            .enumerate()
            .map(|(i, bytes)| Artifact::decode(bytes).with_context(|| format!("decoding input {}", i + 1)))
            .collect::<Result<_>>()?;
        let artifact = compute(stage, &inputs, observer)?;
        Ok(Output { summary: artifact.summary(), payload: artifact.encode() })
    }
}

fn disorder_input(inputs: &[Artifact]) -> Result<&crate::models::Disorder> {
    match inputs.first() {
        Some(Artifact::Disorder(d)) => Ok(d),
        _ => bail!("the first input must be a disorder artifact"),
    }
}

fn compute(stage: &PlannedStage, inputs: &[Artifact], observer: &dyn Observer) -> Result<Artifact> {
    observer.checkpoint()?;
    let (params, seed) = (&stage.params, stage.seed);
    match stage.kind {
        "sample.metropolis" => {
            Ok(Artifact::Samples(classical::run_metropolis(disorder_input(inputs)?, params, seed, observer)?))
        }
        "sample.parallel-tempering" => {
            Ok(Artifact::Samples(classical::run_tempering(disorder_input(inputs)?, params, seed, observer)?))
        }
        "sample.langevin" => {
            Ok(Artifact::Samples(classical::run_langevin(disorder_input(inputs)?, params, seed, observer)?))
        }
        "sample.diffusion" => {
            Ok(Artifact::Samples(generative::run_diffusion(disorder_input(inputs)?, params, seed, observer)?))
        }
        "sample.flow" => Ok(Artifact::Samples(generative::run_flow(disorder_input(inputs)?, params, seed, observer)?)),
        "sample.autoregressive" => {
            Ok(Artifact::Samples(generative::run_autoregressive(disorder_input(inputs)?, params, seed, observer)?))
        }
        "eval.denoiser-path" => {
            Ok(Artifact::DenoiserPath(generative::run_denoiser_path(disorder_input(inputs)?, params, seed, observer)?))
        }
        "eval.compare" => {
            let d = disorder_input(inputs)?;
            let samples: Vec<(String, samples::Samples)> = inputs[1..]
                .iter()
                .zip(&stage.input_names[1..])
                .filter_map(|(a, name)| match a {
                    Artifact::Samples(s) => Some((name.clone(), s.clone())),
                    _ => None,
                })
                .collect();
            Ok(Artifact::Comparison(compare::compare(d, &samples, observer)?))
        }
        "eval.aggregate" => {
            let comparisons: Vec<compare::Comparison> = inputs
                .iter()
                .filter_map(|a| match a {
                    Artifact::Comparison(c) => Some(c.clone()),
                    _ => None,
                })
                .collect();
            Ok(Artifact::Aggregate(compare::aggregate(&comparisons)?))
        }
        "disorder.spiked-matrix" | "disorder.spiked-tensor" | "disorder.sk" => {
            let d = disorder::generate(stage.kind, &stage.params, stage.seed, observer)?;
            Ok(Artifact::Disorder(d))
        }
        "theory.se-path" => Ok(Artifact::SePath(theory::se_path(&stage.params, observer)?)),
        "theory.phase-diagram" => Ok(Artifact::PhaseDiagram(theory::phase_diagram(&stage.params, observer)?)),
        "train.autoregressive" => Ok(Artifact::Network(train::run_train_autoregressive(
            disorder_input(inputs)?,
            params,
            seed,
            observer,
        )?)),
        "sample.autoregressive-net" => {
            let Some(Artifact::Network(net)) = inputs.get(1) else { bail!("the second input must be a trained network") };
            Ok(Artifact::Samples(train::run_sample_net(disorder_input(inputs)?, net, params, seed, observer)?))
        }
        "train.denoiser" => {
            let Some(Artifact::Samples(samples)) = inputs.get(1) else { bail!("the second input must be samples") };
            Ok(Artifact::LearnedDenoiser(train::run_train_denoiser(
                disorder_input(inputs)?,
                samples,
                params,
                seed,
                observer,
            )?))
        }
        "theory.landscape" => Ok(Artifact::Landscape(theory::landscape(&stage.params)?)),
        other => bail!("kind `{other}` has no implementation in this build"),
    }
}
