//! An editor's side of a `unfreeze server` session, for the tests that drive the server over
//! stdio (`tests/server.rs`, `tests/server_project.rs`): the framing, requests and
//! notifications, the messages the server sends, and edits applied as an editor applies them.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

use super::common::UNFREEZE;

/// One editor session: the server's stdin, and its messages as they arrive.
pub struct Session {
    pub child: Child,
    pub stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
}

impl Session {
    pub fn start(dir: &Path) -> Session {
        let mut child = Command::new(UNFREEZE)
            .arg("server")
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (send, messages) = channel();
        thread::spawn(move || {
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(value) = line.strip_prefix("Content-Length: ") {
                        length = Some(value.parse::<usize>().unwrap());
                    }
                }
                let mut body = vec![0; length.expect("a Content-Length header")];
                stdout.read_exact(&mut body).unwrap();
                if send.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        Session {
            child,
            stdin,
            messages,
            next_id: 1,
        }
    }

    pub fn send(&mut self, message: Value) {
        let body = serde_json::to_vec(&message).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.stdin.write_all(&body).unwrap();
        self.stdin.flush().unwrap();
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The next message the server sends that `wanted` accepts (others are skipped).
    pub fn receive(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let message = self
                .messages
                .recv_timeout(Duration::from_secs(60))
                .expect("the server answers within 60 s");
            if wanted(&message) {
                return message;
            }
        }
    }

    /// Send a request and return its result (an error answer fails the test).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let answer = self.receive(|m| m["id"] == id);
        assert!(answer.get("error").is_none(), "{answer}");
        answer["result"].clone()
    }

    pub fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let published = self.receive(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        published["params"]["diagnostics"]
            .as_array()
            .unwrap()
            .clone()
    }

    pub fn initialize(&mut self, dir: &Path) {
        self.initialize_with(dir, json!({}));
    }

    pub fn initialize_with(&mut self, dir: &Path, capabilities: Value) {
        self.initialize_options(dir, capabilities, Value::Null);
    }

    /// `initialize` with the editor's `capabilities` and `initializationOptions`.
    pub fn initialize_options(&mut self, dir: &Path, capabilities: Value, options: Value) {
        let result = self.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": uri_of(dir),
                "capabilities": capabilities,
                "initializationOptions": options,
            }),
        );
        assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
        assert!(result["capabilities"]["codeActionProvider"].is_object());
        self.notify("initialized", json!({}));
    }

    /// `shutdown`, `exit`, and the server's exit status.
    pub fn finish(mut self) -> Option<i32> {
        assert_eq!(self.request("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        drop(self.stdin);
        self.child.wait().unwrap().code()
    }
}

/// The rule codes of `diagnostics`, in order.
pub fn codes(diagnostics: &[Value]) -> Vec<&str> {
    diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect()
}

pub fn uri_of(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The byte offset of an LSP position (a line and UTF-16 units) in `text`.
pub fn offset(text: &str, position: &Value) -> usize {
    let line = position["line"].as_u64().unwrap() as usize;
    let units = position["character"].as_u64().unwrap() as usize;
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let mut counted = 0;
    for (i, c) in text[start..].char_indices() {
        if counted == units {
            return start + i;
        }
        counted += c.len_utf16();
    }
    text.len()
}

/// `text` with a workspace edit's changes for `uri` applied, as an editor applies them.
pub fn apply(text: &str, edit: &Value, uri: &str) -> String {
    let mut edits: Vec<(usize, usize, String)> = edit["changes"][uri]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                offset(text, &e["range"]["start"]),
                offset(text, &e["range"]["end"]),
                e["newText"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut text = text.to_owned();
    for (start, end, new) in edits {
        text.replace_range(start..end, &new);
    }
    text
}
