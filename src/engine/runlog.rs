//! The append-only run log `DIR/runs/<run-id>/events.jsonl`, flushed after each
//! event so another process (`quench watch`) can follow it while it grows; and
//! the reader that tolerates a truncated last line.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::events::Event;
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
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("no run log {}", path.display()))
    }
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
/// once after `quiet` without new bytes (the writer may be gone).
pub fn follow(
    path: &Path,
    quiet: std::time::Duration,
    mut on_quiet: impl FnMut(),
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
            on_quiet();
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
