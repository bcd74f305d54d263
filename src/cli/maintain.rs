//! Commands that check or change the cache: `verify`, `gc`, `cache`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::{load, open_cache, stage_index};
use crate::engine::codec;
use crate::engine::{ContentKey, Executor};
use crate::observe::Silent;
use crate::stages::CatalogExecutor;

/// Recomputes each cached stage (inputs from the cache) and compares hashes.
pub fn verify(path: &Path, cache_dir: &Path, only: Option<&str>) -> Result<i32> {
    let (pipeline, plan) = load(path)?;
    let cache = open_cache(cache_dir)?;
    let targets: Vec<usize> = match only {
        Some(name) => vec![stage_index(&pipeline, name)?],
        None => (0..plan.stages.len()).collect(),
    };
    let (mut ok, mut bad, mut skipped) = (0, 0, 0);
    for i in targets {
        let stage = &plan.stages[i];
        let Some(record) = cache.record(&stage.key) else {
            println!("missing   {:<32} not cached; run it first", stage.name);
            skipped += 1;
            continue;
        };
        let inputs: Result<Vec<Vec<u8>>, _> = stage.input_keys.iter().map(|k| cache.load(k)).collect();
        let hash = inputs
            .map_err(anyhow::Error::from)
            .and_then(|inputs| CatalogExecutor.execute(stage, inputs, &Silent))
            .map(|out| codec::hash_payload(&out.payload).to_hex().to_string());
        match hash {
            Ok(h) if h == record.artifact_hash => {
                println!("ok        {:<32} {}", stage.name, &h[..16]);
                ok += 1;
            }
            Ok(h) => {
                println!("MISMATCH  {:<32} cached {} recomputed {}", stage.name, &record.artifact_hash[..16], &h[..16]);
                bad += 1;
            }
            Err(e) => {
                println!("FAILED    {:<32} {e:#}", stage.name);
                bad += 1;
            }
        }
    }
    println!("{ok} identical, {bad} differ or failed, {skipped} not cached");
    Ok(if bad > 0 || (ok == 0 && skipped > 0) { 1 } else { 0 })
}

/// Removes cache objects no listed pipeline references.
pub fn gc(pipelines: &[PathBuf], cache_dir: &Path, dry_run: bool) -> Result<i32> {
    let mut keep: HashSet<ContentKey> = HashSet::new();
    for path in pipelines {
        let (_, plan) = load(path)?;
        keep.extend(plan.stages.iter().map(|s| s.key));
    }
    let cache = open_cache(cache_dir)?;
    let (mut count, mut bytes) = (0, 0);
    for key in cache.keys().into_iter().filter(|k| !keep.contains(k)) {
        let size = cache.size_of(&key);
        let what = cache.record(&key).map_or("(no record)".to_string(), |r| format!("{} {}", r.kind, r.stage_name));
        println!("{} {} {what} ({size} bytes)", if dry_run { "would remove" } else { "removed" }, key.short());
        if !dry_run {
            cache.remove(&key)?;
        }
        count += 1;
        bytes += size;
    }
    let checkpoints = crate::engine::checkpoint::Checkpoints::new(cache.root());
    for key in checkpoints.keys().into_iter().filter(|k| !keep.contains(k)) {
        let size = checkpoints.size_of(&key);
        println!("{} checkpoint {} ({size} bytes)", if dry_run { "would remove" } else { "removed" }, key.short());
        if !dry_run {
            checkpoints.remove(&key)?;
        }
        count += 1;
        bytes += size;
    }
    cache.clean_tmp();
    let verb = if dry_run { "would free" } else { "freed" };
    println!(
        "{count} objects, {verb} {:.1} MiB; {} referenced objects kept",
        bytes as f64 / (1 << 20) as f64,
        keep.len()
    );
    Ok(0)
}

pub fn cache_info(cache_dir: &Path) -> Result<i32> {
    let cache = open_cache(cache_dir)?;
    let keys = cache.keys();
    let bytes: u64 = keys.iter().map(|k| cache.size_of(k)).sum();
    let mut by_kind: std::collections::BTreeMap<String, (usize, u64)> = Default::default();
    for record in cache.records() {
        let e = by_kind.entry(record.kind).or_default();
        e.0 += 1;
        e.1 += record.size;
    }
    let runs =
        std::fs::read_dir(cache.root().join("runs")).map_or(0, |d| d.flatten().filter(|e| e.path().is_dir()).count());
    println!(
        "cache {}: {} objects, {:.1} MiB, {runs} run logs",
        cache.root().display(),
        keys.len(),
        bytes as f64 / (1 << 20) as f64
    );
    for (kind, (count, size)) in by_kind {
        println!("  {kind:<28} {count:>6} {:>10.1} MiB", size as f64 / (1 << 20) as f64);
    }
    Ok(0)
}
