//! Sockets made non-blocking: a socket method called after the same function set its socket
//! non-blocking returns at once, so it is no blocking call.

use tree_sitter::Node;

use super::FileContext;
use crate::parse::{Field, FieldChild, KindName};

/// Whether `call` is a method of a socket that the same function made non-blocking before
/// the call (`sock.setblocking(False)`, `sock.settimeout(0)`): it returns at once.
pub(super) fn on_nonblocking_socket(file: &FileContext, call: Node, qualified: &str) -> bool {
    if !qualified.starts_with("socket.socket().") {
        return false;
    }
    let Some(receiver) = call
        .field(Field::Function)
        .and_then(|f| f.field(Field::Object))
        .filter(|o| o.kind_name() == "identifier")
    else {
        return false;
    };
    let name = &file.text[receiver.byte_range()];
    let scope = file.index.scope(file.index.scope_at(call.start_byte()));
    let before: String = file.text[scope.range.start.min(call.start_byte())..call.start_byte()]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    [
        "setblocking(False)",
        "setblocking(0)",
        "settimeout(0)",
        "settimeout(0.0)",
    ]
    .iter()
    .any(|setting| before.contains(&format!("{name}.{setting}")))
}
