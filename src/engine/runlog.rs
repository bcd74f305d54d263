//! The append-only run log `DIR/runs/<run-id>/events.jsonl`, flushed after each
//! event so another process (`quench watch`) can follow it while it grows; the
//! reader that tolerates a truncated last line and refuses files that are not
//! run logs; and the liveness of a run (its writer's pid and host, heartbeats),
//! so a killed run is shown as dead rather than running forever.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::events::{Event, EventBody, STALE_AFTER};
use super::store::CacheError;

pub struct RunLog {
    writer: BufWriter<File>,
    pub path: PathBuf,
}

/// A new run id: UTC time plus process id, sortable.
pub fn new_run_id() -> String {
    let secs = super::record::now();
    let whole = secs as u64;
    let (days, rem) = (whole / 86400, whole % 86400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}-{:03}-{}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        ((secs.fract()) * 1000.0) as u32,
        std::process::id()
    )
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

impl RunLog {
    /// Creates `runs/<run_id>/events.jsonl` and points `runs/latest` at it.
    pub fn create(cache_root: &Path, run_id: &str) -> Result<RunLog, CacheError> {
        let dir = cache_root.join("runs").join(run_id);
        let err = |action, path: &Path| {
            let path = path.to_path_buf();
            move |source| CacheError::Io { action, path, source }
        };
        fs::create_dir_all(&dir).map_err(err("creating", &dir))?;
        let path = dir.join("events.jsonl");
        let file = File::create(&path).map_err(err("creating", &path))?;
        let latest = cache_root.join("runs").join("latest");
        let tmp = cache_root.join("runs").join(format!(".latest.{}", std::process::id()));
        if fs::write(&tmp, run_id).is_ok() {
            let _ = fs::rename(&tmp, &latest);
        }
        Ok(RunLog { writer: BufWriter::new(file), path })
    }

    /// Appends one event and flushes it to the file.
    pub fn append(&mut self, event: &Event) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.writer, event)?;
        self.writer.write_all(b"\n")?;
        self.writer.flush()
    }
}

/// The run id `latest` refers to, or the given id, checked to exist.
pub fn resolve_run(cache_root: &Path, run: &str) -> Result<PathBuf, String> {
    let runs = cache_root.join("runs");
    let id = if run == "latest" {
        fs::read_to_string(runs.join("latest"))
            .map_err(|_| format!("no runs recorded in {}", runs.display()))?
            .trim()
            .to_string()
    } else {
        run.to_string()
    };
    let path = runs.join(&id).join("events.jsonl");
    if !path.exists() {
        return Err(format!("no run log {}", path.display()));
    }
    check_run_log(&path)?;
    Ok(path)
}

/// Bytes of a log's head read to decide whether it is a run log at all.
const HEAD: u64 = 1 << 20;

/// Refuses a file that is not a run log (binary bytes, or a first line that is
/// not an event); an empty file or a first line still being written is fine.
pub fn check_run_log(path: &Path) -> Result<(), String> {
    use std::io::Read;
    let mut head = Vec::new();
    File::open(path)
        .and_then(|f| f.take(HEAD).read_to_end(&mut head))
        .map_err(|e| format!("reading {}: {e}", path.display()))?;
    let not_log = |why: String| {
        Err(format!("{} is not a run log: {why} (a run log holds one JSON event a line)", path.display()))
    };
    if head.contains(&0) {
        return not_log("it holds binary data".into());
    }
    let Some(end) = head.iter().position(|&b| b == b'\n') else {
        return if head.len() as u64 >= HEAD {
            not_log(format!("no line ends in its first {HEAD} bytes"))
        } else {
            Ok(())
        };
    };
    let first = String::from_utf8_lossy(&head[..end]);
    match serde_json::from_str::<Event>(first.trim()) {
        Ok(_) => Ok(()),
        Err(e) => not_log(format!("line 1 is not an event ({e})")),
    }
}

