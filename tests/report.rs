//! Figures and the HTML report through the real binary: every registered
//! kind's artifact (from its tiny example) plots to a well-formed SVG with
//! drawn content and to a PNG that is not blank, and its report parses; a
//! swept pipeline's report holds every stage (computed or listed missing)
//! and the sweep figure; `plot` across a sweep takes `--y`, `--x`, `--band`
//! and refuses unknown names; where Chromium is installed, the report
//! renders to a screenshot that is not blank.

mod binary;
use binary::{quench, text, write};

use std::path::Path;

use quench::stages::REGISTRY;

/// Parses `doc` strictly as XML (the report is written well-formed), naming the error.
fn parse<'a>(doc: &'a str, what: &str) -> roxmltree::Document<'a> {
    let options = roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() };
    roxmltree::Document::parse_with_options(doc, options).unwrap_or_else(|e| panic!("{what} is not well-formed: {e}"))
}

/// Drawn elements (lines, paths, shapes) in an SVG tree.
fn drawn(doc: &roxmltree::Document) -> usize {
    doc.descendants()
        .filter(|n| ["polyline", "path", "circle", "rect", "polygon", "line"].contains(&n.tag_name().name()))
        .count()
}

/// Fraction of pixels of a PNG that are not (near) white.
fn ink(path: &Path) -> f64 {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let bytes = &buf[..info.buffer_size()];
    let pixels = bytes.len() / channels;
    let inked = bytes.chunks(channels).filter(|p| p.iter().take(3).any(|&c| c < 200)).count();
    inked as f64 / pixels as f64
}

