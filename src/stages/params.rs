//! Typed parameters: each kind parses its canonical `Params` into a plain
//! struct through `Args`, once at validation (as the kind's `check`) and again
//! when it runs. Defaults come from the kind's spec, never from a literal here;
//! a missing or wrong-typed value is an error, never a fallback; choices parse
//! into enums (`Choice`) with an error for an unknown name. Also the parameter
//! declarations several kinds share, so their names, ranges and docs agree.

use crate::pipeline::schema::{Default, KindSpec, ParamKind, ParamProblem, ParamSpec};
use crate::pipeline::{ParamValue, Params};

/// A kind's parameters as a typed value.
pub trait KindParams: Sized {
    /// The spec the parameters belong to (names, defaults).
    const KIND: &'static KindSpec;

    fn parse(args: &Args) -> Result<Self, ParamProblem>;

    fn from_params(params: &Params) -> Result<Self, ParamProblem> {
        Self::parse(&Args { spec: Self::KIND, params })
    }
}

/// A kind's `check`: its parameters parse (every cross-parameter rule lives in `parse`).
pub fn check<P: KindParams>(params: &Params) -> Result<(), ParamProblem> {
    P::from_params(params).map(|_| ())
}

/// A named choice parameter's values.
pub trait Choice: Sized {
    /// The accepted names, in the order the catalog lists them.
    const NAMES: &'static [&'static str];
    fn from_name(name: &str) -> Option<Self>;
}

/// Implements `Choice` for an enum from a table of names and values.
macro_rules! choices {
    ($ty:ty { $($name:literal => $value:expr),+ $(,)? }) => {
        impl $crate::stages::params::Choice for $ty {
            const NAMES: &'static [&'static str] = &[$($name),+];
            fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($name => Some($value),)+
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use choices;

/// Reads one stage's parameters by name against its kind's spec.
pub struct Args<'a> {
    pub spec: &'static KindSpec,
    pub params: &'a Params,
}

pub fn problem(param: &'static str, message: impl Into<String>) -> ParamProblem {
    ParamProblem { param: Some(param), message: message.into() }
}

impl Args<'_> {
    /// The value given, else the spec's default; None when the spec has neither.
    fn value(&self, name: &'static str) -> Result<Option<ParamValue>, ParamProblem> {
        let Some(spec) = self.spec.param(name) else {
            return Err(problem(name, format!("kind `{}` has no parameter `{name}`", self.spec.name)));
        };
        Ok(self.params.get(name).cloned().or_else(|| spec.default.value()))
    }

    fn required(&self, name: &'static str) -> Result<ParamValue, ParamProblem> {
        self.value(name)?.ok_or_else(|| problem(name, format!("parameter `{name}` is missing")))
    }

    fn wrong(name: &'static str, expected: &str, found: &ParamValue) -> ParamProblem {
        problem(name, format!("parameter `{name}`: expected {expected}, found {}", found.describe()))
    }

    pub fn int(&self, name: &'static str) -> Result<i64, ParamProblem> {
        match self.required(name)? {
            ParamValue::Int(v) => Ok(v),
            other => Err(Self::wrong(name, "an integer", &other)),
        }
    }

    /// A non-negative integer as a count.
    pub fn count(&self, name: &'static str) -> Result<usize, ParamProblem> {
        let v = self.int(name)?;
        usize::try_from(v).map_err(|_| problem(name, format!("parameter `{name}` must be >= 0, found {v}")))
    }

    pub fn u64(&self, name: &'static str) -> Result<u64, ParamProblem> {
        Ok(self.count(name)? as u64)
    }

    pub fn float(&self, name: &'static str) -> Result<f64, ParamProblem> {
        self.opt_float(name)?.ok_or_else(|| problem(name, format!("parameter `{name}` is missing")))
    }

    /// A real parameter that may be absent (one of an `exactly_one_of` group).
    pub fn opt_float(&self, name: &'static str) -> Result<Option<f64>, ParamProblem> {
        match self.value(name)? {
            None => Ok(None),
            Some(ParamValue::Float(v)) => Ok(Some(v)),
            Some(ParamValue::Int(v)) => Ok(Some(v as f64)),
            Some(other) => Err(Self::wrong(name, "a number", &other)),
        }
    }

    /// The name of one of the stage's inputs (`ParamKind::Input`), if given.
    pub fn opt_input(&self, name: &'static str) -> Result<Option<String>, ParamProblem> {
        match self.value(name)? {
            None => Ok(None),
            Some(ParamValue::Str(s)) => Ok(Some(s)),
            Some(other) => Err(Self::wrong(name, "a stage name", &other)),
        }
    }

    pub fn choice<T: Choice>(&self, name: &'static str) -> Result<T, ParamProblem> {
        match self.required(name)? {
            ParamValue::Str(s) => T::from_name(&s).ok_or_else(|| {
                let names: Vec<String> = T::NAMES.iter().map(|n| format!("\"{n}\"")).collect();
                problem(
                    name,
                    format!("parameter `{name}`: unknown value \"{s}\" (expected one of {})", names.join(", ")),
                )
            }),
            other => Err(Self::wrong(name, "a name", &other)),
        }
    }
}

/// A real parameter in `(min, max]` with a default.
pub const fn real(
    name: &'static str,
    min: f64,
    max: f64,
    default: f64,
    unit: &'static str,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamKind::Float { min, max, min_open: true, max_open: false },
        default: Default::Float(default),
        unit,
        doc,
    }
}

/// An integer parameter with a default.
pub const fn int_param(
    name: &'static str,
    min: i64,
    max: i64,
    default: i64,
    unit: &'static str,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec { name, kind: int(min, max), default: Default::Int(default), unit, doc }
}

pub const fn int(min: i64, max: i64) -> ParamKind {
    ParamKind::Int { min, max }
}

