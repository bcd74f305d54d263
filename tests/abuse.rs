//! The real binary used as a hostile user would: corrupted caches, closed
//! pipes, absurd numbers, full disks, directories where files belong,
//! non-UTF-8 paths. Nothing may panic (exit 101); every refusal names what and
//! where. Each test is named after the failure it pins.

mod binary;
use binary::{finish, quench, text, wait, write};

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// No panic, whatever the exit code.
fn assert_no_panic(out: &Output, what: &str) {
    assert_ne!(out.status.code(), Some(101), "{what} panicked: {}", text(out));
    assert!(!text(out).contains("panicked"), "{what} panicked: {}", text(out));
}

/// An instance, a sampler on it, a comparison (printed by `run`) and a plottable SE path.
const SMALL: &str = r#"
[pipeline]
name = "abuse"
seed = 1

[stage.inst]
kind = "disorder.spiked-matrix"
n = 40
temperature = 0.6

[stage.mcmc]
kind = "sample.metropolis"
inputs = ["inst"]
chains = 2
sweeps = 20
burn_in = 10
record_every = 2

[stage.cmp]
kind = "eval.compare"
inputs = ["inst", "mcmc"]

[stage.path]
kind = "theory.se-path"
model = "spiked-tensor"
prior = "spherical"
delta = 0.2646
t_max = 0.2
t_points = 21
"#;

