//! The command line: flags defined once (clap), turned into validated inputs
//! before any work starts, then one function per command. Exit codes: 0 ok,
//! 1 a stage failed (or verification found a mismatch), 2 invalid input,
//! 130 interrupted, 141 standard output closed early (see `output`).

mod figures;
mod inspect;
mod maintain;
mod output;
mod run;

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;

use clap::{Parser, Subcommand};

use crate::engine::{Cache, Plan};
use crate::pipeline::{Pipeline, PipelineErrors, Source};
use crate::report::export::Format;
use crate::stages::CATALOG;
use output::{note, OutputError, CLOSED_PIPE_EXIT};

/// The most stages `run` computes at once (`--jobs`).
pub const MAX_JOBS: usize = 256;

#[derive(Parser, Debug)]
#[command(
    name = "quench",
    version,
    about = "Does your sampler really sample? Reproducible sampling experiments on spin glasses."
)]
pub struct Cli {
    /// Cache directory.
    #[arg(long, global = true, env = "QUENCH_CACHE", default_value = "cache")]
    pub cache: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a pipeline: compute what is not cached.
    Run {
        pipeline: PathBuf,
        /// Stages run at once, 1 to 256 (default: the number of cores).
        #[arg(
            long,
            allow_negative_numbers = true,
            value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_JOBS as u64)
        )]
        jobs: Option<usize>,
        /// Recompute this stage even if cached (repeatable).
        #[arg(long = "force", value_name = "STAGE")]
        force: Vec<String>,
        /// Plain progress lines even on a terminal.
        #[arg(long)]
        headless: bool,
        /// Start in the background (headless, output in the run's directory); print the run id.
        #[arg(long)]
        detach: bool,
        #[command(flatten)]
        executor: run::ExecutorArgs,
    },
    /// Compute one stage from its spec in the cache (what a Slurm job runs).
    RunStage {
        /// The stage's key (hex), as in `DIR/cluster/<key>/spec.json`.
        key: String,
    },
    /// Follow (or replay) a run log: RUN_ID or `latest`.
    Watch {
        #[arg(default_value = "latest")]
        run: String,
    },
    /// Each stage: cached / stale / missing, and why.
    Status {
        pipeline: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// A stage's key, parameters, inputs and artifact summary.
    Show {
        pipeline: PathBuf,
        stage: String,
        #[arg(long)]
        json: bool,
    },
    /// Write a stage's artifact as csv, json or npy files.
    Export {
        pipeline: PathBuf,
        stage: String,
        #[arg(long, value_enum)]
        format: Format,
        #[arg(long)]
        out: PathBuf,
    },
    /// Draw a stage's artifact as SVG or PNG; a swept stage: a summary value across its copies.
    Plot {
        pipeline: PathBuf,
        stage: String,
        /// Output file: .svg or .png.
        #[arg(long)]
        out: PathBuf,
        /// Across a sweep: the summary value to draw (e.g. `excess`, `overlap`, `energy_excess_mean`).
        #[arg(long)]
        y: Option<String>,
        /// Across a sweep: the swept parameter on the x axis (e.g. `T`, `n`, `inst.temperature`).
        #[arg(long)]
        x: Option<String>,
        /// Across a sweep: only these samplers (stage base names; repeatable). With one theory path
        /// stage (SE or population dynamics): generative samplers whose own path q(t) to draw over it.
        #[arg(long = "sampler", value_name = "STAGE")]
        samplers: Vec<String>,
        /// Across a sweep: shade the x-range LO:HI (optionally LO:HI:LABEL; repeatable).
        #[arg(long = "band", value_name = "LO:HI[:LABEL]")]
        bands: Vec<crate::report::plot::sweep::Band>,
    },
    /// Write one self-contained HTML page: the pipeline, every stage's status, summary, tables and figures.
    Report {
        pipeline: PathBuf,
        /// Output file: .html.
        #[arg(long)]
        out: PathBuf,
    },
    /// Recompute cached stages and compare their artifacts bit for bit.
    Verify { pipeline: PathBuf, stage: Option<String> },
    /// The catalog of stage kinds and their parameters.
    Stages {
        #[arg(long)]
        json: bool,
    },
    /// Remove cached artifacts no listed pipeline references.
    Gc {
        #[arg(long)]
        dry_run: bool,
        #[arg(required = true)]
        pipelines: Vec<PathBuf>,
    },
    /// Size and counts of the cache.
    Cache,
}

/// An error that exits with code 2: the user's input is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

