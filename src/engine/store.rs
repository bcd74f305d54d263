//! The content-addressed cache on disk:
//!
//! ```text
//! DIR/objects/ab/<key>.art    framed artifact (see `codec`)
//! DIR/objects/ab/<key>.json   stage record (see `record`)
//! DIR/objects/ab/<key>.events.jsonl  the stage's traces and histograms, replayed on hits
//! DIR/locks/cache.lock        shared by every process using the cache, exclusive for `gc`
//! DIR/locks/<key>.lock        held while a run computes that stage
//! DIR/tmp/<name>.<pid>@<host>.<n>.tmp  files being written; never trusted
//! DIR/runs/<run-id>/events.jsonl
//! ```
//!
//! Writes are atomic (temp file, fsync, rename, fsync of the directory): the
//! artifact lands before its record, and a record is trusted only when the
//! artifact's framed hash matches it. An artifact is encoded, hashed and
//! written in one pass; its header is filled in last. A failed write removes
//! its temp file; temp files of writers that died are removed by the next run
//! or `gc`. Exclusive file locks keep two runs from computing the same stage
//! at once, and the cache lock keeps `gc` from deleting what a live process
//! reads or writes. An artifact verified once by this process (and unchanged
//! on disk since) is not hashed again.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use thiserror::Error;

use super::codec::{self, CodecError, HashingWriter, Header, Payload, HEADER_LEN};
use super::key::{ArtifactHash, ContentKey};
use super::record::Record;

#[derive(Debug, Error)]
pub enum CacheError {
    #[error("{action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: io::Error },
    #[error("cached artifact {key} is corrupt: {reason}")]
    Corrupt { key: String, reason: String },
    #[error("stage {0} is not in the cache")]
    Missing(String),
    #[error(
        "the cache {0} is in use by another quench process (a run, or a command reading it); \
         nothing was removed: try again when it has finished"
    )]
    InUse(PathBuf),
}

fn io_err<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> CacheError + 'p {
    move |source| CacheError::Io { action, path: path.to_path_buf(), source }
}

/// What the cache holds for a key.
#[derive(Debug)]
pub enum Lookup {
    Valid(Box<Record>),
    Missing,
    Corrupt(String),
}

/// Temp files of writers on other hosts (or of unknown writers) are removed after this long.
const STALE_TMP_AGE: Duration = Duration::from_secs(24 * 3600);
/// Artifacts are read and hashed in pieces this big.
const READ_CHUNK: u64 = 8 << 20;

#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    /// The cache lock (shared, or exclusive for `gc`), held while any clone lives.
    _lock: Option<Arc<File>>,
    /// Whether that lock is exclusive (no other process uses the cache).
    exclusive: bool,
    /// Artifacts this process has hashed (or written), with the file they were then.
    verified: Arc<Mutex<HashMap<ContentKey, Stamp>>>,
}

/// What identifies an artifact file's content without reading it: a file
/// rewritten or modified in place gets another stamp.
#[derive(Debug, Clone, PartialEq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
    hash: blake3::Hash,
}

impl Stamp {
    fn of(meta: &fs::Metadata, hash: blake3::Hash) -> Stamp {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        Stamp { len: meta.len(), modified: meta.modified().ok(), inode, hash }
    }
}

/// An exclusive lock on one stage key, released on drop.
pub struct StageLock {
    _file: File,
}

/// How `open` takes the cache lock.
#[derive(Clone, Copy, PartialEq)]
enum Access {
    Shared,
    Exclusive,
}

impl Cache {
    /// Opens (creating if needed) a cache directory, holding the cache lock
    /// shared (waiting while a `gc` holds it).
    pub fn open(root: &Path) -> Result<Cache, CacheError> {
        Cache::open_with(root, Access::Shared)
    }

    /// Opens a cache for `gc`: fails with `InUse` while any other process has
    /// it open, and keeps others out until dropped.
    pub fn open_exclusive(root: &Path) -> Result<Cache, CacheError> {
        Cache::open_with(root, Access::Exclusive)
    }

