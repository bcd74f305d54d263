//! Pipelines as a user writes them: every file shipped in `pipelines/`
//! validates; and regressions of issue 9, driven through the real binary:
//! inputs checked against the disorder's model and after `gather`, sweeps
//! past the stage limit refused at once, physical ranges, the SK docs.

mod binary;
use binary::{quench, text, write};

use std::path::{Path, PathBuf};

use quench::pipeline::Pipeline;
use quench::stages::CATALOG;

/// `status` on a pipeline that must be refused: exit 2 and the message.
fn refused(body: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "p.toml", body);
    let out = quench(&dir.path().join("cache"), &["status", file.to_str().unwrap()]);
    let message = text(&out);
    assert_eq!(out.status.code(), Some(2), "{message}");
    message
}

#[test]
fn every_shipped_pipeline_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "pipelines/ has {} files", files.len());
    for file in files {
        match Pipeline::load(&file, CATALOG) {
            Ok(p) => assert!(!p.stages.is_empty(), "{}", file.display()),
            Err(e) => panic!("{} does not validate:\n{e}", file.display()),
        }
    }
}

const TENSOR: &str = "[stage.inst]\nkind = \"disorder.spiked-tensor\"\nn = 10\ntemperature = 0.8\n";

#[test]
fn langevin_on_ising_or_sk_disorder_is_refused_at_validation() {
    for model in [TENSOR, "[stage.inst]\nkind = \"disorder.sk\"\nn = 10\nbeta = 0.5\n"] {
        let body = format!("{model}[stage.lv]\nkind = \"sample.langevin\"\ninputs = [\"inst\"]\n");
        let e = refused(&body);
        assert!(e.contains("p.toml:7:11: stage `lv`: input `inst`: kind `sample.langevin` cannot use"), "{e}");
        assert!(e.contains("prior = \"spherical\""), "{e}");
    }
}

#[test]
fn spin_samplers_on_a_spherical_tensor_are_refused_at_validation() {
    let spherical = TENSOR.replace("n = 10\n", "n = 10\nprior = \"spherical\"\n");
    for kind in ["sample.metropolis", "sample.parallel-tempering"] {
        let e = refused(&format!("{spherical}[stage.s]\nkind = \"{kind}\"\ninputs = [\"inst\"]\n"));
        assert!(e.contains(&format!("p.toml:8:11: stage `s`: input `inst`: kind `{kind}` cannot use")), "{e}");
        assert!(
            e.contains(
                "cannot use a spiked-tensor disorder with a spherical prior (p = 3): \
                 it updates discrete spins; use sample.langevin for spherical spins"
            ),
            "{e}"
        );
    }
    // The model may come from a sweep: each copy is checked.
    let body = format!(
        "{TENSOR}[stage.s]\nkind = \"sample.metropolis\"\ninputs = [\"inst\"]\n[sweep]\n\"inst.prior\" = [\"rademacher\", \"spherical\"]\n"
    );
    assert!(refused(&body).contains("kind `sample.metropolis` cannot use"));
}

#[test]
fn planted_only_kinds_refuse_sk() {
    let sk = "[stage.inst]\nkind = \"disorder.sk\"\nn = 10\nbeta = 0.5\n";
    let e = refused(&format!("{sk}[stage.h]\nkind = \"eval.denoiser-path\"\ninputs = [\"inst\"]\n"));
    assert!(e.contains("needs a planted signal"), "{e}");
    let e = refused(&format!("{sk}[stage.m]\nkind = \"sample.metropolis\"\ninputs = [\"inst\"]\ninit = \"planted\"\n"));
    assert!(e.contains("init = \"planted\" needs a planted signal"), "{e}");
}

#[test]
fn gather_cannot_feed_two_disorders_to_a_one_input_slot() {
    let body = format!(
        "{TENSOR}[stage.m]\nkind = \"sample.metropolis\"\ninputs = [\"inst\"]\ngather = [\"inst.instance\"]\n\
         [sweep]\n\"inst.instance\" = [0, 1]\n"
    );
    let e = refused(&body);
    assert!(e.contains("p.toml:7:11: stage `m`: kind `sample.metropolis` expects one disorder"), "{e}");
    assert!(e.contains("has 2 inputs (after `gather`): 2 disorder"), "{e}");
}

