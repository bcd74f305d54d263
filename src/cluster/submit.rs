//! The Slurm executor's loop, on one tokio thread: submits each selected
//! stage as one `sbatch` job once its inputs are cached (dependencies stay in
//! quench), polls every job's state with one `scontrol` call per tick, follows
//! each job's event file, and turns it all into the run's usual events and
//! one `Outcome` per stage, as the local scheduler does.
//!
//! A stage whose job another run submitted (its ticket names a job Slurm
//! still runs) is attached to, not submitted again. Cancelling (Ctrl-C, `c`)
//! `scancel`s the jobs this run submitted. A failure that is not the stage's
//! (sbatch refusing a job, a node that cannot use the cache, Slurm no longer
//! answering) stops the run: its jobs are cancelled and the error returned.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

use super::config::SlurmConfig;
use super::job::{JobFiles, JobSpec, Ticket, EXIT_CACHE_UNUSABLE};
use super::slurm::{self, JobId, JobInfo, Phase};
use crate::engine::record::now;
use crate::engine::scheduler::{blocked, emit_queued, report_cached, Outcome, RunOptions};
use crate::engine::store::Lookup;
use crate::engine::{Cache, Event, EventBody, Plan, PlannedStage};

/// Checks that Slurm answers (and the partition exists) before anything is planned to run.
pub fn preflight(config: &SlurmConfig) -> Result<()> {
    runtime()?.block_on(slurm::check(config.defaults.partition.as_deref())).map_err(|why| anyhow!("Slurm: {why}"))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the Slurm executor")
}

/// Runs the selected stages on Slurm; one outcome per stage of the plan, or
/// the error that stopped the run (after cancelling what it had submitted).
pub fn run(
    plan: &Plan,
    cache: &Cache,
    config: &SlurmConfig,
    options: &RunOptions,
    run_id: &str,
    events: &Sender<Event>,
) -> Result<Vec<Outcome>> {
    let binary = match &config.binary {
        Some(b) => b.clone(),
        None => std::env::current_exe().context("finding the quench binary for the jobs")?,
    };
    let root = std::path::absolute(cache.root()).context("making the cache path absolute")?;
    let mut driver = Driver {
        plan,
        cache,
        config,
        options,
        run_id,
        events,
        binary,
        root,
        slots: plan.stages.iter().map(|_| Slot::Waiting).collect(),
        outcomes: vec![Outcome::NotRun; plan.stages.len()],
        missing_polls: 0,
    };
    runtime()?.block_on(driver.drive())
}

/// How many ticks Slurm may fail to answer in a row before the run stops.
const SLURM_SILENT_TICKS: u32 = 30;

enum Slot {
    Waiting,
    InFlight(Box<Job>),
    Done,
}

/// A job this run follows.
struct Job {
    id: JobId,
    /// Submitted by this run (else attached to another run's job).
    ours: bool,
    files: JobFiles,
    events_path: PathBuf,
    /// Bytes of the event file already read.
    offset: u64,
    /// The stage's own end, read from its event file (finished / failed / cancelled).
    end: Option<EventBody>,
    /// The last state reported (PENDING, RUNNING, ...).
    state: String,
    /// `scancel` was sent by this run.
    cancelled: bool,
    /// Ticks the job was unknown to `scontrol` (just submitted, or purged).
    unknown: u32,
}

struct Driver<'a> {
    plan: &'a Plan,
    cache: &'a Cache,
    config: &'a SlurmConfig,
    options: &'a RunOptions<'a>,
    run_id: &'a str,
    events: &'a Sender<Event>,
    binary: PathBuf,
    root: PathBuf,
    slots: Vec<Slot>,
    outcomes: Vec<Outcome>,
    missing_polls: u32,
}

