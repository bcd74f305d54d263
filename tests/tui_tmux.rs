//! End to end: the real binary in tmux. `quench run` shows the stage list and
//! finishes, `quench watch` draws a chart from a run log, keys work, `q` quits
//! and the terminal is back in cooked mode afterwards. Needs tmux (.ci/run
//! installs it).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

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
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(needle) {
                return screen;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "`{needle}` never appeared:\n{screen}");
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
    assert!(screen.contains("Stages") && screen.contains("inst[instance=1]"), "{screen}");
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