    fn open_with(root: &Path, access: Access) -> Result<Cache, CacheError> {
        for sub in ["objects", "locks", "tmp", "runs"] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).map_err(io_err("creating cache directory", &dir))?;
        }
        let lock = cache_lock(root, access)?.map(Arc::new);
        let exclusive = lock.is_some() && access == Access::Exclusive;
        Ok(Cache { root: root.to_path_buf(), _lock: lock, exclusive, verified: Arc::default() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn object_path(&self, key: &ContentKey, ext: &str) -> PathBuf {
        let hex = key.hex();
        self.root.join("objects").join(&hex[..2]).join(format!("{hex}.{ext}"))
    }

    pub fn artifact_path(&self, key: &ContentKey) -> PathBuf {
        self.object_path(key, "art")
    }

    pub fn record_path(&self, key: &ContentKey) -> PathBuf {
        self.object_path(key, "json")
    }

    /// The record of a key, if one is stored and readable.
    pub fn record(&self, key: &ContentKey) -> Option<Record> {
        self.read_record(key).ok().flatten()
    }

    /// The record of a key: `None` when there is none, an error saying why
    /// when the file exists but cannot be trusted (unreadable, malformed, another key's).
    fn read_record(&self, key: &ContentKey) -> Result<Option<Record>, String> {
        let path = self.record_path(key);
        // Never open what is not a regular file (a fifo would block the read forever).
        if fs::metadata(&path).is_ok_and(|m| !m.is_file()) {
            return Err(format!("its record {} is not a regular file", path.display()));
        }
        let text = match fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read its record {}: {e}", path.display())),
        };
        let record: Record =
            serde_json::from_slice(&text).map_err(|e| format!("its record {} is malformed: {e}", path.display()))?;
        if record.key != *key {
            return Err(format!("its record {} belongs to another key", path.display()));
        }
        Ok(Some(record))
    }

    /// Full check: the record exists and the artifact's frame and hash match
    /// it. Reads the artifact in pieces (memory stays bounded).
    pub fn lookup(&self, key: &ContentKey) -> Lookup {
        let record = match self.read_record(key) {
            Ok(Some(record)) => record,
            Ok(None) => return Lookup::Missing,
            Err(why) => return Lookup::Corrupt(why),
        };
        match self.read_verified(key, &record, false) {
            Ok(_) => Lookup::Valid(Box::new(record)),
            Err(CacheError::Corrupt { reason, .. }) => Lookup::Corrupt(reason),
            Err(e) => Lookup::Corrupt(e.to_string()),
        }
    }

    /// The payload of a cached artifact, verified against its record: read
    /// once, hashed while reading (unless this process already verified the
    /// unchanged file), ready to decode.
    pub fn load(&self, key: &ContentKey) -> Result<Vec<u8>, CacheError> {
        let record = self
            .read_record(key)
            .map_err(|reason| CacheError::Corrupt { key: key.short(), reason })?
            .ok_or_else(|| CacheError::Missing(key.short()))?;
        self.read_verified(key, &record, true)
    }

    /// Checks the artifact against `record`; returns its payload if `keep`.
    fn read_verified(&self, key: &ContentKey, record: &Record, keep: bool) -> Result<Vec<u8>, CacheError> {
        let path = self.artifact_path(key);
        let corrupt = |reason: String| CacheError::Corrupt { key: key.short(), reason };
        if fs::metadata(&path).is_ok_and(|m| !m.is_file()) {
            return Err(corrupt("artifact is not a regular file".into()));
        }
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(corrupt("artifact file is missing".into())),
            Err(e) => return Err(io_err("opening", &path)(e)),
        };
        let meta = file.metadata().map_err(io_err("reading", &path))?;
        let mut head = Vec::with_capacity(HEADER_LEN);
        (&mut file).take(HEADER_LEN as u64).read_to_end(&mut head).map_err(io_err("reading", &path))?;
        let header = Header::parse(&head, meta.len()).map_err(|e: CodecError| corrupt(e.to_string()))?;
        if !matches_record(&header.hash, record) {
            return Err(corrupt("artifact hash differs from its record".into()));
        }
        let stamp = Stamp::of(&meta, header.hash);
        let known = self.verified.lock().unwrap_or_else(|p| p.into_inner()).get(key) == Some(&stamp);
        if known && !keep {
            return Ok(Vec::new());
        }
        let mut payload = Vec::new();
        if keep {
            let len = usize::try_from(header.payload_len).map_err(|_| corrupt("artifact is too large".into()))?;
            payload.try_reserve_exact(len).map_err(|_| CacheError::Io {
                action: "allocating memory to read",
                path: path.clone(),
                source: io::Error::new(io::ErrorKind::OutOfMemory, format!("{len} bytes")),
            })?;
        }
        let mut hasher = (!known).then(blake3::Hasher::new);
        let mut chunk = Vec::with_capacity(if keep { 0 } else { header.payload_len.min(READ_CHUNK) as usize });
        let mut left = header.payload_len;
        while left > 0 {
            let take = left.min(READ_CHUNK);
            let buf = if keep { &mut payload } else { &mut chunk };
            let start = if keep { buf.len() } else { 0 };
            buf.truncate(start);
            let got = (&mut file).take(take).read_to_end(buf).map_err(io_err("reading", &path))?;
            if got as u64 != take {
                return Err(corrupt("artifact file shrank while being read".into()));
            }
            if let Some(h) = hasher.as_mut() {
                codec::hash_update(h, &buf[start..]);
            }
            left -= take;
        }
        if let Some(h) = hasher {
            if h.finalize() != header.hash {
                return Err(corrupt(CodecError::HashMismatch.to_string()));
            }
            self.verified.lock().unwrap_or_else(|p| p.into_inner()).insert(*key, stamp);
        }
        Ok(payload)
    }

    /// Stores a payload (encoded, hashed and written in one pass), the stage's
    /// data events (JSON lines, replayed on cache hits) and then its record,
    /// each atomically. Returns the payload hash.
    pub fn store(
        &self,
        key: &ContentKey,
        payload: &Payload,
        record: &mut Record,
        replay: &[u8],
    ) -> Result<ArtifactHash, CacheError> {
        let path = self.artifact_path(key);
        let header = self.write_atomic(&path, |file| {
            file.write_all(&[0; HEADER_LEN])?;
            let mut hashing = HashingWriter::new(&mut *file);
            payload.write_to(&mut hashing)?;
            let (hash, payload_len, _) = hashing.finish();
            let header = Header { payload_len, hash };
            file.seek(SeekFrom::Start(0))?;
            file.write_all(&header.to_bytes())?;
            Ok(header)
        })?;
        record.artifact_hash = header.hash.into();
        record.size = HEADER_LEN as u64 + header.payload_len;
        if let Ok(meta) = fs::metadata(&path) {
            self.verified.lock().unwrap_or_else(|p| p.into_inner()).insert(*key, Stamp::of(&meta, header.hash));
        }
        self.write_atomic(&self.object_path(key, "events.jsonl"), |file| file.write_all(replay))?;
        let json = serde_json::to_vec_pretty(record).expect("records serialise");
        self.write_atomic(&self.record_path(key), |file| file.write_all(&json))?;
        Ok(record.artifact_hash)
    }

    /// Writes a temp file with `fill`, fsyncs, renames it over `path`, fsyncs
    /// the directory. On any failure the temp file is removed and the error
    /// names `path`.
    fn write_atomic<T>(&self, path: &Path, fill: impl FnOnce(&mut File) -> io::Result<T>) -> Result<T, CacheError> {
        let dir = path.parent().expect("object paths have a parent");
        fs::create_dir_all(dir).map_err(io_err("creating", dir))?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("object");
        let mut tmp = TempFile {
            path: self.root.join("tmp").join(format!("{name}.{}.{}.tmp", writer_id(), unique_suffix())),
            renamed: false,
        };
        let mut file = File::create(&tmp.path).map_err(io_err("creating", &tmp.path))?;
        let value = fill(&mut file).map_err(io_err("writing", path))?;
        file.sync_all().map_err(io_err("syncing", path))?;
        drop(file);
        fs::rename(&tmp.path, path).map_err(io_err("renaming into place", path))?;
        tmp.renamed = true;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(value)
    }

    /// The data events stored with a stage (empty when none or unreadable).
    pub fn replay(&self, key: &ContentKey) -> Vec<super::events::EventBody> {
        let Ok(text) = fs::read_to_string(self.object_path(key, "events.jsonl")) else {
            return Vec::new();
        };
        text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// Blocks until this process holds the stage's lock. `on_wait` is called
    /// once if another process holds it.
    pub fn lock(&self, key: &ContentKey, on_wait: impl FnOnce()) -> Result<StageLock, CacheError> {
        let path = self.root.join("locks").join(format!("{}.lock", key.hex()));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err("opening lock", &path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                on_wait();
                file.lock().map_err(io_err("locking", &path))?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(io_err("locking", &path)(e)),
        }
        Ok(StageLock { _file: file })
    }

    /// Every stored record (unreadable ones are skipped).
    pub fn records(&self) -> Vec<Record> {
        let mut out = Vec::new();
        let Ok(shards) = fs::read_dir(self.root.join("objects")) else {
            return out;
        };
        for shard in shards.flatten() {
            let Ok(files) = fs::read_dir(shard.path()) else { continue };
            for file in files.flatten() {
                let path = file.path();
                let regular = file.file_type().is_ok_and(|t| t.is_file());
                if regular && path.extension().is_some_and(|e| e == "json") {
                    if let Some(record) = fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok()) {
                        out.push(record);
                    }
                }
            }
        }
        out
    }

    /// Keys of everything in `objects/` (artifacts or records).
    pub fn keys(&self) -> Vec<ContentKey> {
        let mut keys: Vec<ContentKey> = fs::read_dir(self.root.join("objects"))
            .into_iter()
            .flatten()
            .flatten()
            .flat_map(|shard| fs::read_dir(shard.path()).into_iter().flatten().flatten())
            .filter_map(|f| f.file_name().to_str()?.split('.').next()?.parse().ok())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// Bytes used by a key's artifact and record.
    pub fn size_of(&self, key: &ContentKey) -> u64 {
        [self.artifact_path(key), self.record_path(key), self.object_path(key, "events.jsonl")]
            .iter()
            .filter_map(|p| fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Removes a key's artifact and record (record first, so nothing half-trusted remains).
    pub fn remove(&self, key: &ContentKey) -> Result<(), CacheError> {
        for path in [self.record_path(key), self.artifact_path(key), self.object_path(key, "events.jsonl")] {
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err("removing", &path)(e)),
            }
        }
        self.verified.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
        Ok(())
    }

    /// Removes temp files left by writers that are gone: on this host, those
    /// whose process has exited; any temp file older than a day; every one
    /// when this process holds the cache exclusively (`gc`: no writer can be
    /// live). Files of live writers (another run) are kept otherwise. Returns
    /// how many were removed.
    pub fn clean_tmp(&self) -> usize {
        let Ok(entries) = fs::read_dir(self.root.join("tmp")) else { return 0 };
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_TMP_AGE);
            let dead = name.to_str().and_then(temp_writer).is_some_and(|w| !w.alive());
            if (self.exclusive || old || dead) && fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        removed
    }
}

