//! Every registered kind, run once through the real binary (engine, executor,
//! a temporary cache) on its own tiny example: it must validate, finish, and
//! report a summary whose numbers are finite. The list comes from the registry,
//! so a new kind is covered without touching this file (and a kind without an
//! example fails here). Also the registry's own promises: unique names,
//! defaults inside their ranges, examples that name their kind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use quench::pipeline::schema::{Default, ParamKind};
use quench::pipeline::Pipeline;
use quench::stages::{CATALOG, REGISTRY};

fn quench(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quench"))
        .arg("--cache")
        .arg(cache)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("binary runs")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Every number in a JSON value (nulls are what serde_json makes of NaN, so count them).
fn numbers(v: &serde_json::Value, out: &mut Vec<f64>, nulls: &mut usize) {
    match v {
        serde_json::Value::Number(n) => out.push(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::Null => *nulls += 1,
        serde_json::Value::Array(a) => a.iter().for_each(|x| numbers(x, out, nulls)),
        serde_json::Value::Object(m) => m.values().for_each(|x| numbers(x, out, nulls)),
        _ => {}
    }
}

fn example_file(dir: &Path, name: &str, example: &str) -> PathBuf {
    let path = dir.join(format!("{}.toml", name.replace('.', "_")));
    std::fs::write(&path, format!("[pipeline]\nseed = 3\n{example}")).unwrap();
    path
}

#[test]
fn every_registered_kind_runs_on_its_tiny_example() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let mut failures = Vec::new();
    for kind in REGISTRY.kinds() {
        let name = kind.spec.name;
        if kind.example.is_empty() {
            failures.push(format!("{name}: no example"));
            continue;
        }
        let file = example_file(dir.path(), name, kind.example);
        let pipeline = match Pipeline::load(&file, CATALOG) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{name}: example does not validate: {e}"));
                continue;
            }
        };
        match pipeline.stages.iter().find(|s| s.name == "this") {
            Some(s) if s.spec.name == name => {}
            _ => {
                failures.push(format!("{name}: the example has no stage `this` of this kind"));
                continue;
            }
        }
        let file = file.to_str().unwrap();
        let run = quench(&cache, &["run", file, "--headless"]);
        if !run.status.success() {
            failures.push(format!("{name}: run exited {:?}:\n{}", run.status.code(), text(&run)));
            continue;
        }
        let show = quench(&cache, &["show", file, "this", "--json"]);
        let doc: serde_json::Value = match serde_json::from_slice(&show.stdout) {
            Ok(doc) => doc,
            Err(e) => {
                failures.push(format!("{name}: show --json is not JSON ({e}):\n{}", text(&show)));
                continue;
            }
        };
        assert_eq!(doc["kind"], name);
        let (mut values, mut nulls) = (Vec::new(), 0);
        numbers(&doc["summary"], &mut values, &mut nulls);
        if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
            failures.push(format!("{name}: summary numbers {values:?} (nulls: {nulls})"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn kind_names_are_unique_and_defaults_are_in_range() {
    let mut names: Vec<&str> = REGISTRY.kinds().iter().map(|k| k.spec.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "duplicate kind names");
    for kind in REGISTRY.kinds() {
        for p in kind.spec.params {
            if let Some(v) = p.default.value() {
                assert!(p.kind.accept(&v).is_ok(), "{}: default of `{}` is outside its range", kind.spec.name, p.name);
            }
            if let (ParamKind::Choice(names), Default::Str(d)) = (p.kind, p.default) {
                assert!(names.contains(&d), "{}: `{}`", kind.spec.name, p.name);
            }
        }
        for group in kind.spec.exactly_one_of {
            for member in *group {
                assert!(kind.spec.param(member).is_some(), "{}: group names unknown `{member}`", kind.spec.name);
            }
        }
    }
}

/// A NaN in a stage's result fails the stage (it used to be reported as a result, with exit 0).
#[test]
fn a_nan_in_a_result_is_a_stage_failure() {
    use quench::engine::{Executor, Plan};
    use quench::observe::Silent;
    use quench::pipeline::Source;
    use quench::stages::{Artifact, CatalogExecutor};

    let text = "[stage.inst]\nkind = \"disorder.spiked-matrix\"\nn = 8\ntemperature = 0.7\n\
                [stage.mcmc]\nkind = \"sample.metropolis\"\ninputs = [\"inst\"]\nchains = 2\nsweeps = 8\n\
                burn_in = 0\nrecord_every = 2\n[stage.cmp]\nkind = \"eval.compare\"\ninputs = [\"inst\", \"mcmc\"]\n";
    let pipeline = Pipeline::from_source(&Source::new(Path::new("nan.toml"), text.into()), CATALOG).unwrap();
    let plan = Plan::new(&pipeline);
    let disorder = CatalogExecutor.execute(&plan.stages[0], vec![], &Silent).unwrap().payload;
    let samples = CatalogExecutor.execute(&plan.stages[1], vec![disorder.clone()], &Silent).unwrap().payload;
    // The honest comparison succeeds and is finite.
    let good = CatalogExecutor.execute(&plan.stages[2], vec![disorder.clone(), samples.clone()], &Silent).unwrap();
    assert!(good.summary["samplers"][0]["energy_mean"].as_f64().is_some_and(f64::is_finite));
    // The same samples with one energy NaN: the comparison's mean energy is NaN, and the stage fails.
    let Artifact::Samples(mut bad) = Artifact::decode(&samples).unwrap() else { panic!("samples expected") };
    bad.chains[0].energy[1] = f64::NAN;
    let err = CatalogExecutor.execute(&plan.stages[2], vec![disorder, Artifact::Samples(bad).encode()], &Silent);
    let Err(err) = err else { panic!("a NaN energy must fail the stage") };
    let message = format!("{err:#}");
    assert!(message.contains("energy of `mcmc` is NaN"), "{message}");
}
