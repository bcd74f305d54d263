//! Headless progress: one plain line per stage event when stdout is not a
//! terminal (logs, CI, nohup), progress bars (indicatif) when it is. Plain
//! lines add a heartbeat line with every running stage's progress at least
//! every `BEAT_LINE` of run time, so a long stage never looks like a dead one.

use std::collections::HashMap;
use std::io::Write;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::engine::{Event, EventBody};

/// Run time between two heartbeat lines of the plain reporter (at most).
pub const BEAT_LINE: f64 = 30.0;

/// Consumes events and shows them.
pub enum Reporter {
    Lines(Lines),
    Bars { multi: MultiProgress, bars: HashMap<String, ProgressBar> },
}

/// The plain-line reporter's state. Times are relative to the first event
/// seen, so replays of old run logs start at 0.
#[derive(Default)]
pub struct Lines {
    start: Option<f64>,
    last_decile: HashMap<String, u64>,
    /// Running stages in start order, with their latest progress.
    running: Vec<(String, Option<(u64, u64)>)>,
    last_beat: f64,
}

impl Lines {
    /// The lines an event adds (possibly none, possibly a heartbeat too).
    pub fn lines(&mut self, event: &Event) -> Vec<String> {
        let start = *self.start.get_or_insert(event.time);
        if self.last_beat < start {
            self.last_beat = start;
        }
        self.track(event);
        let mut out = Vec::new();
        let at = |time: f64, stage: &str, text: &str| format!("{:>8.2}s  {stage:<28} {text}", (time - start).max(0.0));
        if let Some(text) = line(event, &mut self.last_decile) {
            out.push(at(event.time, &event.stage, &text));
        }
        if event.time - self.last_beat >= BEAT_LINE {
            self.last_beat = event.time;
            if !self.running.is_empty() {
                let parts: Vec<String> = self
                    .running
                    .iter()
                    .map(|(name, p)| match p {
                        Some((d, t)) if *t > 0 => format!("{name} {}% ({d}/{t})", d * 100 / t),
                        _ => format!("{name} started"),
                    })
                    .collect();
                out.push(at(event.time, "heartbeat", &parts.join(" · ")));
            }
        }
        out
    }

    fn track(&mut self, event: &Event) {
        let position = self.running.iter().position(|(n, _)| *n == event.stage);
        match (&event.body, position) {
            (EventBody::Started, None) => self.running.push((event.stage.clone(), None)),
            (EventBody::Progress { done, total }, Some(i)) => self.running[i].1 = Some((*done, *total)),
            (EventBody::Finished { .. } | EventBody::Failed { .. } | EventBody::Cancelled { .. }, Some(i)) => {
                self.running.remove(i);
            }
            (EventBody::RunFinished { .. }, _) => self.running.clear(),
            _ => {}
        }
    }
}

impl Reporter {
    pub fn lines() -> Reporter {
        Reporter::Lines(Lines::default())
    }

    pub fn bars() -> Reporter {
        Reporter::Bars { multi: MultiProgress::new(), bars: HashMap::new() }
    }

    pub fn show(&mut self, event: &Event) {
        match self {
            Reporter::Lines(lines) => {
                let mut out = std::io::stdout().lock();
                for text in lines.lines(event) {
                    let _ = writeln!(out, "{text}");
                }
            }
            Reporter::Bars { multi, bars } => show_bar(multi, bars, event),
        }
    }
}

/// The plain line for an event, or None for data events (traces, histograms)
/// and progress that did not cross a 10% step.
fn line(event: &Event, last_decile: &mut HashMap<String, u64>) -> Option<String> {
    Some(match &event.body {
        EventBody::RunStarted { run_id, pipeline, stages, pid, host } => {
            format!("run {run_id}: {pipeline}, {stages} stages (pid {pid} on {host})")
        }
        EventBody::Queued { kind, .. } => format!("queued     {kind}"),
        EventBody::Started => "started".into(),
        EventBody::Progress { done, total } => {
            let decile = if *total == 0 { 10 } else { done * 10 / total };
            let last = last_decile.entry(event.stage.clone()).or_insert(0);
            if decile <= *last {
                return None;
            }
            *last = decile;
            format!("progress   {done}/{total} ({}%)", decile * 10)
        }
        EventBody::Trace { .. } | EventBody::Histogram { .. } | EventBody::Heartbeat | EventBody::Summary { .. } => {
            return None
        }
        EventBody::Log { level, message } => format!("{level:<10} {message}"),
        EventBody::Finished { cached: true, artifact_hash, .. } => {
            format!("cached     {}", artifact_hash.short())
        }
        EventBody::Finished { cached: false, artifact_hash, wall_ms } => {
            format!("computed   {} in {}", artifact_hash.short(), format_ms(*wall_ms))
        }
        EventBody::Failed { error } => format!("FAILED     {error}"),
        EventBody::Cancelled { reason } => format!("cancelled  {reason}"),
        EventBody::RunFinished { status } => format!("run {status}"),
    })
}

