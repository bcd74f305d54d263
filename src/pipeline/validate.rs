//! Checks declarations against the kind catalog: kinds, parameter names,
//! types and ranges, sweep keys and values, inputs (existence, cycles, artifact
//! types). Every problem becomes a `PipelineError` at the offending position.

use std::collections::{HashMap, HashSet};

use super::error::{PipelineError, Source};
use super::params::ParamValue;
use super::parse::{PipelineDecl, Span, StageDecl};
use super::schema::{not_an_input, Catalog, KindSpec, MAX_STAGES};

/// Bad values reported one by one per sweep; the rest are counted.
const MAX_VALUE_ERRORS: usize = 10;

/// A declared stage whose kind and own parameter values passed their checks.
#[derive(Debug, Clone)]
pub struct CheckedStage<'c> {
    /// Position of the stage in the file.
    pub index: usize,
    pub decl: StageDecl,
    pub spec: &'c KindSpec,
    /// Converted values of the parameters written in the stage table.
    pub values: Vec<(String, ParamValue)>,
    /// File positions of the inputs, in order.
    pub inputs: Vec<usize>,
}

/// Checks everything that does not depend on sweep combinations.
/// Returns the stages in a topological order (inputs first).
pub fn check<'c, C: Catalog + ?Sized>(
    source: &Source,
    decl: &PipelineDecl,
    catalog: &'c C,
    errors: &mut Vec<PipelineError>,
) -> Vec<CheckedStage<'c>> {
    let index: HashMap<&str, usize> = decl.stages.iter().enumerate().map(|(i, s)| (s.name.value.as_str(), i)).collect();
    let mut stages: Vec<Option<CheckedStage<'c>>> =
        decl.stages.iter().enumerate().map(|(i, s)| check_stage(source, i, s, catalog, &index, errors)).collect();
    check_sweeps(source, decl, &stages, errors);
    let order = topological_order(source, decl, &index, errors);
    for &i in &order {
        if let Some(stage) = &stages[i] {
            check_input_types(source, stage, &stages, errors);
        }
    }
    order.into_iter().filter_map(|i| stages[i].take()).collect()
}

fn check_stage<'c, C: Catalog + ?Sized>(
    source: &Source,
    position: usize,
    decl: &StageDecl,
    catalog: &'c C,
    index: &HashMap<&str, usize>,
    errors: &mut Vec<PipelineError>,
) -> Option<CheckedStage<'c>> {
    let stage = Some(decl.name.value.as_str());
    let mut inputs = Vec::new();
    for input in &decl.inputs {
        match index.get(input.value.as_str()) {
            Some(&i) => inputs.push(i),
            None => {
                let names: Vec<&str> = index.keys().copied().collect();
                errors.push(source.error(
                    input.span.clone(),
                    stage,
                    format!(
                        "input `{}` is not a stage of this pipeline{}",
                        input.value,
                        suggestion(&input.value, &names)
                    ),
                ));
            }
        }
    }
    let Some(spec) = catalog.find(&decl.kind.value) else {
        let names: Vec<&str> = catalog.specs().iter().map(|k| k.name).collect();
        errors.push(source.error(
            decl.kind.span.clone(),
            stage,
            format!(
                "unknown kind `{}`{} (`quench stages` lists the catalog)",
                decl.kind.value,
                suggestion(&decl.kind.value, &names)
            ),
        ));
        return None;
    };
    let mut values = Vec::new();
    for (key, value) in &decl.params {
        match spec.param(&key.value) {
            None => {
                let names: Vec<&str> = spec.params.iter().map(|p| p.name).collect();
                errors.push(source.error(
                    key.span.clone(),
                    stage,
                    format!(
                        "unknown parameter `{}` for kind `{}`{} (parameters: {})",
                        key.value,
                        spec.name,
                        suggestion(&key.value, &names),
                        names.join(", ")
                    ),
                ));
            }
            Some(param) => match param.kind.accept(&value.value) {
                Ok(v) => match not_an_input(&param.kind, &v, &input_names(decl)) {
                    Some(why) => errors.push(source.error(
                        value.span.clone(),
                        stage,
                        format!("parameter `{}`: {why}", key.value),
                    )),
                    None => values.push((key.value.clone(), v)),
                },
                Err(why) => {
                    errors.push(source.error(value.span.clone(), stage, format!("parameter `{}`: {why}", key.value)))
                }
            },
        }
    }
    let failed = inputs.len() != decl.inputs.len();
    (!failed).then(|| CheckedStage { index: position, decl: decl.clone(), spec, values, inputs })
}

