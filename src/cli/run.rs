//! `quench run`: plan, schedule, report, and leave a run log with a heartbeat.
//! On a terminal the TUI shows the run (keys can cancel or re-run stages);
//! otherwise plain lines (or progress bars with `--headless` on a terminal).
//! Signals: SIGINT cancels cooperatively (exit 130), a second one exits at
//! once; SIGTERM cancels and exits within `TERM_GRACE` whatever runs; SIGHUP
//! (a dropped SSH session) makes the TUI let go of the terminal while the run
//! goes on headless, its output in `runs/<id>/output.log`. `--detach` starts
//! the run in the background the same way. `--executor slurm` hands the
//! stages to Slurm (src/cluster) instead of local worker threads; `run-stage`
//! is what each Slurm job runs.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::output::{note, say, OutputError, Stdout};
use super::{load, open_cache, stage_index};
use crate::cluster::{self, ExecutorKind, SlurmConfig};
use crate::engine::events::HEARTBEAT;
use crate::engine::runlog::{host_name, new_run_id, RunLog};
use crate::engine::scheduler::{self, CancelFlags, Outcome, RunOptions};
use crate::engine::{Cache, Event, EventBody, Plan};
use crate::report::progress::Reporter;
use crate::stages::CatalogExecutor;
use crate::tui::{self, Control};

/// Everything one `quench run` invocation works with.
struct Session {
    plan: Plan,
    cache: Cache,
    jobs: usize,
    cancel: Arc<CancelFlags>,
    run_id: String,
    label: String,
    /// Set when the stages run on Slurm.
    slurm: Option<SlurmConfig>,
    /// What stopped a Slurm run (not a stage's own failure); reported once at the end.
    fatal: Mutex<Option<anyhow::Error>>,
}

/// Where the stages run (`quench run --executor`, `--partition`, `--slurm-arg`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ExecutorArgs {
    /// Where stages run: `local` or `slurm` (one sbatch job per stage; the
    /// cache must be shared with the nodes). Default: `[pipeline] executor`, else local.
    #[arg(long, value_enum)]
    pub executor: Option<ExecutorKind>,
    /// Slurm partition of every job (over `[slurm] partition`).
    #[arg(long)]
    pub partition: Option<String>,
    /// One more sbatch argument for every job, e.g. `--slurm-arg=--qos=high` (repeatable).
    #[arg(long = "slurm-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub slurm_args: Vec<String>,
}

impl ExecutorArgs {
    /// The Slurm settings when the run goes to Slurm (command line over the
    /// pipeline file), None for a local run.
    fn resolve(&self, path: &Path) -> Result<Option<SlurmConfig>> {
        let invalid = |why: String| super::InvalidInput(why);
        let text = super::read_pipeline(path).map_err(|why| invalid(format!("{}: {why}", path.display())))?;
        let config = SlurmConfig::from_pipeline(path, &text)
            .and_then(|c| c.with_command_line(self.partition.as_deref(), &self.slurm_args))
            .map_err(invalid)?;
        match self.executor.or(config.executor).unwrap_or(ExecutorKind::Local) {
            ExecutorKind::Slurm => Ok(Some(config)),
            ExecutorKind::Local if self.partition.is_some() || !self.slurm_args.is_empty() => {
                Err(invalid("--partition and --slurm-arg need --executor slurm".into()).into())
            }
            ExecutorKind::Local => Ok(None),
        }
    }

    /// The same choice as arguments (for a detached run).
    fn to_args(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(e) = self.executor {
            out.push(format!("--executor={}", if e == ExecutorKind::Slurm { "slurm" } else { "local" }));
        }
        if let Some(p) = &self.partition {
            out.push(format!("--partition={p}"));
        }
        out.extend(self.slurm_args.iter().map(|a| format!("--slurm-arg={a}")));
        out
    }
}

