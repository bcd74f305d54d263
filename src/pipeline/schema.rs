//! What a stage kind declares about itself: its parameters (type, range,
//! default, unit), the artifact types it accepts as inputs and produces, and
//! its algorithm version. The pipeline validator reads these declarations; the
//! stage catalog provides them. Nothing here knows any particular kind.

use super::params::{ParamValue, Params};

/// The type and admissible range of one parameter.
#[derive(Debug, Clone, Copy)]
pub enum ParamKind {
    /// An integer in `[min, max]`.
    Int {
        min: i64,
        max: i64,
    },
    /// A finite real in the interval from `min` to `max`, each end open or closed.
    Float {
        min: f64,
        max: f64,
        min_open: bool,
        max_open: bool,
    },
    /// One of the listed names.
    Choice(&'static [&'static str]),
    Bool,
    /// The name of one of the stage's own inputs, as written in its `inputs`
    /// (validation checks that it is one).
    Input,
}

/// A default value, or none (the parameter is optional or part of a choice group).
#[derive(Debug, Clone, Copy)]
pub enum Default {
    /// Must be given (in the stage or by a sweep).
    Required,
    /// Optional, no default (e.g. one of an `exactly_one_of` group).
    None,
    Int(i64),
    Float(f64),
    Str(&'static str),
    Bool(bool),
}

impl Default {
    pub fn value(&self) -> Option<ParamValue> {
        match *self {
            Default::Required | Default::None => None,
            Default::Int(v) => Some(ParamValue::Int(v)),
            Default::Float(v) => Some(ParamValue::Float(v)),
            Default::Str(v) => Some(ParamValue::Str(v.to_string())),
            Default::Bool(v) => Some(ParamValue::Bool(v)),
        }
    }
}

/// One parameter of a kind.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: ParamKind,
    pub default: Default,
    pub unit: &'static str,
    pub doc: &'static str,
}

/// One input slot: which artifact types it takes, and how many.
#[derive(Debug, Clone, Copy)]
pub struct InputSlot {
    pub accepts: &'static [&'static str],
    pub arity: Arity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    One,
    Optional,
    AnyNumber,
    AtLeastOne,
}

/// A problem found by a kind's own cross-parameter check.
#[derive(Debug, Clone)]
pub struct ParamProblem {
    /// The parameter to point at, if one is to blame.
    pub param: Option<&'static str>,
    pub message: String,
}

