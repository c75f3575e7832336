//! Where the review's answers come from: a [`Prompt`] gives the next key. The terminal reads
//! single key presses; a script (for tests) replays keys from a text.

use std::collections::VecDeque;
use std::io;

use console::{Key, Term};

pub trait Prompt {
    /// The next key pressed; `None` when there is no more input (end of the script, Ctrl-D).
    fn key(&mut self) -> io::Result<Option<char>>;
}

/// Single key presses read from the terminal, without Enter and without echo.
pub struct TerminalPrompt {
    term: Term,
}

impl TerminalPrompt {
    pub fn new() -> TerminalPrompt {
        TerminalPrompt {
            term: Term::stdout(),
        }
    }
}

impl Default for TerminalPrompt {
    fn default() -> Self {
        TerminalPrompt::new()
    }
}

impl Prompt for TerminalPrompt {
    fn key(&mut self) -> io::Result<Option<char>> {
        // Ctrl-C raises SIGINT (the default: the process stops, files already finished stay
        // written, the current one is not); Ctrl-D ends the input like the end of a script.
        Ok(match self.term.read_key()? {
            Key::Char('\u{4}') | Key::Unknown => None,
            Key::Char(c) => Some(c),
            Key::Escape => Some('q'),
            Key::Enter => Some('\n'),
            _ => Some('\0'),
        })
    }
}

/// Keys replayed from a text, whitespace ignored: `"yyn q"` answers y, y, n, q.
pub struct ScriptedPrompt {
    keys: VecDeque<char>,
}

impl ScriptedPrompt {
    pub fn new(script: &str) -> ScriptedPrompt {
        ScriptedPrompt {
            keys: script.chars().filter(|c| !c.is_whitespace()).collect(),
        }
    }
}

impl Prompt for ScriptedPrompt {
    fn key(&mut self) -> io::Result<Option<char>> {
        Ok(self.keys.pop_front())
    }
}
