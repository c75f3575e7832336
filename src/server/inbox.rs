//! The editor's messages as they arrive, read on a thread of their own so the server sees
//! what is already waiting: a buffer change that a later change of the same buffer replaces
//! is not analysed (typing queues one change per keystroke), and a request the editor
//! cancelled before it was answered is answered "cancelled" without being computed.

use std::collections::VecDeque;
use std::io::{self, BufRead};
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::thread;

use serde_json::Value;

use super::transport::read_message;

/// The messages read and not yet handled.
pub struct Inbox {
    arriving: Receiver<io::Result<Value>>,
    pending: VecDeque<Value>,
    /// The input ended (or failed) after the messages in `pending`.
    closed: bool,
}

impl Inbox {
    /// Start reading `input` on its own thread.
    pub fn spawn(mut input: impl BufRead + Send + 'static) -> Inbox {
        let (send, arriving) = channel();
        thread::spawn(move || {
            loop {
                let message = match read_message(&mut input) {
                    Ok(Some(message)) => Ok(message),
                    Ok(None) => return,
                    Err(err) => Err(err),
                };
                let failed = message.is_err();
                if send.send(message).is_err() || failed {
                    return;
                }
            }
        });
        Inbox {
            arriving,
            pending: VecDeque::new(),
            closed: false,
        }
    }

    /// The next message (waiting for one when none is queued), `None` at the end of the
    /// input. Everything that has arrived meanwhile is queued behind it.
    pub fn next(&mut self) -> io::Result<Option<Value>> {
        if self.pending.is_empty() && !self.closed {
            match self.arriving.recv() {
                Ok(message) => self.pending.push_back(message?),
                Err(_) => self.closed = true,
            }
        }
        while !self.closed {
            match self.arriving.try_recv() {
                Ok(Ok(message)) => self.pending.push_back(message),
                // The error is the input's end: what came before it is still handled.
                Ok(Err(_)) | Err(TryRecvError::Disconnected) => self.closed = true,
                Err(TryRecvError::Empty) => break,
            }
        }
        Ok(self.pending.pop_front())
    }

    /// Whether a message already queued opens, changes or closes the buffer `uri` again (so
    /// analysing its current text would be wasted).
    pub fn superseded(&self, uri: &str) -> bool {
        self.pending.iter().any(|message| {
            matches!(
                message["method"].as_str(),
                Some("textDocument/didOpen" | "textDocument/didChange" | "textDocument/didClose")
            ) && message["params"]["textDocument"]["uri"] == uri
        })
    }

    /// Whether the editor cancelled the request `id` in a message already queued (that
    /// message is then taken out of the queue).
    pub fn cancelled(&mut self, id: &Value) -> bool {
        let at = self.pending.iter().position(|message| {
            message["method"] == "$/cancelRequest" && message["params"]["id"] == *id
        });
        at.and_then(|at| self.pending.remove(at)).is_some()
    }
}