/// The name of this machine, as run logs record it.
pub fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| fs::read_to_string(p).ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// Whether process `pid` exists on this machine and has not exited (a
/// killed process waiting to be reaped, a zombie, counts as dead).
pub fn pid_alive(pid: u32) -> bool {
    let Ok(raw) = libc::pid_t::try_from(pid) else { return false };
    // SAFETY: signal 0 only checks that the process exists; no signal is sent.
    let rc = unsafe { libc::kill(raw, 0) };
    let exists = rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    exists && !is_zombie(pid)
}

/// `/proc/PID/stat` says state `Z` (false where there is no /proc).
fn is_zombie(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    // The state follows the parenthesised command name, which may itself hold ') '.
    stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z'))
}

/// What a run log says about its run.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    /// `run_finished` was written: `ok`, `failed` or `cancelled`.
    Finished(String),
    /// The writer is alive (or on another host and heartbeating).
    Live { pid: u32, host: String },
    /// The writer is gone or silent: it will never finish this log.
    Dead { why: String },
}

impl RunState {
    pub fn label(&self) -> &str {
        match self {
            RunState::Finished(status) => status,
            RunState::Live { .. } => "running",
            RunState::Dead { .. } => "dead",
        }
    }
}

/// The writer and the last event of a log: reads its head and its tail only.
pub fn run_state(path: &Path, now: f64) -> std::io::Result<RunState> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut head = Vec::new();
    (&mut file).take(1 << 16).read_to_end(&mut head)?;
    let writer = parse_lines(&String::from_utf8_lossy(&head)).0.into_iter().find_map(|e| match e.body {
        EventBody::RunStarted { pid, host, .. } => Some((pid, host)),
        _ => None,
    });
    let start = len.saturating_sub(1 << 16);
    file.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail)?;
    let tail = String::from_utf8_lossy(&tail);
    // Drop a partial first line when the tail starts mid-file.
    let tail = if start > 0 { tail.split_once('\n').map_or("", |(_, rest)| rest) } else { &tail };
    let events = parse_lines(tail).0;
    if let Some(EventBody::RunFinished { status }) = events
        .iter()
        .rev()
        .map(|e| &e.body)
        .find(|b| matches!(b, EventBody::RunFinished { .. } | EventBody::RunStarted { .. }))
    {
        return Ok(RunState::Finished(status.clone()));
    }
    Ok(liveness(
        writer,
        events.iter().map(|e| e.time).fold(None, |a: Option<f64>, t| Some(a.map_or(t, |a| a.max(t)))),
        now,
    ))
}

/// Judges a run that has not finished from its writer and its last event time.
pub fn liveness(writer: Option<(u32, String)>, last: Option<f64>, now: f64) -> RunState {
    let silent = last.map(|t| now - t);
    match writer {
        Some((pid, host)) if pid != 0 && host == host_name() && !pid_alive(pid) => {
            RunState::Dead { why: format!("its writer (pid {pid} on {host}) is gone") }
        }
        Some((pid, host)) if silent.is_none_or(|s| s <= STALE_AFTER) => RunState::Live { pid, host },
        _ => match silent {
            Some(s) if s > STALE_AFTER => RunState::Dead {
                why: format!("no heartbeat for {}", crate::report::progress::format_ms((s * 1000.0) as u64)),
            },
            _ => RunState::Dead { why: "no writer recorded".into() },
        },
    }
}

/// Runs under `DIR/runs` that did not finish, with their state (live or dead), oldest first.
pub fn unfinished_runs(cache_root: &Path) -> Vec<(String, RunState)> {
    let Ok(dir) = fs::read_dir(cache_root.join("runs")) else { return Vec::new() };
    let now = super::record::now();
    let mut runs: Vec<(String, RunState)> = dir
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| {
            let id = e.file_name().to_string_lossy().into_owned();
            let state = run_state(&e.path().join("events.jsonl"), now).ok()?;
            (!matches!(state, RunState::Finished(_))).then_some((id, state))
        })
        .collect();
    runs.sort_by(|a, b| a.0.cmp(&b.0));
    runs
}

