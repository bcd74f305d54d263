//! Validation errors of a pipeline file: each names the file, line and column,
//! the stage (when one is concerned) and what was expected.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem in a pipeline file.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub stage: Option<String>,
    pub message: String,
}

impl fmt::Display for PipelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if let Some(stage) = &self.stage {
            write!(f, "stage `{stage}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// All problems found in one file (validation reports every one it can).
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineErrors(pub Vec<PipelineError>);

impl fmt::Display for PipelineErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PipelineErrors {}

/// The text of a pipeline file, able to turn byte offsets into line:column.
pub struct Source {
    pub path: PathBuf,
    pub text: String,
}

impl Source {
    pub fn new(path: &Path, text: String) -> Source {
        Source { path: path.to_path_buf(), text }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    /// An error at `span` (the start of the file when unknown).
    pub fn error(&self, span: Option<Range<usize>>, stage: Option<&str>, message: impl Into<String>) -> PipelineError {
        let (line, column) = self.line_column(span.map_or(0, |s| s.start));
        PipelineError {
            file: self.path.clone(),
            line,
            column,
            stage: stage.map(str::to_string),
            message: message.into(),
        }
    }
}