impl Session {
    /// One scheduler pass over the selected stages; returns ok / failed / cancelled.
    fn run_once(&self, events: &Sender<Event>, force: Vec<bool>, selected: Vec<bool>) -> (String, Vec<Outcome>) {
        let count = selected.iter().filter(|s| **s).count();
        let started = EventBody::RunStarted {
            run_id: self.run_id.clone(),
            pipeline: self.label.clone(),
            stages: count,
            pid: std::process::id(),
            host: host_name(),
        };
        let _ = events.send(Event::now(&self.plan.pipeline, started));
        let options = RunOptions { jobs: self.jobs, force, selected: selected.clone(), cancel: &self.cancel };
        let outcomes = match &self.slurm {
            None => scheduler::run(&self.plan, &self.cache, &CatalogExecutor, &options, events),
            Some(config) => cluster::submit::run(&self.plan, &self.cache, config, &options, &self.run_id, events)
                .unwrap_or_else(|e| {
                    let error = format!("{e:#}");
                    let _ = events.send(Event::now(
                        &self.plan.pipeline,
                        EventBody::Log { level: "error".into(), message: error },
                    ));
                    *self.fatal.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    vec![Outcome::NotRun; self.plan.stages.len()]
                }),
        };
        let done = |i: usize| !selected[i] || matches!(outcomes[i], Outcome::Cached | Outcome::Computed);
        let fatal = self.fatal.lock().unwrap_or_else(|p| p.into_inner()).is_some();
        let status = if fatal {
            "failed"
        } else if self.cancel.all.load(Ordering::Relaxed) {
            "cancelled"
        } else if (0..outcomes.len()).all(done) {
            "ok"
        } else {
            "failed"
        };
        let _ = events.send(Event::now(&self.plan.pipeline, EventBody::RunFinished { status: status.into() }));
        (status.to_string(), outcomes)
    }
}

/// How long a run may take to stop after SIGTERM before the process exits anyway.
pub const TERM_GRACE: Duration = Duration::from_secs(5);

/// The environment variable a detached child reads its run id from.
const RUN_ID_ENV: &str = "QUENCH_RUN_ID";

pub fn run(
    path: &Path,
    cache_dir: &Path,
    jobs: Option<usize>,
    force: &[String],
    headless: bool,
    executor: &ExecutorArgs,
) -> Result<i32> {
    let (pipeline, plan) = load(path)?;
    let slurm = executor.resolve(path)?;
    if let Some(config) = &slurm {
        cluster::submit::preflight(config)?;
    }
    let mut forced = vec![false; plan.stages.len()];
    for name in force {
        forced[stage_index(&pipeline, name)?] = true;
    }
    let cache = open_cache(cache_dir)?;
    cache.clean_tmp();
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(super::MAX_JOBS));
    let terminal = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    let use_tui = terminal && !headless;
    let run_id = std::env::var(RUN_ID_ENV).ok().filter(|id| valid_run_id(id)).unwrap_or_else(new_run_id);
    let session = Arc::new(Session {
        cancel: Arc::new(CancelFlags::new(plan.stages.len())),
        run_id,
        label: path.display().to_string(),
        plan,
        cache,
        jobs,
        slurm,
        fatal: Mutex::new(None),
    });
    let mut log = RunLog::create(session.cache.root(), &session.run_id)?;
    let output = log.path.with_file_name("output.log");
    let signals = Signals::install(session.cancel.clone(), terminal, output)?;
    let mut reporter = match (use_tui, terminal) {
        (true, _) => None,
        (false, true) => Some(Reporter::bars()),
        (false, false) => Some(Reporter::lines()),
    };
    let (tx, rx) = mpsc::channel::<Event>();
    let (ui_tx, ui_rx) = mpsc::sync_channel::<Event>(10_000);
    let hangup = signals.hangup.clone();
    let pipeline_name = session.plan.pipeline.clone();
    let consumer = std::thread::spawn(move || {
        let mut last_write = Instant::now();
        loop {
            let event = match rx.recv_timeout(HEARTBEAT / 4) {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) if last_write.elapsed() >= HEARTBEAT => {
                    Event::now(&pipeline_name, EventBody::Heartbeat)
                }
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            last_write = Instant::now();
            let _ = log.append(&event);
            if reporter.is_none() && hangup.load(Ordering::SeqCst) {
                // The TUI let go of the terminal: go on in plain lines (into output.log).
                reporter = Some(Reporter::lines());
            }
            match &mut reporter {
                Some(r) => r.show(&event),
                None => {
                    let _ = ui_tx.send(event);
                }
            }
        }
        log.path
    });
    let all = vec![true; session.plan.stages.len()];
    let (status, outcomes) = if use_tui {
        run_with_tui(&session, &signals, tx, ui_rx, forced)?
    } else {
        drop(ui_rx);
        let result = session.run_once(&tx, forced, all);
        drop(tx);
        result
    };
    let log_path = consumer.join().map_err(|_| anyhow::anyhow!("the event reporter panicked"))?;
    if let Some(e) = session.fatal.lock().unwrap_or_else(|p| p.into_inner()).take() {
        note(format_args!("run log: {}", log_path.display()));
        return Err(e);
    }
    // The summary goes to stderr even when stdout was closed; a run's own
    // failure outranks the lost output in the exit code.
    let printed = print_reports(&session, &outcomes);
    note(format_args!("run log: {}", log_path.display()));
    print_outcomes(&session.plan, &outcomes, &status);
    match status.as_str() {
        "cancelled" => Ok(130),
        "failed" => Ok(1),
        _ => printed.map(|()| 0).map_err(Into::into),
    }
}

