//! Sweep expansion: a stage is copied once per combination of the swept values
//! it depends on (its own or its inputs', transitively); copies are named
//! `STAGE[STAGE.PARAM=VALUE,...]` with swept keys in file order. The size of
//! the expansion is computed first and refused past `MAX_STAGES`; then each
//! concrete stage gets its final parameters (defaults filled in), its inputs
//! (found by index arithmetic, so expansion is linear in its output) and is
//! checked as a whole, inputs included (arity after `gather`, and the
//! catalog's model-aware checks).

use std::collections::{HashMap, HashSet};

use super::error::{PipelineError, Source};
use super::params::{ParamValue, Params};
use super::parse::{PipelineDecl, Span};
use super::schema::{Catalog, InputFacts, MAX_STAGES};
use super::validate::CheckedStage;
use super::Stage;

/// The copies of one declared stage: the sweeps it depends on (ascending),
/// their sizes, and the index of its first copy. Copies are contiguous, in
/// combination order (first sweep slowest).
struct Copies {
    sweeps: Vec<usize>,
    sizes: Vec<usize>,
    first: usize,
}

/// Collects errors once each (many copies of a stage share a problem).
struct Errors<'e> {
    seen: HashSet<(usize, usize, Option<String>, String)>,
    out: &'e mut Vec<PipelineError>,
}

impl Errors<'_> {
    fn push(&mut self, e: PipelineError) {
        if self.seen.insert((e.line, e.column, e.stage.clone(), e.message.clone())) {
            self.out.push(e);
        }
    }
}