/// One line per run that did not finish: live ones with their writer, dead
/// ones with why, and the stale lock files dead runs left (not held by anyone:
/// the next run that needs those stages takes them over).
pub fn unfinished_lines(cache_root: &Path) -> Vec<String> {
    let runs = unfinished_runs(cache_root);
    let mut lines: Vec<String> = runs
        .iter()
        .map(|(id, state)| match state {
            RunState::Live { pid, host } => format!("run {id}: running (pid {pid} on {host})"),
            RunState::Dead { why } => format!("run {id}: dead, {why}; it will never finish"),
            RunState::Finished(status) => format!("run {id}: {status}"),
        })
        .collect();
    if runs.iter().any(|(_, s)| matches!(s, RunState::Dead { .. })) {
        let stale = stale_locks(cache_root);
        if stale > 0 {
            lines.push(format!("{stale} stale lock files (held by no process): the next run takes them over"));
        }
    }
    lines
}

/// Why the run of this log is dead, if it is.
pub fn dead_reason(path: &Path) -> Option<String> {
    match run_state(path, super::record::now()) {
        Ok(RunState::Dead { why }) => Some(why),
        _ => None,
    }
}

/// Lock files under `DIR/locks` that no process holds: left by dead runs; the
/// next run that needs the stage takes the lock over (the OS released it).
pub fn stale_locks(cache_root: &Path) -> usize {
    let Ok(dir) = fs::read_dir(cache_root.join("locks")) else { return 0 };
    dir.filter_map(|e| e.ok())
        .filter(|e| File::options().write(true).open(e.path()).is_ok_and(|f| f.try_lock().is_ok()))
        .count()
}

/// Parses the complete lines of a run log; a partial last line (no newline yet)
/// is left for the next read, and undecodable lines are skipped and counted.
pub fn parse_lines(buffer: &str) -> (Vec<Event>, usize, usize) {
    let complete = buffer.rfind('\n').map_or(0, |i| i + 1);
    let mut skipped = 0;
    let events = buffer[..complete]
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let e = serde_json::from_str(l).ok();
            skipped += usize::from(e.is_none());
            e
        })
        .collect();
    (events, complete, skipped)
}

/// Reads a run log from the start and keeps following it as it grows,
/// handing each event to `sink` until `sink` breaks. `on_quiet` is called
/// once after `quiet` without new bytes (the writer may be gone) and stops
/// the follow when it breaks.
pub fn follow(
    path: &Path,
    quiet: std::time::Duration,
    mut on_quiet: impl FnMut() -> std::ops::ControlFlow<()>,
    mut sink: impl FnMut(Event) -> std::ops::ControlFlow<()>,
) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = File::open(path)?;
    let (mut buffer, mut offset) = (String::new(), 0u64);
    let mut quiet_since = std::time::Instant::now();
    let mut warned = false;
    loop {
        file.seek(SeekFrom::Start(offset))?;
        let mut chunk = Vec::new();
        file.read_to_end(&mut chunk)?;
        if !chunk.is_empty() {
            quiet_since = std::time::Instant::now();
            warned = false;
        }
        offset += chunk.len() as u64;
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        let (events, consumed, _) = parse_lines(&buffer);
        buffer.drain(..consumed);
        for event in events {
            if sink(event).is_break() {
                return Ok(());
            }
        }
        if !warned && quiet_since.elapsed() > quiet {
            if on_quiet().is_break() {
                return Ok(());
            }
            warned = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::events::EventBody;

    #[test]
    fn partial_last_line_is_kept_for_later() {
        // A time that needs all 17 digits: JSON must round-trip it exactly.
        let e = Event { time: 1795883528.1795619, stage: "a".into(), body: EventBody::Started };
        let line = serde_json::to_string(&e).unwrap();
        let buffer = format!("{line}\nnot json\n{}", &line[..10]);
        let (events, consumed, skipped) = parse_lines(&buffer);
        assert_eq!(events, vec![e]);
        assert_eq!(skipped, 1);
        assert_eq!(consumed, line.len() + 10);
    }

    #[test]
    fn run_ids_are_dated() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20785), (2026, 11, 28));
    }
}
