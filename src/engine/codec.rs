//! The artifact codec: the only module that names bincode. An artifact file is
//! a frame header (magic, format version, payload length, blake3 hash of the
//! payload) followed by the bincode payload. A stage's output is a `Payload`
//! that encodes itself straight into a writer, so the store encodes, hashes
//! and writes it in one pass without a second copy (`HashingWriter`), then
//! fills in the header. Unframing checks all four header fields before
//! anything is decoded; decoding is bounded by a limit proportional to the
//! payload size, so arbitrary bytes never panic and never allocate without bound.

use std::io::{self, BufWriter, Write};

use serde::de::DeserializeOwned;
use serde::Serialize;
use thiserror::Error;

const MAGIC: [u8; 8] = *b"QUENCH\x00A";
const FORMAT_VERSION: u32 = 1;
/// Bytes before the payload: magic, version, length, hash.
pub const HEADER_LEN: usize = 8 + 4 + 8 + 32;
/// Payloads at least this long are hashed on the current rayon pool.
const PARALLEL_HASH_MIN: usize = 1 << 20;
/// The encoder's write buffer: small serde writes coalesce into chunks this big.
const ENCODE_BUFFER: usize = 1 << 20;

#[derive(Debug, Error, PartialEq)]
pub enum CodecError {
    #[error("not a quench artifact (bad magic)")]
    BadMagic,
    #[error("artifact format {found} is not supported (this build reads format {FORMAT_VERSION})")]
    UnsupportedFormat { found: u32 },
    #[error("truncated artifact: the header has {found} of {HEADER_LEN} bytes")]
    TruncatedHeader { found: u64 },
    #[error("truncated artifact: expected {expected} payload bytes, found {found}")]
    Truncated { expected: u64, found: u64 },
    #[error("artifact has {extra} trailing bytes after its {expected}-byte payload")]
    TrailingBytes { expected: u64, extra: u64 },
    #[error("artifact hash mismatch: payload is corrupt")]
    HashMismatch,
    #[error("cannot decode artifact payload: {0}")]
    Decode(String),
}

/// A checked frame header: how long the payload is and what it must hash to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Header {
    pub payload_len: u64,
    pub hash: blake3::Hash,
}

impl Header {
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut header = [0u8; HEADER_LEN];
        header[..8].copy_from_slice(&MAGIC);
        header[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        header[12..20].copy_from_slice(&self.payload_len.to_le_bytes());
        header[20..].copy_from_slice(self.hash.as_bytes());
        header
    }

    /// Parses the first bytes of an artifact file of `file_len` bytes, checking
    /// magic, format and that the file holds exactly the claimed payload.
    pub fn parse(bytes: &[u8], file_len: u64) -> Result<Header, CodecError> {
        let magic_len = bytes.len().min(8);
        if bytes[..magic_len] != MAGIC[..magic_len] {
            return Err(CodecError::BadMagic);
        }
        if bytes.len() < HEADER_LEN {
            return Err(CodecError::TruncatedHeader { found: bytes.len() as u64 });
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != FORMAT_VERSION {
            return Err(CodecError::UnsupportedFormat { found: version });
        }
        let expected = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
        let found = file_len.saturating_sub(HEADER_LEN as u64);
        if found < expected {
            return Err(CodecError::Truncated { expected, found });
        }
        if found > expected {
            return Err(CodecError::TrailingBytes { expected, extra: found - expected });
        }
        let hash: [u8; 32] = bytes[20..HEADER_LEN].try_into().expect("32 bytes");
        Ok(Header { payload_len: expected, hash: blake3::Hash::from_bytes(hash) })
    }
}

/// The header to write before `payload`, and the payload's hash.
pub fn frame_header(payload: &[u8]) -> ([u8; HEADER_LEN], blake3::Hash) {
    let hash = hash_payload(payload);
    (Header { payload_len: payload.len() as u64, hash }.to_bytes(), hash)
}

/// blake3 of a payload (multi-threaded for large payloads; same result either way).
pub fn hash_payload(payload: &[u8]) -> blake3::Hash {
    let mut hasher = blake3::Hasher::new();
    hash_update(&mut hasher, payload);
    hasher.finalize()
}

/// Feeds bytes to a hasher (on the current rayon pool when there are many).
pub fn hash_update(hasher: &mut blake3::Hasher, bytes: &[u8]) {
    if bytes.len() >= PARALLEL_HASH_MIN {
        hasher.update_rayon(bytes);
    } else {
        hasher.update(bytes);
    }
}

/// Checks a whole artifact file held in memory and returns its payload and hash.
pub fn unframe(bytes: &[u8]) -> Result<(&[u8], blake3::Hash), CodecError> {
    let header = Header::parse(&bytes[..bytes.len().min(HEADER_LEN)], bytes.len() as u64)?;
    let payload = &bytes[HEADER_LEN..];
    let hash = hash_payload(payload);
    if hash != header.hash {
        return Err(CodecError::HashMismatch);
    }
    Ok((payload, hash))
}

/// A writer that hashes and counts everything passed through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: blake3::Hasher,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter { inner, hasher: blake3::Hasher::new(), written: 0 }
    }

    /// The hash and length of what was written, and the inner writer.
    pub fn finish(self) -> (blake3::Hash, u64, W) {
        (self.hasher.finalize(), self.written, self.inner)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        hash_update(&mut self.hasher, &buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf)?;
        hash_update(&mut self.hasher, buf);
        self.written += buf.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A value that encodes itself as an artifact payload into a writer.
pub trait Encode: Send {
    fn encode_into(&self, out: &mut dyn Write) -> io::Result<()>;
}

/// A serde value, bincode-encoded as it is written.
struct Serialized<T>(T);

impl<T: Serialize + Send> Encode for Serialized<T> {
    fn encode_into(&self, out: &mut dyn Write) -> io::Result<()> {
        encode_into(&self.0, out)
    }
}

/// Encodes a value as a payload straight into a writer.
pub fn encode_into<T: Serialize + ?Sized>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    // Buffer here, where the writer type is concrete: serde emits many small
    // writes, and the layers below (hashing, the file) see 1 MiB chunks.
    let mut buffered = BufWriter::with_capacity(ENCODE_BUFFER, out);
    bincode::serde::encode_into_std_write(value, &mut buffered, bincode::config::standard()).map_err(|e| match e {
        bincode::error::EncodeError::Io { inner, .. } => inner,
        other => io::Error::other(format!("encoding the artifact: {other}")),
    })?;
    buffered.flush()
}