/// A computed cache of `SMALL` in a temp dir: (dir, cache, pipeline).
fn computed() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let p = write(dir.path(), "small.toml", SMALL);
    let out = quench(&cache, &["run", p.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    (dir, cache, p)
}

fn key_of(cache: &Path, p: &Path, stage: &str) -> String {
    let out = quench(cache, &["show", p.to_str().unwrap(), stage, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["key"].as_str().unwrap().to_string()
}

fn object(cache: &Path, key: &str, ext: &str) -> PathBuf {
    cache.join("objects").join(&key[..2]).join(format!("{key}.{ext}"))
}

#[test]
fn verify_rehashes_the_artifact_and_blames_the_corrupt_stage_not_its_dependent() {
    let (_dir, cache, p) = computed();
    let ps = p.to_str().unwrap();
    let art = object(&cache, &key_of(&cache, &p, "inst"), "art");
    let good = std::fs::read(&art).unwrap();
    let flipped = {
        let mut b = good.clone();
        let last = b.len() - 1;
        b[last] ^= 0x10;
        b
    };
    let cases: [(&str, Option<Vec<u8>>, &str); 4] = [
        ("byte flip", Some(flipped), "hash mismatch"),
        ("truncation", Some(good[..good.len() - 7].to_vec()), "truncated"),
        ("trailing bytes", Some([&good[..], b"extra"].concat()), "5 trailing bytes"),
        ("deletion", None, "missing"),
    ];
    for (what, bytes, reason) in cases {
        match bytes {
            Some(b) => std::fs::write(&art, b).unwrap(),
            None => std::fs::remove_file(&art).unwrap(),
        }
        let out = quench(&cache, &["verify", ps]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(1), "{what}: {t}");
        let inst = t.lines().find(|l| l.contains(" inst ")).unwrap_or_default().to_string();
        assert!(inst.starts_with("CORRUPT") && inst.contains(reason), "{what}: {t}");
        let mcmc = t.lines().find(|l| l.contains(" mcmc ")).unwrap_or_default().to_string();
        assert!(mcmc.starts_with("UNCHECKED") && mcmc.contains("input `inst`"), "{what}: {t}");
        assert!(!t.contains("MISMATCH") && t.contains("1 identical"), "{what}: {t}");
        // Verifying only the dependent still names the corrupt input.
        let out = quench(&cache, &["verify", ps, "cmp"]);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", text(&out));
        assert!(text(&out).contains("input `inst`"), "{what}: {}", text(&out));
        let status = text(&quench(&cache, &["status", ps]));
        assert!(status.starts_with("corrupt  inst"), "{what}: {status}");
        std::fs::write(&art, &good).unwrap();
    }
    let out = quench(&cache, &["verify", ps]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("4 identical, 0 differ or failed, 0 corrupt"), "{}", text(&out));
}

#[test]
fn a_malformed_record_hash_is_a_corrupt_record_not_a_panic() {
    let (_dir, cache, p) = computed();
    let ps = p.to_str().unwrap();
    let record = object(&cache, &key_of(&cache, &p, "mcmc"), "json");
    let json = std::fs::read_to_string(&record).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let hash = doc["artifact_hash"].as_str().unwrap().to_string();
    for bad in ["abc", "", "zz", &hash[..63], &format!("{hash}0"), "é"] {
        std::fs::write(&record, json.replace(&hash, bad)).unwrap();
        for args in [&["verify", ps][..], &["status", ps], &["status", ps, "--json"], &["show", ps, "mcmc"]] {
            let out = quench(&cache, args);
            assert_no_panic(&out, &format!("{args:?} with hash {bad:?}"));
            assert!(text(&out).contains("corrupt"), "{args:?} with hash {bad:?}: {}", text(&out));
        }
        let verify = quench(&cache, &["verify", ps]);
        assert_eq!(verify.status.code(), Some(1));
        assert!(text(&verify).contains("malformed"), "{}", text(&verify));
    }
    // `run` recomputes it, saying so once (the check runs before and after taking the lock).
    let out = quench(&cache, &["run", ps, "--headless"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(text(&out).matches("recomputing").count(), 1, "{}", text(&out));
    assert!(text(&quench(&cache, &["verify", ps])).contains("4 identical"));
    // `--force` on a stage whose old record is unusable compares nothing and does not panic.
    std::fs::write(&record, json.replace(&hash, "0")).unwrap();
    let out = quench(&cache, &["run", ps, "--force", "mcmc"]);
    assert!(out.status.success(), "{}", text(&out));
}

/// Runs a command whose stdout is a pipe with no reader left (closed before it starts).
fn with_closed_stdout(cache: &Path, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = Command::new(env!("CARGO_BIN_EXE_quench"))
        .arg("--cache")
        .arg(cache)
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        err.read_to_end(&mut buf).ok();
        buf
    });
    let status = wait(&mut child, &format!("{args:?}"));
    Output { status, stdout: Vec::new(), stderr: reader.join().unwrap() }
}

#[test]
fn every_printing_command_ends_quietly_on_a_closed_pipe() {
    let (dir, cache, p) = computed();
    let ps = p.to_str().unwrap();
    let csv = dir.path().join("csv");
    let svg = dir.path().join("path.svg");
    let printing: [&[&str]; 12] = [
        &["status", ps],
        &["status", ps, "--json"],
        &["verify", ps],
        &["gc", "--dry-run", ps],
        &["stages"],
        &["stages", "--json"],
        &["show", ps, "cmp"],
        &["show", ps, "cmp", "--json"],
        &["cache"],
        &["export", ps, "inst", "--format", "csv", "--out", csv.to_str().unwrap()],
        &["plot", ps, "path", "--out", svg.to_str().unwrap()],
        &["run", ps, "--force", "cmp"],
    ];
    for args in printing {
        let out = with_closed_stdout(&cache, args);
        assert_no_panic(&out, &format!("{args:?}"));
        assert_eq!(out.status.code(), Some(141), "{args:?}: {}", text(&out));
        // `run` still ends with its summary on stderr.
        assert!(args[0] == "run" || out.stderr.is_empty(), "{args:?} should end quietly: {}", text(&out));
    }
    // Standard output on a full disk is an error that says so, not a panic.
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quench"));
    cmd.arg("--cache").arg(&cache).args(["status", ps]).stdout(full);
    let child = cmd.stderr(Stdio::piped()).spawn().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("writing to standard output: No space left"), "{}", text(&out));
    for args in [&["--help"][..], &["watch", "latest"]] {
        let out = with_closed_stdout(&cache, args);
        assert_no_panic(&out, &format!("{args:?}"));
    }
}

#[test]
fn out_of_range_jobs_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let p = write(dir.path(), "small.toml", SMALL);
    for jobs in ["0", "257", "100000", "18446744073709551615", "99999999999999999999999", "-1", "-0", "1e3", "two", ""]
    {
        let start = Instant::now();
        let out = quench(&cache, &["run", p.to_str().unwrap(), "--jobs", jobs]);
        assert_eq!(out.status.code(), Some(2), "--jobs {jobs:?}: {}", text(&out));
        assert!(text(&out).contains("--jobs"), "--jobs {jobs:?}: {}", text(&out));
        assert!(start.elapsed() < Duration::from_secs(30), "--jobs {jobs:?} was not refused at once");
        assert!(!cache.exists(), "--jobs {jobs:?} opened the cache");
    }
    let out = quench(&cache, &["run", p.to_str().unwrap(), "--jobs", "100000"]);
    assert!(text(&out).contains("1..=256"), "the range is stated: {}", text(&out));
    let out = quench(&cache, &["run", p.to_str().unwrap(), "--jobs", "256"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn export_and_plot_to_a_full_or_impossible_target_name_the_path_and_leave_nothing() {
    let (dir, cache, p) = computed();
    let ps = p.to_str().unwrap();
    // A full disk: the target is /dev/full (through a symlink with the right name).
    assert!(Path::new("/dev/full").exists(), "this test needs /dev/full (Linux) to stand for a full disk");
    let full_svg = dir.path().join("full.svg");
    std::os::unix::fs::symlink("/dev/full", &full_svg).unwrap();
    let out = quench(&cache, &["plot", ps, "path", "--out", full_svg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&format!("writing {}", full_svg.display())), "{}", text(&out));
    assert!(text(&out).contains("No space left"), "{}", text(&out));
    let export_dir = dir.path().join("export");
    std::fs::create_dir(&export_dir).unwrap();
    let couplings = export_dir.join("couplings.csv");
    std::os::unix::fs::symlink("/dev/full", &couplings).unwrap();
    let out = quench(&cache, &["export", ps, "inst", "--format", "csv", "--out", export_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&format!("writing {}", couplings.display())), "{}", text(&out));

    // A target under a regular file (fails as root too): nothing written, the path named.
    let file = write(dir.path(), "a-file", "x");
    let under = file.join("fig.svg");
    let out = quench(&cache, &["plot", ps, "path", "--out", under.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(under.to_str().unwrap()), "{}", text(&out));
    let out = quench(&cache, &["export", ps, "inst", "--format", "npy", "--out", under.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(under.to_str().unwrap()), "{}", text(&out));
    // A file (or device) where the export directory should be is invalid input.
    for target in [file.as_path(), Path::new("/dev/null")] {
        let out = quench(&cache, &["export", ps, "inst", "--format", "json", "--out", target.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains("is not a directory"), "{}", text(&out));
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");

    // A directory where the figure should go.
    let out = quench(&cache, &["plot", ps, "path", "--out", export_dir.join("d.svg").to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    std::fs::create_dir(dir.path().join("taken.svg")).unwrap();
    let out = quench(&cache, &["plot", ps, "path", "--out", dir.path().join("taken.svg").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("is a directory"), "{}", text(&out));

    // No temp files are left in the targets' directories.
    for d in [dir.path(), &export_dir] {
        let leftovers: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains("quench-tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

#[test]
fn a_bad_plot_extension_is_invalid_input() {
    let (dir, cache, p) = computed();
    for name in ["x.gif", "x", "x.svg.bak"] {
        let out =
            quench(&cache, &["plot", p.to_str().unwrap(), "path", "--out", dir.path().join(name).to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out));
        assert!(text(&out).contains(".svg or .png"), "{}", text(&out));
        assert!(!dir.path().join(name).exists());
    }
}

#[test]
fn pipelines_that_are_not_files_are_refused_with_the_path_named() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let binary = dir.path().join("binary.toml");
    std::fs::write(&binary, [0x5bu8, 0xff, 0xfe, 0x00, 0x9c]).unwrap();
    let cases: [(&Path, &str); 4] = [
        (dir.path(), "is a directory"),
        (Path::new("/dev/zero"), "larger than 64 MiB"),
        (&binary, "not UTF-8"),
        (&dir.path().join("absent.toml"), "cannot read the pipeline file"),
    ];
    for (path, why) in cases {
        for command in ["run", "status", "verify"] {
            let start = Instant::now();
            let out = quench(&cache, &[command, path.to_str().unwrap()]);
            assert_eq!(out.status.code(), Some(2), "{command} {}: {}", path.display(), text(&out));
            let t = text(&out);
            assert!(
                t.contains(&format!("{}: ", path.display())) && t.contains(why),
                "{command} {}: {t}",
                path.display()
            );
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{command} {} took {:?}",
                path.display(),
                start.elapsed()
            );
        }
    }
}

#[test]
fn a_cache_path_that_is_empty_or_a_file_is_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "small.toml", SMALL);
    let file = write(dir.path(), "not-a-dir", "x");
    let out = quench(&file, &["status", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains(&format!("--cache {}: not a directory", file.display())), "{}", text(&out));
    for env in [None, Some("")] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_quench"));
        cmd.current_dir(dir.path());
        match env {
            Some(value) => cmd.env("QUENCH_CACHE", value),
            None => cmd.args(["--cache", ""]),
        };
        cmd.args(["status", p.to_str().unwrap()]);
        let out = finish(cmd, "an empty --cache");
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains("--cache"), "{}", text(&out));
        assert!(!dir.path().join("objects").exists(), "an empty cache path created objects/ in the working directory");
    }
    // A directory with other things in it is not taken over as a cache.
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join("tmp")).unwrap();
    let old = write(&home.join("tmp"), "notes.txt", "keep me");
    let out = quench(&home, &["run", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("is not a quench cache"), "{}", text(&out));
    assert!(old.exists() && !home.join("objects").exists());
    // A cache below a file cannot be created: the error names it.
    let out = quench(&file.join("cache"), &["status", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&file.join("cache").display().to_string()), "{}", text(&out));
}

#[test]
fn non_utf8_pipeline_and_cache_paths_work() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join(OsStr::from_bytes(b"caf\xe9"));
    std::fs::create_dir(&odd).unwrap();
    let p = odd.join(OsStr::from_bytes(b"pipe\xff.toml"));
    std::fs::write(&p, SMALL.split("[stage.mcmc]").next().unwrap()).unwrap();
    let cache = odd.join(OsStr::from_bytes(b"cache\xfe"));
    for args in [&["run"][..], &["status"], &["verify"], &["gc", "--dry-run"]] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_quench"));
        cmd.arg("--cache").arg(&cache).args(args).arg(&p);
        let out = finish(cmd, &format!("{args:?} on a non-UTF-8 path"));
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quench"));
    cmd.arg("--cache").arg(&cache).arg("show").arg(&p).arg(OsStr::from_bytes(b"in\xffst"));
    let out = finish(cmd, "show with a non-UTF-8 stage name");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn a_cache_with_directories_and_junk_where_files_belong_does_not_panic() {
    let (_dir, cache, p) = computed();
    let ps = p.to_str().unwrap();
    let key = key_of(&cache, &p, "mcmc");
    let art = object(&cache, &key, "art");
    std::fs::remove_file(&art).unwrap();
    std::fs::create_dir(&art).unwrap();
    std::fs::write(cache.join("objects").join("zz"), "a file where a shard belongs").unwrap();
    std::fs::create_dir_all(cache.join("objects/ab")).unwrap();
    std::fs::write(cache.join("objects/ab").join(format!("{}.json", "ab".repeat(32))), "{not json").unwrap();
    std::fs::write(cache.join("objects/ab/short.json"), "{}").unwrap();
    // Fifos where the instance's record and the SE path's artifact belong: reading would block forever.
    let record = object(&cache, &key_of(&cache, &p, "inst"), "json");
    let artifact = object(&cache, &key_of(&cache, &p, "path"), "art");
    for fifo in [&record, &artifact] {
        std::fs::remove_file(fifo).unwrap();
        assert!(Command::new("mkfifo").arg(fifo).status().unwrap().success());
    }
    let status = quench(&cache, &["status", ps]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status));
    assert!(text(&status).contains("corrupt  mcmc"), "{}", text(&status));
    for stage in ["inst", "path"] {
        assert!(text(&status).contains(&format!("corrupt  {stage}")), "{}", text(&status));
    }
    assert_eq!(text(&status).matches("not a regular file").count(), 3, "{}", text(&status));
    let verify = quench(&cache, &["verify", ps]);
    assert_eq!(verify.status.code(), Some(1), "{}", text(&verify));
    assert!(text(&verify).contains("CORRUPT   mcmc"), "{}", text(&verify));
    let show = quench(&cache, &["show", ps, "mcmc"]);
    assert_eq!(show.status.code(), Some(1), "{}", text(&show));
    assert!(text(&show).contains("stage `mcmc`") && text(&show).contains("corrupt"), "{}", text(&show));
    for args in [&["cache"][..], &["gc", "--dry-run", ps]] {
        let out = quench(&cache, args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
    }
    // The run cannot store over a directory: the stage fails naming the path.
    let run = quench(&cache, &["run", ps]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert!(text(&run).contains(&art.display().to_string()), "{}", text(&run));
    assert_no_panic(&run, "run over a directory artifact");
}

#[test]
fn absurd_stage_names_and_run_ids_are_refused_cleanly() {
    let (_dir, cache, p) = computed();
    let ps = p.to_str().unwrap();
    let long = "x".repeat(100_000);
    for name in ["", " ", "inst[", "inst[inst.n=1]", "../inst", long.as_str()] {
        for args in [&["show", ps, name][..], &["verify", ps, name], &["run", ps, "--force", name]] {
            let out = quench(&cache, args);
            assert_eq!(out.status.code(), Some(2), "{:?}: {}", &args[..2], text(&out));
            assert_no_panic(&out, "an absurd stage name");
        }
    }
    for run in ["no-such-run", "../../..", "/etc/passwd", "", long.as_str()] {
        let out = quench(&cache, &["watch", run]);
        assert_no_panic(&out, &format!("watch {:?}", &run[..run.len().min(20)]));
        assert_ne!(out.status.code(), Some(0), "watch {:?}: {}", &run[..run.len().min(20)], text(&out));
    }
}

#[test]
fn a_consistent_but_wrong_artifact_is_a_mismatch_and_show_says_how_to_recompute() {
    let (_dir, cache, p) = computed();
    let ps = p.to_str().unwrap();
    let (inst, path) = (key_of(&cache, &p, "inst"), key_of(&cache, &p, "path"));
    // Put the SE path's artifact where the instance's belongs, with a record that agrees:
    // every frame and hash check passes, only recomputing can tell.
    std::fs::copy(object(&cache, &path, "art"), object(&cache, &inst, "art")).unwrap();
    let hash_of = |key: &str| -> String {
        let record: serde_json::Value =
            serde_json::from_slice(&std::fs::read(object(&cache, key, "json")).unwrap()).unwrap();
        record["artifact_hash"].as_str().unwrap().to_string()
    };
    let (inst_hash, path_hash) = (hash_of(&inst), hash_of(&path));
    let record = object(&cache, &inst, "json");
    std::fs::write(&record, std::fs::read_to_string(&record).unwrap().replace(&inst_hash, &path_hash)).unwrap();
    let out = quench(&cache, &["verify", ps, "inst"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.starts_with("MISMATCH  inst"), "{t}");
    assert!(t.contains(&format!("cached {}", &path_hash[..12])) && t.contains(&inst_hash[..12]), "{t}");
    let out = quench(&cache, &["verify", ps, "mcmc"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).starts_with("FAILED    mcmc"), "{}", text(&out));
    let out = quench(&cache, &["show", ps, "inst"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("stage `inst`: the cached artifact is a `se-path`, not the `disorder`"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("--force inst"), "{}", text(&out));
}
