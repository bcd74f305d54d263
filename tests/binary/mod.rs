//! Driving the real binary from integration tests: run `quench --cache DIR
//! ARGS` to completion with its output captured (a run that does not finish in
//! five minutes is killed and fails the test), and small file helpers.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// How long one invocation may take before the test fails.
const LIMIT: Duration = Duration::from_secs(300);

/// `quench --cache CACHE ARGS` with standard input closed.
pub fn command(cache: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quench"));
    cmd.arg("--cache").arg(cache).args(args).stdin(Stdio::null());
    cmd
}

/// Runs `quench --cache CACHE ARGS` to completion.
pub fn quench(cache: &Path, args: &[&str]) -> Output {
    quench_env(cache, args, &[])
}

/// As `quench`, with extra environment variables.
pub fn quench_env(cache: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = command(cache, args);
    cmd.envs(env.iter().copied());
    finish(cmd, &format!("{args:?}"))
}

/// Spawns `cmd` with captured output and waits for it.
pub fn finish(mut cmd: Command, what: &str) -> Output {
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("binary runs");
    wait_output(child, what)
}

/// Collects a spawned child's captured output while waiting for it.
pub fn wait_output(mut child: Child, what: &str) -> Output {
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        out.read_to_end(&mut buf).ok();
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        err.read_to_end(&mut buf).ok();
        buf
    });
    let status = wait(&mut child, what);
    Output { status, stdout: reader.join().unwrap(), stderr: err_reader.join().unwrap() }
}

/// Waits for a child, killing it (and failing the test) past the limit.
pub fn wait(child: &mut Child, what: &str) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > LIMIT {
            child.kill().ok();
            panic!("quench {what} did not finish in {} s", LIMIT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Standard output then standard error, as text.
pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Writes `body` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}
