//! The pipeline file: parse (TOML with positions), validate against the kind
//! catalog, expand sweeps, and hand the engine a DAG of concrete stages in
//! topological order. Every problem is reported as `file:line:column` with the
//! stage and what was expected; nothing runs when validation fails.

pub mod error;
mod expand;
pub mod params;
pub mod parse;
pub mod schema;
mod validate;

use std::path::{Path, PathBuf};

pub use error::{PipelineError, PipelineErrors, Source};
pub use params::{ParamValue, Params};
pub use schema::{Catalog, KindSpec, MAX_STAGES};

/// One concrete stage after sweep expansion.
#[derive(Debug, Clone)]
pub struct Stage {
    /// `base`, or `base[STAGE.PARAM=VALUE,...]` for a sweep copy.
    pub name: String,
    /// The name of the `[stage.NAME]` table it comes from.
    pub base: String,
    pub spec: &'static KindSpec,
    pub params: Params,
    /// Indices into `Pipeline::stages`, in the order written (a gathered
    /// input stands for all its matching copies, in combination order).
    pub inputs: Vec<usize>,
    /// For each of `inputs`, the position of the declared input it comes from.
    pub input_slots: Vec<usize>,
    /// The swept values this copy stands for, as ("STAGE.PARAM", value).
    pub swept: Vec<(String, ParamValue)>,
}

/// A validated pipeline: concrete stages, inputs before the stages using them.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub name: String,
    pub seed: u64,
    pub path: PathBuf,
    pub stages: Vec<Stage>,
}

impl Pipeline {
    /// Reads, validates and expands a pipeline file.
    pub fn load<C: Catalog + ?Sized>(path: &Path, catalog: &'static C) -> Result<Pipeline, PipelineErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            PipelineErrors(vec![PipelineError {
                file: path.to_path_buf(),
                line: 0,
                column: 0,
                stage: None,
                message: format!("cannot read the pipeline file: {e}"),
            }])
        })?;
        Pipeline::from_source(&Source::new(path, text), catalog)
    }

    pub fn from_source<C: Catalog + ?Sized>(source: &Source, catalog: &'static C) -> Result<Pipeline, PipelineErrors> {
        let default_name = source.path.file_stem().map_or("pipeline".into(), |s| s.to_string_lossy().into_owned());
        let decl = parse::parse(source, &default_name).map_err(PipelineErrors)?;
        let mut errors = Vec::new();
        let checked = validate::check(source, &decl, catalog, &mut errors);
        if !errors.is_empty() {
            return Err(PipelineErrors(errors));
        }
        let stages = expand::expand(source, &decl, &checked, catalog, &mut errors);
        if !errors.is_empty() {
            return Err(PipelineErrors(errors));
        }
        Ok(Pipeline { name: decl.name, seed: decl.seed, path: source.path.clone(), stages })
    }

    /// The stage called `name`; a base name selects its only copy.
    pub fn find(&self, name: &str) -> Result<usize, String> {
        if let Some(i) = self.stages.iter().position(|s| s.name == name) {
            return Ok(i);
        }
        let copies: Vec<usize> = (0..self.stages.len()).filter(|&i| self.stages[i].base == name).collect();
        match copies.as_slice() {
            [one] => Ok(*one),
            [] => {
                let names: Vec<&str> = self.stages.iter().map(|s| s.name.as_str()).collect();
                Err(format!("no stage `{name}` in {}; stages: {}", self.path.display(), names.join(", ")))
            }
            many => {
                let names: Vec<&str> = many.iter().map(|&i| self.stages[i].name.as_str()).collect();
                Err(format!("`{name}` is swept; name one copy: {}", names.join(", ")))
            }
        }
    }

    /// The stage and all stages it depends on, transitively (indices, ascending).
    pub fn with_dependencies(&self, stage: usize) -> Vec<usize> {
        let mut keep = vec![false; self.stages.len()];
        keep[stage] = true;
        for i in (0..=stage).rev() {
            if keep[i] {
                for &input in &self.stages[i].inputs {
                    keep[input] = true;
                }
            }
        }
        (0..self.stages.len()).filter(|&i| keep[i]).collect()
    }
}

#[cfg(test)]
mod tests;
