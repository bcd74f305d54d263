//! Parameter values and their canonical form: defaults filled in, keys sorted,
//! numbers in one encoding (an integer given for a real parameter becomes that
//! real; `1.0` and `1.00` are the same value). The canonical bytes feed the
//! content key, so formatting and key order in the file never change a key.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// One scalar parameter value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl ParamValue {
    /// "an integer (3)", for messages.
    pub fn describe(&self) -> String {
        match self {
            ParamValue::Bool(v) => format!("a boolean ({v})"),
            ParamValue::Int(v) => format!("an integer ({v})"),
            ParamValue::Float(v) => format!("a number ({v})"),
            ParamValue::Str(v) => format!("a string (\"{v}\")"),
        }
    }

    /// The value's canonical bytes: equal values (after canonical conversion) have equal keys.
    pub fn canonical_key(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Appends an unambiguous encoding (type tag, then fixed-width or length-prefixed bytes).
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            ParamValue::Bool(v) => out.extend([b'b', *v as u8]),
            ParamValue::Int(v) => {
                out.push(b'i');
                out.extend(v.to_le_bytes());
            }
            ParamValue::Float(v) => {
                out.push(b'f');
                out.extend(v.to_bits().to_le_bytes());
            }
            ParamValue::Str(v) => {
                out.push(b's');
                encode_str(v, out);
            }
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Bool(v) => write!(f, "{v}"),
            ParamValue::Int(v) => write!(f, "{v}"),
            ParamValue::Float(v) => write!(f, "{v:?}"),
            ParamValue::Str(v) => write!(f, "{v}"),
        }
    }
}

fn encode_str(s: &str, out: &mut Vec<u8>) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

/// The canonical parameters of a stage: validated, defaults filled in, sorted.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Params(pub BTreeMap<String, ParamValue>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.0.get(name)
    }

    /// A real parameter (integers are accepted as reals by validation).
    pub fn float(&self, name: &str) -> Option<f64> {
        match self.0.get(name)? {
            ParamValue::Float(v) => Some(*v),
            ParamValue::Int(v) => Some(*v as f64),
            _ => None,
        }
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        match self.0.get(name)? {
            ParamValue::Int(v) => Some(*v),
            _ => None,
        }
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        match self.0.get(name)? {
            ParamValue::Str(v) => Some(v),
            _ => None,
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.0.get(name)? {
            ParamValue::Bool(v) => Some(*v),
            _ => None,
        }
    }

    /// The canonical byte encoding: count, then sorted (name, value) pairs.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend((self.0.len() as u64).to_le_bytes());
        for (name, value) in &self.0 {
            encode_str(name, &mut out);
            value.encode(&mut out);
        }
        out
    }
}
