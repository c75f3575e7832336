//! What each token of the lexical scan adds to the facts ([`Scanner::push`]): the calls
//! (plain, on an attribute, of the file's own functions; inside an `async def` or not; whose
//! result may be thrown away), the bindings (assignments, annotations, `as`, `global`), the
//! imports, the scopes, and with [`super::LexicalFacts::scan_functions`] the functions,
//! their bodies (and what pins one) and the calls in each. The tokenizer that produces the
//! tokens is `scanner.rs`.

use super::facts::{
    AttributeCall, ChainReceiver, FunctionBody, Imported, LexicalCall, LexicalFunction,
    LexicalReceiver, MODULE_SCOPE, OwnCall,
};
use super::scanner::{ImportPart, PendingAssignment, RECENT, Scanner, ScopeOwner, Token, Watch};

/// Hard keywords: never a callee (`if (...)`, `else (...)`). `print`, `exec`, `async` and
/// `await` are left out, as tree-sitter-python can read them as names.
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
    "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

/// What the scan sees of a call's result.
#[derive(Debug, Clone, Copy)]
struct CallResult {
    /// Right after `await`.
    awaited: bool,
    /// It may be thrown away (for an assignment, until its watch counts a use).
    may_be_discarded: bool,
    /// For `name = f(...)`: the watch on `name`.
    watch: Option<usize>,
}

