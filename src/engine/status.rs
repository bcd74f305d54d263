//! `quench status`: for each stage, whether its artifact is cached, stale (a
//! record of it exists for other inputs) or missing, and why: which parameter,
//! input, seed or kind version differs from the nearest cached record.

use std::collections::HashMap;

use super::plan::{Plan, PlannedStage};
use super::record::Record;
use super::store::{Cache, Lookup};

#[derive(Debug, Clone, PartialEq)]
pub enum StageStatus {
    Cached,
    /// Cached, but the artifact failed its check; it will be recomputed.
    Corrupt(String),
    /// Will recompute; the reasons compare with the nearest cached record.
    Stale(Vec<String>),
    /// Will compute; nothing comparable is cached.
    Missing,
}

impl StageStatus {
    pub fn label(&self) -> &'static str {
        match self {
            StageStatus::Cached => "cached",
            StageStatus::Corrupt(_) => "corrupt",
            StageStatus::Stale(_) => "stale",
            StageStatus::Missing => "missing",
        }
    }

    pub fn reasons(&self) -> Vec<String> {
        match self {
            StageStatus::Cached => vec![],
            StageStatus::Corrupt(why) => vec![format!("cached artifact is corrupt: {why}")],
            StageStatus::Stale(reasons) => reasons.clone(),
            StageStatus::Missing => vec!["never computed".into()],
        }
    }
}

/// The status of every stage of the plan.
pub fn status(plan: &Plan, cache: &Cache) -> Vec<StageStatus> {
    let mut by_kind: HashMap<String, Vec<Record>> = HashMap::new();
    let mut loaded = false;
    let mut out: Vec<StageStatus> = Vec::with_capacity(plan.stages.len());
    for stage in &plan.stages {
        let status = match cache.lookup(&stage.key) {
            Lookup::Valid(_) => StageStatus::Cached,
            Lookup::Corrupt(why) => StageStatus::Corrupt(why),
            Lookup::Missing => {
                if !loaded {
                    for record in cache.records() {
                        by_kind.entry(record.kind.clone()).or_default().push(record);
                    }
                    loaded = true;
                }
                explain(plan, stage, &out, by_kind.get(stage.kind).map_or(&[][..], |v| v))
            }
        };
        out.push(status);
    }
    out
}

fn explain(plan: &Plan, stage: &PlannedStage, earlier: &[StageStatus], records: &[Record]) -> StageStatus {
    let nearest = records.iter().min_by_key(|r| (r.stage_name != stage.name, differences(plan, stage, r).len()));
    let Some(record) = nearest else {
        return StageStatus::Missing;
    };
    let mut reasons = differences(plan, stage, record);
    for &input in &stage.inputs {
        if earlier[input] != StageStatus::Cached {
            reasons.push(format!("input `{}` is {}", plan.stages[input].name, earlier[input].label()));
        }
    }
    if reasons.is_empty() {
        reasons.push("the nearest record differs only in its seed".into());
    }
    StageStatus::Stale(reasons)
}

/// What differs between a planned stage and a record of the same kind.
fn differences(plan: &Plan, stage: &PlannedStage, record: &Record) -> Vec<String> {
    let mut out = Vec::new();
    if record.version != stage.version {
        out.push(format!("kind version changed: {} -> {}", record.version, stage.version));
    }
    let names: std::collections::BTreeSet<&String> = record.params.0.keys().chain(stage.params.0.keys()).collect();
    for name in names {
        let (old, new) = (record.params.get(name), stage.params.get(name));
        if old != new {
            let show = |v: Option<&crate::pipeline::ParamValue>| v.map_or("(unset)".to_string(), |v| v.to_string());
            out.push(format!("parameter `{name}` changed: {} -> {}", show(old), show(new)));
        }
    }
    if record.input_keys.len() != stage.input_keys.len() {
        out.push(format!("number of inputs changed: {} -> {}", record.input_keys.len(), stage.input_keys.len()));
    } else {
        for (slot, (old, new)) in record.input_keys.iter().zip(&stage.input_keys).enumerate() {
            if old != new {
                out.push(format!("input `{}` changed", plan.stages[stage.inputs[slot]].name));
            }
        }
    }
    if out.is_empty() && record.seed != stage.seed {
        out.push("seed changed (pipeline seed)".into());
    }
    out
}