pub fn expand<C: Catalog + ?Sized>(
    source: &Source,
    decl: &PipelineDecl,
    checked: &[CheckedStage<'static>],
    catalog: &C,
    errors: &mut Vec<PipelineError>,
) -> Vec<Stage> {
    let Some(sweeps_of) = plan_sizes(source, decl, checked, errors) else { return Vec::new() };
    let values = canonical_sweep_values(decl, checked);
    let mut errors = Errors { seen: HashSet::new(), out: errors };
    let mut copies: HashMap<usize, Copies> = HashMap::new();
    let mut stages = Vec::new();
    for (cs, sweeps) in checked.iter().zip(sweeps_of) {
        let sizes: Vec<usize> = sweeps.iter().map(|&k| decl.sweeps[k].values.len()).collect();
        let first = stages.len();
        let mut combination = vec![0; sizes.len()];
        loop {
            let chosen: Vec<(usize, usize)> = sweeps.iter().copied().zip(combination.iter().copied()).collect();
            let stage = concrete(source, decl, &values, cs, &chosen, &copies, &mut errors);
            check_inputs(source, cs, &stage, &stages, catalog, &mut errors);
            stages.push(stage);
            if !next_combination(&mut combination, &sizes) {
                break;
            }
        }
        copies.insert(cs.index, Copies { sweeps, sizes, first });
    }
    stages
}

/// Advances `v` to the next combination (last index fastest); false after the last.
fn next_combination(v: &mut [usize], sizes: &[usize]) -> bool {
    for i in (0..v.len()).rev() {
        v[i] += 1;
        if v[i] < sizes[i] {
            return true;
        }
        v[i] = 0;
    }
    false
}

/// The sweeps each checked stage depends on, after checking that the whole
/// expansion stays within `MAX_STAGES` (None, with an error, when it does not).
fn plan_sizes(
    source: &Source,
    decl: &PipelineDecl,
    checked: &[CheckedStage<'static>],
    errors: &mut Vec<PipelineError>,
) -> Option<Vec<Vec<usize>>> {
    let mut by_index: HashMap<usize, usize> = HashMap::new();
    let mut all: Vec<Vec<usize>> = Vec::with_capacity(checked.len());
    let mut total: usize = 0;
    let mut largest: (usize, usize) = (0, 0);
    for (at, cs) in checked.iter().enumerate() {
        let mut sweeps: Vec<usize> =
            (0..decl.sweeps.len()).filter(|&k| decl.sweeps[k].stage == cs.decl.name.value).collect();
        for input in &cs.inputs {
            sweeps.extend(&all[by_index[input]]);
        }
        sweeps.sort_unstable();
        sweeps.dedup();
        sweeps.retain(|&k| !cs.decl.gather.iter().any(|g| g.value == decl.sweeps[k].key.value));
        let count = sweeps.iter().fold(1usize, |n, &k| n.saturating_mul(decl.sweeps[k].values.len()));
        total = total.saturating_add(count);
        if count > largest.0 {
            largest = (count, at);
        }
        by_index.insert(cs.index, at);
        all.push(sweeps);
    }
    if total <= MAX_STAGES {
        return Some(all);
    }
    let stage = &checked[largest.1].decl.name;
    let count = |n: usize| if n == usize::MAX { "more than 2^64".to_string() } else { n.to_string() };
    errors.push(source.error(
        decl.sweeps.first().and_then(|s| s.key.span.clone()),
        None,
        format!(
            "the sweeps expand to {} stages, more than the limit of {MAX_STAGES} (stage `{}` alone has {} copies); \
             sweep fewer values or split the pipeline",
            count(total),
            stage.value,
            count(largest.0)
        ),
    ));
    None
}

fn concrete(
    source: &Source,
    decl: &PipelineDecl,
    sweep_values: &[Vec<ParamValue>],
    cs: &CheckedStage<'static>,
    chosen: &[(usize, usize)],
    copies: &HashMap<usize, Copies>,
    errors: &mut Errors,
) -> Stage {
    let swept: Vec<(String, ParamValue)> =
        chosen.iter().map(|&(k, v)| (decl.sweeps[k].key.value.clone(), sweep_values[k][v].clone())).collect();
    let mut values = cs.values.clone();
    for &(k, v) in chosen {
        let sweep = &decl.sweeps[k];
        if sweep.stage == cs.decl.name.value {
            values.push((sweep.param.clone(), sweep_values[k][v].clone()));
        }
    }
    let params = finalize(source, decl, cs, values, errors);
    // Each input contributes the copy matching `chosen`, or, over gathered
    // sweep keys, every matching copy in combination order.
    let mut inputs = Vec::new();
    let mut slots = Vec::new();
    for (slot, input) in cs.inputs.iter().enumerate() {
        let c = &copies[input];
        let fixed: Vec<Option<usize>> =
            c.sweeps.iter().map(|k| chosen.iter().find(|(s, _)| s == k).map(|&(_, v)| v)).collect();
        let sizes: Vec<usize> = c.sizes.iter().zip(&fixed).map(|(&n, f)| if f.is_some() { 1 } else { n }).collect();
        let mut free = vec![0; sizes.len()];
        loop {
            let index =
                c.sizes.iter().zip(fixed.iter().zip(&free)).fold(0, |acc, (&n, (f, &v))| acc * n + f.unwrap_or(v));
            inputs.push(c.first + index);
            slots.push(slot);
            if !next_combination(&mut free, &sizes) {
                break;
            }
        }
    }
    let name = if swept.is_empty() {
        cs.decl.name.value.clone()
    } else {
        let parts: Vec<String> = swept.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{}[{}]", cs.decl.name.value, parts.join(","))
    };
    Stage { name, base: cs.decl.name.value.clone(), spec: cs.spec, params, inputs, input_slots: slots, swept }
}

/// Checks a concrete stage's inputs: arity and types after gathering, then the
/// catalog's own checks (e.g. the model of a disorder input).
fn check_inputs<C: Catalog + ?Sized>(
    source: &Source,
    cs: &CheckedStage<'static>,
    stage: &Stage,
    stages: &[Stage],
    catalog: &C,
    errors: &mut Errors,
) {
    let name = Some(cs.decl.name.value.as_str());
    let span_of = |i: usize| cs.decl.inputs[stage.input_slots[i]].span.clone();
    let types: Vec<&str> = stage.inputs.iter().map(|&i| stages[i].spec.output).collect();
    if let Err(at) = stage.spec.match_inputs(&types) {
        let gathered = if cs.decl.gather.is_empty() { "" } else { " (after `gather`)" };
        let span = at.map_or(cs.decl.name.span.clone(), span_of);
        errors.push(source.error(
            span,
            name,
            format!(
                "kind `{}` expects {}, but `{}` has {} input{}{gathered}: {}",
                stage.spec.name,
                stage.spec.describe_inputs(),
                stage.name,
                types.len(),
                if types.len() == 1 { "" } else { "s" },
                describe_types(&types)
            ),
        ));
        return;
    }
    let facts: Vec<InputFacts> =
        stage.inputs.iter().map(|&i| InputFacts { kind: stages[i].spec, params: &stages[i].params }).collect();
    if let Err(problem) = catalog.check_inputs(stage.spec, &stage.params, &facts) {
        let input = stage.inputs.get(problem.input).map_or("?", |&i| stages[i].name.as_str());
        let span = if problem.input < stage.inputs.len() { span_of(problem.input) } else { cs.decl.name.span.clone() };
        errors.push(source.error(span, name, format!("input `{input}`: {}", problem.message)));
    }
}

/// "2 disorder, then 1 samples"-style run-length description of input types.
fn describe_types(types: &[&str]) -> String {
    let mut runs: Vec<(usize, &str)> = Vec::new();
    for t in types {
        match runs.last_mut() {
            Some((n, last)) if last == t => *n += 1,
            _ => runs.push((1, t)),
        }
    }
    let parts: Vec<String> = runs.iter().map(|(n, t)| format!("{n} {t}")).collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", then ")
    }
}

