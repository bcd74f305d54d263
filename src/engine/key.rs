//! Content keys: a stage's key is a blake3 hash over a format tag, its kind,
//! the kind's algorithm version, its canonical parameters, its RNG seed and the
//! keys of its inputs in order. The seed itself is derived from the root seed
//! and the same material (never the stage name), so renaming a stage or moving
//! it to another pipeline keeps its key.
//!
//! Both content keys and artifact hashes are typed 32-byte values: shown as 64
//! hex digits, parsed with an error, never handled as strings sliced by index.

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
        short_hex(&self.0)
    }
}

impl fmt::Display for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
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
        parse_hex32(s).map(ContentKey).ok_or_else(|| format!("`{}` is not a 64-digit hex key", s.escape_debug()))
    }
}

/// The blake3 hash of an artifact's payload: 32 bytes, serialised as 64 hex
/// digits (the format records and run logs have always used).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArtifactHash(pub [u8; 32]);

impl ArtifactHash {
    pub fn hex(&self) -> String {
        self.to_string()
    }

    /// The first 12 hex digits, for display.
    pub fn short(&self) -> String {
        short_hex(&self.0)
    }
}

impl From<blake3::Hash> for ArtifactHash {
    fn from(hash: blake3::Hash) -> Self {
        ArtifactHash(*hash.as_bytes())
    }
}

impl fmt::Display for ArtifactHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for ArtifactHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ArtifactHash({})", self.short())
    }
}

impl FromStr for ArtifactHash {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_hex32(s)
            .map(ArtifactHash)
            .ok_or_else(|| format!("`{}` is not a 64-digit hex artifact hash", s.escape_debug()))
    }
}

impl Serialize for ArtifactHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ArtifactHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Serde as 64 hex digits for a `ContentKey` field (run logs), where the
/// derived form (an array of 32 numbers, kept for records) would be unreadable:
/// `#[serde(with = "crate::engine::key::hex_key")]`.
pub mod hex_key {
    use super::ContentKey;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(key: &ContentKey, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(key)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ContentKey, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

/// The first 6 bytes as 12 hex digits.
fn short_hex(bytes: &[u8; 32]) -> String {
    bytes[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// 64 hex digits (either case) as 32 bytes; `None` for anything else.
fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    let digits = s.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        *byte = (hi * 16 + lo) as u8;
    }
    Some(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_hash_round_trips_as_hex_and_rejects_malformed_text() {
        let hash = ArtifactHash::from(blake3::hash(b"payload"));
        let json = serde_json::to_string(&hash).unwrap();
        assert_eq!(json, format!("\"{}\"", blake3::hash(b"payload").to_hex()));
        assert_eq!(serde_json::from_str::<ArtifactHash>(&json).unwrap(), hash);
        assert_eq!(hash.short(), hash.hex()[..12]);
        assert_eq!(hash.hex().to_uppercase().parse::<ArtifactHash>().unwrap(), hash);
        for bad in ["", "abc", "é", &"g".repeat(64), &"ab".repeat(33), &"é".repeat(32), "\u{0}"] {
            let err = serde_json::from_str::<ArtifactHash>(&serde_json::to_string(bad).unwrap()).unwrap_err();
            assert!(err.to_string().contains("not a 64-digit hex artifact hash"), "{bad:?}: {err}");
        }
        assert!(serde_json::from_str::<ArtifactHash>("17").is_err());
    }

    #[test]
    fn content_keys_parse_only_64_hex_digits() {
        let key = stage_key("k", 1, b"p", 3, &[]);
        assert_eq!(key.hex().parse::<ContentKey>().unwrap(), key);
        assert_eq!(key.short(), key.hex()[..12]);
        // 64 bytes but not 64 ASCII digits: must not panic on a char boundary.
        assert!(format!("{}é", "a".repeat(62)).parse::<ContentKey>().is_err());
        assert!("+1".repeat(32).parse::<ContentKey>().is_err());
    }

    #[test]
    fn run_log_keys_are_hex_and_malformed_ones_are_errors() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Line {
            #[serde(with = "hex_key")]
            key: ContentKey,
        }
        let line = Line { key: stage_key("k", 1, b"p", 3, &[]) };
        let json = serde_json::to_string(&line).unwrap();
        assert_eq!(json, format!("{{\"key\":\"{}\"}}", line.key.hex()));
        assert_eq!(serde_json::from_str::<Line>(&json).unwrap(), line);
        assert!(serde_json::from_str::<Line>("{\"key\":\"ab\"}").is_err());
    }
}