/// Parses arguments, runs the command, returns the exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = dispatch(cli).and_then(|code| {
        output::flush()?;
        Ok(code)
    });
    match result {
        Ok(code) => code,
        Err(e) if matches!(e.downcast_ref::<OutputError>(), Some(OutputError::Closed)) => CLOSED_PIPE_EXIT,
        Err(e) => {
            note(format_args!("error: {e:#}"));
            if e.downcast_ref::<PipelineErrors>().is_some() || e.downcast_ref::<InvalidInput>().is_some() {
                2
            } else {
                1
            }
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    let cache_dir = cli.cache;
    match cli.command {
        Command::Run { pipeline, jobs, force, detach: true, executor, .. } => {
            run::detach(&pipeline, &cache_dir, jobs, &force, &executor)
        }
        Command::Run { pipeline, jobs, force, headless, executor, .. } => {
            run::run(&pipeline, &cache_dir, jobs, &force, headless, &executor)
        }
        Command::RunStage { key } => run::run_stage(&cache_dir, &key),
        Command::Watch { run } => inspect::watch(&cache_dir, &run),
        Command::Status { pipeline, json } => inspect::status(&pipeline, &cache_dir, json),
        Command::Show { pipeline, stage, json } => inspect::show(&pipeline, &cache_dir, &stage, json),
        Command::Export { pipeline, stage, format, out } => {
            inspect::export(&pipeline, &cache_dir, &stage, format, &out)
        }
        Command::Plot { pipeline, stage, out, y, x, samplers, bands } => {
            let opts = crate::report::plot::sweep::SweepOptions { y, x, samplers, bands };
            figures::plot(&pipeline, &cache_dir, &stage, &out, &opts)
        }
        Command::Report { pipeline, out } => figures::report(&pipeline, &cache_dir, &out),
        Command::Verify { pipeline, stage } => maintain::verify(&pipeline, &cache_dir, stage.as_deref()),
        Command::Stages { json } => inspect::stages(json),
        Command::Gc { dry_run, pipelines } => maintain::gc(&pipelines, &cache_dir, dry_run),
        Command::Cache => maintain::cache_info(&cache_dir),
    }
}

/// The largest pipeline file read: pipelines are short text; this keeps
/// `quench run /dev/zero` from reading forever.
pub const MAX_PIPELINE_BYTES: u64 = 64 << 20;

/// Loads and validates a pipeline and plans it.
fn load(path: &Path) -> anyhow::Result<(Pipeline, Plan)> {
    let text = read_pipeline(path).map_err(|why| InvalidInput(format!("{}: {why}", path.display())))?;
    let pipeline = Pipeline::from_source(&Source::new(path, text), CATALOG)?;
    let plan = Plan::new(&pipeline);
    Ok((pipeline, plan))
}

/// The text of a pipeline file, or why it cannot be one.
fn read_pipeline(path: &Path) -> Result<String, String> {
    if path.is_dir() {
        return Err("is a directory; give a pipeline file (.toml)".into());
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read the pipeline file: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_PIPELINE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the pipeline file: {e}"))?;
    if bytes.len() as u64 > MAX_PIPELINE_BYTES {
        return Err(format!("larger than {} MiB; is it a pipeline file?", MAX_PIPELINE_BYTES >> 20));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        format!("not UTF-8 text (invalid byte at offset {at}); a pipeline file is TOML")
    })
}

/// Opens the cache directory. Invalid input: an empty path, a file, or an
/// existing directory that is neither empty nor a cache already (it has
/// `objects/` or `runs/`): `--cache ~` or `--cache /` would otherwise fill it
/// with cache directories and let the cache's temp cleaning loose on its `tmp/`.
fn open_cache(dir: &Path) -> anyhow::Result<Cache> {
    if dir.as_os_str().is_empty() {
        let why = "--cache is empty (or QUENCH_CACHE is set to nothing): give a directory";
        return Err(InvalidInput(why.into()).into());
    }
    if dir.exists() && !dir.is_dir() {
        let why = format!("--cache {}: not a directory; give a directory for the cache", dir.display());
        return Err(InvalidInput(why).into());
    }
    let is_cache = ["objects", "runs"].iter().any(|sub| dir.join(sub).is_dir());
    let is_empty = std::fs::read_dir(dir).map_or(true, |mut entries| entries.next().is_none());
    if !is_cache && !is_empty {
        let why = format!(
            "--cache {}: this directory holds other files and is not a quench cache (no objects/); \
             give a new or empty directory, or an existing cache",
            dir.display()
        );
        return Err(InvalidInput(why).into());
    }
    Cache::open(dir).with_context(|| format!("opening the cache {}", dir.display()))
}

/// The index of a stage named on the command line (exit code 2 if unknown).
fn stage_index(pipeline: &Pipeline, name: &str) -> anyhow::Result<usize> {
    pipeline.find(name).map_err(|e| InvalidInput(e).into())
}
