//! Validation and expansion against a small test catalog.

use std::path::Path;

use proptest::prelude::*;

use super::schema::{Arity, Default, InputSlot, KindSpec, ParamKind, ParamSpec};
use super::*;

const N: ParamSpec = ParamSpec {
    name: "n",
    kind: ParamKind::Int { min: 2, max: 1000 },
    default: Default::Required,
    unit: "",
    doc: "size",
};
const T: ParamSpec = ParamSpec {
    name: "temperature",
    kind: ParamKind::Float { min: 0.0, max: f64::INFINITY, min_open: true, max_open: true },
    default: Default::None,
    unit: "",
    doc: "temperature",
};
const DELTA: ParamSpec = ParamSpec { name: "delta", ..T };
const MODE: ParamSpec =
    ParamSpec { name: "mode", kind: ParamKind::Choice(&["a", "b"]), default: Default::Str("a"), unit: "", doc: "mode" };

static CATALOG: &[KindSpec] = &[
    KindSpec {
        name: "make",
        version: 1,
        summary: "",
        output: "thing",
        inputs: &[],
        params: &[N, T, DELTA, MODE],
        exactly_one_of: &[&["temperature", "delta"]],
        at_most_one_given: &[],
        check: KindSpec::no_check,
    },
    KindSpec {
        name: "use",
        version: 1,
        summary: "",
        output: "result",
        inputs: &[
            InputSlot { accepts: &["thing"], arity: Arity::One },
            InputSlot { accepts: &["result"], arity: Arity::AnyNumber },
        ],
        params: &[MODE],
        exactly_one_of: &[],
        at_most_one_given: &[],
        check: KindSpec::no_check,
    },
    KindSpec {
        name: "collect",
        version: 1,
        summary: "",
        output: "result",
        inputs: &[
            InputSlot { accepts: &["thing"], arity: Arity::AtLeastOne },
            InputSlot { accepts: &["result"], arity: Arity::AnyNumber },
        ],
        params: &[],
        exactly_one_of: &[],
        at_most_one_given: &[],
        check: KindSpec::no_check,
    },
];

fn load(text: &str) -> Result<Pipeline, PipelineErrors> {
    Pipeline::from_source(&Source::new(Path::new("p.toml"), text.to_string()), CATALOG)
}

fn first_error(text: &str) -> String {
    load(text).expect_err("should fail").0[0].to_string()
}

const GOOD: &str = r#"
[pipeline]
seed = 3

[stage.inst]
kind = "make"
n = 10
temperature = 0.5

[stage.other]
kind = "make"
n = 10
delta = 0.5

[stage.a]
kind = "use"
inputs = ["inst"]

[stage.b]
kind = "use"
inputs = ["other", "a"]
"#;

#[test]
fn a_good_file_loads_in_topological_order() {
    let p = load(GOOD).unwrap();
    assert_eq!(p.seed, 3);
    assert_eq!(p.name, "p");
    let names: Vec<&str> = p.stages.iter().map(|s| s.name.as_str()).collect();
    for s in &p.stages {
        for &i in &s.inputs {
            assert!(names.iter().position(|n| *n == s.name).unwrap() > i);
        }
    }
    let inst = &p.stages[p.find("inst").unwrap()];
    assert_eq!(inst.params.str("mode"), Some("a"), "defaults are filled in");
}

#[test]
fn unknown_kind_points_at_the_kind_value() {
    let e = first_error("[stage.x]\nkind = \"mkae\"\nn = 3\n");
    assert!(e.starts_with("p.toml:2:8: stage `x`: unknown kind `mkae`, did you mean `make`?"), "{e}");
}

#[test]
fn unknown_parameter_points_at_the_key() {
    let e = first_error("[stage.x]\nkind = \"make\"\nn = 3\n  tempreature = 1.0\n");
    assert!(e.starts_with("p.toml:4:3: stage `x`: unknown parameter `tempreature`"), "{e}");
    assert!(e.contains("did you mean `temperature`?"), "{e}");
}

#[test]
fn wrong_type_and_range_point_at_the_value() {
    let e = first_error("[stage.x]\nkind = \"make\"\nn = \"ten\"\ndelta = 1\n");
    assert_eq!(e, "p.toml:3:5: stage `x`: parameter `n`: expected an integer in [2, 1000], found a string (\"ten\")");
    let e = first_error("[stage.x]\nkind = \"make\"\nn = 1\ndelta = 1\n");
    assert!(e.starts_with("p.toml:3:5:"), "{e}");
    let e = first_error("[stage.x]\nkind = \"make\"\nn = 5\ndelta = -1.0\n");
    assert!(e.starts_with("p.toml:4:9: stage `x`: parameter `delta`: expected a number in (0, inf)"), "{e}");
}