/// What a stage produces for the cache: bytes already encoded, or a value
/// that is encoded while it is written (no intermediate copy).
pub enum Payload {
    Bytes(Vec<u8>),
    Value(Box<dyn Encode>),
}

impl Payload {
    /// A serde value, encoded lazily.
    pub fn value<T: Serialize + Send + 'static>(value: T) -> Payload {
        Payload::Value(Box::new(Serialized(value)))
    }

    /// Writes the encoded payload.
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        match self {
            Payload::Bytes(bytes) => out.write_all(bytes),
            Payload::Value(value) => value.encode_into(out),
        }
    }

    /// The payload's hash and length, computed by encoding into a hashing sink.
    pub fn hash(&self) -> io::Result<(blake3::Hash, u64)> {
        let mut sink = HashingWriter::new(io::sink());
        self.write_to(&mut sink)?;
        let (hash, len, _) = sink.finish();
        Ok((hash, len))
    }

    /// The encoded bytes, in memory.
    pub fn to_bytes(&self) -> io::Result<Vec<u8>> {
        match self {
            Payload::Bytes(bytes) => Ok(bytes.clone()),
            Payload::Value(value) => {
                let mut out = Vec::new();
                value.encode_into(&mut out)?;
                Ok(out)
            }
        }
    }
}

impl From<Vec<u8>> for Payload {
    fn from(bytes: Vec<u8>) -> Payload {
        Payload::Bytes(bytes)
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Payload::Bytes(bytes) => write!(f, "Payload::Bytes({} bytes)", bytes.len()),
            Payload::Value(_) => f.write_str("Payload::Value(..)"),
        }
    }
}

/// Encodes a value as a payload in memory.
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
        let trailing = unframe(&[&bytes[..], b"xyz"].concat()).unwrap_err();
        assert_eq!(trailing, CodecError::TrailingBytes { expected: (bytes.len() - HEADER_LEN) as u64, extra: 3 });
    }

    #[test]
    fn trailing_bytes_and_short_headers_are_named_as_such() {
        let bytes = framed(&encode(&vec![1u64, 2, 3]));
        let mut longer = bytes.clone();
        longer.extend([0, 0]);
        assert_eq!(unframe(&longer).unwrap_err(), CodecError::TrailingBytes { expected: 4, extra: 2 });
        assert_eq!(unframe(&bytes[..30]).unwrap_err(), CodecError::TruncatedHeader { found: 30 });
        assert_eq!(unframe(&[]).unwrap_err(), CodecError::TruncatedHeader { found: 0 });
        assert_eq!(unframe(b"NOTQUENCH-and-more").unwrap_err(), CodecError::BadMagic);
        let message = unframe(&bytes[..bytes.len() - 1]).unwrap_err().to_string();
        assert!(message.contains("expected 4 payload bytes, found 3"), "{message}");
    }

    #[test]
    fn streamed_payload_matches_in_memory_encoding() {
        let d = crate::models::Disorder::sk(40, 1.1, 3);
        let in_memory = encode(&d);
        let payload = Payload::value(d.clone());
        assert_eq!(payload.to_bytes().unwrap(), in_memory);
        assert_eq!(decode::<crate::models::Disorder>(&in_memory).unwrap(), d);
        let (hash, len) = payload.hash().unwrap();
        assert_eq!((hash, len), (hash_payload(&in_memory), in_memory.len() as u64));
        assert_eq!(Payload::from(in_memory.clone()).hash().unwrap(), (hash, len));
        // Hashing in pieces of any size gives the one-shot hash.
        let big: Vec<u8> = (0..3u32 << 20).map(|i| (i.wrapping_mul(2654435761) >> 11) as u8).collect();
        let mut writer = HashingWriter::new(Vec::new());
        for piece in big.chunks(777_777) {
            writer.write_all(piece).unwrap();
        }
        let (hash, len, copy) = writer.finish();
        assert_eq!((hash, len as usize), (hash_payload(&big), big.len()));
        assert_eq!(copy, big);
        let header = Header { payload_len: len, hash };
        let parsed = Header::parse(&header.to_bytes(), HEADER_LEN as u64 + len).unwrap();
        assert_eq!(parsed, header);
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