/// `quench run --detach`: checks the pipeline, then starts the same run
/// headless in the background (its own process group, so the terminal's
/// signals do not reach it; output in `runs/<id>/output.log`), prints the run
/// id and how to watch it, and returns at once.
pub fn detach(
    path: &Path,
    cache_dir: &Path,
    jobs: Option<usize>,
    force: &[String],
    executor: &ExecutorArgs,
) -> Result<i32> {
    use std::os::unix::process::CommandExt;
    let (pipeline, _) = load(path)?;
    if let Some(config) = executor.resolve(path)? {
        cluster::submit::preflight(&config)?;
    }
    for name in force {
        stage_index(&pipeline, name)?;
    }
    if jobs == Some(0) {
        return Err(super::InvalidInput("--jobs must be at least 1".into()).into());
    }
    let cache = open_cache(cache_dir)?;
    let run_id = new_run_id();
    let dir = cache.root().join("runs").join(&run_id);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let output_path = dir.join("output.log");
    let output = std::fs::File::create(&output_path).with_context(|| format!("creating {}", output_path.display()))?;
    let mut command = std::process::Command::new(std::env::current_exe().context("finding the quench binary")?);
    command.arg("--cache").arg(cache_dir).arg("run").arg(path).arg("--headless");
    if let Some(jobs) = jobs {
        command.arg("--jobs").arg(jobs.to_string());
    }
    for name in force {
        command.arg("--force").arg(name);
    }
    command.args(executor.to_args());
    let child = command
        .env(RUN_ID_ENV, &run_id)
        .stdin(std::process::Stdio::null())
        .stdout(output.try_clone()?)
        .stderr(output)
        .process_group(0)
        .spawn()
        .context("starting the background run")?;
    // Wait (briefly) for its run log, so `watch` works as soon as we return.
    let log = dir.join("events.jsonl");
    let clock = Instant::now();
    while !log.exists() && clock.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let cache_arg = cache_dir.display();
    say_out(&format!(
        "run {run_id} started in the background (pid {})\n  watch it:  quench --cache {cache_arg} watch {run_id}\n  output:    {}",
        child.id(),
        output_path.display()
    ));
    Ok(0)
}

/// `quench run-stage KEY`: what a Slurm job runs (see `cluster::job`).
pub fn run_stage(cache_dir: &Path, key: &str) -> Result<i32> {
    use crate::pipeline::Catalog;
    let cache = open_cache(cache_dir)?;
    let kind = |name: &str| crate::stages::CATALOG.find(name).map(|k| (k.name, k.version));
    cluster::job::run_stage(&cache, key, &CatalogExecutor, &kind)
}