#[test]
fn a_sweep_of_a_million_values_is_refused_not_expanded() {
    let values: Vec<String> = (0..1_000_000).map(|i| i.to_string()).collect();
    let e = refused(&format!("{TENSOR}[sweep]\n\"inst.instance\" = [{}]\n", values.join(",")));
    assert!(e.contains("sweep `inst.instance` has 1000000 values, more than the limit of 100000"), "{e}");
    // Under the per-sweep limit but over it as a product.
    let a: Vec<String> = (0..400).map(|i| i.to_string()).collect();
    let b: Vec<String> = (0..300).map(|i| format!("{}", 0.5 + i as f64 / 1000.0)).collect();
    let e = refused(&format!(
        "{}[sweep]\n\"inst.instance\" = [{}]\n\"inst.temperature\" = [{}]\n",
        TENSOR.replace("temperature = 0.8\n", ""),
        a.join(","),
        b.join(",")
    ));
    assert!(e.contains("the sweeps expand to 120000 stages, more than the limit of 100000"), "{e}");
}

#[test]
fn temperatures_outside_the_physical_range_are_refused() {
    for t in ["5e-324", "1e-4", "1e4"] {
        let e = refused(&TENSOR.replace("0.8", t));
        assert!(
            e.contains("p.toml:4:15: stage `inst`: parameter `temperature`: expected a number in [0.001, 1000]"),
            "{e}"
        );
    }
    let e = refused("[stage.inst]\nkind = \"disorder.sk\"\nn = 10\nbeta = 1e-9\n");
    assert!(e.contains("parameter `beta`: expected a number in [0.001, 1000]"), "{e}");
}

#[test]
fn cross_parameter_rules_are_checked_at_validation() {
    let e = refused(&format!(
        "{TENSOR}[stage.d]\nkind = \"sample.diffusion\"\ninputs = [\"inst\"]\nt_fine = 5\nt_max = 4\n"
    ));
    assert!(e.contains("p.toml:9:9: stage `d`: t_max (4) must exceed t_fine (5)"), "{e}");
}

#[test]
fn autoregressive_takes_block_or_block_fraction_not_both() {
    let e = refused(&format!(
        "{TENSOR}[stage.a]\nkind = \"sample.autoregressive\"\ninputs = [\"inst\"]\nblock = 4\nblock_fraction = 0.02\n"
    ));
    assert!(e.contains("p.toml:9:18: stage `a`: give `block` or `block_fraction`, not both"), "{e}");
    assert_eq!(e.matches("not both").count(), 1, "one error, not two: {e}");
    // Written, not merely different from the default: `block = 1` is `block`'s default.
    let e = refused(&format!(
        "{TENSOR}[stage.a]\nkind = \"sample.autoregressive\"\ninputs = [\"inst\"]\nblock = 1\nblock_fraction = 0.02\n"
    ));
    assert!(e.contains("give `block` or `block_fraction`, not both"), "{e}");
    let e = refused(&format!(
        "{TENSOR}[stage.a]\nkind = \"sample.autoregressive\"\ninputs = [\"inst\"]\nblock_fraction = 0\n"
    ));
    assert!(e.contains("block_fraction"), "{e}");
}

#[test]
fn the_catalog_does_not_put_sk_on_the_nishimori_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = quench(dir.path(), &["stages", "--json"]);
    assert!(out.status.success());
    let kinds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sk = kinds.as_array().unwrap().iter().find(|k| k["kind"] == "disorder.sk").unwrap();
    let t = sk["params"].as_array().unwrap().iter().find(|p| p["name"] == "temperature").unwrap();
    let doc = t["doc"].as_str().unwrap();
    assert!(!doc.contains("Nishimori") && !doc.contains("Delta"), "{doc}");
    assert!(doc.contains("1/beta"), "{doc}");
}

#[test]
fn a_chain_sampler_that_would_not_fit_in_memory_is_refused() {
    let big = "[stage.inst]\nkind = \"disorder.sk\"\nn = 30000\nbeta = 0.5\n";
    let e = refused(&format!(
        "{big}[stage.m]\nkind = \"sample.metropolis\"\ninputs = [\"inst\"]\nchains = 1000\nsweeps = 1000000\nrecord_every = 1\n"
    ));
    assert!(e.contains("1000 chains x 1000000 records x 30000 variables would keep"), "{e}");
    assert!(e.contains("raise `record_every` or lower `sweeps` or `chains`"), "{e}");
}

#[test]
fn generative_samples_that_would_not_fit_in_memory_are_refused() {
    let big = "[stage.inst]\nkind = \"disorder.spiked-matrix\"\nn = 30000\ntemperature = 0.7\n";
    let e = refused(&format!("{big}[stage.d]\nkind = \"sample.diffusion\"\ninputs = [\"inst\"]\nsamples = 100000\n"));
    assert!(e.contains("100000 samples x 30000 variables would take 22 GiB (at most 16 GiB)"), "{e}");
}
