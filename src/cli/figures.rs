//! `plot` and `report`: figures of cached artifacts (one stage, or a value
//! across a swept stage's copies) and the self-contained HTML report. The
//! drawing itself lives in `report::plot` and `report::html`.

use std::path::Path;

use anyhow::{Context as _, Result};

use super::output::{note, say, Stdout};
use super::{load, open_cache, read_pipeline, InvalidInput};
use crate::engine::status::status as stage_status;
use crate::engine::{Cache, Lookup, Plan};
use crate::pipeline::Pipeline;
use crate::report::html::{self, StageInfo};
use crate::report::plot::{self, sweep, Planted};
use crate::stages::Artifact;

/// A cached stage's artifact, or why there is none (the message says what to run).
fn artifact_of(pipeline: &Pipeline, plan: &Plan, cache: &Cache, index: usize) -> Result<Artifact> {
    let stage = &plan.stages[index];
    let run = format!("quench run {}", pipeline.path.display());
    match cache.lookup(&stage.key) {
        Lookup::Valid(_) => {}
        Lookup::Missing => anyhow::bail!("stage `{}` is not cached; run `{run}` first", stage.name),
        Lookup::Corrupt(why) => {
            anyhow::bail!("stage `{}`: the cached artifact is corrupt ({why}); `{run}` recomputes it", stage.name)
        }
    }
    let payload =
        cache.load(&stage.key).with_context(|| format!("stage `{}`: loading the cached artifact", stage.name))?;
    let artifact = Artifact::decode(&payload).with_context(|| {
        format!("stage `{}`: decoding the cached artifact; `{run} --force {}` recomputes it", stage.name, stage.name)
    })?;
    let expected = pipeline.stages[index].spec.output;
    if artifact.type_name() != expected {
        anyhow::bail!(
            "stage `{}`: the cached artifact is a `{}`, not the `{expected}` a `{}` stage makes; `{run} --force {}` recomputes it",
            stage.name,
            artifact.type_name(),
            stage.kind,
            stage.name
        );
    }
    Ok(artifact)
}

/// The instance a stage ran on (its first input), when it is cached.
fn instance_of(pipeline: &Pipeline, plan: &Plan, cache: &Cache, index: usize) -> Option<Artifact> {
    let &first = plan.stages[index].inputs.first()?;
    artifact_of(pipeline, plan, cache, first).ok().filter(|a| matches!(a, Artifact::Disorder(_)))
}

/// [T_d, end point] of every cached phase diagram in temperature (Ising /
/// spherical priors), one band per path.
fn theory_bands(pipeline: &Pipeline, plan: &Plan, cache: &Cache) -> Vec<sweep::Band> {
    let mut bands: Vec<sweep::Band> = Vec::new();
    for (i, stage) in pipeline.stages.iter().enumerate() {
        if stage.spec.output != crate::stages::PHASE_DIAGRAM_OUTPUT {
            continue;
        }
        let Ok(Artifact::PhaseDiagram(d)) = artifact_of(pipeline, plan, cache, i) else { continue };
        if matches!(d.spec.prior, crate::theory::Prior::SparseRademacher { .. }) {
            continue;
        }
        let lo = d.statics.temperature_d;
        let Some(hi) = d.end_point.map(|e| e.temperature).filter(|&hi| hi > lo) else { continue };
        let path = match d.spec.path {
            crate::theory::Path::Diffusion => "diffusion",
            crate::theory::Path::Decimation => "autoregressive",
        };
        let band = sweep::Band { lo, hi, label: format!("{path}: [T_d, end point] = [{lo:.3}, {hi:.3}]") };
        if !bands.iter().any(|b| b.label == band.label) {
            bands.push(band);
        }
    }
    bands
}