fn input_names(decl: &StageDecl) -> Vec<&str> {
    decl.inputs.iter().map(|i| i.value.as_str()).collect()
}

fn check_sweeps(
    source: &Source,
    decl: &PipelineDecl,
    stages: &[Option<CheckedStage>],
    errors: &mut Vec<PipelineError>,
) {
    for sweep in &decl.sweeps {
        let key_span = sweep.key.span.clone();
        let Some(pos) = decl.stages.iter().position(|s| s.name.value == sweep.stage) else {
            let names: Vec<&str> = decl.stages.iter().map(|s| s.name.value.as_str()).collect();
            errors.push(source.error(
                key_span,
                None,
                format!("sweep `{}`: no stage `{}`{}", sweep.key.value, sweep.stage, suggestion(&sweep.stage, &names)),
            ));
            continue;
        };
        let Some(stage) = &stages[pos] else { continue };
        let here = Some(sweep.stage.as_str());
        let Some(param) = stage.spec.param(&sweep.param) else {
            let names: Vec<&str> = stage.spec.params.iter().map(|p| p.name).collect();
            errors.push(source.error(
                key_span,
                here,
                format!(
                    "sweep `{}`: kind `{}` has no parameter `{}` (parameters: {})",
                    sweep.key.value,
                    stage.spec.name,
                    sweep.param,
                    names.join(", ")
                ),
            ));
            continue;
        };
        if stage.values.iter().any(|(k, _)| *k == sweep.param) {
            errors.push(source.error(
                key_span.clone(),
                here,
                format!("parameter `{}` is both set in the stage and swept; keep one", sweep.param),
            ));
        }
        if sweep.values.len() > MAX_STAGES {
            errors.push(source.error(
                key_span,
                here,
                format!(
                    "sweep `{}` has {} values, more than the limit of {MAX_STAGES} stages a pipeline may expand to",
                    sweep.key.value,
                    sweep.values.len()
                ),
            ));
            continue;
        }
        let mut seen: HashSet<Vec<u8>> = HashSet::with_capacity(sweep.values.len());
        let mut bad = 0usize;
        for value in &sweep.values {
            let problem = match param.kind.accept(&value.value) {
                Ok(v) if !seen.insert(v.canonical_key()) => {
                    format!("sweep `{}`: value {v} appears twice", sweep.key.value)
                }
                Ok(v) => match not_an_input(&param.kind, &v, &input_names(&stage.decl)) {
                    Some(why) => format!("sweep `{}`: {why}", sweep.key.value),
                    None => continue,
                },
                Err(why) => format!("sweep `{}`: {why}", sweep.key.value),
            };
            bad += 1;
            if bad <= MAX_VALUE_ERRORS {
                errors.push(source.error(value.span.clone(), here, problem));
            }
        }
        if bad > MAX_VALUE_ERRORS {
            errors.push(source.error(
                key_span,
                here,
                format!("sweep `{}`: {} more bad values not shown", sweep.key.value, bad - MAX_VALUE_ERRORS),
            ));
        }
    }
    for stage in &decl.stages {
        for key in &stage.gather {
            if !decl.sweeps.iter().any(|s| s.key.value == key.value) {
                let keys: Vec<&str> = decl.sweeps.iter().map(|s| s.key.value.as_str()).collect();
                let known = if keys.is_empty() {
                    "there is no [sweep]".to_string()
                } else {
                    format!("sweep keys: {}", keys.join(", "))
                };
                errors.push(source.error(
                    key.span.clone(),
                    Some(&stage.name.value),
                    format!("`gather` names `{}`, which is not swept ({known})", key.value),
                ));
            }
        }
    }
    for (i, a) in decl.sweeps.iter().enumerate() {
        if decl.sweeps[..i].iter().any(|b| b.stage == a.stage && b.param == a.param) {
            errors.push(source.error(
                a.key.span.clone(),
                Some(&a.stage),
                format!("sweep `{}` is given twice", a.key.value),
            ));
        }
    }
}