fn show_bar(multi: &MultiProgress, bars: &mut HashMap<String, ProgressBar>, event: &Event) {
    let style = ProgressStyle::with_template("{prefix:<28} [{bar:30}] {pos}/{len} {elapsed_precise} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let bar = || {
        let b = multi.add(ProgressBar::new(1));
        b.set_style(style.clone());
        b.set_prefix(event.stage.clone());
        b
    };
    match &event.body {
        EventBody::Queued { .. } => {
            let b = bar();
            b.set_message("queued");
            bars.insert(event.stage.clone(), b);
        }
        EventBody::Started => with(bars, event, |b| {
            b.reset_elapsed();
            b.set_message("running");
        }),
        EventBody::Progress { done, total } => with(bars, event, |b| {
            b.set_length(*total);
            b.set_position(*done);
        }),
        EventBody::Log { message, .. } => with(bars, event, |b| b.set_message(message.clone())),
        EventBody::Finished { cached, wall_ms, .. } => with(bars, event, |b| {
            b.set_position(b.length().unwrap_or(1));
            let how = if *cached { "cached".to_string() } else { format!("computed in {}", format_ms(*wall_ms)) };
            b.finish_with_message(how);
        }),
        EventBody::Failed { error } => with(bars, event, |b| b.abandon_with_message(format!("FAILED: {error}"))),
        EventBody::Cancelled { reason } => {
            with(bars, event, |b| b.abandon_with_message(format!("cancelled: {reason}")))
        }
        _ => {}
    }
}

fn with(bars: &HashMap<String, ProgressBar>, event: &Event, f: impl FnOnce(&ProgressBar)) {
    if let Some(b) = bars.get(&event.stage) {
        f(b);
    }
}

/// "830 ms", "12.4 s", "3 min 05 s".
pub fn format_ms(ms: u64) -> String {
    match ms {
        0..1000 => format!("{ms} ms"),
        1000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {:02} s", ms / 60_000, ms / 1000 % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(stage: &str, time: f64, body: EventBody) -> Event {
        Event { time, stage: stage.into(), body }
    }

    #[test]
    fn replayed_times_start_at_zero() {
        // An old log replayed now: times are relative to its first event, never negative.
        let mut lines = Lines::default();
        let first = lines.lines(&ev("a", 1_000.0, EventBody::Started));
        let later = lines.lines(&ev("a", 1_104.75, EventBody::Failed { error: "x".into() }));
        assert!(first[0].trim_start().starts_with("0.00s"), "{first:?}");
        assert!(later[0].trim_start().starts_with("104.75s"), "{later:?}");
    }

    #[test]
    fn a_heartbeat_line_shows_running_progress_every_30_s() {
        let mut lines = Lines::default();
        let mut beats = Vec::new();
        lines.lines(&ev("sl", 0.0, EventBody::Started));
        for k in 1..=60 {
            // Progress below the 10% step prints nothing; heartbeats arrive every 2 s.
            let t = 2.0 * k as f64;
            beats.extend(lines.lines(&ev("sl", t, EventBody::Progress { done: k, total: 100_000 })));
            beats.extend(lines.lines(&ev("p", t, EventBody::Heartbeat)));
        }
        assert_eq!(beats.len(), 4, "{beats:?}");
        assert!(beats[0].contains("heartbeat") && beats[0].contains("sl 0% (15/100000)"), "{beats:?}");
        lines.lines(&ev(
            "sl",
            121.0,
            EventBody::Finished { cached: false, artifact_hash: crate::engine::ArtifactHash([0xab; 32]), wall_ms: 1 },
        ));
        assert!(lines.lines(&ev("p", 200.0, EventBody::Heartbeat)).is_empty(), "nothing runs: no heartbeat line");
    }
}
