//! What the monitor relies on from the samplers and the run log: progress that
//! moves per step (diffusion, flow, decimation with `samples = batch`, MCMC
//! within a block) without changing a sampled bit, and run logs that say
//! whether their writer is alive.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use quench::amp::{Amp, AmpParams, Precision};
use quench::engine::runlog::{check_run_log, run_state, RunState};
use quench::models::{Disorder, Prior};
use quench::observe::{Observer, Silent};
use quench::samplers::autoregressive::{Decimation, Order};
use quench::samplers::diffusion::{Schedule, StochasticLocalization};
use quench::samplers::flow::{FlowSchedule, StochasticInterpolant};
use quench::samplers::metropolis::{self, MetropolisParams};
use quench::samplers::{Init, Rule};

/// Records progress calls; counts checks for cancellation.
#[derive(Default)]
struct Progress {
    calls: Mutex<Vec<(u64, u64)>>,
    checks: AtomicU64,
}

impl Observer for Progress {
    fn progress(&self, done: u64, total: u64) {
        self.calls.lock().unwrap().push((done, total));
    }
    fn trace(&self, _: &str, _: f64, _: f64) {}
    fn histogram(&self, _: &str, _: &[f64], _: &[u64]) {}
    fn log(&self, _: &str) {}
    fn cancelled(&self) -> bool {
        self.checks.fetch_add(1, Ordering::Relaxed);
        false
    }
}

impl Progress {
    /// Asserts monotone progress ending at `total` with at least `min_calls` reports.
    fn check(&self, total: u64, min_calls: usize, what: &str) {
        let calls = self.calls.lock().unwrap();
        assert!(calls.len() >= min_calls, "{what}: {} progress reports, expected >= {min_calls}", calls.len());
        assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0), "{what}: progress goes back: {calls:?}");
        assert!(calls.iter().all(|c| c.1 == total), "{what}: totals vary");
        assert_eq!(calls.last().unwrap().0, total, "{what}: progress does not reach the total");
    }
}

/// The issue's case: all trajectories in one batch (`samples = batch`) used to
/// report nothing until the end. Now every time step is a report, and the
/// samples are bit-identical to a silent run.
#[test]
fn path_samplers_report_every_step_with_one_batch() {
    let d = Disorder::spiked_tensor(60, Prior::Rademacher, 0.4, 3);
    let amp = Amp::new(&d, Precision::F32, AmpParams::default());
    let schedule = Schedule { dt_fine: 0.02, t_fine: 1.0, t_max: 100.0, geometric_steps: 10, step_error: None };
    let steps = schedule.times().len() as u64;
    let sl = StochasticLocalization { schedule, trajectories: 4, batch: 4, seed: 5 };
    let observed = Progress::default();
    let run = sl.run(&amp, &observed).unwrap();
    observed.check(4 * steps, steps as usize, "diffusion");
    assert_eq!(run, sl.run(&amp, &Silent).unwrap(), "progress changed the samples");

    let flow_schedule = FlowSchedule { ds_fine: 0.02, s_fine: 0.5, s_max: 0.99, geometric_steps: 10 };
    let flow = StochasticInterpolant { schedule: flow_schedule, noise: 0.5, trajectories: 3, batch: 3, seed: 5 };
    let observed = Progress::default();
    let run = flow.run(&amp, &observed).unwrap();
    let grid = flow_schedule.grid().len() as u64;
    observed.check(3 * grid, grid as usize, "flow");
    assert_eq!(run, flow.run(&amp, &Silent).unwrap());

    let decimation = Decimation { order: Order::Random, block: 7, trajectories: 2, batch: 2, seed: 5 };
    let observed = Progress::default();
    let run = decimation.run(&amp, &observed).unwrap();
    let blocks = 60_u64.div_ceil(7);
    observed.check(2 * blocks, blocks as usize, "decimation");
    assert_eq!(run, decimation.run(&amp, &Silent).unwrap());
}

