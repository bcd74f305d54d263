//! The one event type every stage and the scheduler report through, as it is
//! written to the run log (one JSON object a line, each with `event`, `stage`
//! and `time`) and read back by `quench watch` and the TUI.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unix time in seconds.
    pub time: f64,
    /// The stage name (the pipeline name for run-level events).
    pub stage: String,
    #[serde(flatten)]
    pub body: EventBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventBody {
    /// A run began: its id, pipeline file and stage count, and the process
    /// writing the log (`pid` on `host`), so readers can tell a dead writer.
    RunStarted {
        run_id: String,
        pipeline: String,
        stages: usize,
        #[serde(default)]
        pid: u32,
        #[serde(default)]
        host: String,
    },
    /// The writer is alive (sent every `HEARTBEAT` while a run lasts).
    Heartbeat,
    /// A stage is part of the run; `inputs` are stage names, `params` its canonical parameters.
    Queued {
        kind: String,
        #[serde(with = "super::key::hex_key")]
        key: super::key::ContentKey,
        inputs: Vec<String>,
        #[serde(default)]
        params: serde_json::Value,
    },
    Started,
    Progress {
        done: u64,
        total: u64,
    },
    Trace {
        series: String,
        x: f64,
        y: f64,
    },
    Histogram {
        name: String,
        edges: Vec<f64>,
        counts: Vec<u64>,
    },
    Log {
        level: String,
        message: String,
    },
    /// The finished stage's artifact summary (sent just before `finished`):
    /// what the monitor's Results view reads, never computing anything itself.
    Summary {
        summary: serde_json::Value,
    },
    Finished {
        cached: bool,
        artifact_hash: super::key::ArtifactHash,
        wall_ms: u64,
    },
    Failed {
        error: String,
    },
    Cancelled {
        reason: String,
    },
    /// The run ended: `ok`, `failed` or `cancelled`.
    RunFinished {
        status: String,
    },
}

/// How often a running process writes `heartbeat` to its run log.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(2);

/// A run log silent for this long while its run has not finished has lost its writer.
pub const STALE_AFTER: f64 = 10.0;

impl Event {
    pub fn now(stage: &str, body: EventBody) -> Event {
        Event { time: super::record::now(), stage: stage.to_string(), body }
    }
}
