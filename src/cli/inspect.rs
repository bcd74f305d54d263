//! Read-only commands: `status`, `show`, `export`, `stages` and `watch`.

use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::json;

use super::output::{note, say, Stdout};
use super::{load, open_cache, stage_index, InvalidInput};
use crate::cluster::submit::job_status;
use crate::engine::runlog::{follow, resolve_run};
use crate::engine::status::{status as stage_status, StageStatus};
use crate::engine::{EventBody, Lookup};
use crate::pipeline::schema::Default;
use crate::report::export::{export as write_export, Format};
use crate::report::progress::Reporter;
use crate::stages::{Artifact, CATALOG};

pub fn status(path: &Path, cache_dir: &Path, json_out: bool) -> Result<i32> {
    let (_, plan) = load(path)?;
    let cache = open_cache(cache_dir)?;
    let statuses = stage_status(&plan, &cache);
    let mut out = Stdout::lock();
    if json_out {
        let rows: Vec<_> = plan
            .stages
            .iter()
            .zip(&statuses)
            .map(|(s, st)| {
                let job = (*st != StageStatus::Cached).then(|| job_status(cache.root(), s)).flatten();
                json!({"stage": s.name, "kind": s.kind, "key": s.key.hex(), "status": st.label(), "reasons": st.reasons(), "slurm": job})
            })
            .collect();
        say!(out, "{}", serde_json::to_string_pretty(&rows)?);
        return Ok(0);
    }
    for (stage, st) in plan.stages.iter().zip(&statuses) {
        say!(out, "{:<8} {:<32} {:<24} {}", st.label(), stage.name, stage.kind, stage.key.short());
        for reason in st.reasons() {
            say!(out, "         - {reason}");
        }
        if *st != StageStatus::Cached {
            if let Some(job) = job_status(cache.root(), stage) {
                say!(out, "         - {job}");
            }
        }
    }
    for line in crate::engine::runlog::unfinished_lines(cache.root()) {
        println!("{line}");
    }
    Ok(0)
}

/// Loads a stage's record and artifact, with an actionable error when absent.
fn cached_stage(
    path: &Path,
    cache_dir: &Path,
    name: &str,
) -> Result<(crate::engine::PlannedStage, crate::engine::record::Record, Artifact, Vec<String>)> {
    let (pipeline, plan) = load(path)?;
    let index = stage_index(&pipeline, name)?;
    let cache = open_cache(cache_dir)?;
    let stage = plan.stages[index].clone();
    let run = format!("quench run {}", path.display());
    let record = match cache.lookup(&stage.key) {
        Lookup::Valid(record) => *record,
        Lookup::Missing => anyhow::bail!("stage `{}` is not cached; run `{run}` first", stage.name),
        Lookup::Corrupt(why) => {
            anyhow::bail!("stage `{}`: the cached artifact is corrupt ({why}); `{run}` recomputes it", stage.name)
        }
    };
    let payload =
        cache.load(&stage.key).with_context(|| format!("stage `{}`: loading the cached artifact", stage.name))?;
    let recompute = format!("`{run} --force {name}` recomputes it");
    let artifact = Artifact::decode(&payload)
        .with_context(|| format!("stage `{}`: decoding the cached artifact; {recompute}", stage.name))?;
    let expected = pipeline.stages[index].spec.output;
    if artifact.type_name() != expected {
        let found = artifact.type_name();
        anyhow::bail!(
            "stage `{}`: the cached artifact is a `{found}`, not the `{expected}` a `{}` stage makes; {recompute}",
            stage.name,
            stage.kind
        );
    }
    let inputs = stage.inputs.iter().map(|&i| plan.stages[i].name.clone()).collect();
    Ok((stage, record, artifact, inputs))
}

pub fn show(path: &Path, cache_dir: &Path, name: &str, json_out: bool) -> Result<i32> {
    let (stage, record, artifact, inputs) = cached_stage(path, cache_dir, name)?;
    let doc = json!({
        "stage": stage.name,
        "kind": stage.kind,
        "version": stage.version,
        "key": stage.key.hex(),
        "seed": stage.seed,
        "artifact_hash": record.artifact_hash,
        "artifact_type": artifact.type_name(),
        "size": record.size,
        "params": stage.params,
        "inputs": inputs,
        "input_keys": stage.input_keys.iter().map(|k| k.hex()).collect::<Vec<_>>(),
        "wall_ms": record.wall_ms,
        "summary": artifact.summary(),
    });
    let mut out = Stdout::lock();
    if json_out {
        say!(out, "{}", serde_json::to_string_pretty(&doc)?);
        return Ok(0);
    }
    say!(
        out,
        "stage     {}\nkind      {} (version {})\nkey       {}\nartifact  {} ({} bytes)",
        stage.name,
        stage.kind,
        stage.version,
        stage.key.hex(),
        record.artifact_hash,
        record.size
    );
    say!(out, "computed  in {} ms", record.wall_ms);
    say!(out, "inputs    {}", if inputs.is_empty() { "(none)".into() } else { inputs.join(", ") });
    say!(out, "params");
    for (k, v) in &stage.params.0 {
        say!(out, "  {k:<16} {v}");
    }
    say!(out, "summary");
    if let Some(map) = doc["summary"].as_object() {
        for (k, v) in map {
            say!(out, "  {k:<28} {v}");
        }
    }
    for line in &record.log {
        say!(out, "log       {line}");
    }
    if let Some(table) = artifact.report() {
        say!(out, "\n{table}");
    }
    Ok(0)
}

