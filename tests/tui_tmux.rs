//! End to end: the real binary in tmux. `quench run` shows the stage list and
//! finishes, `quench watch` draws a chart from a run log, keys work, `q` quits
//! and the terminal is back in cooked mode afterwards. A hang-up (the tmux
//! session killed, as a dropped SSH connection) leaves the run going to
//! `run_finished` and `watch` re-attaches; a SIGKILLed run is shown dead by
//! `watch` and `status` and the next run takes its stages over; a diffusion
//! stage with `samples = batch` reports progress at least every 2 s. Needs
//! tmux (.ci/run installs it); without it the tests say so and pass.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use quench::engine::{Event, EventBody};

/// False (with a message) when tmux is not installed.
fn have_tmux() -> bool {
    let ok = Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipping: tmux is not installed (.ci/run installs it)");
    }
    ok
}

struct Session(String);

impl Session {
    fn start(name: &str, dir: &Path, command: &str) -> Session {
        let status = Command::new("tmux")
            .args(["new-session", "-d", "-s", name, "-x", "80", "-y", "24", "-c"])
            .arg(dir)
            .arg(command)
            .status()
            .expect("tmux is installed (.ci/run installs it)");
        assert!(status.success());
        Session(name.to_string())
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux").args(["capture-pane", "-p", "-t", &self.0]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, needle: &str) -> String {
        self.wait_long(needle, 30)
    }

    fn wait_long(&self, needle: &str, seconds: u64) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(needle) {
                return screen;
            }
            assert!(start.elapsed() < Duration::from_secs(seconds), "`{needle}` never appeared:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            Command::new("tmux").args(["send-keys", "-t", &self.0, key]).status().unwrap();
            std::thread::sleep(Duration::from_millis(150));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.0]).status();
    }
}

fn shell(binary: &str, args: &str) -> String {
    // After quench exits, print its code and whether the tty is back in canonical mode.
    format!("{binary} {args}; echo EXITED=$?; stty -a | grep -o -- '-\\?icanon' | sed 's/^/TTY:/'; sleep 30")
}

#[test]
fn run_and_watch_in_tmux() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let binary = env!("CARGO_BIN_EXE_quench");
    std::fs::write(
        dir.path().join("p.toml"),
        "[stage.inst]\nkind = \"disorder.spiked-tensor\"\nn = 60\ntemperature = 0.8\n[sweep]\n\"inst.instance\" = [0, 1]\n",
    )
    .unwrap();
    let tag = std::process::id();
    let run = Session::start(&format!("quench-run-{tag}"), dir.path(), &shell(binary, "--cache c run p.toml"));
    let screen = run.wait_for("run ok");
    assert!(screen.contains("Stages") && screen.contains("· inst=1"), "{screen}");
    // (A failed assertion kills the session: the process must not outlive it, see the hang-up test.)
    run.keys(&["?"]);
    run.wait_for("any key closes this help");
    run.keys(&["x", "q"]);
    let screen = run.wait_for("EXITED=");
    assert!(screen.contains("EXITED=0"), "{screen}");
    assert!(run.wait_for("TTY:").contains("TTY:icanon"), "terminal left in raw mode:\n{}", run.screen());

    // A run log with traces, replayed by `quench watch`.
    let runs = dir.path().join("c/runs/recorded");
    std::fs::create_dir_all(&runs).unwrap();
    let mut log = String::new();
    let line = |body: serde_json::Value| format!("{body}\n");
    log += &line(
        serde_json::json!({"time": 1.0, "stage": "demo", "event": "run_started", "run_id": "recorded", "pipeline": "p.toml", "stages": 1}),
    );
    log += &line(
        serde_json::json!({"time": 1.0, "stage": "chain", "event": "queued", "kind": "sample.metropolis", "key": "ab".repeat(32), "inputs": []}),
    );
    log += &line(serde_json::json!({"time": 1.1, "stage": "chain", "event": "started"}));
    for k in 0..50 {
        let y = -0.6 - 0.1 * (k as f64 / 10.0).tanh();
        log += &line(
            serde_json::json!({"time": 1.2, "stage": "chain", "event": "trace", "series": "energy/chain mean", "x": k, "y": y}),
        );
    }
    log += &line(
        serde_json::json!({"time": 2.0, "stage": "chain", "event": "finished", "cached": false, "artifact_hash": "cd".repeat(32), "wall_ms": 900}),
    );
    log += &line(serde_json::json!({"time": 2.0, "stage": "demo", "event": "run_finished", "status": "ok"}));
    log += "{\"time\": 2.1, \"stage\": \"demo\", \"ev"; // a truncated last line is ignored
    std::fs::write(runs.join("events.jsonl"), log).unwrap();
    let watch = Session::start(&format!("quench-watch-{tag}"), dir.path(), &shell(binary, "--cache c watch recorded"));
    watch.wait_for("run ok");
    watch.keys(&["Tab"]);
    let screen = watch.wait_for("chain mean");
    assert!(screen.contains("energy") && screen.contains('│'), "{screen}");
    watch.keys(&["c"]);
    assert!(watch.wait_for("read-only").contains("watching a run log"));
    watch.keys(&["q"]);
    assert!(watch.wait_for("EXITED=").contains("EXITED=0"));
    assert!(watch.wait_for("TTY:").contains("TTY:icanon"));
}