impl Driver<'_> {
    fn emit(&self, i: usize, body: EventBody) {
        let _ = self.events.send(Event::now(&self.plan.stages[i].name, body));
    }

    fn log(&self, i: usize, level: &str, message: String) {
        self.emit(i, EventBody::Log { level: level.into(), message });
    }

    fn finish(&mut self, i: usize, outcome: Outcome) {
        self.slots[i] = Slot::Done;
        self.outcomes[i] = outcome;
    }

    fn in_flight(&self) -> impl Iterator<Item = &Job> {
        self.slots.iter().filter_map(|s| if let Slot::InFlight(job) = s { Some(&**job) } else { None })
    }

    async fn drive(&mut self) -> Result<Vec<Outcome>> {
        let selected = &self.options.selected;
        for (slot, _) in self.slots.iter_mut().zip(selected).filter(|(_, s)| !**s) {
            *slot = Slot::Done;
        }
        emit_queued(self.plan, selected, self.events);
        let result = self.lifecycle().await;
        if let Err(e) = &result {
            let ours: Vec<JobId> = self.in_flight().filter(|j| j.ours).map(|j| j.id).collect();
            let cancelled = slurm::cancel(&ours).await;
            let note = match (ours.is_empty(), cancelled) {
                (true, _) => String::new(),
                (false, Ok(())) => format!("; cancelled its jobs {}", list(&ours)),
                (false, Err(why)) => format!("; cancelling its jobs {} failed too: {why}", list(&ours)),
            };
            return Err(anyhow!("{e:#}{note}"));
        }
        Ok(std::mem::take(&mut self.outcomes))
    }

    async fn lifecycle(&mut self) -> Result<()> {
        let mut last_poll: Option<Instant> = None;
        loop {
            self.cancel_requested().await?;
            self.settle();
            self.start_ready().await?;
            if self.slots.iter().all(|s| matches!(s, Slot::Done)) {
                return Ok(());
            }
            if last_poll.is_none_or(|t| t.elapsed() >= self.config.poll) {
                last_poll = Some(Instant::now());
                let jobs = match slurm::jobs().await {
                    Ok(jobs) => {
                        self.missing_polls = 0;
                        jobs
                    }
                    Err(why) => {
                        self.missing_polls += 1;
                        if self.missing_polls >= SLURM_SILENT_TICKS {
                            bail!("Slurm stopped answering: {why}");
                        }
                        continue;
                    }
                };
                self.follow(&jobs).await?;
            }
            tokio::time::sleep(Duration::from_millis(100).min(self.config.poll)).await;
        }
    }

    /// Cancel flags: `scancel` this run's jobs; stop following attached ones.
    async fn cancel_requested(&mut self) -> Result<()> {
        let cancel = self.options.cancel;
        let mut to_cancel = Vec::new();
        for i in 0..self.slots.len() {
            let Slot::InFlight(job) = &mut self.slots[i] else { continue };
            if !cancel.is_set(i) || job.cancelled {
                continue;
            }
            if job.ours {
                job.cancelled = true;
                to_cancel.push((i, job.id));
            } else {
                let reason = format!("stopped following slurm job {} (another run's); it goes on", job.id);
                self.emit(i, EventBody::Cancelled { reason: reason.clone() });
                self.finish(i, Outcome::Cancelled(reason));
            }
        }
        if to_cancel.is_empty() {
            return Ok(());
        }
        let ids: Vec<JobId> = to_cancel.iter().map(|(_, id)| *id).collect();
        slurm::cancel(&ids).await.map_err(|why| anyhow!("cancelling jobs {}: {why}", list(&ids)))?;
        for (i, id) in to_cancel {
            self.log(i, "info", format!("slurm job {id}: scancel sent"));
        }
        Ok(())
    }

    /// Waiting stages that can no longer run.
    fn settle(&mut self) {
        for i in 0..self.slots.len() {
            if !matches!(self.slots[i], Slot::Waiting) {
                continue;
            }
            let done = |j: usize| matches!(self.slots[j], Slot::Done);
            let reason = blocked(self.plan, i, &self.outcomes, done)
                .or_else(|| self.options.cancel.is_set(i).then(|| "run cancelled".to_string()));
            if let Some(reason) = reason {
                self.emit(i, EventBody::Cancelled { reason: reason.clone() });
                self.finish(i, Outcome::Cancelled(reason));
            }
        }
    }

    /// Stages whose inputs are cached: a cache hit, an attach, or a submission.
    async fn start_ready(&mut self) -> Result<()> {
        let plan = self.plan;
        for i in 0..self.slots.len() {
            if !matches!(self.slots[i], Slot::Waiting) || self.in_flight().count() >= self.config.max_jobs {
                continue;
            }
            let stage = &plan.stages[i];
            if !stage.inputs.iter().all(|&j| matches!(self.outcomes[j], Outcome::Cached | Outcome::Computed)) {
                continue;
            }
            let forced = self.options.force[i];
            let mut warned = false;
            if !forced {
                if let Some(outcome) = report_cached(self.cache, stage, self.events, &mut warned) {
                    self.finish(i, outcome);
                    continue;
                }
            }
            let job = self.claim(i, forced).await?;
            self.slots[i] = Slot::InFlight(Box::new(job));
        }
        Ok(())
    }

    /// The job that will compute stage `i`: another run's live job (its
    /// ticket says so), else a new one. Under the stage's submit lock, so
    /// two runs never both submit it.
    async fn claim(&self, i: usize, forced: bool) -> Result<Job> {
        let stage = &self.plan.stages[i];
        let files = JobFiles::new(&self.root, &stage.key);
        fs::create_dir_all(&files.dir).with_context(|| format!("creating {}", files.dir.display()))?;
        let _lock = fs::File::create(files.submit_lock())
            .and_then(|f| f.lock().map(|()| f))
            .with_context(|| format!("locking {}", files.submit_lock().display()))?;
        if let Some(ticket) = files.read_ticket() {
            let jobs = slurm::jobs().await.map_err(|why| anyhow!("Slurm: {why}"))?;
            if jobs.get(&ticket.job).is_some_and(|info| info.phase() != Phase::Ended) {
                let message = format!(
                    "slurm job {} already computes this stage (submitted by run {} on {}): following it",
                    ticket.job, ticket.run_id, ticket.host
                );
                self.log(i, "info", message);
                return Ok(Job::new(ticket.job, false, files));
            }
        }
        let id = self.submit(stage, &files, forced).await?;
        Ok(Job::new(id, true, files))
    }

    /// Writes the spec and script, submits, writes the ticket.
    async fn submit(&self, stage: &PlannedStage, files: &JobFiles, forced: bool) -> Result<JobId> {
        let i = self.plan.stages.iter().position(|s| s.key == stage.key).unwrap_or(0);
        files.prepare(&JobSpec::new(&self.plan.pipeline, stage, forced), &self.binary, &self.root)?;
        let resources = self.config.resources(&stage.name, stage.kind);
        let mut args = vec![
            format!("--job-name=quench:{}", stage.name),
            format!("--output={}", files.output_pattern("out").display()),
            format!("--error={}", files.output_pattern("err").display()),
            format!("--chdir={}", self.root.display()),
        ];
        args.extend(resources.sbatch_args());
        let id = slurm::submit(&args, &files.script())
            .await
            .map_err(|why| anyhow!("stage `{}`: sbatch refused the job: {why}", stage.name))?;
        let ticket =
            Ticket { job: id, run_id: self.run_id.into(), stage: stage.name.clone(), host: host(), submitted: now() };
        if let Err(e) = files.write_ticket(&ticket) {
            let _ = slurm::cancel(&[id]).await;
            return Err(e.context(format!("stage `{}`: slurm job {id} cancelled", stage.name)));
        }
        let asks = resources.sbatch_args().join(" ");
        let asks = if asks.is_empty() { String::new() } else { format!(" ({asks})") };
        self.log(i, "info", format!("slurm job {id} queued{asks}"));
        Ok(id)
    }

    /// One poll: each job's new events and state; ended jobs become outcomes.
    async fn follow(&mut self, jobs: &HashMap<JobId, JobInfo>) -> Result<()> {
        for i in 0..self.slots.len() {
            let Slot::InFlight(job) = &mut self.slots[i] else { continue };
            let fresh = read_events(job);
            let info = jobs.get(&job.id).cloned();
            let (id, previous) = (job.id, job.state.clone());
            let info = match info {
                Some(info) => {
                    job.unknown = 0;
                    info
                }
                None => {
                    job.unknown += 1;
                    // A job just submitted may not be listed yet; one Slurm forgot is looked up in accounting.
                    if job.unknown < 3 {
                        self.forward(i, fresh);
                        continue;
                    }
                    match slurm::accounting(id).await {
                        Some(info) => info,
                        None => JobInfo { state: "VANISHED".into(), ..Default::default() },
                    }
                }
            };
            self.forward(i, fresh);
            if info.state != previous {
                let Slot::InFlight(job) = &mut self.slots[i] else { continue };
                job.state = info.state.clone();
                match info.phase() {
                    Phase::Pending if matches!(info.reason.as_str(), "None" | "") => {
                        self.log(i, "info", format!("slurm job {id} {}", info.state))
                    }
                    Phase::Pending => self.log(i, "info", format!("slurm job {id} {} ({})", info.state, info.reason)),
                    Phase::Running => self.log(i, "info", format!("slurm job {id} {} on {}", info.state, info.node)),
                    Phase::Ended => {}
                }
            }
            if info.phase() == Phase::Ended {
                let Slot::InFlight(job) = std::mem::replace(&mut self.slots[i], Slot::Done) else { continue };
                let mut job = *job;
                let last = read_events(&mut job);
                self.forward(i, last);
                let outcome = self.conclude(i, &job, &info)?;
                self.finish(i, outcome);
            }
        }
        Ok(())
    }

    /// Forwards a job's events to the run (its end is kept for `conclude`).
    fn forward(&mut self, i: usize, bodies: Vec<EventBody>) {
        for body in bodies {
            match body {
                EventBody::Finished { .. } | EventBody::Failed { .. } | EventBody::Cancelled { .. } => {
                    if let Slot::InFlight(job) = &mut self.slots[i] {
                        job.end = Some(body);
                    }
                }
                EventBody::Queued { .. }
                | EventBody::RunStarted { .. }
                | EventBody::RunFinished { .. }
                | EventBody::Heartbeat => {}
                other => self.emit(i, other),
            }
        }
    }

    /// An ended job's outcome: computed only when its artifact is in the cache.
    fn conclude(&self, i: usize, job: &Job, info: &JobInfo) -> Result<Outcome> {
        let stage = &self.plan.stages[i];
        let id = job.id;
        if let Lookup::Valid(record) = self.cache.lookup(&stage.key) {
            if info.failure().is_none() || matches!(job.end, Some(EventBody::Finished { .. })) {
                let end = match &job.end {
                    Some(end @ EventBody::Finished { .. }) => end.clone(),
                    _ => EventBody::Finished {
                        cached: false,
                        artifact_hash: record.artifact_hash,
                        wall_ms: record.wall_ms,
                    },
                };
                let cached = matches!(end, EventBody::Finished { cached: true, .. });
                if job.end.is_none() {
                    self.emit(i, EventBody::Summary { summary: record.summary.clone() });
                }
                self.emit(i, end);
                if job.ours {
                    let _ = fs::remove_dir_all(&job.files.dir);
                }
                return Ok(if cached { Outcome::Cached } else { Outcome::Computed });
            }
        }
        if job.cancelled {
            let reason = format!("slurm job {id} cancelled; nothing was cached");
            self.emit(i, EventBody::Cancelled { reason: reason.clone() });
            return Ok(Outcome::Cancelled(reason));
        }
        let stderr = job.files.stderr_tail(id, 8);
        let node_cannot_write = info.state == "FAILED" && !job.files.output(id, "err").exists();
        if info.exit_code == EXIT_CACHE_UNUSABLE || node_cannot_write {
            let said = stderr.unwrap_or_else(|| "it left no standard error file".into());
            bail!(
                "stage `{}`: slurm job {id} could not use the cache {} on node {}: {said}\n\
                 the cache directory must be on a filesystem the compute nodes share and can write",
                stage.name,
                self.root.display(),
                if info.node.is_empty() { "?" } else { info.node.as_str() }
            );
        }
        let why = match (info.failure(), info.state.as_str()) {
            (_, "VANISHED") => "the job vanished from Slurm (not in scontrol, no accounting) without a result".into(),
            (Some(why), _) => why,
            (None, _) => "the job completed but left no valid artifact in the cache".into(),
        };
        let mut error = format!("slurm job {id} {why}");
        let mut stderr = stderr;
        if let Some(EventBody::Failed { error: stage_error }) = &job.end {
            error.push_str(&format!(": {stage_error}"));
            // run-stage repeats the stage's error on stderr: show only what else it said.
            stderr = stderr.and_then(|tail| {
                let rest: Vec<&str> = tail.lines().filter(|l| !l.contains(stage_error.as_str())).collect();
                (!rest.is_empty()).then(|| rest.join("\n"))
            });
        }
        if let Some(tail) = stderr {
            error.push_str(&format!("\nstderr ({}):\n{tail}", job.files.output(id, "err").display()));
        }
        error.push_str("\nnothing was cached");
        self.emit(i, EventBody::Failed { error: error.clone() });
        Ok(Outcome::Failed(error))
    }
}

