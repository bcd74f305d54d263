//! Sweep expansion: a stage is copied once per combination of the swept values
//! it depends on (its own or its inputs', transitively); copies are named
//! `STAGE[STAGE.PARAM=VALUE,...]` with swept keys in file order. Each concrete
//! stage gets its final parameters (defaults filled in) and is checked as a whole.

use std::collections::HashMap;

use super::error::{PipelineError, Source};
use super::params::{ParamValue, Params};
use super::parse::{PipelineDecl, Span};
use super::validate::CheckedStage;
use super::Stage;

/// The copies of one declared stage: which sweeps it depends on, and the
/// concrete stage index of each combination of their value indices.
struct Copies {
    sweeps: Vec<usize>,
    by_combination: HashMap<Vec<usize>, usize>,
}

pub fn expand(
    source: &Source,
    decl: &PipelineDecl,
    checked: &[CheckedStage<'static>],
    errors: &mut Vec<PipelineError>,
) -> Vec<Stage> {
    let values = canonical_sweep_values(decl, checked);
    let mut copies: HashMap<usize, Copies> = HashMap::new();
    let mut stages = Vec::new();
    for cs in checked {
        let mut sweeps: Vec<usize> =
            (0..decl.sweeps.len()).filter(|&k| decl.sweeps[k].stage == cs.decl.name.value).collect();
        for input in &cs.inputs {
            sweeps.extend(&copies[input].sweeps);
        }
        sweeps.sort_unstable();
        sweeps.dedup();
        sweeps.retain(|&k| !cs.decl.gather.iter().any(|g| g.value == decl.sweeps[k].key.value));
        let mut by_combination = HashMap::new();
        for combination in cartesian(&sweeps.iter().map(|&k| decl.sweeps[k].values.len()).collect::<Vec<_>>()) {
            let chosen: Vec<(usize, usize)> = sweeps.iter().copied().zip(combination.iter().copied()).collect();
            let stage = concrete(source, decl, &values, cs, &chosen, &copies, stages.len(), errors);
            by_combination.insert(combination, stages.len());
            stages.push(stage);
        }
        copies.insert(cs.index, Copies { sweeps, by_combination });
    }
    stages
}

/// All index vectors `v` with `v[i] < sizes[i]`, first index slowest (one empty vector for no sizes).
fn cartesian(sizes: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new()];
    for &size in sizes {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                (0..size).map(move |v| {
                    let mut next = prefix.clone();
                    next.push(v);
                    next
                })
            })
            .collect();
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn concrete(
    source: &Source,
    decl: &PipelineDecl,
    sweep_values: &[Vec<ParamValue>],
    cs: &CheckedStage<'static>,
    chosen: &[(usize, usize)],
    copies: &HashMap<usize, Copies>,
    position: usize,
    errors: &mut Vec<PipelineError>,
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
    let inputs = cs
        .inputs
        .iter()
        .flat_map(|input| {
            let c = &copies[input];
            let fits = |combination: &Vec<usize>| {
                c.sweeps
                    .iter()
                    .zip(combination)
                    .all(|(k, v)| chosen.iter().find(|(s, _)| s == k).is_none_or(|(_, w)| w == v))
            };
            let mut matching: Vec<(&Vec<usize>, usize)> =
                c.by_combination.iter().filter(|(comb, _)| fits(comb)).map(|(comb, &i)| (comb, i)).collect();
            matching.sort();
            if matching.is_empty() {
                vec![position]
            } else {
                matching.into_iter().map(|(_, i)| i).collect()
            }
        })
        .collect();
    let name = if swept.is_empty() {
        cs.decl.name.value.clone()
    } else {
        let parts: Vec<String> = swept.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{}[{}]", cs.decl.name.value, parts.join(","))
    };
    Stage { name, base: cs.decl.name.value.clone(), spec: cs.spec, params, inputs, swept }
}

/// Sweep values converted by their parameter's type (an integer swept over a
/// real parameter becomes a real), so copy names and parameters agree.
fn canonical_sweep_values(decl: &PipelineDecl, checked: &[CheckedStage<'static>]) -> Vec<Vec<ParamValue>> {
    decl.sweeps
        .iter()
        .map(|sweep| {
            let param =
                checked.iter().find(|c| c.decl.name.value == sweep.stage).and_then(|c| c.spec.param(&sweep.param));
            sweep
                .values
                .iter()
                .map(|v| param.and_then(|p| p.kind.accept(&v.value).ok()).unwrap_or_else(|| v.value.clone()))
                .collect()
        })
        .collect()
}

/// Fills defaults, then checks choice groups and the kind's own rules.
fn finalize(
    source: &Source,
    decl: &PipelineDecl,
    cs: &CheckedStage<'static>,
    values: Vec<(String, ParamValue)>,
    errors: &mut Vec<PipelineError>,
) -> Params {
    let mut params = Params::default();
    for spec in cs.spec.params {
        if let Some(v) = spec.default.value() {
            params.0.insert(spec.name.to_string(), v);
        }
    }
    params.0.extend(values);
    let stage = Some(cs.decl.name.value.as_str());
    let mut push = |span: Span, message: String| {
        let e = source.error(span, stage, message);
        if !errors.contains(&e) {
            errors.push(e);
        }
    };
    for spec in cs.spec.params {
        if matches!(spec.default, super::schema::Default::Required) && params.get(spec.name).is_none() {
            push(
                cs.decl.name.span.clone(),
                format!("missing parameter `{}`: {} ({})", spec.name, spec.kind.describe(), spec.doc),
            );
        }
    }
    for group in cs.spec.exactly_one_of {
        let given: Vec<&str> = group.iter().copied().filter(|p| params.get(p).is_some()).collect();
        if given.len() != 1 {
            let names: Vec<String> = group.iter().map(|p| format!("`{p}`")).collect();
            let found = if given.is_empty() { "none".to_string() } else { given.join(" and ") };
            push(cs.decl.name.span.clone(), format!("give exactly one of {} (found {found})", names.join(", ")));
        }
    }
    if let Err(problem) = (cs.spec.check)(&params) {
        let span = problem.param.and_then(|p| param_span(decl, cs, p)).or(cs.decl.name.span.clone());
        push(span, problem.message);
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
