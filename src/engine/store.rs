//! The content-addressed cache on disk:
//!
//! ```text
//! DIR/objects/ab/<key>.art    framed artifact (see `codec`)
//! DIR/objects/ab/<key>.json   stage record (see `record`)
//! DIR/objects/ab/<key>.events.jsonl  the stage's traces and histograms, replayed on hits
//! DIR/locks/<key>.lock        held while a run computes that stage
//! DIR/tmp/                    files being written; never trusted
//! DIR/runs/<run-id>/events.jsonl
//! ```
//!
//! Writes are atomic (temp file, fsync, rename, fsync of the directory): the
//! artifact lands before its record, and a record is trusted only when the
//! artifact's framed hash matches it. Exclusive file locks keep two runs from
//! computing the same stage at once.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::codec::{self, CodecError};
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

#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

/// An exclusive lock on one stage key, released on drop.
pub struct StageLock {
    _file: File,
}

impl Cache {
    /// Opens (creating if needed) a cache directory.
    pub fn open(root: &Path) -> Result<Cache, CacheError> {
        for sub in ["objects", "locks", "tmp", "runs"] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).map_err(io_err("creating cache directory", &dir))?;
        }
        Ok(Cache { root: root.to_path_buf() })
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

    /// Full check: the record exists and the artifact's frame and hash match it.
    pub fn lookup(&self, key: &ContentKey) -> Lookup {
        let record = match self.read_record(key) {
            Ok(Some(record)) => record,
            Ok(None) => return Lookup::Missing,
            Err(why) => return Lookup::Corrupt(why),
        };
        match self.read_verified(key, &record) {
            Ok(_) => Lookup::Valid(Box::new(record)),
            Err(CacheError::Corrupt { reason, .. }) => Lookup::Corrupt(reason),
            Err(e) => Lookup::Corrupt(e.to_string()),
        }
    }

    /// The payload of a cached artifact, verified against its record.
    pub fn load(&self, key: &ContentKey) -> Result<Vec<u8>, CacheError> {
        let record = self
            .read_record(key)
            .map_err(|reason| CacheError::Corrupt { key: key.short(), reason })?
            .ok_or_else(|| CacheError::Missing(key.short()))?;
        self.read_verified(key, &record)
    }

    fn read_verified(&self, key: &ContentKey, record: &Record) -> Result<Vec<u8>, CacheError> {
        let path = self.artifact_path(key);
        let corrupt = |reason: String| CacheError::Corrupt { key: key.short(), reason };
        if fs::metadata(&path).is_ok_and(|m| !m.is_file()) {
            return Err(corrupt("artifact is not a regular file".into()));
        }
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(corrupt("artifact file is missing".into())),
            Err(e) => return Err(io_err("reading", &path)(e)),
        };
        let (payload, hash) = codec::unframe(&bytes).map_err(|e: CodecError| corrupt(e.to_string()))?;
        if ArtifactHash::from(hash) != record.artifact_hash {
            return Err(corrupt("artifact hash differs from its record".into()));
        }
        Ok(payload.to_vec())
    }

    /// Stores a payload, the stage's data events (JSON lines, replayed on
    /// cache hits) and then its record, each atomically. Returns the payload hash.
    pub fn store(
        &self,
        key: &ContentKey,
        payload: &[u8],
        record: &mut Record,
        replay: &[u8],
    ) -> Result<ArtifactHash, CacheError> {
        let (header, hash) = codec::frame_header(payload);
        record.artifact_hash = hash.into();
        record.size = (header.len() + payload.len()) as u64;
        self.write_atomic(&self.artifact_path(key), &[&header, payload])?;
        self.write_atomic(&self.object_path(key, "events.jsonl"), &[replay])?;
        let json = serde_json::to_vec_pretty(record).expect("records serialise");
        self.write_atomic(&self.record_path(key), &[&json])?;
        Ok(record.artifact_hash)
    }

    /// Writes `parts` to a temp file, fsyncs, renames over `path`, fsyncs the directory.
    fn write_atomic(&self, path: &Path, parts: &[&[u8]]) -> Result<(), CacheError> {
        let dir = path.parent().expect("object paths have a parent");
        fs::create_dir_all(dir).map_err(io_err("creating", dir))?;
        let tmp = self.root.join("tmp").join(format!(
            "{}.{}.{}.tmp",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("object"),
            std::process::id(),
            unique_suffix()
        ));
        let mut file = File::create(&tmp).map_err(io_err("creating", &tmp))?;
        for part in parts {
            file.write_all(part).map_err(io_err("writing", &tmp))?;
        }
        file.sync_all().map_err(io_err("syncing", &tmp))?;
        drop(file);
        fs::rename(&tmp, path).map_err(io_err("renaming into place", path))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
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
        Ok(())
    }

    /// Removes leftover temp files older than an hour (from killed runs).
    pub fn clean_tmp(&self) {
        let Ok(entries) = fs::read_dir(self.root.join("tmp")) else { return };
        for entry in entries.flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 3600);
            if old {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

fn unique_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos() as u64);
    nanos ^ (COUNTER.fetch_add(1, Ordering::Relaxed) << 32)
}
