//! Linux: a directory held open, so that `apply` reads, creates and renames files relative to
//! it (`openat`, `renameat`) instead of by path. The handle is reached from the root one
//! component at a time without following links, so a directory swapped for a link at any
//! moment can no longer redirect a write out of the root.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub struct Dir(OwnedFd);

fn c_name(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| io::Error::other("a path holds a NUL byte"))
}

/// The result of a libc call returning a descriptor, as an owned descriptor.
fn owned(fd: libc::c_int) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by the kernel and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

impl Dir {
    /// `root` (opened by its path, which the user chose), then each of `parts` below it, none
    /// of which may be a link.
    pub fn open_below<'a>(
        root: &Path,
        parts: impl IntoIterator<Item = &'a OsStr>,
    ) -> io::Result<Dir> {
        let path = c_name(root.as_os_str())?;
        // SAFETY: a valid NUL-terminated path; the flags open a directory for reading.
        let fd = unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_DIRECTORY | libc::O_RDONLY | libc::O_CLOEXEC,
            )
        };
        let mut dir = Dir(owned(fd)?);
        for part in parts {
            dir = Dir(dir.open_at(part, libc::O_DIRECTORY | libc::O_RDONLY, 0)?);
        }
        Ok(dir)
    }

    fn open_at(&self, name: &OsStr, flags: libc::c_int, mode: libc::mode_t) -> io::Result<OwnedFd> {
        let name = c_name(name)?;
        // SAFETY: a descriptor this value owns and a valid NUL-terminated name; O_NOFOLLOW
        // makes a link at `name` an error (ELOOP) instead of being followed.
        let fd = unsafe {
            libc::openat(
                self.0.as_raw_fd(),
                name.as_ptr(),
                flags | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                libc::c_uint::from(mode),
            )
        };
        owned(fd)
    }

    /// The file `name` in this directory, for reading; a link is an error. Non-blocking, so
    /// that a FIFO put in the file's place does not hang `apply` (the caller checks that it
    /// is a regular file before reading).
    pub fn open_file(&self, name: &OsStr) -> io::Result<File> {
        self.open_at(name, libc::O_RDONLY | libc::O_NONBLOCK, 0)
            .map(File::from)
    }

    /// A new file `name` in this directory (never an existing file or a link).
    pub fn create_new(&self, name: &OsStr) -> io::Result<File> {
        self.open_at(name, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, 0o600)
            .map(File::from)
    }

    /// Rename `from` to `to`, both in this directory.
    pub fn rename(&self, from: &OsStr, to: &OsStr) -> io::Result<()> {
        let (from, to) = (c_name(from)?, c_name(to)?);
        let fd = self.0.as_raw_fd();
        // SAFETY: a descriptor this value owns and two valid NUL-terminated names.
        if unsafe { libc::renameat(fd, from.as_ptr(), fd, to.as_ptr()) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Remove the file `name` from this directory.
    pub fn remove(&self, name: &OsStr) -> io::Result<()> {
        let name = c_name(name)?;
        // SAFETY: a descriptor this value owns and a valid NUL-terminated name.
        if unsafe { libc::unlinkat(self.0.as_raw_fd(), name.as_ptr(), 0) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}