fn matches_record(hash: &blake3::Hash, record: &Record) -> bool {
    ArtifactHash::from(*hash) == record.artifact_hash
}

/// Takes `DIR/locks/cache.lock`. A read-only cache whose lock file cannot be
/// created is opened without it (nothing can be written or removed there).
fn cache_lock(root: &Path, access: Access) -> Result<Option<File>, CacheError> {
    let path = root.join("locks").join("cache.lock");
    let opened = OpenOptions::new().create(true).truncate(false).write(true).open(&path);
    let file = match opened.or_else(|_| File::open(&path)) {
        Ok(file) => file,
        Err(_) => return Ok(None),
    };
    let locked = match access {
        Access::Shared => file.lock_shared(),
        Access::Exclusive => match file.try_lock() {
            Ok(()) => Ok(()),
            Err(fs::TryLockError::WouldBlock) => return Err(CacheError::InUse(root.to_path_buf())),
            Err(fs::TryLockError::Error(e)) => Err(e),
        },
    };
    match locked {
        Ok(()) => Ok(Some(file)),
        // Filesystems without lock support: proceed as before the cache lock existed.
        Err(e) if e.kind() == io::ErrorKind::Unsupported => Ok(None),
        Err(e) => Err(io_err("locking", &path)(e)),
    }
}

