//! Atomic output files for `export` and `plot`: the content goes to a temp
//! file beside the target, is synced, and is renamed over the target only when
//! complete, so a full disk or a failed draw never leaves a truncated or empty
//! file under the target's name. Every error names the target path. A target
//! that exists but is not a regular file (`/dev/stdout`, a fifo) is written in
//! place, since nothing can be renamed over it; a directory is refused.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{bail, Context, Result};

/// Writes `target` through `fill`, which creates and fills the file at the path it is given.
pub fn write_file(target: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    match fs::metadata(target) {
        Ok(meta) if meta.is_dir() => {
            bail!("cannot write {}: it is a directory; give a file name", target.display())
        }
        Ok(meta) if !meta.is_file() => {
            return fill(target).with_context(|| format!("writing {}", target.display()));
        }
        _ => {}
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            let why = if dir.exists() { "is not a directory" } else { "does not exist" };
            bail!("cannot write {}: {} {why}", target.display(), dir.display());
        }
    }
    let tmp = temp_path(target);
    let written = fill(&tmp).and_then(|()| {
        fs::File::open(&tmp).and_then(|f| f.sync_all()).with_context(|| format!("syncing {}", tmp.display()))?;
        fs::rename(&tmp, target).with_context(|| format!("renaming {} into place", tmp.display()))
    });
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written.with_context(|| format!("writing {}", target.display()))
}

/// `DIR/.NAME.quench-tmp-PID-N.EXT`: hidden, unique, and with the target's
/// extension (writers such as the PNG encoder choose the format from it).
fn temp_path(target: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = target.file_name().map_or("output".into(), |n| n.to_string_lossy().into_owned());
    let mut tmp = format!(".{name}.quench-tmp-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Some(ext) = target.extension() {
        tmp.push('.');
        tmp.push_str(&ext.to_string_lossy());
    }
    target.with_file_name(tmp)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("table.csv");
        fs::write(&target, "old\n").unwrap();
        let err = write_file(&target, |tmp| {
            let mut f = fs::File::create(tmp)?;
            f.write_all(b"half a tab")?;
            bail!("No space left on device")
        })
        .unwrap_err();
        assert!(format!("{err:#}").starts_with(&format!("writing {}: No space", target.display())), "{err:#}");
        assert_eq!(fs::read_to_string(&target).unwrap(), "old\n");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "the temp file was left behind");
    }

    #[test]
    fn a_complete_write_replaces_the_target_and_keeps_the_extension_for_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("figure.png");
        write_file(&target, |tmp| {
            assert_eq!(tmp.extension().unwrap(), "png");
            assert_eq!(tmp.parent(), target.parent());
            Ok(fs::write(tmp, b"new")?)
        })
        .unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn directories_are_refused_and_devices_written_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_file(dir.path(), |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
        let missing = dir.path().join("nodir").join("x.svg");
        let err = write_file(&missing, |_| Ok(())).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("cannot write {}: {} does not exist", missing.display(), dir.path().join("nodir").display())
        );
        let file = dir.path().join("file");
        fs::write(&file, "x").unwrap();
        let err = write_file(&file.join("x.svg"), |_| Ok(())).unwrap_err();
        assert!(err.to_string().ends_with(&format!("{} is not a directory", file.display())), "{err}");
        if Path::new("/dev/full").exists() {
            let err = write_file(Path::new("/dev/full"), |p| Ok(fs::write(p, b"x")?)).unwrap_err();
            assert!(format!("{err:#}").starts_with("writing /dev/full: "), "{err:#}");
        }
    }
}
