//! One stage as one Slurm job, seen from both ends. The submitter writes the
//! stage's spec and a batch script under `DIR/cluster/<key>/` and, once
//! submitted, a ticket naming the job; the job runs `quench run-stage KEY
//! --cache DIR` on a compute node, which reads the spec back and computes the
//! stage through the engine's own scheduler (a one-stage plan: cache check,
//! stage lock, compute, atomic store), appending its events to
//! `DIR/cluster/<key>/events-<job id>.jsonl` for the submitter to follow.
//!
//! ```text
//! DIR/cluster/<key>/spec.json          the planned stage (kind, version, params, inputs, seed)
//! DIR/cluster/<key>/job.sh             the batch script
//! DIR/cluster/<key>/ticket.json        the job computing it: id, run, host (the attach point)
//! DIR/cluster/<key>/submit.lock        held while one run checks the ticket and submits
//! DIR/cluster/<key>/events-<job>.jsonl the job's events
//! DIR/cluster/<key>/job-<job>.out|.err the job's standard output and error
//! ```
//!
//! The directory is removed once the stage's artifact is stored; a failed
//! stage's is kept (its stderr and events) until the stage succeeds.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use serde::{Deserialize, Serialize};

use crate::engine::key::{stage_key, ContentKey};
use crate::engine::scheduler::{self, CancelFlags, Executor, Outcome, RunOptions};
use crate::engine::{Cache, Event, Plan, PlannedStage};
use crate::pipeline::Params;

/// The exit code of `run-stage` when this node cannot use the cache (not
/// shared, not writable, spec missing): the whole run stops, it is no stage's fault.
pub const EXIT_CACHE_UNUSABLE: i32 = 3;

/// Everything a node needs to compute a stage (what the plan knew).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    pub pipeline: String,
    pub stage: String,
    pub kind: String,
    pub version: u32,
    pub params: Params,
    pub input_keys: Vec<ContentKey>,
    pub input_names: Vec<String>,
    pub seed: u64,
    pub key: ContentKey,
    /// Recompute even when cached (`--force`).
    pub forced: bool,
}

impl JobSpec {
    pub fn new(pipeline: &str, stage: &PlannedStage, forced: bool) -> JobSpec {
        JobSpec {
            pipeline: pipeline.to_string(),
            stage: stage.name.clone(),
            kind: stage.kind.to_string(),
            version: stage.version,
            params: stage.params.clone(),
            input_keys: stage.input_keys.clone(),
            input_names: stage.input_names.clone(),
            seed: stage.seed,
            key: stage.key,
            forced,
        }
    }

    /// The stage again, its kind resolved by `kind` (name and version of this
    /// build); the key must come out the same, or this build differs from the submitter's.
    fn planned(&self, kind: &dyn Fn(&str) -> Option<(&'static str, u32)>) -> Result<PlannedStage> {
        let (name, version) =
            kind(&self.kind).ok_or_else(|| anyhow!("this quench build has no stage kind `{}`", self.kind))?;
        if version != self.version {
            anyhow::bail!(
                "kind `{}` is version {version} in this quench build but version {} where the run was planned: \
                 run the same quench on the compute nodes (or set `binary` in [slurm])",
                self.kind,
                self.version
            );
        }
        let key = stage_key(name, version, &self.params.canonical_bytes(), self.seed, &self.input_keys);
        if key != self.key {
            anyhow::bail!("the spec's key {} does not match its contents ({}): the spec is damaged", self.key, key);
        }
        Ok(PlannedStage {
            name: self.stage.clone(),
            kind: name,
            version,
            params: self.params.clone(),
            inputs: Vec::new(),
            input_keys: self.input_keys.clone(),
            input_names: self.input_names.clone(),
            key: self.key,
            seed: self.seed,
        })
    }
}

/// Who is computing a stage: written once its job is submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub job: u64,
    pub run_id: String,
    pub stage: String,
    pub host: String,
    pub submitted: f64,
}

/// The files of one stage's job.
#[derive(Debug, Clone)]
pub struct JobFiles {
    pub dir: PathBuf,
}

impl JobFiles {
    pub fn new(cache_root: &Path, key: &ContentKey) -> JobFiles {
        JobFiles { dir: cache_root.join("cluster").join(key.hex()) }
    }

    pub fn spec(&self) -> PathBuf {
        self.dir.join("spec.json")
    }

    pub fn script(&self) -> PathBuf {
        self.dir.join("job.sh")
    }

    pub fn ticket(&self) -> PathBuf {
        self.dir.join("ticket.json")
    }

    pub fn submit_lock(&self) -> PathBuf {
        self.dir.join("submit.lock")
    }

    pub fn events(&self, job: &str) -> PathBuf {
        self.dir.join(format!("events-{job}.jsonl"))
    }

    /// `sbatch --output` / `--error` patterns (`%j` is the job id).
    pub fn output_pattern(&self, stream: &str) -> PathBuf {
        self.dir.join(format!("job-%j.{stream}"))
    }

    pub fn output(&self, job: u64, stream: &str) -> PathBuf {
        self.dir.join(format!("job-{job}.{stream}"))
    }

    pub fn read_ticket(&self) -> Option<Ticket> {
        serde_json::from_slice(&fs::read(self.ticket()).ok()?).ok()
    }

