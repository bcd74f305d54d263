//! Headless progress: one plain line per stage event when stdout is not a
//! terminal (logs, CI, nohup), progress bars (indicatif) when it is.

use std::collections::HashMap;
use std::io::Write;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::engine::{Event, EventBody};

/// Consumes events and shows them.
pub enum Reporter {
    Lines { start: f64, last_decile: HashMap<String, u64> },
    Bars { multi: MultiProgress, bars: HashMap<String, ProgressBar> },
}

impl Reporter {
    pub fn lines() -> Reporter {
        Reporter::Lines { start: crate::engine::record::now(), last_decile: HashMap::new() }
    }

    pub fn bars() -> Reporter {
        Reporter::Bars { multi: MultiProgress::new(), bars: HashMap::new() }
    }

    pub fn show(&mut self, event: &Event) {
        match self {
            Reporter::Lines { start, last_decile } => {
                if let Some(text) = line(event, last_decile) {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{:>8.2}s  {:<28} {text}", event.time - *start, event.stage);
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
        EventBody::RunStarted { run_id, pipeline, stages } => format!("run {run_id}: {pipeline}, {stages} stages"),
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
        EventBody::Trace { .. } | EventBody::Histogram { .. } => return None,
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