/// A real in `[min, max]`.
pub const fn closed(min: f64, max: f64) -> ParamKind {
    ParamKind::Float { min, max, min_open: false, max_open: false }
}

/// Wall time between checkpoints of a long stage (`engine::checkpoint`); not
/// part of the key. Every long-running kind takes it.
pub const CHECKPOINT_EVERY: ParamSpec = real(
    crate::engine::checkpoint::EVERY_PARAM,
    0.0,
    1e6,
    crate::engine::checkpoint::DEFAULT_EVERY_SECONDS,
    "seconds",
    "wall time between checkpoints under cache/partial (not part of the key)",
);

/// Temperatures, in units where the couplings are O(1): below 1e-3 every
/// Boltzmann factor under- or overflows, above 1e3 the measure is the prior.
pub const TEMPERATURE_RANGE: ParamKind = closed(1e-3, 1e3);

/// Noise variances: `Delta = 2 T^2 / p` over the temperature range.
pub const DELTA_RANGE: ParamKind = closed(1e-6, 1e6);

pub const DELTA: ParamSpec = ParamSpec {
    name: "delta",
    kind: DELTA_RANGE,
    default: Default::None,
    unit: "noise variance",
    doc: "noise variance Delta of the observation (give this or `temperature`)",
};

pub const TEMPERATURE: ParamSpec = ParamSpec {
    name: "temperature",
    kind: TEMPERATURE_RANGE,
    default: Default::None,
    unit: "T",
    doc: "temperature T on the Nishimori line, Delta = 2 T^2 / p (give this or `delta`)",
};

pub const RHO: ParamSpec = ParamSpec {
    name: "rho",
    kind: ParamKind::Float { min: 1e-3, max: 1.0, min_open: false, max_open: false },
    default: Default::None,
    unit: "fraction",
    doc: "density of non-zero variables (sparse-rademacher prior only)",
};

pub const INSTANCE: ParamSpec = ParamSpec {
    name: "instance",
    kind: int(0, i64::MAX),
    default: Default::Int(0),
    unit: "",
    doc: "disorder instance number: change it (or sweep it) for another draw",
};

/// `rho` is required by the sparse prior and meaningless for the others:
/// `Some(rho)` for the sparse prior, `None` otherwise.
pub fn rho(args: &Args, sparse: bool) -> Result<Option<f64>, ParamProblem> {
    if args.spec.param("rho").is_none() && !sparse {
        return Ok(None);
    }
    match (sparse, args.opt_float("rho")?) {
        (true, None) => Err(problem("prior", "prior \"sparse-rademacher\" needs `rho` in [0.001, 1]")),
        (false, Some(_)) => Err(problem("rho", "`rho` applies only to prior \"sparse-rademacher\"")),
        (_, rho) => Ok(rho),
    }
}

/// Delta from whichever of `delta` / `temperature` is given (exactly one, by the spec).
pub fn delta(args: &Args, p: usize) -> Result<f64, ParamProblem> {
    match (args.opt_float("delta")?, args.opt_float("temperature")?) {
        (Some(delta), None) => Ok(delta),
        (None, Some(t)) => Ok(crate::models::delta_from_temperature(p, t)),
        _ => Err(problem("delta", "give exactly one of `delta`, `temperature`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::schema::ParamSpec;
    use crate::samplers::Init;

    static SPEC: KindSpec = KindSpec {
        name: "test.kind",
        version: 1,
        summary: "",
        output: "x",
        inputs: &[],
        params: &[
            int_param("count", 0, 10, 4, "", ""),
            ParamSpec {
                name: "init",
                kind: ParamKind::Choice(Init::NAMES),
                default: Default::Str("random"),
                unit: "",
                doc: "",
            },
            ParamSpec { name: "scale", kind: closed(0.0, 1.0), default: Default::None, unit: "", doc: "" },
            ParamSpec { name: "size", kind: int(1, 9), default: Default::Required, unit: "", doc: "" },
        ],
        exactly_one_of: &[],
        at_most_one_given: &[],
        check: KindSpec::no_check,
    };

    fn args_of(values: &[(&str, ParamValue)]) -> Params {
        Params(values.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn defaults_come_from_the_spec_and_choices_parse() {
        let params = args_of(&[("init", ParamValue::Str("planted".into()))]);
        let args = Args { spec: &SPEC, params: &params };
        assert_eq!(args.count("count").unwrap(), 4);
        assert_eq!(args.choice::<Init>("init").unwrap(), Init::Planted);
        assert_eq!(args.opt_float("scale").unwrap(), None);
    }

    #[test]
    fn missing_wrong_typed_and_unknown_values_are_errors_not_fallbacks() {
        let params = args_of(&[
            ("init", ParamValue::Str("annealed".into())),
            ("count", ParamValue::Float(2.0)),
            ("scale", ParamValue::Str("big".into())),
        ]);
        let args = Args { spec: &SPEC, params: &params };
        let e = args.choice::<Init>("init").unwrap_err();
        assert_eq!(e.message, "parameter `init`: unknown value \"annealed\" (expected one of \"random\", \"planted\")");
        assert_eq!(e.param, Some("init"));
        assert!(args.count("count").unwrap_err().message.contains("expected an integer, found a number (2)"));
        assert!(args.float("scale").unwrap_err().message.contains("expected a number, found a string"));
        assert_eq!(args.int("size").unwrap_err().message, "parameter `size` is missing");
        assert!(args.int("nope").unwrap_err().message.contains("kind `test.kind` has no parameter `nope`"));
        let negative = args_of(&[("count", ParamValue::Int(-1))]);
        let args = Args { spec: &SPEC, params: &negative };
        assert!(args.count("count").unwrap_err().message.contains("must be >= 0"));
    }
}
