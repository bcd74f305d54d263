//! Reading a stage's summary JSON generically, by field name: the rows of a
//! result (`samplers` of a comparison, `rows` of an aggregate, or a map keyed
//! by stage), each row's label, a named value and its error. Plots and the
//! HTML report read new summary fields (a verdict, a difference to the
//! reference) through these without knowing the artifact's struct.

use serde_json::Value;

/// The finite number at `key`.
pub fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64).filter(|x| x.is_finite())
}

pub fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A stage name without its sweep suffix: `mcmc[inst.temperature=0.7]` -> `mcmc`.
pub fn base_name(stage: &str) -> &str {
    stage.split('[').next().unwrap_or(stage)
}

/// The per-sampler rows of a summary, each with its label (the stage's base
/// name, else the sampler kind). `None` when the summary has no rows.
pub fn rows(summary: &Value) -> Option<Vec<(String, &Value)>> {
    let label = |row: &Value| -> String {
        let stage = text(row, "stage").or_else(|| row.get("stages").and_then(|s| s.get(0)).and_then(Value::as_str));
        stage.map(base_name).or_else(|| text(row, "sampler")).unwrap_or("?").to_string()
    };
    for key in ["samplers", "rows"] {
        match summary.get(key) {
            Some(Value::Array(list)) if list.iter().all(Value::is_object) => {
                return Some(list.iter().map(|r| (label(r), r)).collect())
            }
            Some(Value::Object(map)) => {
                return Some(map.iter().map(|(stage, r)| (base_name(stage).to_string(), r)).collect())
            }
            _ => {}
        }
    }
    None
}

/// The numeric fields of a row (what `--y` can name).
pub fn numeric_fields(row: &Value) -> Vec<String> {
    row.as_object()
        .map(|m| m.iter().filter(|(_, v)| v.is_number()).map(|(k, _)| k.clone()).collect())
        .unwrap_or_default()
}

fn is_error_name(key: &str) -> bool {
    ["_stderr", "_err", "_error"].iter().any(|s| key.ends_with(s))
}

/// The field `name` stands for among `fields`: itself, `NAME_mean`, or the one
/// field containing it (a field ending in `_mean` preferred); errors are never
/// chosen. `Err` lists the candidates when there are several.
pub fn resolve(name: &str, fields: &[String]) -> Result<Option<String>, Vec<String>> {
    let name = name.to_ascii_lowercase();
    for exact in [name.clone(), format!("{name}_mean")] {
        if fields.contains(&exact) {
            return Ok(Some(exact));
        }
    }
    let mut matches: Vec<&String> = fields.iter().filter(|f| f.contains(&name) && !is_error_name(f)).collect();
    if matches.len() > 1 {
        let means: Vec<&String> = matches.iter().copied().filter(|f| f.ends_with("_mean")).collect();
        if means.len() == 1 {
            matches = means;
        }
    }
    match matches.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some((*one).clone())),
        many => Err(many.iter().map(|s| s.to_string()).collect()),
    }
}

/// The error field of `key` in `row`: `KEY_stderr`, `KEY_err`, `KEY_error`,
/// the same with a trailing `_mean` dropped, and `energy_stderr` for a
/// comparison's `energy_excess`.
pub fn error_of(row: &Value, key: &str) -> Option<f64> {
    let base = key.strip_suffix("_mean").unwrap_or(key);
    let mut names: Vec<String> = Vec::new();
    for stem in [key, base] {
        names.extend(["_stderr", "_err", "_error"].iter().map(|s| format!("{stem}{s}")));
    }
    if base == "energy_excess" {
        names.push("energy_stderr".into());
    }
    names.iter().find_map(|n| num(row, n))
}

/// The field of a row holding the energy difference to the per-instance
/// reference, when the comparison has one: a numeric field naming `energy`
/// and `diff` or `reference`, not an error.
pub fn reference_difference_field(row: &Value) -> Option<String> {
    let fields = numeric_fields(row);
    fields
        .into_iter()
        .find(|f| f.contains("energy") && (f.contains("diff") || f.contains("reference")) && !is_error_name(f))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_short_name_resolves_to_the_mean_field_and_its_error() {
        let fields = names(&["energy_excess_mean", "energy_excess_stderr", "overlap_planted_mean", "instances"]);
        assert_eq!(resolve("excess", &fields), Ok(Some("energy_excess_mean".into())));
        assert_eq!(resolve("overlap", &fields), Ok(Some("overlap_planted_mean".into())));
        assert_eq!(resolve("instances", &fields), Ok(Some("instances".into())));
        assert_eq!(resolve("nothing", &fields), Ok(None));
        let row = json!({"energy_excess_mean": 0.1, "energy_excess_stderr": 0.02});
        assert_eq!(error_of(&row, "energy_excess_mean"), Some(0.02));
        let cmp = json!({"energy_excess": 0.1, "energy_stderr": 0.03});
        assert_eq!(error_of(&cmp, "energy_excess"), Some(0.03));
    }

    #[test]
    fn an_ambiguous_name_lists_the_candidates() {
        let fields = names(&["q_mean", "q_abs_mean", "energy_mean"]);
        assert_eq!(resolve("q", &fields), Ok(Some("q_mean".into())));
        let err = resolve("mean", &fields).unwrap_err();
        assert_eq!(err.len(), 3);
    }

    #[test]
    fn rows_come_from_samplers_rows_or_a_map_keyed_by_stage() {
        let cmp = json!({"samplers": [{"stage": "mcmc[inst.n=4]", "sampler": "sample.metropolis"}]});
        assert_eq!(rows(&cmp).unwrap()[0].0, "mcmc");
        let agg = json!({"rows": [{"stages": ["dif[a.b=1]"], "sampler": "sample.diffusion"}]});
        assert_eq!(rows(&agg).unwrap()[0].0, "dif");
        let map = json!({"rows": {"gl[x.y=2]": {"violated_mean": 0.0}}});
        assert_eq!(rows(&map).unwrap()[0].0, "gl");
        assert!(rows(&json!({"rows": [1, 2]})).is_none());
    }

    #[test]
    fn the_reference_difference_is_found_by_name() {
        let row = json!({"energy_diff_reference": 0.01, "energy_diff_reference_stderr": 0.002, "energy_mean": -0.7});
        assert_eq!(reference_difference_field(&row).as_deref(), Some("energy_diff_reference"));
        assert_eq!(reference_difference_field(&json!({"energy_mean": 1.0})), None);
    }
}
