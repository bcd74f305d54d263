//! The stage catalog: every kind quench can run, and the executor that adapts
//! the science modules to the engine (decode inputs, call the science with the
//! stage's seed and observer, encode the artifact and its summary). This is
//! the only place where the engine and the science meet.

pub mod artifact;
mod disorder;
mod params;
mod theory;

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
    theory::SE_PATH,
    theory::PHASE_DIAGRAM,
    theory::LANDSCAPE,
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

fn compute(stage: &PlannedStage, _inputs: &[Artifact], observer: &dyn Observer) -> Result<Artifact> {
    observer.checkpoint()?;
    match stage.kind {
        "disorder.spiked-matrix" | "disorder.spiked-tensor" | "disorder.sk" => {
            let d = disorder::generate(stage.kind, &stage.params, stage.seed, observer)?;
            Ok(Artifact::Disorder(d))
        }
        "theory.se-path" => Ok(Artifact::SePath(theory::se_path(&stage.params, observer)?)),
        "theory.phase-diagram" => Ok(Artifact::PhaseDiagram(theory::phase_diagram(&stage.params, observer)?)),
        "theory.landscape" => Ok(Artifact::Landscape(theory::landscape(&stage.params)?)),
        other => bail!("kind `{other}` has no implementation in this build"),
    }
}
