//! Reads a pipeline file (TOML) into declarations that keep the position of
//! every key and value, so later checks can point at file:line:column.
//! Only the shape is checked here (tables, types of `kind`/`inputs`, scalar
//! values); kinds and parameters are checked by `validate`.

use std::ops::Range;

use toml_edit::{Document, Item, Table, Value};

use super::error::{PipelineError, Source};
use super::params::ParamValue;

pub type Span = Option<Range<usize>>;

/// A value together with where it stands in the file.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

/// One `[stage.NAME]` table as written.
#[derive(Debug, Clone)]
pub struct StageDecl {
    pub name: Spanned<String>,
    pub kind: Spanned<String>,
    pub inputs: Vec<Spanned<String>>,
    /// Sweep keys (`"STAGE.PARAM"`) whose copies of the inputs this stage takes all at once.
    pub gather: Vec<Spanned<String>>,
    pub params: Vec<(Spanned<String>, Spanned<ParamValue>)>,
}

/// One `"STAGE.PARAM" = [values]` entry of `[sweep]`.
#[derive(Debug, Clone)]
pub struct SweepDecl {
    pub key: Spanned<String>,
    pub stage: String,
    pub param: String,
    pub values: Vec<Spanned<ParamValue>>,
}

/// The whole file as written.
#[derive(Debug, Clone)]
pub struct PipelineDecl {
    pub name: String,
    pub seed: u64,
    pub stages: Vec<StageDecl>,
    pub sweeps: Vec<SweepDecl>,
}

/// Characters a stage name may not contain (they structure sweep copy names).
const RESERVED: &[char] = &['.', '[', ']', '=', ',', ' ', '\t', '"', '\''];

pub fn parse(source: &Source, default_name: &str) -> Result<PipelineDecl, Vec<PipelineError>> {
    let doc = Document::parse(source.text.as_str())
        .map_err(|e| vec![source.error(e.span(), None, format!("invalid TOML: {}", e.message()))])?;
    let mut errors = Vec::new();
    let root = doc.as_table();
    for (key, _) in root.iter() {
        // `[slurm]` is read by the Slurm executor (src/cluster/config.rs), not part of any key.
        if !["pipeline", "stage", "sweep", "slurm"].contains(&key) {
            let span = root.key(key).and_then(|k| k.span());
            errors.push(source.error(
                span,
                None,
                format!("unknown table `{key}` (expected `pipeline`, `stage`, `sweep` or `slurm`)"),
            ));
        }
    }
    let (name, seed) = parse_header(source, root, default_name, &mut errors);
    let stages = parse_stages(source, root, &mut errors);
    let sweeps = parse_sweeps(source, root, &mut errors);
    if errors.is_empty() {
        Ok(PipelineDecl { name, seed, stages, sweeps })
    } else {
        Err(errors)
    }
}

fn key_span(table: &Table, key: &str) -> Span {
    table.key(key).and_then(|k| k.span())
}

fn parse_header(source: &Source, root: &Table, default_name: &str, errors: &mut Vec<PipelineError>) -> (String, u64) {
    let (mut name, mut seed) = (default_name.to_string(), 0);
    let Some(item) = root.get("pipeline") else {
        return (name, seed);
    };
    let Some(table) = item.as_table_like() else {
        errors.push(source.error(item.span(), None, "`pipeline` must be a table"));
        return (name, seed);
    };
    for (key, item) in table.iter() {
        let value = item.as_value();
        match (key, value) {
            ("name", Some(Value::String(s))) => name = s.value().clone(),
            ("seed", Some(Value::Integer(i))) if *i.value() >= 0 => seed = *i.value() as u64,
            ("executor", Some(Value::String(s))) if ["local", "slurm"].contains(&s.value().as_str()) => {}
            ("executor", _) => errors.push(source.error(
                item.span(),
                None,
                "`pipeline.executor` must be \"local\" or \"slurm\" (where stages run; not part of any key)",
            )),
            ("name", _) => errors.push(source.error(item.span(), None, "`pipeline.name` must be a string")),
            ("seed", _) => {
                errors.push(source.error(item.span(), None, "`pipeline.seed` must be a non-negative integer"))
            }
            _ => errors.push(source.error(
                table.key(key).and_then(|k| k.span()),
                None,
                format!("unknown key `pipeline.{key}` (expected `name`, `seed` or `executor`)"),
            )),
        }
    }
    (name, seed)
}