#[test]
fn choice_groups_and_required_parameters_are_enforced() {
    let e = first_error("[stage.x]\nkind = \"make\"\nn = 5\n");
    assert!(e.contains("give exactly one of `temperature`, `delta` (found none)"), "{e}");
    let e = first_error("[stage.x]\nkind = \"make\"\nn = 5\ndelta = 1\ntemperature = 1\n");
    assert!(e.contains("found temperature and delta"), "{e}");
    let e = first_error("[stage.x]\nkind = \"make\"\ndelta = 1\n");
    assert!(e.starts_with("p.toml:1:8: stage `x`: missing parameter `n`"), "{e}");
}

#[test]
fn input_errors_name_the_input() {
    let e = first_error("[stage.x]\nkind = \"use\"\ninputs = [\"nope\"]\n");
    assert!(e.starts_with("p.toml:3:11: stage `x`: input `nope` is not a stage"), "{e}");
    let e = first_error(
        "[stage.m]\nkind = \"make\"\nn = 3\ndelta = 1\n[stage.x]\nkind = \"use\"\ninputs = [\"m\", \"m\"]\n",
    );
    assert!(e.starts_with("p.toml:7:16: stage `x`: input `m` is a `thing` artifact, but kind `use` expects one thing, then any number of result"), "{e}");
    let e = first_error("[stage.x]\nkind = \"use\"\n");
    assert!(e.contains("missing inputs"), "{e}");
}

#[test]
fn cycles_are_reported_with_their_members() {
    let text = "[stage.m]\nkind = \"make\"\nn = 3\ndelta = 1\n[stage.a]\nkind = \"use\"\ninputs = [\"m\", \"b\"]\n[stage.b]\nkind = \"use\"\ninputs = [\"m\", \"a\"]\n";
    let e = first_error(text);
    assert!(e.contains("inputs form a cycle"), "{e}");
    assert!(e.contains("a") && e.contains("b"), "{e}");
    assert!(e.starts_with("p.toml:10:16:"), "{e}");
}

#[test]
fn invalid_toml_and_unknown_tables_are_located() {
    let e = first_error("[stage.x]\nkind = \"make\"\nn = = 3\n");
    assert!(e.starts_with("p.toml:3:"), "{e}");
    let e = first_error("[stages.x]\nkind = \"make\"\n");
    assert!(e.starts_with("p.toml:1:2: unknown table `stages`"), "{e}");
}

#[test]
fn sweeps_copy_exactly_the_dependent_stages() {
    let base = GOOD.replacen("temperature = 0.5\n", "", 1);
    let text = format!("{base}\n[sweep]\n\"inst.temperature\" = [0.5, 1]\n\"a.mode\" = [\"a\", \"b\"]\n");
    let p = load(&text).unwrap();
    let names: Vec<&str> = p.stages.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"other"), "{names:?}");
    assert!(names.contains(&"inst[inst.temperature=0.5]"));
    assert!(names.contains(&"inst[inst.temperature=1.0]"), "integers swept over a real parameter are reals: {names:?}");
    assert!(names.contains(&"a[inst.temperature=1.0,a.mode=b]"));
    assert!(names.contains(&"b[inst.temperature=0.5,a.mode=a]"));
    assert_eq!(p.stages.len(), 1 + 2 + 4 + 4);
    let b = &p.stages[p.find("b[inst.temperature=1.0,a.mode=b]").unwrap_or_else(|_| panic!("{names:?}"))];
    let a = &p.stages[b.inputs[1]];
    assert_eq!(a.name, "a[inst.temperature=1.0,a.mode=b]");
    assert_eq!(p.stages[a.inputs[0]].params.float("temperature"), Some(1.0));
    assert!(p.find("a").unwrap_err().contains("is swept"));
}

#[test]
fn sweep_errors_are_located() {
    let e = first_error(&format!("{GOOD}\n[sweep]\n\"inst.temprature\" = [1]\n"));
    assert!(e.contains("has no parameter `temprature`"), "{e}");
    let e = first_error(&format!("{GOOD}\n[sweep]\n\"inst.n\" = [4, 1]\n"));
    assert!(e.contains("parameter `n` is both set in the stage and swept"), "{e}");
    let e = first_error(&format!("{GOOD}\n[sweep]\n\"a.mode\" = [\"a\", \"c\"]\n"));
    assert!(e.contains("expected one of \"a\", \"b\""), "{e}");
}

fn key_of(text: &str, stage: &str) -> Vec<u8> {
    let p = load(text).unwrap();
    p.stages[p.find(stage).unwrap()].params.canonical_bytes()
}