impl Job {
    fn new(id: JobId, ours: bool, files: JobFiles) -> Job {
        let events_path = files.events(&id.to_string());
        Job { id, ours, files, events_path, offset: 0, end: None, state: String::new(), cancelled: false, unknown: 0 }
    }
}

/// The whole lines appended to a job's event file since the last read.
fn read_events(job: &mut Job) -> Vec<EventBody> {
    let Ok(mut file) = fs::File::open(&job.events_path) else { return Vec::new() };
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(job.offset)).is_err() || file.read_to_end(&mut bytes).is_err() {
        return Vec::new();
    }
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    job.offset += complete as u64;
    bytes[..complete]
        .split(|&b| b == b'\n')
        .filter_map(|line| serde_json::from_slice::<Event>(line).ok())
        .map(|event| event.body)
        .collect()
}

fn list(ids: &[JobId]) -> String {
    ids.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(", ")
}

fn host() -> String {
    crate::engine::runlog::host_name()
}

/// A stage's Slurm job as `quench status` shows it: "slurm job 12 RUNNING on vm".
pub fn job_status(cache_root: &std::path::Path, stage: &PlannedStage) -> Option<String> {
    let files = JobFiles::new(cache_root, &stage.key);
    let ticket = files.read_ticket()?;
    let info = runtime().ok()?.block_on(async {
        match slurm::jobs().await {
            Ok(jobs) => match jobs.get(&ticket.job) {
                Some(info) => Some(info.clone()),
                None => slurm::accounting(ticket.job).await,
            },
            Err(_) => None,
        }
    });
    let state = match info {
        Some(info) if info.phase() == Phase::Running => format!("{} on {}", info.state, info.node),
        Some(info) if info.phase() == Phase::Pending => format!("{} ({})", info.state, info.reason),
        Some(info) => info.failure().unwrap_or(info.state),
        None => "no longer known to Slurm".into(),
    };
    Some(format!("slurm job {} {state} (run {})", ticket.job, ticket.run_id))
}