    /// Writes the spec and the batch script that runs `binary run-stage` on it.
    pub fn prepare(&self, spec: &JobSpec, binary: &Path, cache_root: &Path) -> Result<()> {
        fs::create_dir_all(&self.dir).with_context(|| format!("creating {}", self.dir.display()))?;
        write_atomic(&self.spec(), &serde_json::to_vec_pretty(spec)?)?;
        let script = format!(
            "#!/bin/sh\n# quench: stage `{}` of pipeline `{}` (written by `quench run --executor slurm`)\n\
             exec {} --cache {} run-stage {}\n",
            spec.stage.replace('\n', " "),
            spec.pipeline.replace('\n', " "),
            shell_quote(&binary.display().to_string()),
            shell_quote(&cache_root.display().to_string()),
            spec.key.hex()
        );
        write_atomic(&self.script(), script.as_bytes())
    }

    pub fn write_ticket(&self, ticket: &Ticket) -> Result<()> {
        write_atomic(&self.ticket(), &serde_json::to_vec_pretty(ticket)?)
    }

    /// The last `lines` non-empty lines of job `job`'s standard error, if it left any.
    pub fn stderr_tail(&self, job: u64, lines: usize) -> Option<String> {
        let text = fs::read(self.output(job, "err")).ok()?;
        let text = String::from_utf8_lossy(&text[text.len().saturating_sub(64 << 10)..]).into_owned();
        let kept: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = kept[kept.len().saturating_sub(lines)..].join("\n");
        (!tail.is_empty()).then_some(tail)
    }
}

/// Temp file and rename: a reader never sees half a file.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let written = fs::File::create(&tmp).and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()));
    written.and_then(|()| fs::rename(&tmp, path)).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        anyhow!("writing {}: {e}", path.display())
    })
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `quench run-stage KEY`: computes one stage from its spec (what a Slurm job
/// runs). Returns the exit code: 0 stored (or already cached), 1 the stage
/// failed, 143 cancelled (by a signal), `EXIT_CACHE_UNUSABLE` when this node cannot use the cache.
pub fn run_stage(
    cache: &Cache,
    key: &str,
    executor: &dyn Executor,
    kind: &dyn Fn(&str) -> Option<(&'static str, u32)>,
) -> Result<i32> {
    let key: ContentKey = key.parse().map_err(|e| anyhow!("run-stage: `{key}` is not a stage key: {e}"))?;
    let files = JobFiles::new(cache.root(), &key);
    let unusable = |why: String| {
        eprintln!(
            "error: this node cannot use the cache {} ({why}); is it on a filesystem shared with the submitting \
             machine, and writable here?",
            cache.root().display()
        );
        Ok(EXIT_CACHE_UNUSABLE)
    };
    let spec: JobSpec = match fs::read(files.spec()) {
        Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| format!("reading {}", files.spec().display()))?,
        Err(e) => return unusable(format!("reading {}: {e}", files.spec().display())),
    };
    let job = std::env::var("SLURM_JOB_ID").unwrap_or_else(|_| format!("pid{}", std::process::id()));
    let events_path = files.events(&job);
    let mut events_file = match fs::OpenOptions::new().create(true).append(true).open(&events_path) {
        Ok(f) => f,
        Err(e) => return unusable(format!("opening {}: {e}", events_path.display())),
    };
    let probe = cache.root().join("tmp").join(format!("probe.{job}.{}", std::process::id()));
    if let Err(e) = fs::write(&probe, b"").and_then(|()| fs::remove_file(&probe)) {
        return unusable(format!("writing {}: {e}", probe.display()));
    }
    let stage = spec.planned(kind)?;
    let plan = Plan { pipeline: spec.pipeline.clone(), stages: vec![stage] };
    let cancel = Arc::new(CancelFlags::new(1));
    watch_signals(cancel.clone())?;
    let jobs = std::env::var("SLURM_CPUS_PER_TASK")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let options = RunOptions { jobs, force: vec![spec.forced], selected: vec![true], cancel: &cancel };
    let (tx, rx) = mpsc::channel::<Event>();
    let writer = std::thread::spawn(move || {
        for event in rx {
            if let Ok(mut line) = serde_json::to_vec(&event) {
                line.push(b'\n');
                // One write per line: the submitter reads whole lines only.
                let _ = events_file.write_all(&line);
            }
        }
    });
    let outcomes = scheduler::run(&plan, cache, executor, &options, &tx);
    drop(tx);
    let _ = writer.join();
    Ok(match &outcomes[0] {
        Outcome::Computed | Outcome::Cached => 0,
        Outcome::Failed(why) => {
            eprintln!("error: stage `{}` failed: {why}", spec.stage);
            1
        }
        Outcome::Cancelled(why) => {
            eprintln!("stage `{}` cancelled: {why}", spec.stage);
            143
        }
        Outcome::NotRun => 1,
    })
}

/// SIGTERM (Slurm's warning before SIGKILL on a time limit, `scancel` or
/// preemption) and SIGINT stop the stage cooperatively: nothing partial is stored.
fn watch_signals(cancel: Arc<CancelFlags>) -> Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]).context("installing signal handlers")?;
    std::thread::spawn(move || {
        for signal in signals.forever() {
            eprintln!("run-stage: signal {signal}: stopping the stage");
            cancel.all.store(true, Ordering::SeqCst);
        }
    });
    Ok(())
}