proptest! {
    /// Canonical parameters ignore key order and number formatting.
    #[test]
    fn canonical_encoding_ignores_order_and_formatting(
        n in 2i64..1000,
        t in 1u32..100_000,
        zeros in 0usize..4,
        swap in any::<bool>(),
        spaces in 0usize..3,
        mode_given in any::<bool>(),
    ) {
        let t_plain = format!("{}.{:05}", t / 10_000, t % 10_000);
        let t_padded = format!("{t_plain}{}", "0".repeat(zeros));
        let pad = " ".repeat(spaces);
        let mode = if mode_given { "mode = \"a\"\n" } else { "" };
        let lines = [format!("n{pad}= {n}\n"), format!("temperature ={pad}{t_padded}\n")];
        let body = if swap { format!("{}{mode}{}", lines[1], lines[0]) } else { format!("{}{}{mode}", lines[0], lines[1]) };
        let reference = format!("[stage.x]\nkind = \"make\"\nn = {n}\ntemperature = {t_plain}\n");
        let variant = format!("[stage.x]\n{body}kind = \"make\"\n");
        prop_assert_eq!(key_of(&reference, "x"), key_of(&variant, "x"));
    }
}

#[test]
fn integer_and_real_spellings_agree() {
    let a = key_of("[stage.x]\nkind = \"make\"\nn = 3\ndelta = 1\n", "x");
    let b = key_of("[stage.x]\nkind = \"make\"\nn = 3\ndelta = 1.000\n", "x");
    let c = key_of("[stage.x]\nkind = \"make\"\nn = 3\ndelta = 1e0\n", "x");
    assert_eq!(a, b);
    assert_eq!(a, c);
}

#[test]
fn gather_collects_the_copies_of_a_swept_key() {
    let text = "[stage.m]\nkind = \"make\"\nn = 3\n[stage.u]\nkind = \"use\"\ninputs = [\"m\"]\n\
                [stage.all]\nkind = \"collect\"\ninputs = [\"m\", \"u\"]\ngather = [\"m.n\"]\n\
                [sweep]\n\"m.delta\" = [1, 2]\n\"u.mode\" = [\"a\", \"b\"]\n";
    let text = text.replace("n = 3\n", "");
    let text = text.replace("\"m.delta\" = [1, 2]", "\"m.n\" = [3, 4]\n\"m.delta\" = [1, 2]");
    let p = load(&text).unwrap();
    let names: Vec<&str> = p.stages.iter().map(|s| s.name.as_str()).collect();
    // `all` is copied over m.delta and u.mode but not m.n, and takes both n copies.
    let all: Vec<&Stage> = p.stages.iter().filter(|s| s.base == "all").collect();
    assert_eq!(all.len(), 4, "{names:?}");
    let one = p.stages.iter().find(|s| s.name == "all[m.delta=2.0,u.mode=b]").unwrap();
    let inputs: Vec<&str> = one.inputs.iter().map(|&i| p.stages[i].name.as_str()).collect();
    assert_eq!(
        inputs,
        vec![
            "m[m.n=3,m.delta=2.0]",
            "m[m.n=4,m.delta=2.0]",
            "u[m.n=3,m.delta=2.0,u.mode=b]",
            "u[m.n=4,m.delta=2.0,u.mode=b]"
        ]
    );
    let e = first_error("[stage.m]\nkind = \"make\"\nn = 3\ndelta = 1\n[stage.u]\nkind = \"use\"\ninputs = [\"m\"]\ngather = [\"m.x\"]\n");
    assert!(e.contains("`gather` names `m.x`, which is not swept"), "{e}");
}

#[test]
fn gathering_into_a_one_input_slot_is_refused() {
    let text =
        "[stage.m]\nkind = \"make\"\ndelta = 1\n[stage.u]\nkind = \"use\"\ninputs = [\"m\"]\ngather = [\"m.n\"]\n\
                [sweep]\n\"m.n\" = [3, 4]\n";
    let e = first_error(text);
    assert!(e.starts_with("p.toml:6:11: stage `u`: kind `use` expects one thing"), "{e}");
    assert!(e.contains("has 2 inputs (after `gather`): 2 thing"), "{e}");
}

#[test]
fn gathered_inputs_follow_combination_order_over_two_keys() {
    let text = "[stage.m]\nkind = \"make\"\n[stage.all]\nkind = \"collect\"\ninputs = [\"m\"]\n\
                gather = [\"m.n\", \"m.delta\"]\n[sweep]\n\"m.n\" = [3, 4, 5]\n\"m.delta\" = [1, 2]\n";
    let p = load(text).unwrap();
    let all = &p.stages[p.find("all").unwrap()];
    let inputs: Vec<&str> = all.inputs.iter().map(|&i| p.stages[i].name.as_str()).collect();
    let expected: Vec<String> =
        [3, 4, 5].iter().flat_map(|n| [1, 2].map(|d| format!("m[m.n={n},m.delta={d}.0]"))).collect();
    assert_eq!(inputs, expected);
}

