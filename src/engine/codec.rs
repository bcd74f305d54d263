//! The artifact codec: the only module that names bincode. An artifact file is
//! a frame (magic, format version, payload length, blake3 hash of the payload)
//! followed by the bincode payload. Unframing checks all four before anything
//! is decoded; decoding is bounded by a limit proportional to the payload size,
//! so arbitrary bytes never panic and never allocate without bound.

use serde::de::DeserializeOwned;
use serde::Serialize;
use thiserror::Error;

const MAGIC: [u8; 8] = *b"QUENCH\x00A";
const FORMAT_VERSION: u32 = 1;
/// Bytes before the payload: magic, version, length, hash.
pub const HEADER_LEN: usize = 8 + 4 + 8 + 32;

#[derive(Debug, Error, PartialEq)]
pub enum CodecError {
    #[error("not a quench artifact (bad magic)")]
    BadMagic,
    #[error("artifact format {found} is not supported (this build reads format {FORMAT_VERSION})")]
    UnsupportedFormat { found: u32 },
    #[error("truncated artifact: expected {expected} payload bytes, found {found}")]
    Truncated { expected: u64, found: u64 },
    #[error("truncated artifact: {found} bytes, shorter than its {HEADER_LEN}-byte header")]
    TruncatedHeader { found: u64 },
    #[error("artifact has {extra} trailing bytes after its {expected}-byte payload")]
    TrailingBytes { expected: u64, extra: u64 },
    #[error("artifact hash mismatch: payload is corrupt")]
    HashMismatch,
    #[error("cannot decode artifact payload: {0}")]
    Decode(String),
}

/// The header to write before `payload`, and the payload's hash.
pub fn frame_header(payload: &[u8]) -> ([u8; HEADER_LEN], blake3::Hash) {
    let hash = hash_payload(payload);
    let mut header = [0u8; HEADER_LEN];
    header[..8].copy_from_slice(&MAGIC);
    header[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header[12..20].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    header[20..].copy_from_slice(hash.as_bytes());
    (header, hash)
}

/// blake3 of a payload (multi-threaded for large payloads; same result either way).
pub fn hash_payload(payload: &[u8]) -> blake3::Hash {
    if payload.len() >= 1 << 20 {
        blake3::Hasher::new().update_rayon(payload).finalize()
    } else {
        blake3::hash(payload)
    }
}

/// Checks a whole artifact file and returns its payload and hash.
pub fn unframe(bytes: &[u8]) -> Result<(&[u8], blake3::Hash), CodecError> {
    if bytes.len() < HEADER_LEN || bytes[..8] != MAGIC {
        return Err(if bytes.len() < 8 || bytes[..8] != MAGIC {
            CodecError::BadMagic
        } else {
            CodecError::TruncatedHeader { found: bytes.len() as u64 }
        });
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(CodecError::UnsupportedFormat { found: version });
    }
    let expected = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
    let payload = &bytes[HEADER_LEN..];
    if payload.len() as u64 > expected {
        return Err(CodecError::TrailingBytes { expected, extra: payload.len() as u64 - expected });
    }
    if (payload.len() as u64) < expected {
        return Err(CodecError::Truncated { expected, found: payload.len() as u64 });
    }
    let hash = hash_payload(payload);
    if hash.as_bytes()[..] != bytes[20..HEADER_LEN] {
        return Err(CodecError::HashMismatch);
    }
    Ok((payload, hash))
}

/// Encodes a value as a payload.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, bincode::config::standard()).expect("in-memory bincode encoding does not fail")
}

/// Decodes a payload; the decoder may claim at most 16x the payload's size.
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, CodecError> {
    let need = payload.len().saturating_mul(16);
    match need {
        n if n <= 1 << 20 => decode_limited::<T, { 1 << 20 }>(payload),
        n if n <= 1 << 26 => decode_limited::<T, { 1 << 26 }>(payload),
        n if n <= 1 << 32 => decode_limited::<T, { 1 << 32 }>(payload),
        _ => decode_limited::<T, { 1 << 38 }>(payload),
    }
}

fn decode_limited<T: DeserializeOwned, const LIMIT: usize>(payload: &[u8]) -> Result<T, CodecError> {
    let config = bincode::config::standard().with_limit::<LIMIT>();
    let (value, used) =
        bincode::serde::decode_from_slice(payload, config).map_err(|e| CodecError::Decode(e.to_string()))?;
    if used != payload.len() {
        return Err(CodecError::Decode(format!("{} trailing bytes", payload.len() - used)));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn framed(payload: &[u8]) -> Vec<u8> {
        let (header, _) = frame_header(payload);
        [&header[..], payload].concat()
    }

    #[test]
    fn roundtrip_and_detects_corruption() {
        let value = (vec![1.5f32, -2.0, 3.25], "x".to_string(), Some(7u64));
        let bytes = framed(&encode(&value));
        let (payload, _) = unframe(&bytes).unwrap();
        assert_eq!(decode::<(Vec<f32>, String, Option<u64>)>(payload).unwrap(), value);
        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(unframe(&flipped).unwrap_err(), CodecError::HashMismatch);
        assert!(matches!(unframe(&bytes[..bytes.len() - 1]), Err(CodecError::Truncated { .. })));
        let short = unframe(&bytes[..HEADER_LEN - 1]).unwrap_err();
        assert_eq!(
            short.to_string(),
            format!("truncated artifact: {} bytes, shorter than its 52-byte header", HEADER_LEN - 1)
        );
        let trailing = unframe(&[&bytes[..], b"xyz"].concat()).unwrap_err();
        assert_eq!(trailing, CodecError::TrailingBytes { expected: (bytes.len() - HEADER_LEN) as u64, extra: 3 });
    }

    proptest! {
        #[test]
        fn decoder_survives_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = unframe(&bytes);
            let _ = decode::<(Vec<f32>, Vec<String>, Option<Vec<u64>>)>(&bytes);
            let _ = decode::<crate::models::Disorder>(&bytes);
        }

        #[test]
        fn decoder_survives_truncation(cut in 0usize..200) {
            let d = crate::models::Disorder::spiked_tensor(8, crate::models::Prior::Rademacher, 0.3, 1);
            let payload = encode(&d);
            let bytes = framed(&payload);
            let cut = cut.min(bytes.len());
            prop_assert!(unframe(&bytes[..bytes.len() - cut]).is_err() || cut == 0);
            let cut_payload = &payload[..payload.len().saturating_sub(cut)];
            let _ = decode::<crate::models::Disorder>(cut_payload);
        }
    }

    #[test]
    fn huge_length_claims_do_not_allocate() {
        // A Vec<u64> claiming 2^60 elements in a few bytes must fail fast.
        let mut payload = vec![0xFDu8];
        payload.extend((1u64 << 60).to_le_bytes());
        assert!(decode::<Vec<u64>>(&payload).is_err());
        let mut payload = vec![0xFDu8];
        payload.extend((1u64 << 40).to_le_bytes());
        assert!(decode::<String>(&payload).is_err());
    }
}