/// Sweep values converted by their parameter's type (an integer swept over a
/// real parameter becomes a real), so copy names and parameters agree.
fn canonical_sweep_values(decl: &PipelineDecl, checked: &[CheckedStage<'static>]) -> Vec<Vec<ParamValue>> {
    let by_name: HashMap<&str, &CheckedStage> = checked.iter().map(|c| (c.decl.name.value.as_str(), c)).collect();
    decl.sweeps
        .iter()
        .map(|sweep| {
            let param = by_name.get(sweep.stage.as_str()).and_then(|c| c.spec.param(&sweep.param));
            sweep
                .values
                .iter()
                .map(|v| param.and_then(|p| p.kind.accept(&v.value).ok()).unwrap_or_else(|| v.value.clone()))
                .collect()
        })
        .collect()
}

/// Checks the parameters written against `at_most_one_given`, fills defaults,
/// then checks choice groups and the kind's own rules.
fn finalize(
    source: &Source,
    decl: &PipelineDecl,
    cs: &CheckedStage<'static>,
    values: Vec<(String, ParamValue)>,
    errors: &mut Errors,
) -> Params {
    let mut params = Params::default();
    for group in cs.spec.at_most_one_given {
        let written = |p: &&&str| values.iter().any(|(name, _)| name == **p);
        let given: Vec<String> = group.iter().filter(written).map(|p| format!("`{p}`")).collect();
        if given.len() > 1 {
            let span = group.iter().rev().find_map(|p| param_span(decl, cs, p)).or(cs.decl.name.span.clone());
            errors.push(source.error(
                span,
                Some(cs.decl.name.value.as_str()),
                format!("give {}, not both", given.join(" or ")),
            ));
        }
    }
    for spec in cs.spec.params {
        if let Some(v) = spec.default.value() {
            params.0.insert(spec.name.to_string(), v);
        }
    }
    params.0.extend(values);
    let stage = Some(cs.decl.name.value.as_str());
    let mut complete = true;
    let mut push = |span: Span, message: String| errors.push(source.error(span, stage, message));
    for spec in cs.spec.params {
        if matches!(spec.default, super::schema::Default::Required) && params.get(spec.name).is_none() {
            complete = false;
            push(
                cs.decl.name.span.clone(),
                format!("missing parameter `{}`: {} ({})", spec.name, spec.kind.describe(), spec.doc),
            );
        }
    }
    for group in cs.spec.exactly_one_of {
        let given: Vec<&str> = group.iter().copied().filter(|p| params.get(p).is_some()).collect();
        if given.len() != 1 {
            complete = false;
            let names: Vec<String> = group.iter().map(|p| format!("`{p}`")).collect();
            let found = if given.is_empty() { "none".to_string() } else { given.join(" and ") };
            push(cs.decl.name.span.clone(), format!("give exactly one of {} (found {found})", names.join(", ")));
        }
    }
    // The kind's own rules may assume every required parameter is there.
    if complete {
        if let Err(problem) = (cs.spec.check)(&params) {
            let span = problem.param.and_then(|p| param_span(decl, cs, p)).or(cs.decl.name.span.clone());
            push(span, problem.message);
        }
    }
    params
}

/// Where a parameter's value is written: in the stage table, or as a sweep key.
fn param_span(decl: &PipelineDecl, cs: &CheckedStage, param: &str) -> Span {
    cs.decl
        .params
        .iter()
        .find(|(k, _)| k.value == param)
        .map(|(_, v)| v.span.clone())
        .or_else(|| {
            decl.sweeps.iter().find(|s| s.stage == cs.decl.name.value && s.param == param).map(|s| s.key.span.clone())
        })
        .flatten()
}
