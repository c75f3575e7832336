//! The editor's messages as they arrive, read on a thread of their own so the server sees
//! what is already waiting: a buffer change that a later change of the same buffer replaces
//! is not analysed (typing queues one change per keystroke), and a request the editor
//! cancelled before it was answered is answered "cancelled" without being computed. The
//! project views built in the background (`project.rs`) arrive on the same channel, so the
//! server wakes when one is ready.

use std::collections::VecDeque;
use std::io::{self, BufRead};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::thread;

use serde_json::Value;

use super::transport::read_message;
use crate::run::WarmProject;

/// What arrives on the inbox's channel.
pub enum Arrival {
    /// A message of the editor (an error ends the input).
    Editor(io::Result<Value>),
    /// The editor's input ended. (Said, not detected from the reader's sender being dropped:
    /// the background project runs hold senders too.)
    End,
    /// The project view of a workspace root (`None`: it has none, e.g. no project rule).
    Project(PathBuf, Option<Box<WarmProject>>),
}

/// What the server handles next.
pub enum Incoming {
    Editor(Value),
    Project(PathBuf, Option<Box<WarmProject>>),
}

/// The messages read and not yet handled.
pub struct Inbox {
    arriving: Receiver<Arrival>,
    /// For the background project runs.
    sender: Sender<Arrival>,
    pending: VecDeque<Incoming>,
    /// The input ended (or failed) after the messages in `pending`.
    closed: bool,
}

impl Inbox {
    /// Start reading `input` on its own thread.
    pub fn spawn(mut input: impl BufRead + Send + 'static) -> Inbox {
        let (send, arriving) = channel();
        let sender = send.clone();
        thread::spawn(move || {
            loop {
                let message = match read_message(&mut input) {
                    Ok(Some(message)) => Arrival::Editor(Ok(message)),
                    Ok(None) => Arrival::End,
                    Err(err) => Arrival::Editor(Err(err)),
                };
                let last = !matches!(message, Arrival::Editor(Ok(_)));
                if send.send(message).is_err() || last {
                    return;
                }
            }
        });
        Inbox {
            arriving,
            sender,
            pending: VecDeque::new(),
            closed: false,
        }
    }

    /// A sender for a background run to wake the server with.
    pub fn sender(&self) -> Sender<Arrival> {
        self.sender.clone()
    }

    /// The next message (waiting for one when none is queued), `None` at the end of the
    /// input. Everything that has arrived meanwhile is queued behind it.
    pub fn next(&mut self) -> io::Result<Option<Incoming>> {
        if self.pending.is_empty() && !self.closed {
            match self.arriving.recv() {
                Ok(arrival) => self.take(arrival)?,
                Err(_) => self.closed = true,
            }
        }
        while !self.closed {
            match self.arriving.try_recv() {
                // The error is the input's end: what came before it is still handled.
                Ok(Arrival::Editor(Err(_))) => self.closed = true,
                Ok(arrival) => self.take(arrival)?,
                Err(TryRecvError::Disconnected) => self.closed = true,
                Err(TryRecvError::Empty) => break,
            }
        }
        Ok(self.pending.pop_front())
    }

    fn take(&mut self, arrival: Arrival) -> io::Result<()> {
        match arrival {
            Arrival::Editor(message) => self.pending.push_back(Incoming::Editor(message?)),
            Arrival::End => self.closed = true,
            Arrival::Project(root, view) => self.pending.push_back(Incoming::Project(root, view)),
        }
        Ok(())
    }

    fn editor_messages(&self) -> impl Iterator<Item = &Value> {
        self.pending.iter().filter_map(|incoming| match incoming {
            Incoming::Editor(message) => Some(message),
            Incoming::Project(..) => None,
        })
    }

    /// Whether a message already queued opens, changes or closes the buffer `uri` again (so
    /// analysing its current text would be wasted).
    pub fn superseded(&self, uri: &str) -> bool {
        self.editor_messages().any(|message| {
            matches!(
                message["method"].as_str(),
                Some("textDocument/didOpen" | "textDocument/didChange" | "textDocument/didClose")
            ) && message["params"]["textDocument"]["uri"] == uri
        })
    }

    /// Whether the editor cancelled the request `id` in a message already queued (that
    /// message is then taken out of the queue).
    pub fn cancelled(&mut self, id: &Value) -> bool {
        let at = self.pending.iter().position(|incoming| {
            matches!(incoming, Incoming::Editor(message)
                if message["method"] == "$/cancelRequest" && message["params"]["id"] == *id)
        });
        at.and_then(|at| self.pending.remove(at)).is_some()
    }
}
