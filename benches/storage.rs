//! Storage benchmark: writing and reading a 1 GiB artifact (an SK-sized
//! disorder instance) through the cache, against the disk's own throughput
//! measured with `dd`. Writes include fsync; reads are from a cold page cache
//! when this process may drop it (root), else the report says they are warm.
//! Also times the previous write path (encode to memory, hash, write) and
//! reports the peak extra memory of each write.
//!
//! Run: `cargo bench --bench storage` (set `QUENCH_BENCH_DIR` to a directory
//! on the disk to measure; default: the system temp directory; set
//! `QUENCH_BENCH_MIB` to change the size, default 1024).

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use quench::engine::codec::{self, Payload};
use quench::engine::key::stage_key;
use quench::engine::record::Record;
use quench::engine::Cache;
use quench::models::{Disorder, Family, Prior};
use quench::stages::Artifact;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mib: usize = std::env::var("QUENCH_BENCH_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(1024);
    let base = std::env::var_os("QUENCH_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let dir = tempfile::tempdir_in(&base).expect("temp dir");
    let bytes = (mib as u64) << 20;
    println!("storage benchmark: {mib} MiB in {}", dir.path().display());
    let cold = drop_caches();
    if !cold {
        println!("note: cannot drop the page cache here (needs root); reads below are warm");
    }

    // The disk itself.
    let dd_file = dir.path().join("dd.bin");
    let dd_write = timed(|| {
        let out = Command::new("dd")
            .arg("if=/dev/zero")
            .arg(format!("of={}", dd_file.display()))
            .args(["bs=1M", &format!("count={mib}"), "conv=fsync"])
            .output()
            .expect("dd runs");
        assert!(out.status.success(), "dd failed: {}", String::from_utf8_lossy(&out.stderr));
    });
    drop_caches();
    let dd_read = timed(|| {
        let out = Command::new("dd")
            .arg(format!("if={}", dd_file.display()))
            .args(["of=/dev/null", "bs=1M"])
            .output()
            .expect("dd runs");
        assert!(out.status.success());
    });
    fs::remove_file(&dd_file).ok();

    // An SK instance whose couplings fill the artifact.
    let couplings: Vec<f32> = {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        (0..bytes / 4)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
            })
            .collect()
    };
    let artifact: &'static Artifact = Box::leak(Box::new(Artifact::Disorder(Disorder {
        family: Family::Sk,
        n: 0,
        p: 2,
        prior: Prior::Rademacher,
        delta: 1.0,
        temperature: 1.0,
        coupling_scale: 1.0,
        couplings,
        planted: None,
    })));

    let cache = Cache::open(&dir.path().join("cache")).expect("cache");
    let key = stage_key("bench", 1, b"storage", 0, &[]);
    let mut rec = record(key);
    reset_peak();
    let rss = rss_kib();
    let write = timed(|| {
        cache.store(&key, &Payload::value(artifact), &mut rec, b"").expect("store");
    });
    let write_extra = peak_kib().saturating_sub(rss);
    let size = rec.size;

    drop_caches();
    let fresh = Cache::open(&dir.path().join("cache")).expect("cache");
    let verify = timed(|| assert!(matches!(fresh.lookup(&key), quench::engine::Lookup::Valid(_))));
    drop_caches();
    let fresh = Cache::open(&dir.path().join("cache")).expect("cache");
    let mut payload = Vec::new();
    let read = timed(|| payload = fresh.load(&key).expect("load"));
    let decode = timed(|| assert!(Artifact::decode(&payload).expect("decode") == *artifact));
    drop(payload);

    // The previous write path: encode into memory, hash, write both parts, fsync.
    reset_peak();
    let rss = rss_kib();
    let old_path = dir.path().join("old.art");
    let old_write = timed(|| {
        let encoded = codec::encode(artifact);
        let (header, _) = codec::frame_header(&encoded);
        let mut file = fs::File::create(&old_path).expect("create");
        file.write_all(&header).and_then(|_| file.write_all(&encoded)).expect("write");
        file.sync_all().expect("fsync");
    });
    let old_extra = peak_kib().saturating_sub(rss);

    let mb = |secs: f64| size as f64 / 1e6 / secs;
    println!("{:<44} {:>9} {:>10} {:>8}", "", "seconds", "MB/s", "vs dd");
    let line = |what: &str, secs: f64, disk: f64| {
        println!("{what:<44} {secs:>9.2} {:>10.0} {:>8.2}", mb(secs), disk / secs);
    };
    line("dd write (bs=1M, conv=fsync)", dd_write, dd_write);
    line("quench store: encode+hash+write+fsync", write, dd_write);
    line("old path: encode to memory, hash, write", old_write, dd_write);
    line(&format!("dd read ({})", if cold { "cold" } else { "warm" }), dd_read, dd_read);
    line("quench lookup: streamed verify (fresh)", verify, dd_read);
    line("quench load: read+hash into one buffer", read, dd_read);
    println!("{:<44} {:>9.2}", "decode from that buffer", decode);
    println!(
        "extra peak memory while writing: streamed {:.0} MiB, old path {:.0} MiB (artifact {:.0} MiB)",
        write_extra as f64 / 1024.0,
        old_extra as f64 / 1024.0,
        size as f64 / (1 << 20) as f64
    );
}

fn timed(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64()
}

/// Flushes dirty pages and drops the page cache; false when not permitted.
fn drop_caches() -> bool {
    let _ = Command::new("sync").status();
    fs::write("/proc/sys/vm/drop_caches", "3\n").is_ok()
}

fn status_kib(field: &str) -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

fn peak_kib() -> u64 {
    status_kib("VmHWM:")
}

/// Resets the peak resident size (Linux: `echo 5 > /proc/self/clear_refs`).
fn reset_peak() {
    let _ = fs::write(Path::new("/proc/self/clear_refs"), "5");
}

fn record(key: quench::engine::ContentKey) -> Record {
    Record {
        key,
        kind: "bench".into(),
        version: 1,
        params: Default::default(),
        input_keys: vec![],
        seed: 0,
        artifact_hash: quench::engine::ArtifactHash([0; 32]),
        size: 0,
        wall_ms: 0,
        started: 0.0,
        finished: 0.0,
        tool_version: String::new(),
        stage_name: "bench".into(),
        pipeline: "bench".into(),
        summary: serde_json::Value::Null,
        log: vec![],
    }
}
