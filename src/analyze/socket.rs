//! Sockets made non-blocking: a socket method called after the same function set its socket
//! non-blocking returns at once, so it is no blocking call.

use tree_sitter::Node;

use super::FileContext;
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::Resolution;

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
    let socket = file.index.resolve_name(name, receiver.start_byte());
    let scope = file.index.scope(file.index.scope_at(call.start_byte()));
    let start = scope.range.start.min(call.start_byte());
    // The calls are in tree order, so by where they start.
    let calls = &file.nodes.calls;
    let first = calls.partition_point(|c| c.start_byte() < start);
    calls[first..]
        .iter()
        .take_while(|c| c.start_byte() < call.start_byte())
        .filter(|c| c.end_byte() <= call.start_byte())
        .any(|&earlier| makes_nonblocking(file, earlier, name, socket))
}

/// Whether `call` is `name.setblocking(False)` (or `0`) or `name.settimeout(0)` (or `0.0`),
/// with `name` bound to `socket`.
fn makes_nonblocking(file: &FileContext, call: Node, name: &str, socket: Resolution) -> bool {
    let Some(callee) = call
        .field(Field::Function)
        .filter(|c| c.kind_name() == "attribute")
    else {
        return false;
    };
    let same_socket = callee
        .field(Field::Object)
        .filter(|o| o.kind_name() == "identifier" && &file.text[o.byte_range()] == name)
        .is_some_and(|o| file.index.resolve_name(name, o.start_byte()) == socket);
    let Some(method) = callee.field(Field::Attribute) else {
        return false;
    };
    let Some(argument) = only_argument(call) else {
        return false;
    };
    let value = &file.text[argument.byte_range()];
    same_socket
        && match (&file.text[method.byte_range()], argument.kind_name()) {
            ("setblocking", "false") => true,
            ("setblocking", "integer") | ("settimeout", "integer" | "float") => is_zero(value),
            _ => false,
        }
}

/// The call's one positional argument, when it has exactly one.
fn only_argument(call: Node) -> Option<Node> {
    let arguments = call.field(Field::Arguments)?;
    let mut cursor = arguments.walk();
    let mut named = arguments
        .named_children(&mut cursor)
        .filter(|n| n.kind_name() != "comment");
    let argument = named.next()?;
    named.next().is_none().then_some(argument)
}

/// Whether a numeric literal's value is zero (`0`, `0.0`, `0.`).
fn is_zero(literal: &str) -> bool {
    literal.parse::<f64>().is_ok_and(|value| value == 0.0)
}

#[cfg(test)]
mod tests {
    use super::super::test_context::with_context;
    use super::*;

    /// Whether the first `sock.recv` call of `body` (the body of a coroutine taking a socket
    /// `sock`) is on a socket made non-blocking.
    fn recv_is_nonblocking(body: &str) -> bool {
        let source = format!("import socket\n\nasync def f(sock: socket.socket, other):\n{body}");
        with_context("app.py", &source, None, |file| {
            let call = *file
                .nodes
                .calls
                .iter()
                .find(|c| source[c.byte_range()].starts_with("sock.recv"))
                .expect("the body calls sock.recv");
            let callee = call.field(Field::Function).unwrap();
            let qualified = file
                .index
                .callable_name(callee, file.parsed.tree.root_node(), &source)
                .unwrap();
            assert_eq!(qualified, "socket.socket().recv");
            on_nonblocking_socket(file, call, &qualified)
        })
    }

    #[test]
    fn a_socket_set_nonblocking_earlier_in_the_function_does_not_block() {
        for setting in [
            "sock.setblocking(False)",
            "sock.setblocking(0)",
            "sock.settimeout(0)",
            "sock.settimeout(0.0)",
            "sock.setblocking( False )",
        ] {
            let body = format!("    {setting}\n    return sock.recv(10)\n");
            assert!(recv_is_nonblocking(&body), "{setting}");
        }
    }

    #[test]
    fn a_setting_in_a_comment_or_a_string_does_not_count() {
        for body in [
            "    # sock.setblocking(False)\n    return sock.recv(10)\n",
            "    print('sock.setblocking(False)')\n    return sock.recv(10)\n",
            "    \"\"\"sock.settimeout(0)\"\"\"\n    return sock.recv(10)\n",
        ] {
            assert!(!recv_is_nonblocking(body), "{body}");
        }
    }

    #[test]
    fn only_a_nonblocking_setting_of_the_same_socket_before_the_call_counts() {
        for body in [
            "    sock.setblocking(True)\n    return sock.recv(10)\n",
            "    sock.settimeout(5)\n    return sock.recv(10)\n",
            "    other.setblocking(False)\n    return sock.recv(10)\n",
            "    other.sock.setblocking(False)\n    return sock.recv(10)\n",
            "    data = sock.recv(10)\n    sock.setblocking(False)\n    return data\n",
            "    sock.setblocking(False)\n    sock = socket.socket()\n    return sock.recv(10)\n",
        ] {
            assert!(!recv_is_nonblocking(body), "{body}");
        }
    }
}
