//! Writing a fixed file atomically: a temporary file in the same directory, flushed, given
//! the original's permissions, then renamed over the original; never over a file that
//! changed since it was read.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a file looked like when it was read: its length and SHA-256 (the hash plans record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    len: usize,
    sha256: [u8; 32],
}

impl Fingerprint {
    pub fn of(bytes: &[u8]) -> Fingerprint {
        Fingerprint {
            len: bytes.len(),
            sha256: Sha256::digest(bytes).into(),
        }
    }

    /// The SHA-256 in lowercase hex.
    pub fn sha256_hex(&self) -> String {
        self.sha256.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[derive(Debug)]
pub enum WriteError {
    /// The file on disk is not the one that was read: someone else changed or removed it.
    Changed,
    Io(std::io::Error),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Changed => {
                f.write_str("the file changed on disk since it was read; not overwritten")
            }
            WriteError::Io(err) => write!(f, "could not write the file: {err}"),
        }
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn temporary_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    // Keep the name recognisable but within NAME_MAX (255 bytes on common file systems).
    let mut short: String = name.chars().take(100).collect();
    if short.len() > 100 {
        short = short.chars().take(25).collect();
    }
    target.with_file_name(format!(
        ".{short}.unfreeze-{}-{unique}.tmp",
        std::process::id()
    ))
}

/// Replace `path`'s contents with `bytes` if it still matches `expected`.
pub fn write_atomically(
    path: &Path,
    bytes: &[u8],
    expected: Fingerprint,
) -> Result<(), WriteError> {
    // Write through symlinks to the file they point at, keeping the link.
    let target = fs::canonicalize(path).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => WriteError::Changed,
        _ => WriteError::Io(err),
    })?;
    let current = fs::read(&target).map_err(WriteError::Io)?;
    if Fingerprint::of(&current) != expected {
        return Err(WriteError::Changed);
    }
    let permissions = fs::metadata(&target).map_err(WriteError::Io)?.permissions();
    if permissions.readonly() {
        return Err(WriteError::Io(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "the file is read-only",
        )));
    }
    let temporary = temporary_path(&target);
    let result = (|| {
        let mut file: File = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::set_permissions(&temporary, permissions)?;
        fs::rename(&temporary, &target)
    })();
    if let Err(err) = result {
        let _ = fs::remove_file(&temporary);
        return Err(WriteError::Io(err));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_keeps_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.py");
        fs::write(&path, "old\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o754)).unwrap();
        }
        write_atomically(&path, b"new\n", Fingerprint::of(b"old\n")).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o754);
        }
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn refuses_a_file_changed_since_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.py");
        fs::write(&path, "changed\n").unwrap();
        let err = write_atomically(&path, b"new\n", Fingerprint::of(b"old\n")).unwrap_err();
        assert!(matches!(err, WriteError::Changed));
        assert_eq!(fs::read_to_string(&path).unwrap(), "changed\n");
        fs::remove_file(&path).unwrap();
        let err = write_atomically(&path, b"new\n", Fingerprint::of(b"old\n")).unwrap_err();
        assert!(matches!(err, WriteError::Changed));
        assert!(!path.exists());
    }
}
