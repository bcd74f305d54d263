//! The cache under pressure, through the real binary: artifacts are the same
//! bits for any `--jobs` and thread budget; `gc` cannot delete what a live run
//! uses and reports only what it removed; a full disk leaves no temp files;
//! temp files of dead writers are cleaned up by the next run and by `gc`.
//! Tests that need a mount (full or read-only filesystem) are skipped with a
//! message where mounting is not permitted.

mod binary;
use binary::{command, quench, quench_env, text, write};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every file under `dir/objects` with the given extension, by name.
fn objects(cache: &Path, ext: &str) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let Ok(shards) = std::fs::read_dir(cache.join("objects")) else { return out };
    for shard in shards.flatten() {
        for file in std::fs::read_dir(shard.path()).unwrap().flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            if name.ends_with(ext) {
                out.insert(name, std::fs::read(file.path()).unwrap());
            }
        }
    }
    out
}

fn temp_files(cache: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(cache.join("tmp"))
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// This machine's name as the cache writes it into temp file names.
fn host() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    name.trim().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect()
}

/// A pid no process has: one that just exited (None if that cannot be shown).
fn dead_pid() -> Option<u32> {
    let mut child = Command::new("true").spawn().ok()?;
    child.wait().ok()?;
    let pid = child.id();
    (Path::new("/proc/self").exists() && !Path::new("/proc").join(pid.to_string()).exists()).then_some(pid)
}

/// Two stages side by side on one instance, then a comparison.
const SIDE_BY_SIDE: &str = r#"
[pipeline]
name = "side-by-side"
seed = 3

[stage.inst]
kind = "disorder.spiked-matrix"
n = 120
prior = "rademacher"
temperature = 0.7

[stage.mcmc]
kind = "sample.metropolis"
inputs = ["inst"]
chains = 6
sweeps = 60
burn_in = 10
record_every = 5

[stage.diffusion]
kind = "sample.diffusion"
inputs = ["inst"]
samples = 6
t_max = 20
geometric_steps = 10

[stage.compare]
kind = "eval.compare"
inputs = ["inst", "mcmc", "diffusion"]
"#;

#[test]
fn artifacts_are_identical_for_any_jobs_and_thread_budget() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = write(dir.path(), "p.toml", SIDE_BY_SIDE);
    let mut seen: Option<BTreeMap<String, Vec<u8>>> = None;
    for (jobs, threads) in [("1", "1"), ("2", "2"), ("2", "1"), ("1", "2")] {
        let cache = dir.path().join(format!("cache-{jobs}-{threads}"));
        let out = quench_env(
            &cache,
            &["run", pipeline.to_str().unwrap(), "--jobs", jobs, "--headless"],
            &[("RAYON_NUM_THREADS", threads)],
        );
        assert!(out.status.success(), "--jobs {jobs} RAYON_NUM_THREADS={threads}: {}", text(&out));
        let artifacts = objects(&cache, ".art");
        assert_eq!(artifacts.len(), 4, "{:?}", artifacts.keys());
        match &seen {
            None => seen = Some(artifacts),
            Some(first) => assert!(first == &artifacts, "--jobs {jobs} RAYON_NUM_THREADS={threads} differs"),
        }
    }
}

