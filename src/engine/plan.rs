//! From a validated pipeline to the engine's plan: each concrete stage with
//! its seed and content key, computed in topological order.

use super::key::{stage_key, stage_seed, ContentKey};
use crate::pipeline::{Params, Pipeline};

#[derive(Debug, Clone)]
pub struct PlannedStage {
    pub name: String,
    pub kind: &'static str,
    pub version: u32,
    pub params: Params,
    /// Indices into `Plan::stages`.
    pub inputs: Vec<usize>,
    pub input_keys: Vec<ContentKey>,
    /// Names of the inputs, in order (for reports; not part of the key).
    pub input_names: Vec<String>,
    pub key: ContentKey,
    pub seed: u64,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub pipeline: String,
    pub stages: Vec<PlannedStage>,
}

impl Plan {
    pub fn new(pipeline: &Pipeline) -> Plan {
        let mut stages: Vec<PlannedStage> = Vec::with_capacity(pipeline.stages.len());
        for stage in &pipeline.stages {
            let params = stage.params.canonical_bytes();
            let input_keys: Vec<ContentKey> = stage.inputs.iter().map(|&i| stages[i].key).collect();
            let seed = stage_seed(pipeline.seed, stage.spec.name, &params, &input_keys);
            let key = stage_key(stage.spec.name, stage.spec.version, &params, seed, &input_keys);
            stages.push(PlannedStage {
                name: stage.name.clone(),
                kind: stage.spec.name,
                version: stage.spec.version,
                params: stage.params.clone(),
                inputs: stage.inputs.clone(),
                input_keys,
                input_names: stage.inputs.iter().map(|&i| pipeline.stages[i].name.clone()).collect(),
                key,
                seed,
            });
        }
        Plan { pipeline: pipeline.name.clone(), stages }
    }

    /// Marks `targets` and everything they depend on.
    pub fn closure(&self, targets: &[usize]) -> Vec<bool> {
        let mut keep = vec![false; self.stages.len()];
        for &t in targets {
            keep[t] = true;
        }
        for i in (0..self.stages.len()).rev() {
            if keep[i] {
                for &input in &self.stages[i].inputs {
                    keep[input] = true;
                }
            }
        }
        keep
    }
}