/// Several batches in parallel still add up to one monotone count.
#[test]
fn parallel_batches_add_up() {
    let d = Disorder::spiked_tensor(40, Prior::Rademacher, 0.4, 4);
    let amp = Amp::new(&d, Precision::F32, AmpParams::default());
    let schedule = Schedule { dt_fine: 0.05, t_fine: 1.0, t_max: 10.0, geometric_steps: 5, step_error: None };
    let steps = schedule.times().len() as u64;
    let sl = StochasticLocalization { schedule, trajectories: 7, batch: 2, seed: 1 };
    let observed = Progress::default();
    sl.run(&amp, &observed).unwrap();
    observed.check(7 * steps, (4 * steps) as usize, "batches of 2");
}

/// MCMC reports within a sweep block (the first chain, every sweep), not only
/// between blocks: a 600-sweep run whose block is the whole run moves anyway.
#[test]
fn mcmc_progress_moves_within_a_block() {
    let d = Disorder::spiked_matrix(30, Prior::Rademacher, 0.5, 2);
    let params = MetropolisParams {
        chains: 2,
        sweeps: 600,
        burn_in: 0,
        record_every: 100,
        init: Init::Random,
        rule: Rule::Metropolis,
        precision: quench::samplers::Precision::F64,
    };
    let observed = Progress::default();
    let run = metropolis::run(&d, &params, 7, &observed).unwrap();
    // N = 30: a block is 2^18 / 30^2 > 600 sweeps, so all of it is one block.
    observed.check(600, 300, "metropolis");
    assert_eq!(run, metropolis::run(&d, &params, 7, &Silent).unwrap());
}

