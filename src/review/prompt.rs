//! Where the review's answers come from: a [`Prompt`] gives the next key. The terminal reads
//! single key presses; a script (for tests) replays keys from a text.

use std::io::{self, Read};

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

/// Keys replayed from a text or a stream (read as they are needed, so a test can answer
/// after looking at a proposal), whitespace ignored: `"yyn q"` answers y, y, n, q.
pub struct ScriptedPrompt {
    keys: Box<dyn Read>,
}

impl ScriptedPrompt {
    pub fn new(keys: impl Read + 'static) -> ScriptedPrompt {
        ScriptedPrompt {
            keys: Box::new(keys),
        }
    }
}

impl Prompt for ScriptedPrompt {
    fn key(&mut self) -> io::Result<Option<char>> {
        let mut byte = [0u8];
        loop {
            if self.keys.read(&mut byte)? == 0 {
                return Ok(None);
            }
            match byte[0] {
                b if b.is_ascii_whitespace() => continue,
                b if b.is_ascii() => return Ok(Some(b as char)),
                _ => return Ok(Some('\0')),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_gives_its_keys_without_whitespace_then_ends() {
        let mut prompt = ScriptedPrompt::new("y n\nq".as_bytes());
        let keys: Vec<Option<char>> = (0..4).map(|_| prompt.key().unwrap()).collect();
        assert_eq!(keys, [Some('y'), Some('n'), Some('q'), None]);
    }
}