/// A temp file, removed on drop unless it was renamed into place.
struct TempFile {
    path: PathBuf,
    renamed: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Who writes a temp file: `<pid>@<host>`.
fn writer_id() -> String {
    format!("{}@{}", std::process::id(), host())
}

/// This machine's name, reduced to `[A-Za-z0-9-]` (empty when unknown).
fn host() -> &'static str {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(|| super::runlog::host_name().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect())
}

/// The writer of a temp file named `<name>.<pid>@<host>.<n>.tmp` (or the
/// older `<name>.<pid>.<n>.tmp`, taken as this host's).
struct TempWriter<'a> {
    pid: u32,
    host: Option<&'a str>,
}

fn temp_writer(name: &str) -> Option<TempWriter<'_>> {
    let rest = name.strip_suffix(".tmp")?;
    let (rest, _suffix) = rest.rsplit_once('.')?;
    let (_, writer) = rest.rsplit_once('.')?;
    let (pid, host) = match writer.split_once('@') {
        Some((pid, host)) => (pid, Some(host)),
        None => (writer, None),
    };
    Some(TempWriter { pid: pid.parse().ok()?, host })
}

impl TempWriter<'_> {
    /// Whether the writer may still be running. Only a process on this host
    /// can be checked (through /proc); any other counts as alive.
    fn alive(&self) -> bool {
        let here = self.host.is_none_or(|h| h == host() && !h.is_empty());
        let proc_fs = Path::new("/proc/self").exists();
        if !here || !proc_fs {
            return true;
        }
        self.pid == std::process::id() || super::runlog::pid_alive(self.pid)
    }
}

