//! Export of an artifact's tables as CSV (one file per table), JSON (one file
//! with every table and the summary) or NPY (one file per column). Each file
//! is written atomically (see `atomic`): a failed export never leaves a
//! truncated file, and its error names the file.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::atomic::write_file;

#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Int(Vec<i64>),
    Float(Vec<f64>),
    Text(Vec<String>),
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Column::Int(v) => v.len(),
            Column::Float(v) => v.len(),
            Column::Text(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn write_cell(&self, row: usize, out: &mut impl Write) -> std::io::Result<()> {
        match self {
            Column::Int(v) => write!(out, "{}", v[row]),
            Column::Float(v) if v[row].is_finite() => write!(out, "{:?}", v[row]),
            Column::Float(_) => Ok(()),
            Column::Text(v) => write!(out, "{}", v[row]),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            Column::Int(v) => serde_json::json!(v),
            Column::Float(v) => serde_json::json!(v),
            Column::Text(v) => serde_json::json!(v),
        }
    }
}

/// A named table of equal-length columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub name: String,
    pub columns: Vec<(String, Column)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
    Npy,
}

/// Writes the tables into `dir`; returns the files written.
pub fn export(tables: &[Table], summary: &serde_json::Value, format: Format, dir: &Path) -> Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    match format {
        Format::Csv => tables.iter().map(|t| write_csv(t, dir)).collect(),
        Format::Json => write_json(tables, summary, dir).map(|p| vec![p]),
        Format::Npy => Ok(tables.iter().map(|t| write_npy(t, dir)).collect::<Result<Vec<_>>>()?.concat()),
    }
}

fn write_csv(table: &Table, dir: &Path) -> Result<PathBuf> {
    let path = dir.join(format!("{}.csv", table.name));
    write_file(&path, |tmp| {
        let mut out = BufWriter::new(fs::File::create(tmp)?);
        csv_rows(table, &mut out)?;
        out.into_inner().map_err(|e| e.into_error())?;
        Ok(())
    })?;
    Ok(path)
}

fn csv_rows(table: &Table, out: &mut impl Write) -> std::io::Result<()> {
    let names: Vec<&str> = table.columns.iter().map(|(n, _)| n.as_str()).collect();
    writeln!(out, "{}", names.join(","))?;
    let rows = table.columns.first().map_or(0, |(_, c)| c.len());
    for row in 0..rows {
        for (i, (_, column)) in table.columns.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            column.write_cell(row, out)?;
        }
        out.write_all(b"\n")?;
    }
    out.flush()
}

fn write_json(tables: &[Table], summary: &serde_json::Value, dir: &Path) -> Result<PathBuf> {
    let path = dir.join("artifact.json");
    let mut doc = serde_json::Map::new();
    doc.insert("summary".into(), summary.clone());
    for table in tables {
        let columns: serde_json::Map<String, serde_json::Value> =
            table.columns.iter().map(|(n, c)| (n.clone(), c.to_json())).collect();
        doc.insert(table.name.clone(), serde_json::Value::Object(columns));
    }
    write_file(&path, |tmp| {
        let mut out = BufWriter::new(fs::File::create(tmp)?);
        serde_json::to_writer(&mut out, &doc)?;
        out.into_inner().map_err(|e| e.into_error())?;
        Ok(())
    })?;
    Ok(path)
}

fn write_npy(table: &Table, dir: &Path) -> Result<Vec<PathBuf>> {
    table
        .columns
        .iter()
        .map(|(name, column)| {
            let path = dir.join(format!("{}.{name}.npy", table.name));
            match column {
                Column::Int(v) => {
                    write_file(&path, |tmp| Ok(ndarray_npy::write_npy(tmp, &ndarray::ArrayView1::from(v.as_slice()))?))?
                }
                Column::Float(v) => {
                    write_file(&path, |tmp| Ok(ndarray_npy::write_npy(tmp, &ndarray::ArrayView1::from(v.as_slice()))?))?
                }
                Column::Text(v) => {
                    // npy has no portable string type: write the labels as a text file beside.
                    let path = path.with_extension("txt");
                    write_file(&path, |tmp| Ok(fs::write(tmp, v.join("\n") + "\n")?))?;
                    return Ok(path);
                }
            }
            Ok(path)
        })
        .collect()
}
