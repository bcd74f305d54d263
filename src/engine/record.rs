//! The stage record kept beside each artifact: what was computed (kind,
//! version, parameters, inputs, seed), what came out (artifact hash, size,
//! summary, log) and when (wall time, start/end, tool version).

use serde::{Deserialize, Serialize};

use super::key::{ArtifactHash, ContentKey};
use crate::pipeline::Params;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub key: ContentKey,
    pub kind: String,
    pub version: u32,
    pub params: Params,
    pub input_keys: Vec<ContentKey>,
    pub seed: u64,
    /// blake3 of the payload (hex in JSON; a malformed one makes the record corrupt).
    pub artifact_hash: ArtifactHash,
    pub size: u64,
    pub wall_ms: u64,
    /// Unix times in seconds.
    pub started: f64,
    pub finished: f64,
    pub tool_version: String,
    /// The stage name it was last computed under (a hint for `status`, not part of the key).
    pub stage_name: String,
    pub pipeline: String,
    /// The kind's summary of the artifact (what `show` prints), kept so a cache
    /// hit reports the same as a computation.
    pub summary: serde_json::Value,
    /// Log lines the stage emitted while computing.
    #[serde(default)]
    pub log: Vec<String>,
}

/// Seconds since the Unix epoch.
pub fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}
