//! The buffers the editor has open: their text as the editor has it (full sync), and the
//! file each one is, from its `file://` URI.

use std::collections::HashMap;
use std::path::PathBuf;

/// One open buffer.
pub struct Document {
    pub path: PathBuf,
    pub text: String,
    pub version: Option<i64>,
}

/// The open buffers, by URI.
#[derive(Default)]
pub struct Documents {
    open: HashMap<String, Document>,
}

impl Documents {
    /// Open (or replace) the buffer `uri`; `false` when the URI names no local file.
    pub fn open(&mut self, uri: &str, text: String, version: Option<i64>) -> bool {
        let Some(path) = path_of(uri) else {
            return false;
        };
        self.open.insert(
            uri.to_owned(),
            Document {
                path,
                text,
                version,
            },
        );
        true
    }

    /// The buffer's new text (full sync); `false` when it is not open.
    pub fn change(&mut self, uri: &str, text: String, version: Option<i64>) -> bool {
        match self.open.get_mut(uri) {
            Some(document) => {
                document.text = text;
                document.version = version;
                true
            }
            None => false,
        }
    }

    pub fn close(&mut self, uri: &str) {
        self.open.remove(uri);
    }

    pub fn get(&self, uri: &str) -> Option<&Document> {
        self.open.get(uri)
    }

    /// The open buffers' URIs.
    pub fn uris(&self) -> impl Iterator<Item = &str> {
        self.open.keys().map(String::as_str)
    }
}

/// The local path of a `file://` URI (percent-encoded bytes decoded; a Windows drive letter's
/// leading slash dropped), or `None` for another scheme.
pub fn path_of(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    // `file://host/path`: only the local host (empty or `localhost`).
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                decoded.push((hex(h)? * 16 + hex(l)?) as u8);
                i += 3;
            }
            (b, _, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    let path = String::from_utf8(decoded).ok()?;
    let path = match path.as_bytes() {
        [b'/', drive, b':', ..] if drive.is_ascii_alphabetic() => path[1..].to_owned(),
        _ => path,
    };
    Some(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_become_paths() {
        assert_eq!(
            path_of("file:///home/me/my%20app/main.py"),
            Some(PathBuf::from("/home/me/my app/main.py"))
        );
        assert_eq!(
            path_of("file:///c%3A/src/app.py"),
            Some(PathBuf::from("c:/src/app.py"))
        );
        assert_eq!(path_of("untitled:Untitled-1"), None);
    }
}