#[test]
fn a_sweep_past_the_stage_limit_is_refused_quickly() {
    // 10^6 values: refused at once, before any expansion (a regression: this hung).
    let values: Vec<String> = (0..1_000_000).map(|i| i.to_string()).collect();
    let text = format!("[stage.m]\nkind = \"make\"\ndelta = 1\n[sweep]\n\"m.n\" = [{}]\n", values.join(", "));
    let e = first_error(&text);
    assert!(e.contains("has 1000000 values, more than the limit of 100000"), "{e}");
    // A product over the limit from sweeps each under it, refused before expanding.
    let a: Vec<String> = (2..=1000).map(|i| i.to_string()).collect();
    let b: Vec<String> = (1..=200).map(|i| i.to_string()).collect();
    let text = format!(
        "[stage.m]\nkind = \"make\"\n[sweep]\n\"m.n\" = [{}]\n\"m.delta\" = [{}]\n",
        a.join(", "),
        b.join(", ")
    );
    let e = first_error(&text);
    assert!(e.contains("the sweeps expand to 199800 stages, more than the limit of 100000"), "{e}");
}

#[test]
fn a_large_sweep_expands_in_linear_time() {
    // 50,000 copies of a source and of a stage using it: each finds its input
    // directly (this was quadratic).
    let values: Vec<String> = (0..50_000).map(|i| format!("{}.5", i + 1)).collect();
    let text = format!(
        "[stage.m]\nkind = \"make\"\nn = 3\n[stage.u]\nkind = \"use\"\ninputs = [\"m\"]\n[sweep]\n\"m.delta\" = [{}]\n",
        values.join(", ")
    );
    let p = load(&text).unwrap();
    assert_eq!(p.stages.len(), 100_000);
    let last = &p.stages[99_999];
    assert_eq!(last.name, "u[m.delta=50000.5]");
    assert_eq!(p.stages[last.inputs[0]].name, "m[m.delta=50000.5]");
}

proptest! {
    /// Every concrete stage takes, per declared input, exactly the copies of
    /// that input whose swept values agree with its own (all of them over
    /// gathered keys), in combination order: checked against brute force.
    #[test]
    fn expansion_picks_exactly_the_matching_copies(
        n_values in 1usize..4,
        delta_values in 1usize..4,
        mode_swept in any::<bool>(),
        gather_n in any::<bool>(),
        gather_delta in any::<bool>(),
    ) {
        let ns: Vec<String> = (0..n_values).map(|i| (3 + i).to_string()).collect();
        let deltas: Vec<String> = (0..delta_values).map(|i| format!("{}.5", i + 1)).collect();
        let gather: Vec<&str> =
            [("\"m.n\"", gather_n), ("\"m.delta\"", gather_delta)].iter().filter(|g| g.1).map(|g| g.0).collect();
        let mut text = format!(
            "[stage.m]\nkind = \"make\"\n[stage.u]\nkind = \"use\"\ninputs = [\"m\"]\n\
             [stage.all]\nkind = \"collect\"\ninputs = [\"m\", \"u\"]\ngather = [{}]\n[sweep]\n\"m.n\" = [{}]\n\"m.delta\" = [{}]\n",
            gather.join(", "), ns.join(", "), deltas.join(", ")
        );
        if mode_swept {
            text += "\"u.mode\" = [\"a\", \"b\"]\n";
        }
        let p = load(&text).unwrap();
        let agrees = |copy: &Stage, of: &Stage| {
            copy.swept.iter().all(|(k, v)| of.swept.iter().find(|(k2, _)| k2 == k).is_none_or(|(_, w)| w == v))
        };
        for stage in &p.stages {
            let spec = &stage.spec;
            let declared: Vec<&str> = match spec.name { "use" => vec!["m"], "collect" => vec!["m", "u"], _ => vec![] };
            let mut expected = Vec::new();
            for base in declared {
                expected.extend((0..p.stages.len()).filter(|&i| p.stages[i].base == base && agrees(&p.stages[i], stage)));
            }
            prop_assert_eq!(&stage.inputs, &expected, "{}", stage.name);
        }
        let copies = p.stages.iter().filter(|s| s.base == "all").count();
        let kept = |swept: bool, size: usize| if swept { 1 } else { size };
        prop_assert_eq!(copies, kept(gather_n, n_values) * kept(gather_delta, delta_values) * if mode_swept { 2 } else { 1 });
    }
}