/// Everything a kind declares about itself.
#[derive(Debug, Clone, Copy)]
pub struct KindSpec {
    pub name: &'static str,
    /// Bumped whenever the kind's output for the same inputs would change.
    pub version: u32,
    pub summary: &'static str,
    /// The artifact type it produces.
    pub output: &'static str,
    pub inputs: &'static [InputSlot],
    pub params: &'static [ParamSpec],
    /// Groups of parameters of which exactly one must be given.
    pub exactly_one_of: &'static [&'static [&'static str]],
    /// Groups of parameters of which at most one may be written in the
    /// pipeline (defaults do not count: `block = 1` beside `block_fraction`
    /// is refused though 1 is `block`'s default).
    pub at_most_one_given: &'static [&'static [&'static str]],
    /// Cross-parameter checks beyond types and ranges.
    pub check: fn(&Params) -> Result<(), ParamProblem>,
}

impl KindSpec {
    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    /// A check that accepts everything.
    pub fn no_check(_: &Params) -> Result<(), ParamProblem> {
        Ok(())
    }

    /// Human description of the inputs, e.g. "one disorder, then any number of samples".
    pub fn describe_inputs(&self) -> String {
        if self.inputs.is_empty() {
            return "no inputs".into();
        }
        let parts: Vec<String> = self
            .inputs
            .iter()
            .map(|slot| {
                let types = slot.accepts.join(" or ");
                match slot.arity {
                    Arity::One => format!("one {types}"),
                    Arity::Optional => format!("an optional {types}"),
                    Arity::AnyNumber => format!("any number of {types}"),
                    Arity::AtLeastOne => format!("one or more {types}"),
                }
            })
            .collect();
        parts.join(", then ")
    }

    /// Checks a sequence of input artifact types against the slots; on failure
    /// returns the index of the first offending input (or None when inputs are missing).
    pub fn match_inputs(&self, types: &[&str]) -> Result<(), Option<usize>> {
        let mut next = 0;
        for slot in self.inputs {
            let takes = |t: &&str| slot.accepts.contains(t);
            let mut taken = 0;
            while next < types.len() && takes(&types[next]) {
                next += 1;
                taken += 1;
                if matches!(slot.arity, Arity::One | Arity::Optional) {
                    break;
                }
            }
            if taken == 0 && matches!(slot.arity, Arity::One | Arity::AtLeastOne) {
                return Err((next < types.len()).then_some(next));
            }
        }
        if next < types.len() {
            Err(Some(next))
        } else {
            Ok(())
        }
    }
}

impl ParamKind {
    /// Describes what is accepted, for error messages and the catalog.
    pub fn describe(&self) -> String {
        match *self {
            ParamKind::Int { min, max } if max == i64::MAX => format!("an integer >= {min}"),
            ParamKind::Int { min, max } => format!("an integer in [{min}, {max}]"),
            ParamKind::Float { min, max, min_open, max_open } => {
                let lo = if min_open { '(' } else { '[' };
                let hi = if max_open { ')' } else { ']' };
                let fmt = |v: f64| if v.is_infinite() { "inf".to_string() } else { format!("{v}") };
                format!("a number in {lo}{}, {}{hi}", fmt(min), fmt(max))
            }
            ParamKind::Choice(names) => format!("one of {}", quoted_list(names)),
            ParamKind::Bool => "true or false".into(),
            ParamKind::Input => "the name of one of the stage's inputs".into(),
        }
    }

    /// Converts and range-checks a value; the error says what was expected.
    pub fn accept(&self, value: &ParamValue) -> Result<ParamValue, String> {
        let expected = || format!("expected {}, found {}", self.describe(), value.describe());
        match (*self, value) {
            (ParamKind::Int { min, max }, ParamValue::Int(v)) if (min..=max).contains(v) => Ok(value.clone()),
            (ParamKind::Float { .. }, ParamValue::Int(v)) => self.accept(&ParamValue::Float(*v as f64)),
            (ParamKind::Float { min, max, min_open, max_open }, ParamValue::Float(v)) => {
                let above = if min_open { *v > min } else { *v >= min };
                let below = if max_open { *v < max } else { *v <= max };
                if v.is_finite() && above && below {
                    Ok(ParamValue::Float(if *v == 0.0 { 0.0 } else { *v }))
                } else {
                    Err(expected())
                }
            }
            (ParamKind::Choice(names), ParamValue::Str(s)) if names.contains(&s.as_str()) => Ok(value.clone()),
            (ParamKind::Bool, ParamValue::Bool(_)) => Ok(value.clone()),
            (ParamKind::Input, ParamValue::Str(_)) => Ok(value.clone()),
            _ => Err(expected()),
        }
    }
}

/// For a `ParamKind::Input` parameter: why `value` is not one of `inputs` (None when it is).
pub fn not_an_input(kind: &ParamKind, value: &ParamValue, inputs: &[&str]) -> Option<String> {
    match (kind, value) {
        (ParamKind::Input, ParamValue::Str(s)) if !inputs.contains(&s.as_str()) => Some(format!(
            "\"{s}\" is not an input of this stage (its inputs: {})",
            if inputs.is_empty() { "none".to_string() } else { quoted_list(inputs) }
        )),
        _ => None,
    }
}

pub fn quoted_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    quoted.join(", ")
}

/// The largest pipeline quench plans: sweeps expanding past this many concrete
/// stages are refused at validation, before anything is expanded.
pub const MAX_STAGES: usize = 100_000;

/// An input of a concrete stage, as validation sees it: the kind that produces
/// it and that producer's canonical parameters.
#[derive(Debug, Clone, Copy)]
pub struct InputFacts<'a> {
    pub kind: &'a KindSpec,
    pub params: &'a Params,
}

/// A problem with one input of a concrete stage.
#[derive(Debug, Clone)]
pub struct InputProblem {
    /// Index into the stage's concrete inputs.
    pub input: usize,
    pub message: String,
}

/// The kinds validation knows. A plain slice of `KindSpec` is a catalog
/// checking artifact types only; the stage registry adds model-aware checks.
pub trait Catalog: Sync {
    /// Every kind, in the order `quench stages` lists them.
    fn specs(&self) -> Vec<&KindSpec>;

    fn find(&self, name: &str) -> Option<&KindSpec> {
        self.specs().into_iter().find(|k| k.name == name)
    }

    /// Checks a concrete stage's inputs beyond artifact types and arity (which
    /// validation has already checked), given its final parameters and what
    /// produces each input.
    fn check_inputs(&self, _kind: &KindSpec, _params: &Params, _inputs: &[InputFacts]) -> Result<(), InputProblem> {
        Ok(())
    }
}

impl Catalog for [KindSpec] {
    fn specs(&self) -> Vec<&KindSpec> {
        self.iter().collect()
    }
}