/// Run ids name a directory: keep them to a safe alphabet.
fn valid_run_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && id != "latest"
}

/// Prints a line on stderr; a closed or hung-up terminal is not an error.
fn say(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// Prints a line on stdout; a closed pipe or hung-up terminal is not an error.
fn say_out(text: &str) {
    let _ = writeln!(std::io::stdout(), "{text}");
}

/// The signal handling of one run (a thread reading SIGINT, SIGTERM, SIGHUP).
struct Signals {
    /// Set on SIGHUP: the terminal is gone; the TUI lets go of it.
    hangup: Arc<AtomicBool>,
    /// Set while the TUI owns the terminal (messages would write over it).
    tui: Arc<AtomicBool>,
}

impl Signals {
    fn install(cancel: Arc<CancelFlags>, terminal: bool, output: PathBuf) -> Result<Signals> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let mut incoming =
            signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]).context("installing the signal handlers")?;
        let signals = Signals { hangup: Arc::new(AtomicBool::new(false)), tui: Arc::new(AtomicBool::new(false)) };
        let (hangup, tui) = (signals.hangup.clone(), signals.tui.clone());
        std::thread::spawn(move || {
            let leave = |code: i32| {
                if tui.load(Ordering::SeqCst) {
                    let _ = ratatui::try_restore();
                }
                std::process::exit(code);
            };
            let mut terminating = false;
            for signal in incoming.forever() {
                match signal {
                    SIGHUP => {
                        if terminal && !hangup.load(Ordering::SeqCst) {
                            redirect_output(&output);
                            say("terminal hung up: the run goes on headless; `quench watch latest` re-attaches");
                        }
                        hangup.store(true, Ordering::SeqCst);
                    }
                    SIGINT => {
                        if cancel.all.swap(true, Ordering::SeqCst) {
                            leave(130);
                        }
                        if !tui.load(Ordering::SeqCst) {
                            say("\ninterrupted: stopping running stages (Ctrl-C again to exit at once)");
                        }
                    }
                    _ => {
                        // SIGTERM: cancel, and exit after a grace period whatever still runs.
                        cancel.all.store(true, Ordering::SeqCst);
                        if terminating {
                            leave(143);
                        }
                        terminating = true;
                        let tui = tui.clone();
                        std::thread::spawn(move || {
                            std::thread::sleep(TERM_GRACE);
                            if tui.load(Ordering::SeqCst) {
                                let _ = ratatui::try_restore();
                            }
                            say("terminated: the run did not stop in time; exiting");
                            std::process::exit(143);
                        });
                    }
                }
            }
        });
        Ok(signals)
    }
}

/// Points stdout and stderr at `path` (the terminal is gone; writing to it
/// would fail), appending; and stdin at an empty non-blocking pipe whose
/// writer stays open. A hung-up terminal reads as endless end-of-file, on
/// which crossterm's key reader spins forever (it only leaves its read loop
/// on "would block"); the pipe gives it exactly that.
fn redirect_output(path: &Path) {
    use std::os::fd::AsRawFd;
    let mut pipe = [0; 2];
    // SAFETY: pipe2 fills two descriptors; dup2 puts the read end on stdin.
    // The write end is deliberately never closed (a closed writer reads as EOF).
    unsafe {
        if libc::pipe2(pipe.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) == 0 {
            libc::dup2(pipe[0], libc::STDIN_FILENO);
            libc::close(pipe[0]);
        }
    }
    let Ok(file) = std::fs::OpenOptions::new().create(true).append(true).open(path) else { return };
    // SAFETY: dup2 onto the standard descriptors; `file` stays open until both are done.
    unsafe {
        libc::dup2(file.as_raw_fd(), libc::STDOUT_FILENO);
        libc::dup2(file.as_raw_fd(), libc::STDERR_FILENO);
    }
}

