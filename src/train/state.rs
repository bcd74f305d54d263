//! A training run's resumable state as bytes: named tensors (exact bits) and
//! string metadata in one safetensors buffer, the format the weights are also
//! stored in.

use std::collections::{BTreeMap, HashMap};

use candle_core::{Device, Tensor};

/// The one metadata key: safetensors writes its metadata map in hash order,
/// so quench's metadata goes in as a single sorted JSON object (same bits every run).
const META_KEY: &str = "quench";

/// Named tensors and metadata as one safetensors buffer (deterministic bytes).
pub fn pack(tensors: &HashMap<String, Tensor>, metadata: HashMap<String, String>) -> candle_core::Result<Vec<u8>> {
    let mut entries: Vec<(&String, &Tensor)> = tensors.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let sorted: BTreeMap<String, String> = metadata.into_iter().collect();
    let json = serde_json::to_string(&sorted).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
    let metadata = HashMap::from([(META_KEY.to_string(), json)]);
    safetensors::tensor::serialize(entries, Some(metadata)).map_err(|e| candle_core::Error::Msg(e.to_string()))
}

/// The tensors and metadata of a `pack` buffer; an error (never a panic) for bad bytes.
pub fn unpack(bytes: &[u8]) -> candle_core::Result<(HashMap<String, Tensor>, HashMap<String, String>)> {
    let (_, header) =
        safetensors::SafeTensors::read_metadata(bytes).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
    let metadata = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get(META_KEY))
        .and_then(|json| serde_json::from_str::<HashMap<String, String>>(json).ok())
        .unwrap_or_default();
    let tensors = candle_core::safetensors::load_buffer(bytes, &Device::Cpu)?;
    Ok((tensors, metadata))
}

/// A metadata entry parsed, or an error naming it.
pub fn meta<T: std::str::FromStr>(metadata: &HashMap<String, String>, key: &str) -> candle_core::Result<T> {
    metadata
        .get(key)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| candle_core::Error::Msg(format!("state metadata `{key}` missing or malformed")))
}

/// Everything a training loop needs to resume exactly: the next step, the
/// network's tensors, the optimizer's moments and step, and the curve so far
/// (rows of equal length). `tag` names the loop and its configuration; a
/// snapshot with another tag is refused.
pub struct Snapshot {
    pub tag: String,
    pub step: usize,
    pub tensors: HashMap<String, Tensor>,
    pub adam_step: u64,
    pub curve: Vec<Vec<f64>>,
}

impl Snapshot {
    pub fn to_bytes(&self) -> candle_core::Result<Vec<u8>> {
        let mut tensors = self.tensors.clone();
        let width = self.curve.first().map_or(0, Vec::len);
        let rows: Vec<f64> = self.curve.iter().flatten().copied().collect();
        tensors.insert("curve".into(), Tensor::from_vec(rows, (self.curve.len(), width), &Device::Cpu)?);
        let metadata = HashMap::from([
            ("tag".to_string(), self.tag.clone()),
            ("step".to_string(), self.step.to_string()),
            ("adam_step".to_string(), self.adam_step.to_string()),
        ]);
        pack(&tensors, metadata)
    }

    /// The snapshot in `bytes`, if it was saved under `tag`.
    pub fn from_bytes(bytes: &[u8], tag: &str) -> candle_core::Result<Snapshot> {
        let (mut tensors, metadata) = unpack(bytes)?;
        if metadata.get("tag").map(String::as_str) != Some(tag) {
            return Err(candle_core::Error::Msg("saved by another configuration".into()));
        }
        let curve = tensors.remove("curve").ok_or_else(|| candle_core::Error::Msg("missing curve".into()))?;
        Ok(Snapshot {
            tag: tag.to_string(),
            step: meta(&metadata, "step")?,
            adam_step: meta(&metadata, "adam_step")?,
            curve: curve.to_vec2::<f64>()?,
            tensors,
        })
    }
}