/// The figure of a value across the copies `indices` of a swept stage.
fn sweep_figure(
    pipeline: &Pipeline,
    plan: &Plan,
    cache: &Cache,
    base: &str,
    indices: &[usize],
    opts: &sweep::SweepOptions,
) -> Result<plot::Figure, String> {
    let mut summaries = Vec::new();
    let mut missing = 0;
    for &i in indices {
        match artifact_of(pipeline, plan, cache, i) {
            Ok(a) => summaries.push((i, a.summary())),
            Err(_) => missing += 1,
        }
    }
    if summaries.is_empty() {
        return Err(format!("no copy of `{base}` is cached; run `quench run {}` first", pipeline.path.display()));
    }
    if missing > 0 {
        note(format_args!("note: {missing} of {} copies of `{base}` are not cached and are left out", indices.len()));
    }
    let points: Vec<sweep::SweepPoint> =
        summaries.iter().map(|(i, s)| sweep::SweepPoint { swept: &pipeline.stages[*i].swept, summary: s }).collect();
    let mut opts = opts.clone();
    let keys = sweep::swept_keys(&points);
    let x = match &opts.x {
        Some(x) => sweep::resolve_x(x, &keys)?,
        None => sweep::default_x(&points, &keys).unwrap_or_default(),
    };
    if x.ends_with(".temperature") {
        opts.bands.extend(theory_bands(pipeline, plan, cache));
    }
    sweep::figure(base, &points, &opts)
}

/// One theory path (state evolution, population dynamics) with `--sampler`
/// stages' own paths drawn over it; `None` when that is not what was asked.
fn path_with_samplers(
    pipeline: &Pipeline,
    plan: &Plan,
    cache: &Cache,
    indices: &[usize],
    opts: &sweep::SweepOptions,
) -> Result<Option<plot::Figure>> {
    let &[index] = indices else { return Ok(None) };
    let is_path = matches!(
        pipeline.stages[index].spec.output,
        crate::stages::SE_PATH_OUTPUT | crate::stages::BICOLORING_PATH_OUTPUT
    );
    if !is_path || opts.samplers.is_empty() || opts.y.is_some() || opts.x.is_some() || !opts.bands.is_empty() {
        return Ok(None);
    }
    let theory = artifact_of(pipeline, plan, cache, index)?;
    let mut samples = Vec::new();
    for sampler in &opts.samplers {
        for i in copies(pipeline, sampler)? {
            let name = &pipeline.stages[i].name;
            match artifact_of(pipeline, plan, cache, i)? {
                Artifact::Samples(s) if s.traces.iter().any(|t| t.name == "m_hat_sq") => {
                    samples.push((name.clone(), s))
                }
                _ => {
                    let why = format!("--sampler {name}: not a generative sampler with a path to draw over `{}` (diffusion, flow or autoregressive)", pipeline.stages[index].name);
                    return Err(InvalidInput(why).into());
                }
            }
        }
    }
    let scale = match &theory {
        Artifact::SePath(s) => plot::theory::overlap_scale(s),
        _ => 1.0,
    };
    let figure = plot::figure(&theory, plot::Context::default());
    Ok(Some(plot::results::with_sampler_paths(figure, &samples, scale)))
}

/// The copies of `name` (itself, or every copy of a swept base name).
fn copies(pipeline: &Pipeline, name: &str) -> Result<Vec<usize>> {
    if let Some(i) = pipeline.stages.iter().position(|s| s.name == name) {
        return Ok(vec![i]);
    }
    let all: Vec<usize> = (0..pipeline.stages.len()).filter(|&i| pipeline.stages[i].base == name).collect();
    if all.is_empty() {
        pipeline.find(name).map_err(InvalidInput)?;
    }
    Ok(all)
}

pub fn plot(path: &Path, cache_dir: &Path, name: &str, out: &Path, opts: &sweep::SweepOptions) -> Result<i32> {
    let ext = out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    if !matches!(ext.as_deref(), Some("svg" | "png")) {
        let why = format!("--out {}: plot writes .svg or .png files; give a file name ending in one", out.display());
        return Err(InvalidInput(why).into());
    }
    let (pipeline, plan) = load(path)?;
    let indices = copies(&pipeline, name)?;
    let cache = open_cache(cache_dir)?;
    let across = indices.len() > 1
        || opts.y.is_some()
        || opts.x.is_some()
        || !opts.bands.is_empty()
        || !opts.samplers.is_empty();
    let figure = if let Some(figure) = path_with_samplers(&pipeline, &plan, &cache, &indices, opts)? {
        figure
    } else if across {
        sweep_figure(&pipeline, &plan, &cache, name, &indices, opts).map_err(InvalidInput)?
    } else {
        let artifact = artifact_of(&pipeline, &plan, &cache, indices[0])?;
        let instance = instance_of(&pipeline, &plan, &cache, indices[0]);
        let context = plot::Context { planted: instance.as_ref().and_then(Planted::of) };
        plot::figure(&artifact, context)
    };
    plot::write(&figure, out).with_context(|| format!("plotting stage `{name}`"))?;
    say!(Stdout::lock(), "{}", out.display());
    Ok(0)
}