/// Runs the pipeline on a worker thread while the TUI shows it; the TUI's
/// controls cancel stages or queue forced re-runs. Quitting cancels what runs.
fn run_with_tui(
    session: &Arc<Session>,
    signals: &Signals,
    tx: Sender<Event>,
    ui_rx: Receiver<Event>,
    forced: Vec<bool>,
) -> Result<(String, Vec<Outcome>)> {
    let (ctl_tx, ctl_rx) = mpsc::channel::<Control>();
    let (rerun_tx, rerun_rx) = mpsc::channel::<usize>();
    let dispatcher = {
        let session = session.clone();
        std::thread::spawn(move || dispatch_controls(&session, ctl_rx, rerun_tx))
    };
    let worker = {
        let session = session.clone();
        std::thread::spawn(move || {
            let n = session.plan.stages.len();
            let mut last = session.run_once(&tx, forced, vec![true; n]);
            for stage in rerun_rx {
                session.cancel.stages[stage].store(false, Ordering::SeqCst);
                let mut force = vec![false; n];
                force[stage] = true;
                let mut selected = vec![false; n];
                selected[stage] = true;
                let (status, outcomes) = session.run_once(&tx, force, selected);
                last.1[stage] = outcomes[stage].clone();
                last.0 = status;
            }
            last
        })
    };
    signals.tui.store(true, Ordering::SeqCst);
    let shown = tui::run_until(&session.label, ui_rx, Some(ctl_tx), &signals.hangup);
    signals.tui.store(false, Ordering::SeqCst);
    if let Err(e) = &shown {
        // The terminal failed under the TUI (usually a hang-up a moment before
        // its signal): the run goes on headless rather than dying with it.
        say(&format!("the terminal failed ({e}): the run goes on headless"));
        signals.hangup.store(true, Ordering::SeqCst);
    }
    if !signals.hangup.load(Ordering::SeqCst) {
        // The user quit: stop what still runs.
        session.cancel.all.store(true, Ordering::SeqCst);
    }
    let _ = dispatcher.join();
    worker.join().map_err(|_| anyhow::anyhow!("the scheduler thread panicked"))
}

fn dispatch_controls(session: &Session, controls: Receiver<Control>, reruns: Sender<usize>) {
    let index = |name: &str| session.plan.stages.iter().position(|s| s.name == name);
    for control in controls {
        match control {
            Control::CancelStage(name) => {
                if let Some(i) = index(&name) {
                    session.cancel.stages[i].store(true, Ordering::SeqCst);
                }
            }
            Control::Rerun(name) => {
                if let Some(i) = index(&name) {
                    let _ = reruns.send(i);
                }
            }
            Control::CancelAll => session.cancel.all.store(true, Ordering::SeqCst),
        }
    }
}

/// Prints the result tables (comparisons, aggregates) of the stages that finished.
fn print_reports(session: &Session, outcomes: &[Outcome]) -> Result<(), OutputError> {
    let mut out = Stdout::lock();
    for (stage, outcome) in session.plan.stages.iter().zip(outcomes) {
        if !matches!(outcome, Outcome::Cached | Outcome::Computed) || !stage.kind.starts_with("eval.") {
            continue;
        }
        let report = session
            .cache
            .load(&stage.key)
            .ok()
            .and_then(|b| crate::stages::Artifact::decode(&b).ok())
            .and_then(|a| a.report());
        if let Some(table) = report {
            say!(out, "\n== {} ==\n{table}", stage.name);
        }
    }
    Ok(())
}

/// The last lines: failures, then the run's status and counts.
fn print_outcomes(plan: &Plan, outcomes: &[Outcome], status: &str) {
    let (mut cached, mut computed, mut other) = (0, 0, 0);
    for (stage, outcome) in plan.stages.iter().zip(outcomes) {
        match outcome {
            Outcome::Cached => cached += 1,
            Outcome::Computed => computed += 1,
            Outcome::Failed(e) => {
                other += 1;
                note(format_args!("stage `{}` failed: {e}", stage.name));
            }
            Outcome::Cancelled(_) | Outcome::NotRun => other += 1,
        }
    }
    note(format_args!(
        "run {status}: {} stages, {computed} computed, {cached} cached, {other} not done",
        plan.stages.len()
    ));
}