pub fn export(path: &Path, cache_dir: &Path, name: &str, format: Format, out: &Path) -> Result<i32> {
    if out.exists() && !out.is_dir() {
        let why = format!(
            "--out {}: exists and is not a directory; export writes one file per table into a directory",
            out.display()
        );
        return Err(InvalidInput(why).into());
    }
    let (_, _, artifact, _) = cached_stage(path, cache_dir, name)?;
    let written = write_export(&artifact.tables(), &artifact.summary(), format, out)
        .with_context(|| format!("exporting stage `{name}` to {}", out.display()))?;
    let mut stdout = Stdout::lock();
    for file in written {
        say!(stdout, "{}", file.display());
    }
    Ok(0)
}

pub fn stages(json_out: bool) -> Result<i32> {
    let mut out = Stdout::lock();
    if json_out {
        let kinds: Vec<_> = CATALOG
            .iter()
            .map(|k| {
                let params: Vec<_> = k
                    .params
                    .iter()
                    .map(|p| json!({"name": p.name, "accepts": p.kind.describe(), "default": default_text(&p.default), "unit": p.unit, "doc": p.doc}))
                    .collect();
                json!({"kind": k.name, "version": k.version, "summary": k.summary, "output": k.output, "inputs": k.describe_inputs(), "params": params, "exactly_one_of": k.exactly_one_of, "at_most_one_of": k.at_most_one_given})
            })
            .collect();
        say!(out, "{}", serde_json::to_string_pretty(&kinds)?);
        return Ok(0);
    }
    for k in CATALOG {
        say!(out, "{} (v{}) -> {}\n  {}\n  inputs: {}", k.name, k.version, k.output, k.summary, k.describe_inputs());
        for p in k.params {
            let unit = if p.unit.is_empty() { String::new() } else { format!(" [{}]", p.unit) };
            say!(out, "  {:<14} {:<12} {}{unit}; {}", p.name, default_text(&p.default), p.doc, p.kind.describe());
        }
        for group in k.exactly_one_of {
            say!(out, "  exactly one of: {}", group.join(", "));
        }
        for group in k.at_most_one_given {
            say!(out, "  at most one of: {}", group.join(", "));
        }
        say!(out);
    }
    Ok(0)
}

fn default_text(default: &Default) -> String {
    match default {
        Default::Required => "(required)".into(),
        Default::None => "(optional)".into(),
        other => other.value().map(|v| format!("= {v}")).unwrap_or_default(),
    }
}

/// Replays a run log and follows it while it grows: in the TUI on a
/// terminal (until the user quits), else as plain lines until the run ends.
pub fn watch(cache_dir: &Path, run: &str) -> Result<i32> {
    let path = resolve_run(cache_dir, run).map_err(InvalidInput)?;
    if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
        let (tx, rx) = std::sync::mpsc::channel();
        let follower = path.clone();
        std::thread::spawn(move || {
            let _ = follow(
                &follower,
                Duration::from_secs(3600),
                || ControlFlow::Continue(()),
                |event| {
                    if tx.send(event).is_err() {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                },
            );
        });
        crate::tui::run(&path.display().to_string(), rx, None)?;
        return Ok(0);
    }
    let mut reporter = Reporter::lines();
    let mut dead = None;
    let quiet = || match crate::engine::runlog::dead_reason(&path) {
        Some(why) => {
            dead = Some(why);
            ControlFlow::Break(())
        }
        None => {
            note(format_args!("(no new events for 10 s: the run may still be computing; Ctrl-C to stop)"));
            ControlFlow::Continue(())
        }
    };
    follow(&path, Duration::from_secs(10), quiet, |event| {
        reporter.show(&event);
        if matches!(event.body, EventBody::RunFinished { .. }) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .with_context(|| format!("reading {}", path.display()))?;
    if let Some(why) = dead {
        note(format_args!("the run is dead: {why}; it will never finish (a new run takes over its stages)"));
        return Ok(1);
    }
    Ok(0)
}