pub fn report(path: &Path, cache_dir: &Path, out: &Path) -> Result<i32> {
    let ext = out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    if !matches!(ext.as_deref(), Some("html" | "htm")) {
        let why = format!("--out {}: report writes one .html file; give a file name ending in .html", out.display());
        return Err(InvalidInput(why).into());
    }
    let text = read_pipeline(path).map_err(|why| InvalidInput(format!("{}: {why}", path.display())))?;
    let (pipeline, plan) = load(path)?;
    let cache = open_cache(cache_dir)?;
    let statuses = stage_status(&plan, &cache);
    let mut page = html::Report::new();
    // Sweeps of results first: the figures a reader looks for.
    let mut bases: Vec<&str> = Vec::new();
    for s in &pipeline.stages {
        let result =
            [crate::stages::compare::COMPARISON, crate::stages::compare::AGGREGATE_OUTPUT].contains(&s.spec.output);
        if result && s.name != s.base && !bases.contains(&s.base.as_str()) {
            bases.push(&s.base);
        }
    }
    for base in bases {
        let indices: Vec<usize> = (0..pipeline.stages.len()).filter(|&i| pipeline.stages[i].base == base).collect();
        let figure = sweep_figure(&pipeline, &plan, &cache, base, &indices, &sweep::SweepOptions::default());
        page.sweep(base, figure);
    }
    let mut planted: std::collections::HashMap<usize, Artifact> = std::collections::HashMap::new();
    for (i, (stage, st)) in plan.stages.iter().zip(&statuses).enumerate() {
        let (mut status, mut reasons) = (st.label(), st.reasons());
        let artifact = if status == "cached" {
            match artifact_of(&pipeline, &plan, &cache, i) {
                Ok(a) => Some(a),
                Err(e) => {
                    status = "corrupt";
                    reasons.push(format!("{e:#}"));
                    None
                }
            }
        } else {
            None
        };
        let record = match cache.lookup(&stage.key) {
            Lookup::Valid(r) => Some(*r),
            _ => None,
        };
        let info = StageInfo {
            name: &stage.name,
            kind: stage.kind,
            key: stage.key.short(),
            status,
            reasons,
            inputs: stage.inputs.iter().map(|&j| plan.stages[j].name.as_str()).collect(),
            params: stage.params.0.iter().map(|(k, v)| (k.clone(), v.to_string())).collect(),
            wall_ms: record.as_ref().map(|r| r.wall_ms),
            log: record.as_ref().map_or(&[], |r| r.log.as_slice()),
        };
        let instance = stage.inputs.first().and_then(|j| planted.get(j));
        let context = plot::Context { planted: instance.and_then(Planted::of) };
        page.stage(&info, artifact.as_ref(), context);
        // Keep instances with a planted signal (for their samplers' overlaps), without their couplings.
        if let Some(Artifact::Disorder(d)) = artifact {
            if d.planted.is_some() {
                planted.insert(i, Artifact::Disorder(crate::models::Disorder { couplings: Vec::new(), ..d }));
            }
        }
    }
    let generated = format!("quench {}", env!("CARGO_PKG_VERSION"));
    let doc = page.finish(&pipeline.name, &path.display().to_string(), &text, &generated);
    html::write(&doc, out).with_context(|| format!("writing the report {}", out.display()))?;
    say!(Stdout::lock(), "{}", out.display());
    Ok(0)
}