fn unique_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos() as u64);
    nanos ^ (COUNTER.fetch_add(1, Ordering::Relaxed) << 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> ContentKey {
        super::super::key::stage_key("test", 1, &[byte], 0, &[])
    }

    fn record(k: ContentKey) -> Record {
        Record {
            key: k,
            kind: "test".into(),
            version: 1,
            params: Default::default(),
            input_keys: vec![],
            seed: 0,
            artifact_hash: ArtifactHash([0; 32]),
            size: 0,
            wall_ms: 0,
            started: 0.0,
            finished: 0.0,
            tool_version: String::new(),
            stage_name: "s".into(),
            pipeline: "p".into(),
            summary: serde_json::Value::Null,
            log: vec![],
        }
    }

    #[test]
    fn streamed_store_loads_back_and_detects_corruption_once_changed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let value: Vec<u64> = (0..300_000).collect();
        let k = key(1);
        let mut rec = record(k);
        let hash = cache.store(&k, &Payload::value(value.clone()), &mut rec, b"").unwrap();
        let encoded = codec::encode(&value);
        assert_eq!(hash, ArtifactHash::from(codec::hash_payload(&encoded)));
        assert_eq!(rec.size, (HEADER_LEN + encoded.len()) as u64);
        assert_eq!(cache.load(&k).unwrap(), encoded);
        // Another process (a fresh cache) hashes the file itself.
        let fresh = Cache::open(dir.path()).unwrap();
        assert!(matches!(fresh.lookup(&k), Lookup::Valid(_)));
        assert_eq!(codec::decode::<Vec<u64>>(&fresh.load(&k).unwrap()).unwrap(), value);
        // A byte flipped in place (the file changes) is caught by both.
        let path = cache.artifact_path(&k);
        let mut bytes = fs::read(&path).unwrap();
        bytes[HEADER_LEN + 1000] ^= 1;
        fs::write(&path, &bytes).unwrap();
        for c in [&cache, &fresh] {
            assert!(matches!(c.lookup(&k), Lookup::Corrupt(ref why) if why.contains("hash mismatch")));
            assert!(matches!(c.load(&k), Err(CacheError::Corrupt { .. })));
        }
        bytes[HEADER_LEN + 1000] ^= 1;
        bytes.push(0);
        fs::write(&path, &bytes).unwrap();
        assert!(matches!(fresh.lookup(&k), Lookup::Corrupt(ref why) if why.contains("1 trailing bytes")));
        fs::write(&path, &bytes[..100]).unwrap();
        assert!(matches!(fresh.lookup(&k), Lookup::Corrupt(ref why) if why.contains("truncated")));
    }

    /// A payload whose encoding fails half-way, as on a full disk.
    struct FailsHalfway;

    impl codec::Encode for FailsHalfway {
        fn encode_into(&self, out: &mut dyn Write) -> io::Result<()> {
            out.write_all(&[7; 4096])?;
            Err(io::Error::new(io::ErrorKind::StorageFull, "no space left (simulated)"))
        }
    }

    #[test]
    fn a_failed_write_removes_its_temp_file_and_names_the_artifact() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let k = key(2);
        let err = cache.store(&k, &Payload::Value(Box::new(FailsHalfway)), &mut record(k), b"").unwrap_err();
        let message = err.to_string();
        assert!(message.contains(&cache.artifact_path(&k).display().to_string()), "{message}");
        assert!(message.contains("no space left"), "{message}");
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        assert!(!cache.artifact_path(&k).exists());
        assert!(matches!(cache.lookup(&k), Lookup::Missing));
    }

    #[test]
    fn stale_temp_files_of_dead_writers_are_removed_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let tmp = dir.path().join("tmp");
        // A pid that is not running: spawn a process and wait for it to exit.
        let dead = std::process::Command::new("true").spawn().and_then(|mut c| c.wait().map(|_| c.id()));
        let Ok(dead) = dead else {
            eprintln!("skipped: cannot spawn `true` to find a dead pid");
            return;
        };
        if !Path::new("/proc/self").exists() || Path::new("/proc").join(dead.to_string()).exists() {
            eprintln!("skipped: no /proc, or pid {dead} was reused");
            return;
        }
        let me = std::process::id();
        let files = [
            (format!("x.art.{dead}@{}.1.tmp", host()), false),
            (format!("x.json.{dead}.2.tmp"), false),
            (format!("x.art.{me}@{}.3.tmp", host()), true),
            (format!("x.art.{dead}@some-other-host.4.tmp"), true),
            ("unrelated-name".to_string(), true),
        ];
        for (name, _) in &files {
            fs::write(tmp.join(name), b"partial").unwrap();
        }
        assert_eq!(cache.clean_tmp(), 2);
        for (name, kept) in &files {
            assert_eq!(tmp.join(name).exists(), *kept, "{name}");
        }
        // gc holds the cache alone: whatever is left has no live writer.
        drop(cache);
        assert_eq!(Cache::open_exclusive(dir.path()).unwrap().clean_tmp(), 3);
    }

    #[test]
    fn gc_cannot_open_a_cache_another_process_holds() {
        let dir = tempfile::tempdir().unwrap();
        let run = Cache::open(dir.path()).unwrap();
        let also_reading = run.clone();
        drop(run);
        let err = Cache::open_exclusive(dir.path()).unwrap_err();
        assert!(matches!(err, CacheError::InUse(ref p) if p == dir.path()), "{err}");
        drop(also_reading);
        let gc = Cache::open_exclusive(dir.path()).unwrap();
        assert!(matches!(Cache::open_exclusive(dir.path()), Err(CacheError::InUse(_))));
        drop(gc);
        Cache::open(dir.path()).unwrap();
    }
}