/// Depth-first topological order; reports each cycle once at the closing input.
fn topological_order(
    source: &Source,
    decl: &PipelineDecl,
    index: &HashMap<&str, usize>,
    errors: &mut Vec<PipelineError>,
) -> Vec<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        at: usize,
        decl: &PipelineDecl,
        index: &HashMap<&str, usize>,
        marks: &mut [Mark],
        path: &mut Vec<usize>,
        order: &mut Vec<usize>,
        cycles: &mut Vec<(usize, usize, Vec<usize>)>,
    ) {
        marks[at] = Mark::Open;
        path.push(at);
        for (slot, input) in decl.stages[at].inputs.iter().enumerate() {
            let Some(&next) = index.get(input.value.as_str()) else { continue };
            match marks[next] {
                Mark::New => visit(next, decl, index, marks, path, order, cycles),
                Mark::Open => {
                    let start = path.iter().position(|&p| p == next).unwrap_or(0);
                    cycles.push((at, slot, path[start..].to_vec()));
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks[at] = Mark::Done;
        order.push(at);
    }
    let mut marks = vec![Mark::New; decl.stages.len()];
    let (mut order, mut cycles) = (Vec::new(), Vec::new());
    for start in 0..decl.stages.len() {
        if marks[start] == Mark::New {
            visit(start, decl, index, &mut marks, &mut Vec::new(), &mut order, &mut cycles);
        }
    }
    for (at, slot, members) in cycles {
        let mut names: Vec<&str> = members.iter().rev().map(|&i| decl.stages[i].name.value.as_str()).collect();
        names.push(names[0]);
        let stage = &decl.stages[at];
        errors.push(source.error(
            stage.inputs[slot].span.clone(),
            Some(&stage.name.value),
            format!("inputs form a cycle: {}", names.join(" <- ")),
        ));
    }
    order
}

fn check_input_types(
    source: &Source,
    stage: &CheckedStage,
    stages: &[Option<CheckedStage>],
    errors: &mut Vec<PipelineError>,
) {
    let types: Vec<&str> = stage.inputs.iter().map(|&i| stages[i].as_ref().map_or("?", |s| s.spec.output)).collect();
    if types.contains(&"?") {
        return;
    }
    if let Err(at) = stage.spec.match_inputs(&types) {
        let expected = stage.spec.describe_inputs();
        let (span, message): (Span, String) = match at {
            Some(i) => (
                stage.decl.inputs[i].span.clone(),
                format!(
                    "input `{}` is a `{}` artifact, but kind `{}` expects {expected}",
                    stage.decl.inputs[i].value, types[i], stage.spec.name
                ),
            ),
            None => (
                stage.decl.name.span.clone(),
                format!("missing inputs: kind `{}` expects {expected} (add `inputs = [...]`)", stage.spec.name),
            ),
        };
        errors.push(source.error(span, Some(&stage.decl.name.value), message));
    }
}

/// ", did you mean `x`?" when a known name is within edit distance 2.
pub fn suggestion(name: &str, known: &[&str]) -> String {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map_or(String::new(), |(_, k)| format!(", did you mean `{k}`?"))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != b[j])).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