fn write(dir: &std::path::Path, text: &[u8]) -> std::path::PathBuf {
    let path = dir.join("events.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn garbage_and_binary_files_are_not_run_logs() {
    let dir = tempfile::tempdir().unwrap();
    for (text, why) in [
        (&b"hello world\nmore\n"[..], "line 1 is not an event"),
        (&b"\x00\x01\x02\xff\xfe binary"[..], "binary"),
        (&b"{\"time\": 1, \"stage\": \"x\", \"event\": \"no_such_event\"}\n"[..], "line 1 is not an event"),
    ] {
        let err = check_run_log(&write(dir.path(), text)).unwrap_err();
        assert!(err.contains("is not a run log") && err.contains(why), "{err}");
    }
    // Empty (a run just created its log) and a first line still being written are fine.
    check_run_log(&write(dir.path(), b"")).unwrap();
    check_run_log(&write(dir.path(), b"{\"time\": 1")).unwrap();
}

#[test]
fn run_states_from_writer_and_heartbeats() {
    let dir = tempfile::tempdir().unwrap();
    let host = quench::engine::runlog::host_name();
    let started = |pid: u32, host: &str| {
        format!(
            "{{\"time\": 100.0, \"stage\": \"p\", \"event\": \"run_started\", \"run_id\": \"r\", \"pipeline\": \"p.toml\", \"stages\": 1, \"pid\": {pid}, \"host\": \"{host}\"}}\n"
        )
    };
    let beat = "{\"time\": 104.0, \"stage\": \"p\", \"event\": \"heartbeat\"}\n";
    let me = std::process::id();
    // Alive writer, recent heartbeat.
    let path = write(dir.path(), format!("{}{beat}", started(me, &host)).as_bytes());
    assert!(matches!(run_state(&path, 105.0).unwrap(), RunState::Live { .. }));
    // Same writer, silent for a minute: it hangs or lost its disk; shown as dead.
    let state = run_state(&path, 164.0).unwrap();
    assert!(matches!(&state, RunState::Dead { why } if why.contains("no heartbeat")), "{state:?}");
    // A pid that does not exist on this host: dead at once.
    let gone = u32::try_from(i32::MAX).unwrap();
    let path = write(dir.path(), format!("{}{beat}", started(gone, &host)).as_bytes());
    let state = run_state(&path, 105.0).unwrap();
    assert!(matches!(&state, RunState::Dead { why } if why.contains("is gone")), "{state:?}");
    // Another host: judged by heartbeats only.
    let path = write(dir.path(), format!("{}{beat}", started(gone, "elsewhere")).as_bytes());
    assert!(matches!(run_state(&path, 105.0).unwrap(), RunState::Live { .. }));
    // Finished, with a truncated line after it.
    let done = "{\"time\": 105.0, \"stage\": \"p\", \"event\": \"run_finished\", \"status\": \"ok\"}\n{\"ti";
    let path = write(dir.path(), format!("{}{beat}{done}", started(gone, &host)).as_bytes());
    assert_eq!(run_state(&path, 1e9).unwrap(), RunState::Finished("ok".into()));
}

/// A pipeline whose diffusion stage runs for about 20 s (fixed fine grid,
/// `step_error = 0`): well past `TERM_GRACE` (5 s), so a run waiting on its
/// lock is still waiting when the grace period ends. Every test here stops it early.
const SLOW: &str =
    "[pipeline]\nname = \"slow\"\n[stage.inst]\nkind = \"disorder.spiked-tensor\"\nn = 40\ntemperature = 0.71\n\
[stage.sl]\nkind = \"sample.diffusion\"\ninputs = [\"inst\"]\nsamples = 4\nbatch = 4\ndt = 0.0001\nstep_error = 0\n";

fn spawn_run(dir: &std::path::Path) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_quench"))
        .current_dir(dir)
        .args(["--cache", "c", "run", "p.toml", "--headless"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a line containing `needle` in the newest run log under `c/runs`
/// other than `skip`; returns that log's path.
fn wait_log(dir: &std::path::Path, needle: &str, skip: Option<&std::path::Path>) -> std::path::PathBuf {
    let start = std::time::Instant::now();
    loop {
        let logs = std::fs::read_dir(dir.join("c/runs")).into_iter().flatten().flatten();
        for entry in logs {
            let path = entry.path().join("events.jsonl");
            if Some(path.as_path()) != skip && std::fs::read_to_string(&path).is_ok_and(|t| t.contains(needle)) {
                return path;
            }
        }
        assert!(start.elapsed().as_secs() < 120, "`{needle}` never appeared in a run log");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Waits for the child to exit (at most `seconds`, a liveness bound far above
/// the expected time, not a performance claim).
fn exit_within(child: &mut std::process::Child, seconds: u64) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed().as_secs() >= seconds {
            let _ = child.kill();
            panic!("the run did not end within {seconds} s of the signal");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn signal(child: &std::process::Child, name: &str) {
    let ok = std::process::Command::new("kill").args([&format!("-{name}"), &child.id().to_string()]).status();
    assert!(ok.unwrap().success());
}

/// Issue 9 item 6: `timeout`'s SIGTERM did not end a run. Now SIGTERM cancels
/// (the log ends with `run_finished` cancelled, exit 130)...
#[test]
fn sigterm_ends_a_run_and_its_log() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.toml"), SLOW).unwrap();
    let mut child = spawn_run(dir.path());
    let log = wait_log(dir.path(), "\"stage\":\"sl\",\"event\":\"started\"", None);
    signal(&child, "TERM");
    let status = exit_within(&mut child, 30);
    assert_eq!(status.code(), Some(130));
    let text = std::fs::read_to_string(&log).unwrap();
    let last = text.lines().rev().find(|l| !l.contains("heartbeat")).unwrap();
    assert!(last.contains("run_finished") && last.contains("cancelled"), "{last}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.lines().last().unwrap().starts_with("run cancelled"), "{stderr}");
}

/// ... and ends the process even when the run cannot stop by itself: here it
/// waits on a stage lock another run holds (a blocking `flock`).
#[test]
fn sigterm_ends_a_run_stuck_on_a_lock() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.toml"), SLOW).unwrap();
    let mut holder = spawn_run(dir.path());
    let first = wait_log(dir.path(), "\"stage\":\"sl\",\"event\":\"started\"", None);
    let mut waiter = spawn_run(dir.path());
    wait_log(dir.path(), "another run is computing this stage", Some(&first));
    signal(&waiter, "TERM");
    let status = exit_within(&mut waiter, 30);
    assert_eq!(status.code(), Some(143), "exits by the SIGTERM grace period");
    assert!(holder.try_wait().unwrap().is_none(), "the other run goes on");
    let _ = holder.kill();
    let _ = holder.wait();
}

/// An external SIGINT cancels cleanly: exit 130, the log ends cancelled.
#[test]
fn sigint_cancels_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.toml"), SLOW).unwrap();
    let mut child = spawn_run(dir.path());
    let log = wait_log(dir.path(), "\"stage\":\"sl\",\"event\":\"started\"", None);
    signal(&child, "INT");
    assert_eq!(exit_within(&mut child, 30).code(), Some(130));
    assert!(std::fs::read_to_string(&log).unwrap().contains("\"status\":\"cancelled\""));
}

fn quench(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_quench")).current_dir(dir).args(args).output().unwrap()
}

/// Issue 9 item 9: `watch` on a garbage or binary `events.jsonl` waited
/// forever; now it refuses at once (exit 2) naming the file.
#[test]
fn watch_refuses_files_that_are_not_run_logs() {
    let dir = tempfile::tempdir().unwrap();
    for (id, bytes) in [("garbage", &b"this is not json\n"[..]), ("binary", &[0u8, 159, 146, 150, 10, 0][..])] {
        let run = dir.path().join("c/runs").join(id);
        std::fs::create_dir_all(&run).unwrap();
        std::fs::write(run.join("events.jsonl"), bytes).unwrap();
        let out = quench(dir.path(), &["--cache", "c", "watch", id]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("is not a run log") && stderr.contains(id), "{stderr}");
    }
}

/// Issue 9 item 9: replays of old runs showed negative times (`-104.75s`).
#[test]
fn watch_replays_an_old_run_from_zero() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("c/runs/old");
    std::fs::create_dir_all(&run).unwrap();
    let log = [
        r#"{"time": 1000.0, "stage": "p", "event": "run_started", "run_id": "old", "pipeline": "p.toml", "stages": 1}"#,
        r#"{"time": 1000.5, "stage": "a", "event": "started"}"#,
        r#"{"time": 1104.75, "stage": "a", "event": "finished", "cached": false, "artifact_hash": "abcdef0123456789", "wall_ms": 104250}"#,
        r#"{"time": 1104.75, "stage": "p", "event": "run_finished", "status": "ok"}"#,
    ];
    std::fs::write(run.join("events.jsonl"), log.join("\n") + "\n").unwrap();
    let out = quench(dir.path(), &["--cache", "c", "watch", "old"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("-1") && stdout.lines().next().unwrap().trim_start().starts_with("0.00s"), "{stdout}");
    assert!(stdout.contains("104.75s"), "{stdout}");
}

/// `run --detach` returns at once with the run id; the run finishes in the
/// background and `watch ID` follows it to the end.
#[test]
fn a_detached_run_finishes_and_can_be_watched() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = "[stage.inst]\nkind = \"disorder.spiked-tensor\"\nn = 30\ntemperature = 0.8\n";
    std::fs::write(dir.path().join("p.toml"), pipeline).unwrap();
    let out = quench(dir.path(), &["--cache", "c", "run", "p.toml", "--detach"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = stdout.split_whitespace().nth(1).unwrap().to_string();
    assert!(stdout.contains(&format!("watch {id}")), "{stdout}");
    let watched = quench(dir.path(), &["--cache", "c", "watch", &id]);
    let text = String::from_utf8_lossy(&watched.stdout);
    assert!(watched.status.success() && text.contains("run ok"), "{text}");
    let output = std::fs::read_to_string(dir.path().join("c/runs").join(&id).join("output.log")).unwrap();
    assert!(output.contains("run ok"), "{output}");
    // A pipeline error is reported at once, before anything starts.
    std::fs::write(dir.path().join("bad.toml"), "[stage.x]\nkind = \"nope\"\n").unwrap();
    assert_eq!(quench(dir.path(), &["--cache", "c", "run", "bad.toml", "--detach"]).status.code(), Some(2));
}
