//! `quench run`: plan, schedule, report, and leave a run log. On a terminal
//! the TUI shows the run (keys can cancel or re-run stages); otherwise plain
//! lines (or progress bars with `--headless` on a terminal). Ctrl-C cancels
//! cooperatively (exit 130); a second Ctrl-C exits at once.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;

use anyhow::Result;

use super::output::{note, say, OutputError, Stdout};
use super::{load, open_cache, stage_index};
use crate::engine::runlog::{new_run_id, RunLog};
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
}

impl Session {
    /// One scheduler pass over the selected stages; returns ok / failed / cancelled.
    fn run_once(&self, events: &Sender<Event>, force: Vec<bool>, selected: Vec<bool>) -> (String, Vec<Outcome>) {
        let count = selected.iter().filter(|s| **s).count();
        let started =
            EventBody::RunStarted { run_id: self.run_id.clone(), pipeline: self.label.clone(), stages: count };
        let _ = events.send(Event::now(&self.plan.pipeline, started));
        let options = RunOptions { jobs: self.jobs, force, selected: selected.clone(), cancel: &self.cancel };
        let outcomes = scheduler::run(&self.plan, &self.cache, &CatalogExecutor, &options, events);
        let done = |i: usize| !selected[i] || matches!(outcomes[i], Outcome::Cached | Outcome::Computed);
        let status = if self.cancel.all.load(Ordering::Relaxed) {
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

pub fn run(path: &Path, cache_dir: &Path, jobs: Option<usize>, force: &[String], headless: bool) -> Result<i32> {
    let (pipeline, plan) = load(path)?;
    let mut forced = vec![false; plan.stages.len()];
    for name in force {
        forced[stage_index(&pipeline, name)?] = true;
    }
    let cache = open_cache(cache_dir)?;
    cache.clean_tmp();
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(super::MAX_JOBS));
    let terminal = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    let use_tui = terminal && !headless;
    let session = Arc::new(Session {
        cancel: Arc::new(CancelFlags::new(plan.stages.len())),
        run_id: new_run_id(),
        label: path.display().to_string(),
        plan,
        cache,
        jobs,
    });
    install_interrupt(session.cancel.clone());
    let mut log = RunLog::create(session.cache.root(), &session.run_id)?;
    let mut reporter = match (use_tui, terminal) {
        (true, _) => None,
        (false, true) => Some(Reporter::bars()),
        (false, false) => Some(Reporter::lines()),
    };
    let (tx, rx) = mpsc::channel::<Event>();
    let (ui_tx, ui_rx) = mpsc::sync_channel::<Event>(10_000);
    let consumer = std::thread::spawn(move || {
        for event in rx {
            let _ = log.append(&event);
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
        run_with_tui(&session, tx, ui_rx, forced)?
    } else {
        drop(ui_rx);
        let result = session.run_once(&tx, forced, all);
        drop(tx);
        result
    };
    let log_path = consumer.join().map_err(|_| anyhow::anyhow!("the event reporter panicked"))?;
    // The summary goes to stderr even when stdout was closed; a run's own
    // failure outranks the lost output in the exit code.
    let printed = print_reports(&session, &outcomes);
    print_outcomes(&session.plan, &outcomes);
    note(format_args!("run log: {}", log_path.display()));
    match status.as_str() {
        "cancelled" => Ok(130),
        "failed" => Ok(1),
        _ => printed.map(|()| 0).map_err(Into::into),
    }
}

/// Runs the pipeline on a worker thread while the TUI shows it; the TUI's
/// controls cancel stages or queue forced re-runs. Quitting cancels what runs.
fn run_with_tui(
    session: &Arc<Session>,
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
    let shown = tui::run(&session.label, ui_rx, Some(ctl_tx));
    // The TUI has quit: stop what still runs, then wait for the worker.
    session.cancel.all.store(true, Ordering::SeqCst);
    let _ = dispatcher.join();
    let (status, outcomes) = worker.join().map_err(|_| anyhow::anyhow!("the scheduler thread panicked"))?;
    shown?;
    Ok((status, outcomes))
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

/// First Ctrl-C: cancel cooperatively. Second: exit now.
fn install_interrupt(cancel: Arc<CancelFlags>) {
    let _ = ctrlc::set_handler(move || {
        if cancel.all.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: stopping running stages (Ctrl-C again to exit at once)");
    });
}

fn print_outcomes(plan: &Plan, outcomes: &[Outcome]) {
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
    note(format_args!("{} stages: {computed} computed, {cached} cached, {other} not done", plan.stages.len()));
}