#[test]
fn run_and_gc_remove_temp_files_of_dead_writers_only() {
    let Some(dead) = dead_pid() else {
        eprintln!("skipped: no /proc to tell dead processes from live ones");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let pipeline = write(dir.path(), "p.toml", "[pipeline]\n[stage.sk]\nkind = \"disorder.sk\"\nn = 20\nbeta = 0.5\n");
    // A cache that an earlier run left (objects/ marks it as one), with temp files in tmp/.
    std::fs::create_dir_all(cache.join("objects")).unwrap();
    std::fs::create_dir_all(cache.join("tmp")).unwrap();
    let host = host();
    let dead_file = format!("x.art.{dead}@{host}.1.tmp");
    // This test process is alive: its file stands for another run writing now.
    let live_file = format!("x.art.{}@{host}.2.tmp", std::process::id());
    for name in [&dead_file, &live_file] {
        std::fs::write(cache.join("tmp").join(name), b"half an artifact").unwrap();
    }
    let out = quench(&cache, &["run", pipeline.to_str().unwrap(), "--headless"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(temp_files(&cache), vec![live_file.clone()]);
    // gc holds the cache alone, so no writer of what is left can be alive.
    let out = quench(&cache, &["gc", pipeline.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("removed 1 temp files"), "{}", text(&out));
    assert_eq!(temp_files(&cache), Vec::<String>::new());
    assert_eq!(objects(&cache, ".art").len(), 1, "gc kept the referenced artifact");
}

/// A stage that runs for minutes (the test kills it long before).
const LONG: &str = r#"
[pipeline]
name = "long"

[stage.inst]
kind = "disorder.sk"
n = 300
beta = 0.5

[stage.chain]
kind = "sample.metropolis"
inputs = ["inst"]
chains = 2
sweeps = 10000000
burn_in = 0
record_every = 1000
"#;

#[test]
fn gc_during_a_run_removes_nothing_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let long = write(dir.path(), "long.toml", LONG);
    let other = write(dir.path(), "other.toml", "[pipeline]\n[stage.x]\nkind = \"disorder.sk\"\nn = 9\nbeta = 0.5\n");
    let mut run = command(&cache, &["run", long.to_str().unwrap(), "--jobs", "1", "--headless"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the run has stored its first stage (bail out after five minutes).
    let start = Instant::now();
    while objects(&cache, ".json").is_empty() {
        assert!(run.try_wait().unwrap().is_none(), "the run ended early");
        assert!(start.elapsed() < Duration::from_secs(300), "the first stage never finished");
        std::thread::sleep(Duration::from_millis(50));
    }
    // `other` references none of the run's stages: without the lock, gc would delete them.
    let gc = quench(&cache, &["gc", other.to_str().unwrap()]);
    let still_running = run.try_wait().unwrap().is_none();
    run.kill().ok();
    run.wait().ok();
    assert!(still_running, "the run finished before gc could be tested");
    assert!(!gc.status.success(), "gc succeeded during a run: {}", text(&gc));
    assert!(text(&gc).contains("in use"), "{}", text(&gc));
    assert!(!String::from_utf8_lossy(&gc.stdout).contains("removed"), "{}", text(&gc));
    assert_eq!(objects(&cache, ".art").len(), 1, "the run's finished stage was kept");
    // The run is gone (killed): now gc may remove it.
    let gc = quench(&cache, &["gc", other.to_str().unwrap()]);
    assert!(gc.status.success(), "{}", text(&gc));
    assert!(text(&gc).contains("removed"), "{}", text(&gc));
    assert_eq!(objects(&cache, ".art").len(), 0);
}

/// A mount made by the test, unmounted on drop.
struct Mount(PathBuf);

impl Mount {
    fn new(args: &[&str], target: &Path) -> Option<Mount> {
        let status = Command::new("mount").args(args).arg(target).stderr(Stdio::null()).status().ok()?;
        status.success().then(|| Mount(target.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_fails_the_stage_naming_the_path_and_leaves_no_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    let Some(_mount) = Mount::new(&["-t", "tmpfs", "-o", "size=512k", "tmpfs"], &cache) else {
        eprintln!("skipped: cannot mount a small tmpfs here (needs root)");
        return;
    };
    // 1000 x 1000 couplings: about 2 MB, four times the filesystem.
    let pipeline =
        write(dir.path(), "p.toml", "[pipeline]\n[stage.sk]\nkind = \"disorder.sk\"\nn = 1000\nbeta = 0.5\n");
    let out = quench(&cache, &["run", pipeline.to_str().unwrap(), "--headless"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let message = text(&out);
    assert!(message.contains("No space left on device"), "{message}");
    assert!(message.contains(".art"), "the error names the artifact: {message}");
    assert_eq!(temp_files(&cache), Vec::<String>::new());
    assert!(objects(&cache, ".art").is_empty());
    assert!(objects(&cache, ".json").is_empty());
}

#[test]
fn gc_on_a_read_only_cache_removes_nothing_and_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let pipeline = write(dir.path(), "p.toml", "[pipeline]\n[stage.sk]\nkind = \"disorder.sk\"\nn = 20\nbeta = 0.5\n");
    let out = quench(&cache, &["run", pipeline.to_str().unwrap(), "--headless"]);
    assert!(out.status.success(), "{}", text(&out));
    let read_only = dir.path().join("read-only");
    std::fs::create_dir_all(&read_only).unwrap();
    let Some(_bind) = Mount::new(&["--bind", cache.to_str().unwrap()], &read_only) else {
        eprintln!("skipped: cannot bind-mount here (needs root)");
        return;
    };
    if Mount::new(&["-o", "remount,ro,bind"], &read_only).map(std::mem::forget).is_none() {
        eprintln!("skipped: cannot remount read-only here");
        return;
    }
    let other = write(dir.path(), "other.toml", "[pipeline]\n[stage.x]\nkind = \"disorder.sk\"\nn = 9\nbeta = 0.5\n");
    let gc = quench(&read_only, &["gc", other.to_str().unwrap()]);
    assert_eq!(gc.status.code(), Some(1), "{}", text(&gc));
    let stdout = String::from_utf8_lossy(&gc.stdout);
    assert!(!stdout.contains("removed"), "reported a removal that did not happen: {}", text(&gc));
    let stderr = String::from_utf8_lossy(&gc.stderr);
    assert!(stderr.contains("Read-only file system"), "{stderr}");
    assert!(stderr.contains(&read_only.join("objects").display().to_string()), "names the path: {stderr}");
    assert!(stderr.contains("after removing 0 objects"), "{stderr}");
    // Reading still works, and everything is still there.
    assert_eq!(objects(&read_only, ".art").len(), 1);
    let status = quench(&read_only, &["status", pipeline.to_str().unwrap()]);
    assert!(status.status.success(), "{}", text(&status));
}
