//! A blocking chain hop by hop: for each function from the called one to the one making the
//! blocking call, where it makes the call leading on, and that call's text, read from the
//! summaries (each function's first call of each target, its direct evidence), never from a
//! syntax tree. The message names the same chain by function names.

use serde::{Deserialize, Serialize};

use super::{Functions, Link, MAX_CHAIN, ProjectFile};

/// One hop of a blocking chain: in `function` of the file `path` (as reported), the call
/// `call` at `line`:`column` (1-based; the column in characters) leads to the next hop's
/// function, or, for the last hop, blocks by itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    pub path: String,
    pub line: u32,
    pub column: u32,
    /// `Store.load`.
    pub function: String,
    /// `os.path.exists(path)`.
    pub call: String,
}

/// The longest call text a hop shows, in characters.
const MAX_CALL_TEXT: usize = 80;

/// A call's source text as a hop shows it: on one line (each run of whitespace one space),
/// at most [`MAX_CALL_TEXT`] characters (`...` ending a longer one).
pub fn call_text(source: &str) -> String {
    let mut text = String::new();
    for word in source.split_whitespace() {
        let opened = text.ends_with(['(', '[', '{']);
        if !text.is_empty() && !opened && !word.starts_with([')', ']', '}']) {
            text.push(' ');
        }
        text.push_str(word);
    }
    match text.char_indices().nth(MAX_CALL_TEXT) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text,
    }
}

/// The chain from function `id` on: the message's form (`load -> helper -> time.sleep`), the
/// blocking call's `path:line`, and the hops.
pub(super) fn chain(
    functions: &Functions,
    files: &[ProjectFile],
    links: &[Option<&Link>],
    mut id: usize,
) -> (String, String, Vec<Hop>) {
    let mut names = Vec::new();
    let mut hops = Vec::new();
    loop {
        let function = functions.function(id);
        let (file, _) = functions.ids[id];
        let path = &files[file].display_path;
        names.push(function.qualname.clone());
        match links[id].expect("only settled functions are followed") {
            Link::Via { callee, target } => {
                if let Some(at) = function.call_at(*target) {
                    hops.push(Hop {
                        path: path.clone(),
                        line: at.line,
                        column: at.column,
                        function: function.qualname.clone(),
                        call: at.text.clone(),
                    });
                }
                if names.len() >= MAX_CHAIN {
                    names.push("...".to_owned());
                    return (names.join(" -> "), String::new(), hops);
                }
                id = *callee;
            }
            Link::Direct(evidence) => {
                names.push(evidence.call.clone());
                hops.push(Hop {
                    path: path.clone(),
                    line: evidence.line,
                    column: evidence.column,
                    function: function.qualname.clone(),
                    call: if evidence.text.is_empty() {
                        evidence.call.clone()
                    } else {
                        evidence.text.clone()
                    },
                });
                let location = format!("{path}:{}", evidence.line);
                return (names.join(" -> "), location, hops);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_text_is_one_line_and_bounded() {
        assert_eq!(
            call_text("load(\n    key,\n    fresh=True,\n)"),
            "load(key, fresh=True,)"
        );
        let long = format!("f({})", "é".repeat(100));
        let shown = call_text(&long);
        assert_eq!(shown.chars().count(), MAX_CALL_TEXT + 3);
        assert!(shown.ends_with("..."));
    }
}
