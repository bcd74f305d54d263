//! The artifacts stages produce, as one enum the codec stores; their summaries
//! (what `quench show` prints) and their export tables.

use serde::{Deserialize, Serialize};

use crate::engine::codec;
use crate::models::{packed, Disorder};
use crate::report::export::{Column, Table};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Artifact {
    Disorder(Disorder),
}

impl Artifact {
    /// The artifact type name used for input checking.
    pub fn type_name(&self) -> &'static str {
        match self {
            Artifact::Disorder(_) => super::disorder::OUTPUT,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    pub fn decode(payload: &[u8]) -> Result<Artifact, codec::CodecError> {
        codec::decode(payload)
    }

    pub fn summary(&self) -> serde_json::Value {
        match self {
            Artifact::Disorder(d) => super::disorder::summary(d),
        }
    }

    /// The artifact's data as named tables of equal-length columns.
    pub fn tables(&self) -> Vec<Table> {
        match self {
            Artifact::Disorder(d) => disorder_tables(d),
        }
    }
}

fn disorder_tables(d: &Disorder) -> Vec<Table> {
    let mut tables = Vec::new();
    if let Some(x) = &d.planted {
        tables.push(Table {
            name: "planted".into(),
            columns: vec![
                ("i".into(), Column::Int((0..d.n as i64).collect())),
                ("x".into(), Column::Float(x.iter().map(|&v| v as f64).collect())),
            ],
        });
    }
    let mut index: Vec<Vec<i64>> = vec![Vec::with_capacity(d.couplings.len()); d.p];
    for i in 0..d.n {
        for j in i + 1..d.n {
            if d.p == 2 {
                index[0].push(i as i64);
                index[1].push(j as i64);
                continue;
            }
            for k in j + 1..d.n {
                index[0].push(i as i64);
                index[1].push(j as i64);
                index[2].push(k as i64);
            }
        }
    }
    debug_assert_eq!(index[0].len(), packed::len(d.n, d.p));
    let mut columns: Vec<(String, Column)> =
        ["i", "j", "k"].iter().zip(index).map(|(n, v)| (n.to_string(), Column::Int(v))).collect();
    columns.push(("value".into(), Column::Float(d.couplings.iter().map(|&v| v as f64).collect())));
    tables.push(Table { name: "couplings".into(), columns });
    tables
}
