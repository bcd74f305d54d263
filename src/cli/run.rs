//! `quench run`: plan, schedule, report, and leave a run log; Ctrl-C cancels
//! cooperatively (exit 130), a second Ctrl-C exits at once.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};

use anyhow::Result;

use super::{load, open_cache, stage_index};
use crate::engine::runlog::{new_run_id, RunLog};
use crate::engine::scheduler::{self, CancelFlags, Outcome, RunOptions};
use crate::engine::{Event, EventBody};
use crate::report::progress::Reporter;
use crate::stages::CatalogExecutor;

pub fn run(path: &Path, cache_dir: &Path, jobs: Option<usize>, force: &[String], headless: bool) -> Result<i32> {
    let (pipeline, plan) = load(path)?;
    let mut forced = vec![false; plan.stages.len()];
    for name in force {
        forced[stage_index(&pipeline, name)?] = true;
    }
    if jobs == Some(0) {
        return Err(super::InvalidInput("--jobs must be at least 1".into()).into());
    }
    let cache = open_cache(cache_dir)?;
    cache.clean_tmp();
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let cancel = Arc::new(CancelFlags::new(plan.stages.len()));
    install_interrupt(cancel.clone());
    let run_id = new_run_id();
    let mut log = RunLog::create(cache.root(), &run_id)?;
    let mut reporter = if headless || !std::io::stdout().is_terminal() { Reporter::lines() } else { Reporter::bars() };
    let (tx, rx) = mpsc::channel::<Event>();
    let consumer = std::thread::spawn(move || {
        for event in rx {
            let _ = log.append(&event);
            reporter.show(&event);
        }
        log.path
    });
    let started = EventBody::RunStarted { run_id, pipeline: path.display().to_string(), stages: plan.stages.len() };
    let _ = tx.send(Event::now(&pipeline.name, started));
    let options = RunOptions { jobs, force: forced, selected: vec![true; plan.stages.len()], cancel: &cancel };
    let outcomes = scheduler::run(&plan, &cache, &CatalogExecutor, &options, &tx);
    let status = if cancel.all.load(Ordering::Relaxed) {
        "cancelled"
    } else if outcomes.iter().any(|o| !matches!(o, Outcome::Cached | Outcome::Computed)) {
        "failed"
    } else {
        "ok"
    };
    let _ = tx.send(Event::now(&pipeline.name, EventBody::RunFinished { status: status.into() }));
    drop(tx);
    let log_path = consumer.join().map_err(|_| anyhow::anyhow!("the event reporter panicked"))?;
    print_outcomes(&plan, &outcomes);
    eprintln!("run log: {}", log_path.display());
    Ok(match status {
        "cancelled" => 130,
        "failed" => 1,
        _ => 0,
    })
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

fn print_outcomes(plan: &crate::engine::Plan, outcomes: &[Outcome]) {
    let (mut cached, mut computed, mut other) = (0, 0, 0);
    for (stage, outcome) in plan.stages.iter().zip(outcomes) {
        match outcome {
            Outcome::Cached => cached += 1,
            Outcome::Computed => computed += 1,
            Outcome::Failed(e) => {
                other += 1;
                eprintln!("stage `{}` failed: {e}", stage.name);
            }
            Outcome::Cancelled(_) | Outcome::NotRun => other += 1,
        }
    }
    eprintln!("{} stages: {computed} computed, {cached} cached, {other} not done", plan.stages.len());
}
