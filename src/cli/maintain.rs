//! Commands that check or change the cache: `verify`, `gc`, `cache`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::output::{say, Stdout};
use super::{load, open_cache, stage_index};
use crate::engine::codec;
use crate::engine::scheduler::execute_caught;
use crate::engine::{ArtifactHash, Cache, ContentKey, Lookup, Plan};
use crate::observe::Silent;
use crate::stages::CatalogExecutor;

/// What `verify` found for one stage.
enum Verdict {
    /// Recomputed bit for bit.
    Identical(ArtifactHash),
    Missing,
    /// The stored artifact (or its record) fails its check.
    Corrupt(String),
    /// An input's artifact cannot be loaded, so the stage cannot be recomputed.
    InputUnusable {
        input: String,
        why: String,
    },
    Mismatch {
        cached: ArtifactHash,
        recomputed: ArtifactHash,
    },
    Failed(String),
}

/// Checks each stage's stored artifact against its record (re-hashing the
/// bytes on disk), then recomputes it from its cached inputs and compares hashes.
pub fn verify(path: &Path, cache_dir: &Path, only: Option<&str>) -> Result<i32> {
    let (pipeline, plan) = load(path)?;
    let cache = open_cache(cache_dir)?;
    let targets: Vec<usize> = match only {
        Some(name) => vec![stage_index(&pipeline, name)?],
        None => (0..plan.stages.len()).collect(),
    };
    let run = format!("quench run {}", path.display());
    let mut out = Stdout::lock();
    let (mut ok, mut bad, mut corrupt, mut unchecked, mut skipped) = (0, 0, 0, 0, 0);
    for i in targets {
        let name = &plan.stages[i].name;
        match verify_stage(&plan, &cache, i) {
            Verdict::Identical(hash) => {
                say!(out, "ok        {name:<32} {}", hash.short());
                ok += 1;
            }
            Verdict::Missing => {
                say!(out, "missing   {name:<32} not cached; run it first");
                skipped += 1;
            }
            Verdict::Corrupt(why) => {
                say!(out, "CORRUPT   {name:<32} {why}; `{run}` recomputes it");
                corrupt += 1;
            }
            Verdict::InputUnusable { input, why } => {
                say!(out, "UNCHECKED {name:<32} its input `{input}` is unusable ({why}); `{run}` recomputes it");
                unchecked += 1;
            }
            Verdict::Mismatch { cached, recomputed } => {
                say!(out, "MISMATCH  {name:<32} cached {} recomputed {}", cached.short(), recomputed.short());
                bad += 1;
            }
            Verdict::Failed(e) => {
                say!(out, "FAILED    {name:<32} {e}");
                bad += 1;
            }
        }
    }
    say!(
        out,
        "{ok} identical, {bad} differ or failed, {corrupt} corrupt, {unchecked} unchecked (input corrupt), {skipped} not cached"
    );
    let found_problem = bad + corrupt + unchecked > 0;
    Ok(if found_problem || (ok == 0 && skipped > 0) { 1 } else { 0 })
}

fn verify_stage(plan: &Plan, cache: &Cache, i: usize) -> Verdict {
    let stage = &plan.stages[i];
    let record = match cache.lookup(&stage.key) {
        Lookup::Valid(record) => record,
        Lookup::Missing => return Verdict::Missing,
        Lookup::Corrupt(why) => return Verdict::Corrupt(why),
    };
    // Re-hash the bytes on disk here too, whatever checks the cache makes on its own.
    let stored = match cache.load(&stage.key) {
        Ok(payload) => ArtifactHash::from(codec::hash_payload(&payload)),
        Err(e) => return Verdict::Corrupt(e.to_string()),
    };
    if stored != record.artifact_hash {
        let why = format!(
            "the stored artifact hashes to {}, its record says {}",
            stored.short(),
            record.artifact_hash.short()
        );
        return Verdict::Corrupt(why);
    }
    let mut inputs = Vec::with_capacity(stage.input_keys.len());
    for (&input, key) in stage.inputs.iter().zip(&stage.input_keys) {
        match cache.load(key) {
            Ok(payload) => inputs.push(payload),
            Err(e) => return Verdict::InputUnusable { input: plan.stages[input].name.clone(), why: e.to_string() },
        }
    }
    match execute_caught(&CatalogExecutor, stage, inputs, &Silent) {
        Ok(output) => {
            let recomputed = match output.payload.hash() {
                Ok((hash, _)) => ArtifactHash::from(hash),
                Err(e) => return Verdict::Failed(format!("encoding the recomputed artifact: {e}")),
            };
            if recomputed == record.artifact_hash {
                Verdict::Identical(recomputed)
            } else {
                Verdict::Mismatch { cached: record.artifact_hash, recomputed }
            }
        }
        Err(e) => Verdict::Failed(format!("{e:#}")),
    }
}

/// Removes cache objects no listed pipeline references.
pub fn gc(pipelines: &[PathBuf], cache_dir: &Path, dry_run: bool) -> Result<i32> {
    let mut keep: HashSet<ContentKey> = HashSet::new();
    for path in pipelines {
        let (_, plan) = load(path)?;
        keep.extend(plan.stages.iter().map(|s| s.key));
    }
    // Removing takes the cache exclusively: no run may be reading or writing it.
    let cache = if dry_run { open_cache(cache_dir)? } else { crate::engine::Cache::open_exclusive(cache_dir)? };
    let mut out = Stdout::lock();
    let (mut count, mut bytes) = (0, 0);
    for key in cache.keys().into_iter().filter(|k| !keep.contains(k)) {
        let size = cache.size_of(&key);
        let what = cache.record(&key).map_or("(no record)".to_string(), |r| format!("{} {}", r.kind, r.stage_name));
        if !dry_run {
            cache.remove(&key).map_err(|e| anyhow::anyhow!("gc stopped after removing {count} objects: {e}"))?;
        }
        say!(out, "{} {} {what} ({size} bytes)", if dry_run { "would remove" } else { "removed" }, key.short());
        count += 1;
        bytes += size;
    }
    let checkpoints = crate::engine::checkpoint::Checkpoints::new(cache.root());
    for key in checkpoints.keys().into_iter().filter(|k| !keep.contains(k)) {
        let size = checkpoints.size_of(&key);
        if !dry_run {
            checkpoints.remove(&key).map_err(|e| anyhow::anyhow!("gc stopped after removing {count} objects: {e}"))?;
        }
        say!(out, "{} checkpoint {} ({size} bytes)", if dry_run { "would remove" } else { "removed" }, key.short());
        count += 1;
        bytes += size;
    }
    if !dry_run {
        let temps = cache.clean_tmp();
        if temps > 0 {
            say!(out, "removed {temps} temp files left by runs that died");
        }
    }
    let verb = if dry_run { "would free" } else { "freed" };
    say!(
        out,
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
    let mut out = Stdout::lock();
    say!(
        out,
        "cache {}: {} objects, {:.1} MiB, {runs} run logs",
        cache.root().display(),
        keys.len(),
        bytes as f64 / (1 << 20) as f64
    );
    for (kind, (count, size)) in by_kind {
        say!(out, "  {kind:<28} {count:>6} {:>10.1} MiB", size as f64 / (1 << 20) as f64);
    }
    Ok(0)
}