/// The events of a run log (complete lines).
fn events(path: &Path) -> Vec<Event> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// The run log `latest` points at, once it exists.
fn latest_log(cache: &Path) -> std::path::PathBuf {
    let start = Instant::now();
    loop {
        if let Ok(id) = std::fs::read_to_string(cache.join("runs/latest")) {
            let path = cache.join("runs").join(id.trim()).join("events.jsonl");
            if path.exists() {
                return path;
            }
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no run log appeared");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until an event of the log matches.
fn wait_event(path: &Path, seconds: u64, what: &str, pred: impl Fn(&Event) -> bool) -> Vec<Event> {
    let start = Instant::now();
    loop {
        let all = events(path);
        if all.iter().any(&pred) {
            return all;
        }
        assert!(start.elapsed() < Duration::from_secs(seconds), "no {what} in {} within {seconds} s", path.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A pipeline whose diffusion stage runs several seconds, all its
/// trajectories in one batch (`samples = batch`); `step_error = 0` keeps the
/// fixed fine grid, so its length does not hang on how fast AMP converges.
const SLOW: &str =
    "[pipeline]\nname = \"slow\"\n[stage.inst]\nkind = \"disorder.spiked-tensor\"\nn = 40\ntemperature = 0.71\n\
[stage.sl]\nkind = \"sample.diffusion\"\ninputs = [\"inst\"]\nsamples = 4\nbatch = 4\ndt = 0.001\nstep_error = 0\n";

fn quench(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_quench")).current_dir(dir).args(args).output().unwrap()
}

#[test]
fn a_hang_up_leaves_the_run_going_and_watch_reattaches() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.toml"), SLOW).unwrap();
    let binary = env!("CARGO_BIN_EXE_quench");
    let tag = std::process::id();
    let run = Session::start(&format!("quench-hup-{tag}"), dir.path(), &format!("{binary} --cache c run p.toml"));
    run.wait_for("Stages");
    let log = latest_log(&dir.path().join("c"));
    wait_event(&log, 60, "started diffusion", |e| e.stage == "sl" && e.body == EventBody::Started);
    // The terminal goes away (tmux sends SIGHUP, as sshd does on a dropped connection).
    drop(run);
    let all = wait_event(&log, 600, "run_finished", |e| matches!(e.body, EventBody::RunFinished { .. }));
    let last = all.iter().rev().find(|e| !matches!(e.body, EventBody::Heartbeat)).unwrap();
    assert_eq!(last.body, EventBody::RunFinished { status: "ok".into() }, "the run did not finish ok");
    assert!(
        all.iter().any(|e| e.stage == "sl" && matches!(e.body, EventBody::Finished { cached: false, .. })),
        "the diffusion stage was not computed to the end"
    );
    let output = std::fs::read_to_string(log.with_file_name("output.log")).unwrap_or_default();
    assert!(output.contains("hung up"), "output.log: {output}");
    // And the process then exits (it used to spin on the dead terminal's input).
    let pid = all
        .iter()
        .find_map(|e| match &e.body {
            EventBody::RunStarted { pid, .. } => Some(*pid),
            _ => None,
        })
        .unwrap();
    let start = Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists() {
        assert!(start.elapsed() < Duration::from_secs(30), "the detached run (pid {pid}) never exited");
        std::thread::sleep(Duration::from_millis(100));
    }
    let watch =
        Session::start(&format!("quench-hup-watch-{tag}"), dir.path(), &shell(binary, "--cache c watch latest"));
    let screen = watch.wait_for("run ok");
    assert!(screen.contains("sl") && screen.contains("2/2 done"), "{screen}");
    watch.keys(&["q"]);
    assert!(watch.wait_for("EXITED=").contains("EXITED=0"));
}

#[test]
fn a_killed_run_is_dead_for_watch_and_status_and_the_next_run_takes_over() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.toml"), SLOW).unwrap();
    let binary = env!("CARGO_BIN_EXE_quench");
    let tag = std::process::id();
    let _run =
        Session::start(&format!("quench-kill-{tag}"), dir.path(), &format!("{binary} --cache c run p.toml; sleep 60"));
    let log = latest_log(&dir.path().join("c"));
    let all = wait_event(&log, 60, "started diffusion", |e| e.stage == "sl" && e.body == EventBody::Started);
    let pid = all
        .iter()
        .find_map(|e| match &e.body {
            EventBody::RunStarted { pid, .. } => Some(*pid),
            _ => None,
        })
        .expect("run_started records the pid");
    assert!(Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap().success());
    let start = Instant::now();
    while quench::engine::runlog::pid_alive(pid) {
        assert!(start.elapsed() < Duration::from_secs(30), "pid {pid} survived SIGKILL");
        std::thread::sleep(Duration::from_millis(50));
    }
    // `status` names the dead run at once (its pid is gone) and the stale locks.
    let status = quench(dir.path(), &["--cache", "c", "status", "p.toml"]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains("dead") && text.contains(&format!("pid {pid}")), "{text}");
    assert!(text.contains("stale lock"), "{text}");
    // `watch` (TUI) shows it dead, its clock stopped, once the heartbeats are overdue.
    let watch =
        Session::start(&format!("quench-kill-watch-{tag}"), dir.path(), &shell(binary, "--cache c watch latest"));
    let screen = watch.wait_long("DEAD", 40);
    assert!(screen.contains("stalled"), "{screen}");
    watch.keys(&["q"]);
    assert!(watch.wait_for("EXITED=").contains("EXITED=0"));
    // `watch` in plain lines ends, saying so.
    let lines = quench(dir.path(), &["--cache", "c", "watch", "latest"]);
    assert_eq!(lines.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&lines.stderr).contains("the run is dead"));
    // The next run takes the stage over (no waiting on the dead run's lock) and finishes.
    let next = quench(dir.path(), &["--cache", "c", "run", "p.toml"]);
    assert!(next.status.success(), "{}", String::from_utf8_lossy(&next.stderr));
    let log = latest_log(&dir.path().join("c"));
    let all = events(&log);
    assert!(!all.iter().any(|e| matches!(&e.body, EventBody::Log { message, .. } if message.contains("another run"))));
    assert!(all.iter().any(|e| e.stage == "sl" && matches!(e.body, EventBody::Finished { cached: false, .. })));
    let status = quench(dir.path(), &["--cache", "c", "status", "p.toml"]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains("dead"), "the killed run stays listed as dead: {text}");
}

/// The case: a diffusion stage with `samples = batch` used to send no
/// progress from start to finish. Gaps between progress events in the run
/// log are now at most 2 s (a step of this stage takes milliseconds).
#[test]
fn diffusion_with_one_batch_reports_progress_every_2_s() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.toml"), SLOW).unwrap();
    let out = quench(dir.path(), &["--cache", "c", "run", "p.toml"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let all = events(&latest_log(&dir.path().join("c")));
    let times = |pred: &dyn Fn(&EventBody) -> bool| {
        all.iter().filter(|e| e.stage == "sl" && pred(&e.body)).map(|e| e.time).collect::<Vec<f64>>()
    };
    let start = times(&|b| *b == EventBody::Started)[0];
    let end = times(&|b| matches!(b, EventBody::Finished { .. }))[0];
    let mut marks = vec![start];
    marks.extend(times(&|b| matches!(b, EventBody::Progress { .. })));
    marks.push(end);
    let gap = marks.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    assert!(gap <= 2.0, "progress gap of {gap:.2} s over a {:.1} s stage", end - start);
    assert!(marks.len() > 10, "{} progress events", marks.len() - 2);
}
