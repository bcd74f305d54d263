//! Content keys: a stage's key is a blake3 hash over a format tag, its kind,
//! the kind's algorithm version, its canonical parameters, its RNG seed and the
//! keys of its inputs in order. The seed itself is derived from the root seed
//! and the same material (never the stage name), so renaming a stage or moving
//! it to another pipeline keeps its key.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

const KEY_TAG: &str = "quench 2026 stage key v1";
const SEED_TAG: &str = "quench 2026 stage seed v1";

/// A 256-bit content key, shown as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ContentKey(pub [u8; 32]);

impl ContentKey {
    pub fn hex(&self) -> String {
        self.to_string()
    }

    /// The first 12 hex digits, for display.
    pub fn short(&self) -> String {
        self.to_string()[..12].to_string()
    }
}

impl fmt::Display for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentKey({})", self.short())
    }
}

impl FromStr for ContentKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a 64-digit hex key");
        if s.len() != 64 || !s.is_ascii() {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(ContentKey(out))
    }
}

fn hash_material(hasher: &mut blake3::Hasher, kind: &str, params: &[u8], inputs: &[ContentKey]) {
    hasher.update(&(kind.len() as u64).to_le_bytes());
    hasher.update(kind.as_bytes());
    hasher.update(&(params.len() as u64).to_le_bytes());
    hasher.update(params);
    hasher.update(&(inputs.len() as u64).to_le_bytes());
    for key in inputs {
        hasher.update(&key.0);
    }
}

/// The RNG seed of a stage: root seed plus key material, not the name.
pub fn stage_seed(root_seed: u64, kind: &str, params: &[u8], inputs: &[ContentKey]) -> u64 {
    let mut hasher = blake3::Hasher::new_derive_key(SEED_TAG);
    hasher.update(&root_seed.to_le_bytes());
    hash_material(&mut hasher, kind, params, inputs);
    let bytes = hasher.finalize();
    u64::from_le_bytes(bytes.as_bytes()[..8].try_into().expect("8 bytes"))
}

/// The content key of a stage.
pub fn stage_key(kind: &str, version: u32, params: &[u8], seed: u64, inputs: &[ContentKey]) -> ContentKey {
    let mut hasher = blake3::Hasher::new_derive_key(KEY_TAG);
    hasher.update(&version.to_le_bytes());
    hasher.update(&seed.to_le_bytes());
    hash_material(&mut hasher, kind, params, inputs);
    ContentKey(*hasher.finalize().as_bytes())
}
