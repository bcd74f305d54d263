//! The command line: flags defined once (clap), turned into validated inputs
//! before any work starts, then one function per command. Exit codes: 0 ok,
//! 1 a stage failed (or verification found a mismatch), 2 invalid input,
//! 130 interrupted.

mod inspect;
mod maintain;
mod run;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::engine::{Cache, Plan};
use crate::pipeline::{Pipeline, PipelineErrors};
use crate::report::export::Format;
use crate::stages::CATALOG;

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
        /// Stages run at once (default: the number of cores).
        #[arg(long)]
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
    /// Draw a stage's artifact (phase diagram, SE path, landscape) as SVG or PNG.
    Plot {
        pipeline: PathBuf,
        stage: String,
        /// Output file: .svg or .png.
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
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
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
        Command::Run { pipeline, jobs, force, detach: true, .. } => run::detach(&pipeline, &cache_dir, jobs, &force),
        Command::Run { pipeline, jobs, force, headless, .. } => run::run(&pipeline, &cache_dir, jobs, &force, headless),
        Command::Watch { run } => inspect::watch(&cache_dir, &run),
        Command::Status { pipeline, json } => inspect::status(&pipeline, &cache_dir, json),
        Command::Show { pipeline, stage, json } => inspect::show(&pipeline, &cache_dir, &stage, json),
        Command::Export { pipeline, stage, format, out } => {
            inspect::export(&pipeline, &cache_dir, &stage, format, &out)
        }
        Command::Plot { pipeline, stage, out } => inspect::plot(&pipeline, &cache_dir, &stage, &out),
        Command::Verify { pipeline, stage } => maintain::verify(&pipeline, &cache_dir, stage.as_deref()),
        Command::Stages { json } => inspect::stages(json),
        Command::Gc { dry_run, pipelines } => maintain::gc(&pipelines, &cache_dir, dry_run),
        Command::Cache => maintain::cache_info(&cache_dir),
    }
}

/// Loads and validates a pipeline and plans it.
fn load(path: &Path) -> anyhow::Result<(Pipeline, Plan)> {
    let pipeline = Pipeline::load(path, CATALOG)?;
    let plan = Plan::new(&pipeline);
    Ok((pipeline, plan))
}

fn open_cache(dir: &Path) -> anyhow::Result<Cache> {
    Ok(Cache::open(dir)?)
}

/// The index of a stage named on the command line (exit code 2 if unknown).
fn stage_index(pipeline: &Pipeline, name: &str) -> anyhow::Result<usize> {
    pipeline.find(name).map_err(|e| InvalidInput(e).into())
}
