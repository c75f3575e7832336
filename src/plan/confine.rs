//! Confinement: every path a plan names must lead to a file inside one root directory. Checked
//! when the plan is verified (absolute paths, `..` climbing out, symbolic links leading out are
//! refused by name), and again right before each file is renamed into place, so a directory
//! swapped for a link in between is caught.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::config::find_config;
use crate::write::{Fingerprint, WriteError};

/// The one directory `apply` writes in, and the directory relative paths start from.
#[derive(Clone, Debug)]
pub struct Root {
    /// Canonical.
    dir: PathBuf,
    /// The working directory, canonical.
    cwd: PathBuf,
}

/// Where a plan's path leads: a file inside the root, every link on the way resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confined {
    /// The file (its directory canonical; the file itself is no link).
    pub target: PathBuf,
}

impl Root {
    /// `--root DIR`, else the directory of the configuration file found from the working
    /// directory, else the working directory.
    pub fn new(explicit: Option<&Path>) -> Result<Root, String> {
        let cwd = std::env::current_dir()
            .and_then(fs::canonicalize)
            .map_err(|err| format!("the working directory: {err}"))?;
        let dir = match explicit {
            Some(dir) => {
                let canonical = fs::canonicalize(dir)
                    .map_err(|err| format!("--root {}: {err}", dir.display()))?;
                if !canonical.is_dir() {
                    return Err(format!("--root {}: not a directory", dir.display()));
                }
                canonical
            }
            None => find_config(&cwd)
                .map_err(|err| err.to_string())?
                .and_then(|config| config.parent().map(Path::to_path_buf))
                .unwrap_or_else(|| cwd.clone()),
        };
        Ok(Root { dir, cwd })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the file `name` (relative to the working directory) leads, or why it is refused.
    /// Nothing is opened; the file need not exist.
    pub fn confine(&self, name: &str) -> Result<Confined, String> {
        let target = self.resolve(name)?;
        if target == self.dir {
            return Err("is the root directory itself".to_owned());
        }
        Ok(Confined { target })
    }

    /// Where `name` leads (the root itself included), or why it is outside.
    pub fn resolve(&self, name: &str) -> Result<PathBuf, String> {
        let path = Path::new(name);
        if path.has_root() || path.is_absolute() {
            return Err(
                "is an absolute path: a plan names files relative to the directory \
                        it is applied in"
                    .to_owned(),
            );
        }
        let mut lexical = self.cwd.clone();
        let mut climbs = false;
        for component in path.components() {
            match component {
                Component::CurDir => {}
                Component::ParentDir => {
                    climbs = true;
                    lexical.pop();
                }
                Component::Normal(part) => lexical.push(part),
                Component::RootDir | Component::Prefix(_) => {
                    return Err("is an absolute path".to_owned());
                }
            }
        }
        if !lexical.starts_with(&self.dir) {
            let how = if climbs {
                "`..` climbs out of"
            } else {
                "is outside"
            };
            return Err(format!("{how} the root {}", self.dir.display()));
        }
        let rest: Vec<_> = lexical
            .strip_prefix(&self.dir)
            .unwrap_or(&lexical)
            .components()
            .collect();
        let mut current = self.dir.clone();
        for (i, part) in rest.iter().enumerate() {
            let next = current.join(part);
            match fs::symlink_metadata(&next) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    let shown = self.shown(&next);
                    let resolved = fs::canonicalize(&next)
                        .map_err(|_| format!("`{shown}` is a symbolic link that leads nowhere"))?;
                    if !resolved.starts_with(&self.dir) {
                        return Err(format!(
                            "`{shown}` is a symbolic link leading out of the root {} (to {})",
                            self.dir.display(),
                            resolved.display()
                        ));
                    }
                    current = resolved;
                }
                Ok(_) => current = next,
                Err(err) if err.kind() == io::ErrorKind::NotFound => {
                    current = next;
                    for part in &rest[i + 1..] {
                        current.push(part);
                    }
                    break;
                }
                Err(err) => return Err(format!("could not be examined: {err}")),
            }
        }
        Ok(current)
    }

    /// `path` as the user sees it: relative to the working directory when inside it.
    fn shown(&self, path: &Path) -> String {
        path.strip_prefix(&self.cwd)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// The confined file is still where it was found: a regular file (no link) in a
    /// directory whose canonical path is unchanged and inside the root.
    #[cfg_attr(target_os = "linux", allow(dead_code))]
    fn still_in_place(&self, confined: &Confined) -> Result<(), WriteError> {
        let moved = |what: &str| {
            WriteError::Io(io::Error::other(format!(
                "{what} since the plan was verified; not written"
            )))
        };
        let parent = confined
            .target
            .parent()
            .ok_or_else(|| moved("the file has no directory"))?;
        match fs::canonicalize(parent) {
            Ok(canonical) if canonical == parent && canonical.starts_with(&self.dir) => {}
            Ok(_) => {
                return Err(moved(
                    "a directory on the file's path was replaced (by a symbolic link?)",
                ));
            }
            Err(_) => return Err(WriteError::Changed),
        }
        match fs::symlink_metadata(&confined.target) {
            Ok(meta) if meta.file_type().is_file() => Ok(()),
            Ok(_) => Err(moved(
                "the file was replaced by something other than a regular file",
            )),
            Err(_) => Err(WriteError::Changed),
        }
    }

    /// Replace the confined file's contents with `bytes` if it still has the `expected`
    /// bytes: a temporary file in the same directory, renamed over it after the file is
    /// checked once more. On Linux every step goes through the file's directory held open,
    /// reached from the root without following links; elsewhere by path, with the file and its
    /// directory checked again right before the rename.
    pub fn write(
        &self,
        confined: &Confined,
        bytes: &[u8],
        expected: Fingerprint,
    ) -> Result<(), WriteError> {
        #[cfg(target_os = "linux")]
        return self.write_through_handle(confined, bytes, expected);
        #[cfg(not(target_os = "linux"))]
        return self.write_by_path(confined, bytes, expected);
    }

    #[cfg(target_os = "linux")]
    fn write_through_handle(
        &self,
        confined: &Confined,
        bytes: &[u8],
        expected: Fingerprint,
    ) -> Result<(), WriteError> {
        use super::dir_handle::Dir;
        use std::io::Read;
        let replaced = |what: &str| {
            WriteError::Io(io::Error::other(format!(
                "{what} since the plan was verified; not written"
            )))
        };
        let relative = confined
            .target
            .strip_prefix(&self.dir)
            .map_err(|_| replaced("the file left the root"))?;
        let name = relative
            .file_name()
            .ok_or_else(|| replaced("the file has no name"))?;
        let parts = relative
            .parent()
            .into_iter()
            .flat_map(Path::components)
            .map(|part| part.as_os_str());
        let swapped = |err: io::Error, what: &str| match err.raw_os_error() {
            _ if err.kind() == io::ErrorKind::NotFound => WriteError::Changed,
            Some(libc::ELOOP | libc::ENOTDIR) => replaced(what),
            _ => WriteError::Io(err),
        };
        let dir = Dir::open_below(&self.dir, parts).map_err(|err| {
            swapped(
                err,
                "a directory on the file's path was replaced (by a symbolic link?)",
            )
        })?;
        let not_a_file = "the file was replaced by something other than a regular file";
        let unchanged = || -> Result<fs::Permissions, WriteError> {
            let mut file = dir
                .open_file(name)
                .map_err(|err| swapped(err, not_a_file))?;
            let meta = file.metadata().map_err(WriteError::Io)?;
            if !meta.is_file() {
                return Err(replaced(not_a_file));
            }
            let mut current = Vec::new();
            file.read_to_end(&mut current).map_err(WriteError::Io)?;
            if Fingerprint::of(&current) != expected {
                return Err(WriteError::Changed);
            }
            Ok(meta.permissions())
        };
        let permissions = unchanged()?;
        if permissions.readonly() {
            return Err(WriteError::Io(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "the file is read-only",
            )));
        }
        let temporary = temporary_path(Path::new(name));
        let temporary = temporary.as_os_str();
        let result = (|| {
            let mut file = dir.create_new(temporary).map_err(WriteError::Io)?;
            file.write_all(bytes).map_err(WriteError::Io)?;
            file.sync_all().map_err(WriteError::Io)?;
            file.set_permissions(permissions).map_err(WriteError::Io)?;
            unchanged()?;
            dir.rename(temporary, name).map_err(WriteError::Io)
        })();
        if result.is_err() {
            let _ = dir.remove(temporary);
        }
        result
    }

    /// [`Root::write`] by path: the file and its directory checked again right before the
    /// rename (a swap between that check and the rename is not caught).
    #[cfg_attr(target_os = "linux", allow(dead_code))]
    fn write_by_path(
        &self,
        confined: &Confined,
        bytes: &[u8],
        expected: Fingerprint,
    ) -> Result<(), WriteError> {
        let unchanged = || -> Result<fs::Permissions, WriteError> {
            self.still_in_place(confined)?;
            let current = fs::read(&confined.target).map_err(WriteError::Io)?;
            if Fingerprint::of(&current) != expected {
                return Err(WriteError::Changed);
            }
            Ok(fs::symlink_metadata(&confined.target)
                .map_err(WriteError::Io)?
                .permissions())
        };
        let permissions = unchanged()?;
        if permissions.readonly() {
            return Err(WriteError::Io(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "the file is read-only",
            )));
        }
        let temporary = temporary_path(&confined.target);
        let result = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temporary)
                .map_err(WriteError::Io)?;
            file.write_all(bytes).map_err(WriteError::Io)?;
            file.sync_all().map_err(WriteError::Io)?;
            fs::set_permissions(&temporary, permissions).map_err(WriteError::Io)?;
            unchanged()?;
            fs::rename(&temporary, &confined.target).map_err(WriteError::Io)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        result
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn temporary_path(target: &Path) -> PathBuf {
    let name: String = target
        .file_name()
        .map(|n| n.to_string_lossy().chars().take(25).collect())
        .unwrap_or_default();
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    target.with_file_name(format!(
        ".{name}.unfreeze-apply-{}-{unique}.tmp",
        std::process::id()
    ))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn root(dir: &Path) -> Root {
        let dir = fs::canonicalize(dir).unwrap();
        Root {
            cwd: dir.clone(),
            dir,
        }
    }

    /// Both writers: the one `apply` uses here, and the one by path.
    fn write_both(swap: impl Fn(&Path, &Path)) {
        for by_path in [false, true] {
            let project = tempfile::tempdir().unwrap();
            let outside = tempfile::tempdir().unwrap();
            fs::create_dir(project.path().join("pkg")).unwrap();
            fs::write(project.path().join("pkg/a.py"), "old\n").unwrap();
            fs::write(outside.path().join("a.py"), "old\n").unwrap();
            let root = root(project.path());
            let confined = root.confine("pkg/a.py").unwrap();
            // After the check, before the write.
            swap(project.path(), outside.path());
            let expected = Fingerprint::of(b"old\n");
            let err = if by_path {
                root.write_by_path(&confined, b"attacker\n", expected)
            } else {
                root.write(&confined, b"attacker\n", expected)
            }
            .unwrap_err();
            assert!(err.to_string().contains("was replaced"), "{by_path}: {err}");
            assert_eq!(
                fs::read_to_string(outside.path().join("a.py")).unwrap(),
                "old\n"
            );
            assert_eq!(
                fs::read_dir(outside.path()).unwrap().count(),
                1,
                "no temporary file"
            );
        }
    }

    #[test]
    fn a_directory_swapped_for_a_link_after_the_check_is_not_written_through() {
        write_both(|project, outside| {
            fs::rename(project.join("pkg"), project.join("moved")).unwrap();
            std::os::unix::fs::symlink(outside, project.join("pkg")).unwrap();
        });
    }

    #[test]
    fn a_file_swapped_for_a_link_after_the_check_is_not_written_through() {
        write_both(|project, outside| {
            fs::remove_file(project.join("pkg/a.py")).unwrap();
            std::os::unix::fs::symlink(outside.join("a.py"), project.join("pkg/a.py")).unwrap();
        });
    }

    #[test]
    fn an_honest_write_keeps_permissions_and_leaves_no_temporary_file() {
        use std::os::unix::fs::PermissionsExt;
        let project = tempfile::tempdir().unwrap();
        fs::create_dir(project.path().join("pkg")).unwrap();
        let path = project.path().join("pkg/a.py");
        fs::write(&path, "old\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o754)).unwrap();
        let root = root(project.path());
        let confined = root.confine("pkg/a.py").unwrap();
        root.write(&confined, b"new\n", Fingerprint::of(b"old\n"))
            .unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o754
        );
        assert_eq!(fs::read_dir(project.path().join("pkg")).unwrap().count(), 1);
        let err = root
            .write(&confined, b"newer\n", Fingerprint::of(b"old\n"))
            .unwrap_err();
        assert!(matches!(err, WriteError::Changed), "{err}");
    }

    #[test]
    fn links_inside_the_root_are_followed_and_links_out_refused_by_name() {
        let project = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::create_dir(project.path().join("real")).unwrap();
        fs::write(project.path().join("real/a.py"), "x\n").unwrap();
        std::os::unix::fs::symlink(project.path().join("real"), project.path().join("alias"))
            .unwrap();
        std::os::unix::fs::symlink(outside.path(), project.path().join("out")).unwrap();
        let root = root(project.path());
        assert_eq!(
            root.confine("alias/a.py").unwrap().target,
            root.dir().join("real/a.py")
        );
        let err = root.confine("out/a.py").unwrap_err();
        assert!(
            err.starts_with("`out` is a symbolic link leading out of the root"),
            "{err}"
        );
        assert!(root.confine("..").is_err());
        assert!(root.confine(".").is_err());
    }
}