fn parse_stages(source: &Source, root: &Table, errors: &mut Vec<PipelineError>) -> Vec<StageDecl> {
    let Some(item) = root.get("stage") else {
        errors.push(source.error(None, None, "no stages: add at least one `[stage.NAME]` table"));
        return Vec::new();
    };
    let Some(stages) = item.as_table() else {
        errors.push(source.error(item.span(), None, "`stage` must be a table of `[stage.NAME]` tables"));
        return Vec::new();
    };
    let mut decls = Vec::new();
    for (name, item) in stages.iter() {
        let name = Spanned { value: name.to_string(), span: key_span(stages, name) };
        if name.value.is_empty() || name.value.contains(RESERVED) {
            errors.push(source.error(
                name.span.clone(),
                Some(&name.value),
                "a stage name may not be empty or contain `.`, `[`, `]`, `=`, `,`, quotes or spaces",
            ));
            continue;
        }
        match item.as_table_like() {
            Some(table) => {
                if let Some(decl) = parse_stage(source, name, table, errors) {
                    decls.push(decl);
                }
            }
            None => errors.push(source.error(item.span(), Some(&name.value), "a stage must be a table")),
        }
    }
    decls
}

fn parse_stage(
    source: &Source,
    name: Spanned<String>,
    table: &dyn toml_edit::TableLike,
    errors: &mut Vec<PipelineError>,
) -> Option<StageDecl> {
    let stage = Some(name.value.as_str());
    let mut kind = None;
    let mut inputs = Vec::new();
    let mut gather = Vec::new();
    let mut params = Vec::new();
    for (key, item) in table.iter() {
        let key_span = table.key(key).and_then(|k| k.span());
        match key {
            "kind" => match item.as_str() {
                Some(s) => kind = Some(Spanned { value: s.to_string(), span: item.span() }),
                None => errors.push(source.error(item.span(), stage, "`kind` must be a string, e.g. \"disorder.sk\"")),
            },
            "inputs" => match parse_inputs(item) {
                Ok(list) => inputs = list,
                Err(span) => errors.push(source.error(span, stage, "`inputs` must be a list of stage names")),
            },
            "gather" => match parse_inputs(item) {
                Ok(list) => gather = list,
                Err(span) => {
                    errors.push(source.error(span, stage, "`gather` must be a list of sweep keys \"STAGE.PARAM\""))
                }
            },
            _ => match scalar(item) {
                Some(value) => params
                    .push((Spanned { value: key.to_string(), span: key_span }, Spanned { value, span: item.span() })),
                None => errors.push(source.error(
                    item.span().or(key_span),
                    stage,
                    format!("parameter `{key}` must be a number, string or boolean"),
                )),
            },
        }
    }
    let Some(kind) = kind else {
        errors.push(source.error(name.span.clone(), stage, "missing `kind` (see `quench stages` for the catalog)"));
        return None;
    };
    Some(StageDecl { name, kind, inputs, gather, params })
}

fn parse_inputs(item: &Item) -> Result<Vec<Spanned<String>>, Span> {
    let array = item.as_array().ok_or(item.span())?;
    array
        .iter()
        .map(|v| match v.as_str() {
            Some(s) => Ok(Spanned { value: s.to_string(), span: v.span() }),
            None => Err(v.span()),
        })
        .collect()
}

/// A scalar TOML value as a parameter value.
pub fn scalar_value(value: &Value) -> Option<ParamValue> {
    match value {
        Value::String(s) => Some(ParamValue::Str(s.value().clone())),
        Value::Integer(i) => Some(ParamValue::Int(*i.value())),
        Value::Float(f) => Some(ParamValue::Float(*f.value())),
        Value::Boolean(b) => Some(ParamValue::Bool(*b.value())),
        _ => None,
    }
}

fn scalar(item: &Item) -> Option<ParamValue> {
    scalar_value(item.as_value()?)
}

fn parse_sweeps(source: &Source, root: &Table, errors: &mut Vec<PipelineError>) -> Vec<SweepDecl> {
    let Some(item) = root.get("sweep") else {
        return Vec::new();
    };
    let Some(table) = item.as_table_like() else {
        errors.push(source.error(item.span(), None, "`sweep` must be a table of \"STAGE.PARAM\" = [values]"));
        return Vec::new();
    };
    let mut sweeps = Vec::new();
    for (key, item) in table.iter() {
        let key_span = table.key(key).and_then(|k| k.span());
        let Some((stage, param)) = key.rsplit_once('.') else {
            errors.push(source.error(key_span, None, format!("sweep key `{key}` must be \"STAGE.PARAM\" (quoted)")));
            continue;
        };
        let Some(array) = item.as_array().filter(|a| !a.is_empty()) else {
            errors.push(source.error(
                item.span().or(key_span),
                None,
                format!("sweep `{key}` must be a non-empty list of values"),
            ));
            continue;
        };
        let mut values = Vec::new();
        for v in array.iter() {
            match scalar_value(v) {
                Some(value) => values.push(Spanned { value, span: v.span() }),
                None => errors.push(source.error(
                    v.span(),
                    Some(stage),
                    format!("sweep `{key}`: values must be numbers, strings or booleans"),
                )),
            }
        }
        sweeps.push(SweepDecl {
            key: Spanned { value: key.to_string(), span: key_span },
            stage: stage.to_string(),
            param: param.to_string(),
            values,
        });
    }
    sweeps
}
