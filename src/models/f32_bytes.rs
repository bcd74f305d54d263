//! Serde adapter storing a `Vec<f32>` as one little-endian byte string, so
//! large coupling arrays encode and decode at memory speed rather than one
//! element at a time.

use serde::de::{Error, Visitor};
use serde::{Deserializer, Serializer};

pub fn serialize<S: Serializer>(values: &[f32], serializer: S) -> Result<S::Ok, S::Error> {
    #[cfg(target_endian = "little")]
    {
        // SAFETY: f32 has no padding and every byte pattern is a valid u8; the
        // slice covers exactly the values' memory. No copy of large arrays.
        let bytes = unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), std::mem::size_of_val(values)) };
        serializer.serialize_bytes(bytes)
    }
    #[cfg(not(target_endian = "little"))]
    {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        serializer.serialize_bytes(&bytes)
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f32>, D::Error> {
    // `bytes`, not `byte_buf`: a decoder reading from memory lends the bytes
    // (no intermediate copy); one reading a stream hands over an owned buffer.
    deserializer.deserialize_bytes(F32Bytes)
}

struct F32Bytes;

impl<'de> Visitor<'de> for F32Bytes {
    type Value = Vec<f32>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a byte string of little-endian f32 values")
    }

    fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<Vec<f32>, E> {
        if !bytes.len().is_multiple_of(4) {
            return Err(E::custom(format!("{} bytes is not a whole number of f32 values", bytes.len())));
        }
        Ok(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }

    fn visit_byte_buf<E: Error>(self, bytes: Vec<u8>) -> Result<Vec<f32>, E> {
        self.visit_bytes(&bytes)
    }
}
