//! The `samples` artifact every sampler stage produces (`eval::samples`), and
//! what `quench show` reports about it.

pub use crate::eval::samples::{PathTrace, SampleChain, Samples};

pub const OUTPUT: &str = "samples";

pub fn summary(s: &Samples) -> serde_json::Value {
    let energies: Vec<f64> = s.chains.iter().flat_map(|c| c.energy.iter().copied()).collect();
    let mean = energies.iter().sum::<f64>() / energies.len().max(1) as f64;
    let acceptance: Vec<f64> = s.chains.iter().filter_map(|c| c.acceptance).collect();
    let notes: serde_json::Map<String, serde_json::Value> =
        s.notes.iter().map(|(k, v)| (k.clone(), serde_json::json!(v))).collect();
    serde_json::json!({
        "sampler": s.sampler,
        "n": s.n,
        "markov": s.markov,
        "chains": s.chains.len(),
        "records": s.total_records(),
        "energy_mean": mean,
        "acceptance": if acceptance.is_empty() { serde_json::Value::Null } else { serde_json::json!(acceptance.iter().sum::<f64>() / acceptance.len() as f64) },
        "notes": notes,
    })
}