impl<'t> Scanner<'t, '_> {
    /// At a logical line starting at `line_start`, indented `width`: the open body ends
    /// before it if it is not indented more than its function; a pending body starts on it
    /// if it is (otherwise the function's body was on its header's line).
    pub(super) fn follow_bodies(&mut self, line_start: usize, width: usize) {
        if let Some((index, indent)) = self.open_body
            && width <= indent
        {
            self.facts.bodies[index].range.end = line_start;
            self.open_body = None;
        }
        if let Some((function, indent)) = self.pending_body.take()
            && width > indent
        {
            self.open_body = Some((self.facts.bodies.len(), indent));
            self.facts.bodies.push(FunctionBody {
                function,
                range: self.pos..self.bytes.len(),
                pinned: false,
            });
        }
    }

    pub(super) fn pin_body(&mut self) {
        if let Some((index, _)) = self.open_body {
            self.facts.bodies[index].pinned = true;
        }
    }

    /// The value of a pending `name = ...` is over: a complete dotted name binds `name`.
    pub(super) fn end_assignment(&mut self) {
        if let Some(assignment) = self.assignment.take()
            && assignment.dotted == Some(true)
        {
            self.bind(assignment.target, assignment.last);
            if assignment.first != assignment.last {
                self.bind_member(assignment);
            }
        }
    }

    /// `users = db.users` or `orders = db["orders"]`: a member of what `db` names (a
    /// collection of an imported pymongo database), whose methods reach where `db` leads, as
    /// a call's result's would.
    fn bind_member(&mut self, assignment: PendingAssignment<'t>) {
        let scope = self.current_scope();
        self.facts
            .assigned_from_call
            .entry(assignment.target)
            .or_default()
            .push((scope, assignment.first));
    }

    fn bind(&mut self, name: &'t str, value: &'t str) {
        self.facts.bindings.entry(name).or_default().push(value);
    }

    pub(super) fn open_scope(&mut self, is_def: bool) {
        let parent = self.current_scope();
        self.facts.scope_parents.push(parent);
        self.scope_serials.push((self.next_serial, is_def));
        self.next_serial += 1;
    }

    /// The innermost open scope's serial ([`MODULE_SCOPE`] at the top level).
    fn current_scope(&self) -> u32 {
        self.scope_serials
            .last()
            .map_or(MODULE_SCOPE, |&(serial, _)| serial)
    }

    pub(super) fn close_watches(&mut self, serial: u32) {
        let watches = &self.watches;
        self.open_watches.retain(|&i| watches[i].serial != serial);
    }

    /// `name` occurs: a use of the watched locals of that name.
    /// Collect the names after this point, to the end of the logical line, as the words of
    /// `name`'s kind (over-collecting only keeps more receivers).
    /// A capture ends at the end of the line, and for a parameter's annotation or a
    /// statement's value, at a `,` or `=` at its own bracket depth, or its closing bracket.
    fn capture_kind(&mut self, name: &'t str) {
        let scope = self.current_scope();
        let bindings = self.facts.typed.entry(name).or_default();
        bindings.push((scope, Some(Vec::new())));
        let binding = bindings.len() - 1;
        self.kind_captures.push((name, binding, self.nesting));
    }

    /// Add `name` to the kinds being captured, or end the captures the token ends.
    fn continue_captures(&mut self, token: Token<'t>) {
        if self.kind_captures.is_empty() {
            return;
        }
        let ends_at_depth = token == Token::Assign
            || (token == Token::Other && self.bytes.get(self.pos.wrapping_sub(1)) == Some(&b','));
        let nesting = self.nesting;
        self.kind_captures
            .retain(|&(_, _, depth)| !(nesting < depth || (ends_at_depth && nesting == depth)));
        if let Token::Name(word) = token {
            for &(name, binding, _) in &self.kind_captures {
                if let Some((_, Some(kind))) = self
                    .facts
                    .typed
                    .get_mut(name)
                    .and_then(|bindings| bindings.get_mut(binding))
                {
                    kind.push(word);
                }
            }
        }
    }

    /// Count the later uses of `target`, a local just assigned a call's result.
    fn watch(&mut self, target: &'t str) -> usize {
        let (serial, in_function) = self
            .scope_serials
            .last()
            .map_or((u32::MAX, false), |&(serial, is_def)| (serial, is_def));
        self.watches.push(Watch {
            name: target,
            serial,
            in_function,
            uses: 0,
        });
        if in_function {
            self.open_watches.push(self.watches.len() - 1);
        }
        self.watches.len() - 1
    }

    fn count_use(&mut self, name: &str) {
        for &i in &self.open_watches {
            let watch = &mut self.watches[i];
            if watch.name == name {
                watch.uses += 1;
            }
        }
    }

    fn import(&mut self, name: &'t str, imported: Imported<'t>) {
        self.facts.imports.entry(name).or_default().push(imported);
    }

    /// Follow the chain a token continues or starts (`chain_root`).
    fn track_chain(&mut self, token: Token<'t>) {
        match token {
            Token::Name(name) if self.recent(0) != Token::Dot => {
                self.chain_root = Some(name);
                self.chain_before = Some(self.recent(0));
            }
            Token::Dot => match self.recent(0) {
                Token::CloseParen => {
                    (self.chain_root, self.chain_before) = self.closed;
                }
                Token::Name(_) => {}
                _ => {
                    self.chain_root = None;
                    self.chain_before = None;
                }
            },
            Token::OpenParen => {
                // A call continues its callee's chain; a grouping `(` starts an expression.
                let (root, before) = match self.recent(0) {
                    Token::Name(_) => (self.chain_root, self.chain_before),
                    Token::CloseParen => (None, self.chain_before),
                    before => (None, Some(before)),
                };
                self.parens.push((root, before));
            }
            Token::CloseParen => self.closed = self.parens.pop().unwrap_or((None, None)),
            _ => {}
        }
    }

    pub(super) fn push(&mut self, token: Token<'t>) {
        if matches!(token, Token::LineStart | Token::Semicolon) {
            self.kind_captures.clear();
            self.in_global = false;
            self.line_has_dot = false;
        } else {
            self.continue_captures(token);
        }
        if self.open_body.is_some() {
            match token {
                Token::Name("yield" | "global" | "nonlocal") => self.pin_body(),
                Token::Dot if self.nesting == 0 => self.line_has_dot = true,
                Token::Assign if self.nesting == 0 && self.line_has_dot => self.pin_body(),
                _ => {}
            }
        }
        // `self.name = ...` (or `cls.`; in a chain of assignments too), `self.name: T = ...`.
        // (The token is tested first: this runs for every token of every file.)
        if (token == Token::Assign
            || token == Token::Colon
                && matches!(self.recent(3), Token::LineStart | Token::Semicolon))
            && self.nesting == 0
            && let (Token::Name(name), Token::Dot, Token::Name("self" | "cls")) =
                (self.recent(0), self.recent(1), self.recent(2))
            && self.recent(3) != Token::Dot
        {
            self.facts.own_attributes.insert(name);
        }
        if let Token::Name(name) = token {
            if self.in_global {
                self.facts.unscoped.insert(name);
            } else if matches!(name, "global" | "nonlocal")
                && matches!(
                    self.recent(0),
                    Token::LineStart | Token::Semicolon | Token::Colon
                )
            {
                self.in_global = true;
            }
        }
        if let Token::Name(name) = token
            && !self.open_watches.is_empty()
        {
            self.count_use(name);
        }
        self.track_chain(token);
        // `name = a.b(`: `name` holds what a call returned.
        let assigned_from_call = match (token, self.assignment) {
            (Token::OpenParen, Some(assignment)) if assignment.dotted == Some(true) => {
                Some((assignment.target, assignment.first))
            }
            _ => None,
        };
        self.track_assignment(token);
        match token {
            Token::Name(name) => {
                if self.interesting.contains(name) {
                    self.facts.code_words.insert(name);
                }
                if let Token::Name("as") = self.recent(0) {
                    let scope = self.current_scope();
                    self.facts
                        .typed
                        .entry(name)
                        .or_default()
                        .push((scope, None));
                    // An import's or a `with`'s dotted name (an `except`'s class too,
                    // harmlessly); a call's result is not followed.
                    if let Token::Name(value) = self.recent(1) {
                        self.bind(name, value);
                    }
                    if self.import.is_some() {
                        self.facts.import_aliases.insert(name);
                    }
                }
                if matches!(self.recent(0), Token::LineStart | Token::Semicolon) {
                    match name {
                        "import" => self.import = Some(ImportPart::Plain),
                        "from" => {
                            self.import = Some(ImportPart::FromModule);
                            self.import_start = self.pos;
                        }
                        _ => {}
                    }
                } else if name == "import" && self.import == Some(ImportPart::FromModule) {
                    self.import = Some(ImportPart::FromNames);
                    // (`get`: a broken statement may leave the bounds out of order.)
                    let end = self.pos - name.len();
                    self.from_module = self.text.get(self.import_start..end).unwrap_or("");
                } else if self.import == Some(ImportPart::FromNames) {
                    self.facts.from_imported.insert(name);
                    if name != "as" {
                        let original = match (self.recent(0), self.recent(1)) {
                            (Token::Name("as"), Token::Name(original)) => original,
                            _ => name,
                        };
                        self.import(
                            name,
                            Imported::Name {
                                module: self.from_module,
                                name: original,
                            },
                        );
                    }
                } else if self.import == Some(ImportPart::Plain) && name != "as" {
                    self.facts.module_imported.insert(name);
                    if self.recent(0) == Token::Name("as") {
                        let path = self
                            .text
                            .get(self.import_start..self.import_end)
                            .unwrap_or("");
                        self.import(name, Imported::Module(path));
                    } else if self.recent(0) == Token::Dot {
                        self.import_end = self.pos;
                    } else {
                        // `import a.b`: `a` is bound.
                        self.import_start = self.pos - name.len();
                        self.import_end = self.pos;
                        self.import(name, Imported::Module(name));
                    }
                }
                if let (Token::Name("def"), Token::Name("async")) = (self.recent(0), self.recent(1))
                {
                    self.facts.async_defs.insert(name);
                }
                if self.collect_functions {
                    self.start_function(name);
                }
                if name == "def" && self.recent(0) == Token::Name("async") {
                    // Its header line counts as inside, harmlessly.
                    self.scopes.push((self.line_indent, true));
                    self.open_scope(true);
                    self.scope_owners.push(ScopeOwner::Unknown);
                } else if matches!(name, "def" | "class") {
                    self.pending_scope = Some(self.line_indent);
                    self.pending_is_def = name == "def";
                    self.pending_function = None;
                    self.pending_class = None;
                }
            }
            Token::LineStart | Token::Semicolon => self.import = None,
            // `from m import *` (the only other token there is a `,`).
            Token::Other
                if self.import == Some(ImportPart::FromNames)
                    && self.bytes.get(self.pos.wrapping_sub(1)) == Some(&b'*') =>
            {
                self.facts.star_import = true;
            }
            Token::OpenParen => self.record_call(assigned_from_call),
            Token::Colon => {
                // `name: T = value` (and, harmlessly, `lambda x: ...`).
                if let (Token::Name(name), Token::LineStart | Token::Semicolon) =
                    (self.recent(0), self.recent(1))
                {
                    self.annotated = Some(name);
                }
                // An annotated name at a statement start, or a parameter (a dict key or a
                // slice bound too, harmlessly); not a header's name (`class A:`, `-> T:`).
                if let Token::Name(name) = self.recent(0)
                    && (self.nesting > 0
                        || matches!(self.recent(1), Token::LineStart | Token::Semicolon))
                {
                    self.capture_kind(name);
                }
            }
            _ => {}
        }
        self.newest = self.newest.wrapping_add(1);
        self.recent[self.newest % RECENT] = token;
    }

    /// The name after `def` (or `class`): a function (or class) of the file.
    fn start_function(&mut self, name: &'t str) {
        match self.recent(0) {
            Token::Name("class") => {
                self.facts.defined.insert(name);
                self.pending_class = Some(name);
            }
            Token::Name("def") => {
                self.facts.defined.insert(name);
                let id = self.facts.functions.len() as u32;
                let is_async = self.recent(1) == Token::Name("async");
                // An `async def`'s own scope is already open.
                let enclosing = match is_async {
                    true => &self.scope_owners[..self.scope_owners.len().saturating_sub(1)],
                    false => &self.scope_owners[..],
                };
                let mut classes = Vec::new();
                let mut nested = false;
                for owner in enclosing.iter().rev() {
                    match owner {
                        ScopeOwner::Class(class) => classes.push(*class),
                        ScopeOwner::Function(_) | ScopeOwner::Unknown => {
                            nested = true;
                            break;
                        }
                    }
                }
                classes.reverse();
                let outermost = enclosing
                    .iter()
                    .find_map(|owner| match owner {
                        ScopeOwner::Function(f) => {
                            Some(self.facts.functions[*f as usize].outermost)
                        }
                        _ => None,
                    })
                    .unwrap_or(id);
                self.facts.functions.push(LexicalFunction {
                    name,
                    is_async,
                    classes: (!nested).then_some(classes),
                    outermost,
                });
                if !nested {
                    self.pending_body = Some((id, self.line_indent));
                }
                if is_async {
                    if let Some(owner) = self.scope_owners.last_mut() {
                        *owner = ScopeOwner::Function(id);
                    }
                } else {
                    self.pending_function = Some(id);
                }
                self.header_function = Some(id);
            }
            _ => {}
        }
    }

    /// Follow `name = a.b.c` at a statement start (chains `x = y = a.b` included).
    fn track_assignment(&mut self, token: Token<'t>) {
        match token {
            Token::Assign => {
                self.end_assignment();
                if let (Token::Name(name), Token::LineStart | Token::Semicolon | Token::Assign) =
                    (self.recent(0), self.recent(1))
                {
                    self.assignment = Some(PendingAssignment::new(name));
                    self.capture_kind(name);
                } else if let Some(name) = self.annotated.take() {
                    // `name: T = value`: the value's kind first, then the annotation's.
                    self.assignment = Some(PendingAssignment::new(name));
                    self.capture_kind(name);
                }
            }
            Token::LineStart | Token::Semicolon => {
                self.end_assignment();
                self.annotated = None;
            }
            Token::Name(value) => {
                if let Some(assignment) = &mut self.assignment {
                    match assignment.dotted {
                        None => {
                            assignment.dotted = Some(true);
                            assignment.first = value;
                            assignment.last = value;
                        }
                        Some(false) => {
                            assignment.dotted = Some(true);
                            assignment.last = value;
                        }
                        Some(true) => self.assignment = None,
                    }
                }
            }
            Token::Dot => {
                if let Some(assignment) = &mut self.assignment {
                    match assignment.dotted {
                        Some(true) => assignment.dotted = Some(false),
                        _ => self.assignment = None,
                    }
                }
            }
            _ => {
                if let Some(assignment) = self.assignment.take()
                    && assignment.dotted == Some(true)
                    && self.bytes.get(self.pos.wrapping_sub(1)) == Some(&b'[')
                {
                    self.bind_member(assignment);
                }
            }
        }
    }

    /// An `(` after a name: a call (or a definition's parameters, harmlessly).
    fn record_call(&mut self, assigned_from_call: Option<(&'t str, &'t str)>) {
        let Token::Name(name) = self.recent(0) else {
            return;
        };
        // A keyword, or the name a `def` or `class` header defines, is no call.
        if KEYWORDS.contains(&name) || matches!(self.recent(1), Token::Name("def" | "class")) {
            return;
        }
        let in_async = self.in_async();
        // What the call's whole expression follows (`None`: not known).
        let before = if self.recent(1) == Token::Dot {
            match (self.recent(2), self.recent(3)) {
                (Token::Name(_), Token::Dot) | (Token::CloseParen, _) => self.chain_before,
                (Token::Name(_), before) => Some(before),
                _ => None,
            }
        } else {
            Some(self.recent(1))
        };
        // Its result may be discarded (`is_result_discarded`) only as an expression statement,
        // or assigned to a local never used again (the scan counts the local's later
        // occurrences): after a statement start or a one-line body's `:` outside brackets, or
        // a statement's first `=`. A keyword argument's `=`, a dict value's or a lambda's `:`,
        // an operator, `return` keep it.
        let nested = self.nesting > 0;
        let watch = match (before, assigned_from_call) {
            (Some(Token::Assign), Some((target, _))) if !nested => Some(self.watch(target)),
            _ => None,
        };
        let result = CallResult {
            awaited: before == Some(Token::Name("await")),
            may_be_discarded: match before {
                None | Some(Token::LineStart | Token::Semicolon) => true,
                Some(Token::Colon) => !nested,
                Some(Token::Assign) => watch.is_some(),
                Some(_) => false,
            },
            watch,
        };
        if self.collect_functions {
            self.record_function_call(name, assigned_from_call, result);
        }
        if self.recent(1) == Token::Dot {
            let receiver = match (self.recent(2), self.recent(3)) {
                (Token::Name(receiver), _) | (Token::CloseParen, Token::Name(receiver)) => {
                    Some(receiver)
                }
                _ => None,
            };
            let scope = self.current_scope();
            let simple = matches!(self.recent(2), Token::Name(_)) && self.recent(3) != Token::Dot;
            let chain = match (self.recent(2), self.recent(3), self.recent(4)) {
                (Token::Name("parent"), ..) => ChainReceiver::Other,
                (Token::Name(name), Token::Dot, Token::Name("self" | "cls"))
                    if self.recent(5) != Token::Dot =>
                {
                    ChainReceiver::OwnAttribute(name)
                }
                (Token::Name(name), Token::Dot, Token::Name(_))
                    if !matches!(self.recent(5), Token::Dot | Token::CloseParen) =>
                {
                    ChainReceiver::ClassAttribute(name)
                }
                (Token::Name(_), Token::Dot, _) => ChainReceiver::Unknown,
                _ => ChainReceiver::Other,
            };
            let is_own = matches!(self.recent(2), Token::Name("self" | "cls"));
            let facts = &mut self.facts;
            facts
                .attribute_calls
                .entry(name)
                .or_default()
                .push(AttributeCall {
                    receiver,
                    simple,
                    chain,
                    in_async,
                    scope,
                    may_be_discarded: result.may_be_discarded,
                    watch,
                });
            if is_own {
                facts.own_calls.push(OwnCall {
                    name,
                    in_async,
                    may_be_discarded: result.may_be_discarded,
                    watch,
                });
            }
        } else {
            let facts = &mut self.facts;
            facts.called_names.insert(name);
            if in_async {
                facts.async_called_names.insert(name);
            }
            facts.own_calls.push(OwnCall {
                name,
                in_async,
                may_be_discarded: result.may_be_discarded,
                watch,
            });
        }
    }

    /// Attribute the call of `name` (at `recent(0)`) to the function whose body (or header)
    /// it is in.
    fn record_function_call(
        &mut self,
        name: &'t str,
        assigned_from_call: Option<(&'t str, &'t str)>,
        result: CallResult,
    ) {
        if let Some((target, callee)) = assigned_from_call {
            let scope = self.current_scope();
            self.facts
                .assigned_from_call
                .entry(target)
                .or_default()
                .push((scope, callee));
        }
        let innermost = match self.scope_owners.last() {
            Some(ScopeOwner::Function(function)) => Some(*function),
            _ => None,
        };
        if innermost.is_none() && self.header_function.is_none() {
            return;
        }
        let expression = |before| LexicalReceiver::Expression {
            before,
            root: self.chain_root,
        };
        let receiver = if self.recent(1) == Token::Dot {
            match (self.recent(2), self.recent(3)) {
                (Token::Name(receiver), Token::Dot) => expression(Some(receiver)),
                (Token::Name(receiver), _) => LexicalReceiver::Name(receiver),
                (Token::CloseParen, Token::Name(receiver)) => expression(Some(receiver)),
                _ => expression(None),
            }
        } else {
            LexicalReceiver::Plain
        };
        for function in [
            innermost,
            self.header_function.filter(|&h| Some(h) != innermost),
        ]
        .into_iter()
        .flatten()
        {
            self.facts.function_calls.push(LexicalCall {
                function,
                name,
                receiver,
                awaited: result.awaited,
                may_be_discarded: result.may_be_discarded,
                scope: self.current_scope(),
                watch: result.watch,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::codemod::Registry;
    use crate::lexical::LexicalFacts;

    #[test]
    fn broken_imports_do_not_stop_the_scan() {
        // `import as y` after a `from` import: the recorded bounds are out of order.
        let text =
            "from e import f\nimport as y\nfrom . import\nimport\nasync def g():\n    pass\n";
        let registry = Registry::bundled().unwrap();
        let facts = LexicalFacts::scan_functions(text, registry.interesting_words());
        assert!(facts.is_some());
    }

    /// The bodies the scan records: (function name, body text, pinned).
    fn bodies(text: &str) -> Vec<(String, String, bool)> {
        let registry = Registry::bundled().unwrap();
        let facts = LexicalFacts::scan_functions(text, registry.interesting_words()).unwrap();
        facts
            .bodies
            .iter()
            .map(|body| {
                (
                    facts.functions[body.function as usize].name.to_owned(),
                    text[body.range.clone()].to_owned(),
                    body.pinned,
                )
            })
            .collect()
    }

    #[test]
    fn bodies_of_functions_in_no_other_function_and_what_pins_them() {
        let text = "import os\n\n@cache\ndef load(path,\n         mode='r'):\n    def inner():\n        return 1\n    return open(path, mode)\n\n# between\n\nclass Repo:\n    async def save(self):\n        self.saved = True\n\n    def rows(self):\n        yield 1\n    def one_line(self): return 2\n    def flagged(self):\n        x = 1  # noqa: ASYNC230\n\ndef last():\n    global state\n    state = os.getcwd()";
        let found = bodies(text);
        let expect =
            |name: &str, body: &str, pinned: bool| (name.to_owned(), body.to_owned(), pinned);
        assert_eq!(
            found,
            vec![
                // From the first statement to the next line outside it, the comment and
                // blank lines between included; a nested function is part of it.
                expect(
                    "load",
                    "def inner():\n        return 1\n    return open(path, mode)\n\n# between\n\n",
                    false
                ),
                // An attribute assignment, a `yield`, a suppression comment, a `global`.
                expect("save", "self.saved = True\n\n", true),
                expect("rows", "yield 1\n", true),
                expect("flagged", "x = 1  # noqa: ASYNC230\n\n", true),
                expect("last", "global state\n    state = os.getcwd()", true),
            ]
        );
        // A keyword argument, a comparison or a value read from an attribute pins nothing.
        let plain = bodies("def f(a):\n    g(x=a.b)\n    return a.c == 1\n");
        assert_eq!(
            plain,
            vec![expect("f", "g(x=a.b)\n    return a.c == 1\n", false)]
        );
    }
}