#[test]
fn every_artifact_kind_plots_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let mut failures = Vec::new();
    for kind in REGISTRY.kinds() {
        let name = kind.spec.name;
        let file = write(
            dir.path(),
            &format!("{}.toml", name.replace('.', "_")),
            &format!("[pipeline]\nseed = 3\n{}", kind.example),
        );
        let file = file.to_str().unwrap();
        let run = quench(&cache, &["run", file, "--headless"]);
        assert!(run.status.success(), "{name}: {}", text(&run));
        let svg = dir.path().join(format!("{name}.svg"));
        let out = quench(&cache, &["plot", file, "this", "--out", svg.to_str().unwrap()]);
        if !out.status.success() {
            failures.push(format!("{name}: plot failed: {}", text(&out)));
            continue;
        }
        let body = std::fs::read_to_string(&svg).unwrap();
        let doc = parse(&body, &format!("the SVG of {name}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg", "{name}");
        let texts = doc.descendants().filter(|n| n.tag_name().name() == "text").count();
        // Background, frame, mesh and ticks alone give a handful of elements; data adds more.
        if drawn(&doc) < 12 || texts < 4 {
            failures.push(format!("{name}: the SVG draws little ({} shapes, {texts} texts)", drawn(&doc)));
        }
        let png = dir.path().join(format!("{name}.png"));
        let out = quench(&cache, &["plot", file, "this", "--out", png.to_str().unwrap()]);
        assert!(out.status.success(), "{name}: {}", text(&out));
        let ink = ink(&png);
        if !(0.005..0.6).contains(&ink) {
            failures.push(format!("{name}: the PNG has {:.2}% non-white pixels", 100.0 * ink));
        }
        let html = dir.path().join(format!("{name}.html"));
        let out = quench(&cache, &["report", file, "--out", html.to_str().unwrap()]);
        assert!(out.status.success(), "{name}: {}", text(&out));
        let page = std::fs::read_to_string(&html).unwrap();
        let doc = parse(&page, &format!("the report of {name}"));
        let svgs = doc.descendants().filter(|n| n.tag_name().name() == "svg").count();
        let stages = page.matches("<h2 id=\"s-").count();
        let sweeps = page.matches("<h2 id=\"sweep-").count();
        let expected = quench::pipeline::Pipeline::load(Path::new(file), quench::stages::CATALOG).unwrap().stages.len();
        if svgs != expected + sweeps || stages != expected {
            failures.push(format!(
                "{name}: the report has {stages} stage sections and {svgs} figures for {expected} stages"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Two temperatures x two instances, a chain, a comparison per copy, an
/// aggregate over instances per temperature, and an SE path.
const SWEPT: &str = r#"
[pipeline]
name = "report-test"
seed = 5

[stage.inst]
kind = "disorder.spiked-matrix"
n = 24

[stage.mcmc]
kind = "sample.metropolis"
inputs = ["inst"]
chains = 2
sweeps = 30
burn_in = 10
record_every = 2

[stage.cmp]
kind = "eval.compare"
inputs = ["inst", "mcmc"]

[stage.agg]
kind = "eval.aggregate"
inputs = ["cmp"]
gather = ["inst.instance"]

[stage.path]
kind = "theory.se-path"
model = "spiked-tensor"
prior = "spherical"
delta = 0.2646
t_max = 0.2
t_points = 21

[sweep]
"inst.temperature" = [0.5, 0.8]
"inst.instance" = [0, 1]
"#;

const NOT_RUN: &str = r#"
[stage.later]
kind = "theory.se-path"
model = "spiked-tensor"
prior = "spherical"
delta = 0.3
t_max = 0.2
t_points = 11
"#;

#[test]
fn the_report_holds_every_stage_the_sweep_and_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let p = write(dir.path(), "swept.toml", SWEPT);
    let ps = p.to_str().unwrap();
    let run = quench(&cache, &["run", ps, "--headless"]);
    assert!(run.status.success(), "{}", text(&run));
    // A stage added after the run is not computed: the report lists it as missing.
    let extended = SWEPT.replace("[sweep]", &format!("{NOT_RUN}\n[sweep]"));
    let p2 = write(dir.path(), "extended.toml", &extended);
    let html = dir.path().join("report.html");
    let out = quench(&cache, &["report", p2.to_str().unwrap(), "--out", html.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let page = std::fs::read_to_string(&html).unwrap();
    let doc = parse(&page, "the report");
    assert!(!page.contains("<script"), "the report needs no script");
    assert!(!page.contains("src=\"http") && !page.contains("href=\"http") && !page.contains("url("), "no network");
    let status = quench(&cache, &["status", p2.to_str().unwrap(), "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 4 * 3 + 2 + 2);
    let headings: Vec<String> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "h2")
        .map(|n| n.descendants().filter(|t| t.is_text()).filter_map(|t| t.text()).collect())
        .collect();
    for row in rows {
        let name = row["stage"].as_str().unwrap();
        let heading = headings
            .iter()
            .find(|h| h.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no section for `{name}`"));
        // `later` was never computed: `status` calls it missing, or stale beside a cached stage of its kind.
        let expected: &[&str] = if name == "later" { &["missing", "stale"] } else { &["cached"] };
        assert!(expected.iter().any(|e| heading.ends_with(e)), "`{name}`: {heading}");
        assert!(heading.ends_with(row["status"].as_str().unwrap()), "`{name}`: {heading} against {row}");
    }
    assert!(page.contains("not computed"), "the missing stage says so");
    let sweep = headings.iter().find(|h| h.starts_with("agg across its sweep")).expect("a sweep section for agg");
    assert!(!sweep.is_empty());
    assert!(headings.iter().any(|h| h.starts_with("cmp across its sweep")));
    // Every computed stage's figure, plus the two sweep figures.
    let svgs = doc.descendants().filter(|n| n.tag_name().name() == "svg").count();
    assert_eq!(svgs, rows.len() - 1 + 2);
    // The pipeline text is there, escaped.
    assert!(page.contains("&quot;inst.temperature&quot; = [0.5, 0.8]"));
    // Rewritten atomically: no temp file left beside it.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert!(!left.iter().any(|n| n.to_string_lossy().contains("quench-tmp")), "{left:?}");

    // Across the sweep: the value, the x parameter, bands and samplers by name.
    let svg = dir.path().join("agg.svg");
    let out = quench(
        &cache,
        &[
            "plot",
            ps,
            "agg",
            "--y",
            "excess",
            "--x",
            "T",
            "--band",
            "0.6:0.7:my window",
            "--out",
            svg.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let body = std::fs::read_to_string(&svg).unwrap();
    let doc = parse(&body, "the sweep SVG");
    let texts: String = doc.descendants().filter_map(|n| n.text()).collect::<Vec<_>>().join("|");
    for want in ["energy_excess_mean against temperature", "my window", "mcmc"] {
        assert!(texts.contains(want), "missing `{want}` in {texts}");
    }
    let bad = quench(&cache, &["plot", ps, "agg", "--y", "nothing", "--out", svg.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("overlap_planted_mean"), "lists the values: {}", text(&bad));
    let bad = quench(&cache, &["plot", ps, "agg", "--x", "delta", "--out", svg.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("inst.temperature"), "{}", text(&bad));
    let bad = quench(&cache, &["plot", ps, "agg", "--band", "2:1", "--out", svg.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    let bad = quench(&cache, &["plot", ps, "nosuch", "--out", svg.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    let bad = quench(&cache, &["report", ps, "--out", dir.path().join("r.txt").to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));

    chromium_renders(&html, dir.path());
}

/// Renders the report headless and checks the screenshot is not blank (skips without Chromium).
fn chromium_renders(html: &Path, dir: &Path) {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().map(Path::new).find(|p| p.exists());
    let Some(chromium) = chromium else {
        eprintln!("skipped: no /usr/bin/chromium, so the report is not rendered (apt-get install chromium)");
        return;
    };
    let shot = dir.join("shot.png");
    let profile = dir.join("chromium-profile");
    let mut cmd = std::process::Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,1600",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg(format!("--screenshot={}", shot.display()))
    .arg(format!("file://{}", html.display()))
    .stdin(std::process::Stdio::null());
    let out = binary::finish(cmd, "chromium");
    assert!(shot.exists(), "chromium wrote no screenshot: {}", text(&out));
    let ink = ink(&shot);
    assert!(ink > 0.01, "the rendered report is blank ({:.3}% non-white pixels)", 100.0 * ink);
}

const PATH_AND_SAMPLER: &str = r#"[pipeline]
name = "path-overlay"
seed = 7

[stage.inst]
kind = "disorder.spiked-tensor"
n = 60
temperature = 0.9

[stage.diff]
kind = "sample.diffusion"
inputs = ["inst"]
samples = 2
dt = 0.05
t_fine = 1.0
t_max = 4.0
geometric_steps = 4

[stage.mcmc]
kind = "sample.metropolis"
inputs = ["inst"]
chains = 1
sweeps = 10

[stage.se]
kind = "theory.se-path"
model = "spiked-tensor"
temperature = 0.9
t_max = 0.5
t_points = 11
"#;

/// `plot THEORY_PATH --sampler STAGE` draws the sampler's own q(t) over the
/// theory's branches, cut to the theory's range of t; a Markov chain is refused.
#[test]
fn a_theory_path_takes_a_samplers_path_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let p = write(dir.path(), "overlay.toml", PATH_AND_SAMPLER);
    let ps = p.to_str().unwrap();
    let run = quench(&cache, &["run", ps, "--headless"]);
    assert!(run.status.success(), "{}", text(&run));
    let plain = dir.path().join("plain.svg");
    let overlaid = dir.path().join("overlaid.svg");
    let out = quench(&cache, &["plot", ps, "se", "--out", plain.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let out = quench(&cache, &["plot", ps, "se", "--sampler", "diff", "--out", overlaid.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let (plain_svg, overlaid_svg) =
        (std::fs::read_to_string(&plain).unwrap(), std::fs::read_to_string(&overlaid).unwrap());
    let (a, b) = (parse(&plain_svg, "the theory SVG"), parse(&overlaid_svg, "the overlaid SVG"));
    let texts: String = b.descendants().filter_map(|n| n.text()).collect::<Vec<_>>().join("|");
    assert!(texts.contains("diff: q = |x_hat|^2 / N"), "no sampler legend in {texts}");
    assert!(drawn(&b) > drawn(&a), "the overlay draws more: {} vs {}", drawn(&b), drawn(&a));
    let bad = quench(&cache, &["plot", ps, "se", "--sampler", "mcmc", "--out", overlaid.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("not a generative sampler"), "{}", text(&bad));
}
