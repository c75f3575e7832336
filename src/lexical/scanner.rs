//! The lexical scan's tokenizer: it walks a file's text byte by byte (logical lines and
//! their indentation with the parser's rule for tabs, comments, line continuations, strings
//! with f-string fields scanned as code, numbers, names) and hands each token to
//! [`Scanner::push`] (`collect.rs`), which records what it adds to the facts. The scanner's
//! state (open scopes, bodies, pending assignments and imports, the last tokens) is here;
//! [`LexicalFacts::scan`] is the entry point.

use foldhash::HashSet;

use super::facts::LexicalFacts;

/// What opened a scope of the scan (with [`LexicalFacts::scan_functions`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScopeOwner<'t> {
    Function(u32),
    Class(&'t str),
    Unknown,
}

/// A local assigned a call's result, and how often its name occurs after, in its function.
#[derive(Debug, Clone, Copy)]
pub(super) struct Watch<'t> {
    pub(super) name: &'t str,
    /// The scope (`Scanner::scope_serials`) the assignment is in.
    pub(super) serial: u32,
    /// That scope is a function's (a module's or a class's local is never discarded).
    pub(super) in_function: bool,
    pub(super) uses: u32,
}

impl Watch<'_> {
    /// The call assigned to the local is thrown away: the local, in a function, is never
    /// used again.
    fn discards(&self) -> bool {
        self.in_function && self.uses == 0
    }
}

/// A token, as far as the scan cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Token<'t> {
    /// The start of a logical line (a virtual token).
    LineStart,
    Name(&'t str),
    Dot,
    OpenParen,
    CloseParen,
    /// A single `=` (an assignment or a keyword argument).
    Assign,
    /// `:=`
    Walrus,
    Colon,
    Semicolon,
    Other,
}

/// Where the scanner is: plain code, or the expression of an f-string's replacement field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Code,
    /// Ends at the `}` that closes the field (a `:` or `!` at its top level starts the format
    /// spec, which is literal text with nested fields).
    FieldExpression,
}

/// How many of the last tokens the scanner keeps (it looks back at most six; a power of two
/// makes the ring's index a mask).
pub(super) const RECENT: usize = 8;

pub(super) struct Scanner<'t, 'w> {
    pub(super) text: &'t str,
    /// The words worth keeping in `code_words`.
    pub(super) interesting: &'w HashSet<String>,
    pub(super) bytes: &'t [u8],
    pub(super) pos: usize,
    /// The last [`RECENT`] tokens, a ring: the newest at `newest % RECENT`
    /// ([`Scanner::recent`] reads them).
    pub(super) recent: [Token<'t>; RECENT],
    pub(super) newest: usize,
    /// The indentation of the current logical line.
    pub(super) line_indent: usize,
    /// The enclosing `def` and `class` statements: their line's indentation, and whether the
    /// statement is an `async def`.
    pub(super) scopes: Vec<(usize, bool)>,
    /// For each entry of `scopes`: a serial number, and whether a `def` opened it.
    pub(super) scope_serials: Vec<(u32, bool)>,
    pub(super) next_serial: u32,
    /// The pending scope (`pending_scope`) is a `def`'s.
    pub(super) pending_is_def: bool,
    /// Locals assigned a call's result, whose later uses are counted; the indexes of those
    /// whose scope is still open.
    pub(super) watches: Vec<Watch<'t>>,
    pub(super) open_watches: Vec<usize>,
    /// With [`LexicalFacts::scan_functions`]: the function (in `facts.functions`) of each
    /// entry of `scopes`, `None` for a class body.
    pub(super) scope_owners: Vec<ScopeOwner<'t>>,
    /// The function whose header (or one-line body) the current logical line is.
    pub(super) header_function: Option<u32>,
    /// The function or class of `pending_scope`.
    pub(super) pending_function: Option<u32>,
    /// A function in no other function whose header was seen, and its header line's
    /// indentation: its body starts at the next line indented more.
    pub(super) pending_body: Option<(u32, usize)>,
    /// The body being scanned (in `facts.bodies`), and its function's indentation.
    pub(super) open_body: Option<(usize, usize)>,
    /// A `.` outside brackets on the current logical line (an `=` after it assigns to an
    /// attribute).
    pub(super) line_has_dot: bool,
    pub(super) pending_class: Option<&'t str>,
    /// Collect functions and their calls (the project phase's lexical summaries).
    pub(super) collect_functions: bool,
    /// Where the current statement is, if it is an import.
    pub(super) import: Option<ImportPart>,
    /// Where the import's module starts: after `from`, or at the first name of an `import`'s
    /// dotted name; and where that dotted name ends so far.
    pub(super) import_start: usize,
    pub(super) import_end: usize,
    /// A `from` import's module, as written (`.helpers`, `app . net`).
    pub(super) from_module: &'t str,
    /// The first name of the chain the last name token belongs to: `a` in `a.b.c`, `Repo`
    /// in `Repo(x).save` (`None`: a chain on a literal, a subscript, ...).
    pub(super) chain_root: Option<&'t str>,
    /// The token before the chain the last name token belongs to, when the chain is only
    /// names and dots (`=` in `x = a.b.c`); `None` after a `)`.
    pub(super) chain_before: Option<Token<'t>>,
    /// Brackets open around the current token (a replacement field counts as one).
    pub(super) nesting: u32,
    /// The bindings whose kind's words are being collected: name, index in its bindings,
    /// and the bracket depth the capture started at.
    pub(super) kind_captures: Vec<(&'t str, usize, u32)>,
    /// In a `global` or `nonlocal` statement.
    pub(super) in_global: bool,
    /// For each open `(`: the chain root of the callee before it, and what the expression it
    /// belongs to follows.
    pub(super) parens: Vec<(Option<&'t str>, Option<Token<'t>>)>,
    /// The same for the last `)` closed.
    pub(super) closed: (Option<&'t str>, Option<Token<'t>>),
    /// A `def` or `class` whose body starts on the next line (its header, parameter defaults
    /// included, runs in the enclosing scope).
    pub(super) pending_scope: Option<usize>,
    /// `name = ` at a statement start: the name, whether the value so far is a complete
    /// dotted name (`Some(true)`), a dotted name waiting for its next segment (`Some(false)`),
    /// and the value's last name.
    pub(super) assignment: Option<PendingAssignment<'t>>,
    /// `name:` at a statement start: an annotated assignment's target, if a value follows.
    pub(super) annotated: Option<&'t str>,
    pub(super) facts: LexicalFacts<'t>,
}

/// `target = ` at a statement start, while its value is scanned.
#[derive(Debug, Clone, Copy)]
pub(super) struct PendingAssignment<'t> {
    pub(super) target: &'t str,
    /// The value so far is a complete dotted name (`Some(true)`), a dotted name waiting for
    /// its next segment (`Some(false)`), or nothing yet (`None`).
    pub(super) dotted: Option<bool>,
    /// The value's first and last names.
    pub(super) first: &'t str,
    pub(super) last: &'t str,
}

impl<'t> PendingAssignment<'t> {
    pub(super) fn new(target: &'t str) -> Self {
        PendingAssignment {
            target,
            dotted: None,
            first: target,
            last: target,
        }
    }
}

/// Where an import statement's scan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ImportPart {
    /// `import a.b as c`.
    Plain,
    /// `from a.b` (before its `import`).
    FromModule,
    /// The names after `from a.b import`.
    FromNames,
}

/// A form feed resets the indentation, a tab counts 8: tree-sitter-python's rule, since the
/// parser decides which lines are inside a function.
fn indentation(line: &[u8]) -> (usize, usize) {
    let mut width = 0;
    let mut len = 0;
    for &b in line {
        match b {
            b' ' => width += 1,
            b'\t' => width += 8,
            b'\x0c' => width = 0,
            _ => break,
        }
        len += 1;
    }
    (width, len)
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

/// The bytes a name is made of, by value (a table: the scanner asks for every byte of every
/// name).
static NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80;
        b += 1;
    }
    table
};

fn is_name_byte(b: u8) -> bool {
    NAME_BYTES[usize::from(b)]
}

impl<'t> LexicalFacts<'t> {
    /// Scan `text`; `None` when the scan cannot follow it (an unterminated string, unbalanced
    /// brackets, a stray backslash).
    pub fn scan(text: &'t str, interesting: &HashSet<String>) -> Option<LexicalFacts<'t>> {
        Self::scan_with(text, interesting, false)
    }

    /// [`Self::scan`], also collecting the functions and the calls in each
    /// ([`Self::functions`], [`Self::function_calls`]) for the project phase.
    pub fn scan_functions(
        text: &'t str,
        interesting: &HashSet<String>,
    ) -> Option<LexicalFacts<'t>> {
        Self::scan_with(text, interesting, true)
    }

    fn scan_with(
        text: &'t str,
        interesting: &HashSet<String>,
        collect_functions: bool,
    ) -> Option<LexicalFacts<'t>> {
        let mut scanner = Scanner {
            text,
            interesting,
            bytes: text.as_bytes(),
            pos: 0,
            recent: [Token::LineStart; RECENT],
            newest: 0,
            line_indent: 0,
            scopes: Vec::new(),
            scope_serials: Vec::new(),
            next_serial: 0,
            pending_is_def: false,
            watches: Vec::new(),
            open_watches: Vec::new(),
            scope_owners: Vec::new(),
            pending_class: None,
            header_function: None,
            pending_function: None,
            pending_body: None,
            open_body: None,
            line_has_dot: false,
            collect_functions,
            pending_scope: None,
            import: None,
            import_start: 0,
            import_end: 0,
            from_module: "",
            chain_root: None,
            parens: Vec::new(),
            closed: (None, None),
            chain_before: None,
            nesting: 0,
            kind_captures: Vec::new(),
            in_global: false,
            annotated: None,
            assignment: None,
            facts: LexicalFacts::default(),
        };
        if text.starts_with('\u{feff}') {
            scanner.pos = '\u{feff}'.len_utf8();
        }
        scanner.start_line();
        scanner.code(Mode::Code)?;
        scanner.end_assignment();
        let watches = scanner.watches;
        let mut facts = scanner.facts;
        // A call assigned to a local is discarded if the local is never used again.
        let settle = |watch: Option<usize>, discarded: &mut bool| {
            if let Some(watch) = watch {
                *discarded = watches[watch].discards();
            }
        };
        for call in &mut facts.own_calls {
            settle(call.watch, &mut call.may_be_discarded);
        }
        for call in &mut facts.function_calls {
            settle(call.watch, &mut call.may_be_discarded);
        }
        for call in facts.attribute_calls.values_mut().flatten() {
            settle(call.watch, &mut call.may_be_discarded);
        }
        facts.aliases_reach = facts.reached_by_aliases(&facts.called_names);
        facts.async_aliases_reach = facts.reached_by_aliases(&facts.async_called_names);
        Some(facts)
    }
}

impl<'t> Scanner<'t, '_> {
    /// The token `back` tokens before the newest (`recent(0)`: the newest), `back` < 6.
    pub(super) fn recent(&self, back: usize) -> Token<'t> {
        self.recent[self.newest.wrapping_sub(back) % RECENT]
    }

    pub(super) fn peek(&self, offset: usize) -> u8 {
        self.bytes.get(self.pos + offset).copied().unwrap_or(0)
    }

    /// Inside an `async def` and not in a nested `def` or `class` body (a nested function on
    /// its header's line, or a lambda, counts as inside: that only lets more through).
    pub(super) fn in_async(&self) -> bool {
        self.scopes.last().is_some_and(|&(_, is_async)| is_async)
    }

    /// At the start of a physical line in code at bracket depth 0: skip blank and
    /// comment-only lines, measure the next logical line's indentation, leave the `async def`
    /// bodies it is not inside.
    fn start_line(&mut self) {
        loop {
            let (width, len) = indentation(&self.bytes[self.pos..]);
            let after = self.pos + len;
            match self.bytes.get(after) {
                None => {
                    self.pos = after;
                    return;
                }
                Some(b'\n') => self.pos = after + 1,
                Some(b'\r') => {
                    self.pos = after + 1;
                    if self.peek(0) == b'\n' {
                        self.pos += 1;
                    }
                }
                Some(b'#') => {
                    self.pos = after;
                    self.skip_comment();
                }
                Some(_) => {
                    let line_start = self.pos;
                    self.pos = after;
                    self.line_indent = width;
                    self.follow_bodies(line_start, width);
                    while self.scopes.last().is_some_and(|&(i, _)| i >= width) {
                        self.scopes.pop();
                        if let Some((serial, _)) = self.scope_serials.pop() {
                            self.close_watches(serial);
                        }
                        self.scope_owners.pop();
                    }
                    let owner = match (self.pending_function.take(), self.pending_class.take()) {
                        (Some(function), _) => ScopeOwner::Function(function),
                        (None, Some(class)) => ScopeOwner::Class(class),
                        (None, None) => ScopeOwner::Unknown,
                    };
                    self.header_function = None;
                    if let Some(indent) = self.pending_scope.take()
                        && width > indent
                    {
                        self.scopes.push((indent, false));
                        self.open_scope(self.pending_is_def);
                        self.scope_owners.push(owner);
                    }
                    self.end_assignment();
                    self.push(Token::LineStart);
                    return;
                }
            }
        }
    }

    fn skip_comment(&mut self) {
        let start = self.pos;
        self.pos = memchr::memchr2(b'\n', b'\r', &self.bytes[start..])
            .map_or(self.bytes.len(), |len| start + len);
        if self.open_body.is_some() {
            let comment = &self.text[start..self.pos];
            if comment.contains("noqa") || comment.contains("NOQA") || comment.contains("unfreeze")
            {
                self.pin_body();
            }
        }
    }

    /// Scan code until the end of the text (`Mode::Code`) or the `}` closing a replacement
    /// field (`Mode::FieldExpression`). `None`: the scan cannot follow the text.
    fn code(&mut self, mode: Mode) -> Option<()> {
        let mut depth = 0usize;
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            match b {
                b' ' | b'\t' | b'\x0c' => self.pos += 1,
                b'\n' | b'\r' => {
                    self.pos += 1;
                    if b == b'\r' && self.peek(0) == b'\n' {
                        self.pos += 1;
                    }
                    if depth == 0 && mode == Mode::Code {
                        self.start_line();
                    }
                }
                b'#' => self.skip_comment(),
                b'\\' => match (self.peek(1), self.peek(2)) {
                    (b'\n', _) => self.pos += 2,
                    (b'\r', b'\n') => self.pos += 3,
                    (b'\r', _) => self.pos += 2,
                    _ => return None,
                },
                b'\'' | b'"' => self.string(false)?,
                b'(' | b'[' | b'{' => {
                    depth += 1;
                    self.pos += 1;
                    self.push(if b == b'(' {
                        Token::OpenParen
                    } else {
                        Token::Other
                    });
                    self.nesting += 1;
                }
                b')' | b']' | b'}' => {
                    if depth == 0 {
                        if mode == Mode::FieldExpression && b == b'}' {
                            self.pos += 1;
                            return Some(());
                        }
                        return None;
                    }
                    depth -= 1;
                    self.pos += 1;
                    self.nesting -= 1;
                    self.push(if b == b')' {
                        Token::CloseParen
                    } else {
                        Token::Other
                    });
                }
                b'.' => {
                    if self.peek(1).is_ascii_digit() {
                        self.number();
                    } else if self.peek(1) == b'.' && self.peek(2) == b'.' {
                        self.pos += 3;
                        self.push(Token::Other);
                    } else {
                        self.pos += 1;
                        self.push(Token::Dot);
                    }
                }
                b':' => {
                    if self.peek(1) == b'=' {
                        self.pos += 2;
                        self.push(Token::Walrus);
                    } else if mode == Mode::FieldExpression && depth == 0 {
                        self.pos += 1;
                        return self.format_spec();
                    } else {
                        self.pos += 1;
                        self.push(Token::Colon);
                    }
                }
                b'!' if mode == Mode::FieldExpression && depth == 0 && self.peek(1) != b'=' => {
                    self.pos += 1;
                    return self.format_spec();
                }
                b'=' => {
                    if self.peek(1) == b'=' {
                        self.pos += 2;
                        self.push(Token::Other);
                    } else {
                        self.pos += 1;
                        self.push(Token::Assign);
                    }
                }
                b';' => {
                    self.pos += 1;
                    self.push(Token::Semicolon);
                }
                b'0'..=b'9' => self.number(),
                _ if is_name_start(b) => self.name()?,
                _ => {
                    // An operator: `**=`, `//=`, `>>=`, `->`, `!=`, ... never a single `=`.
                    self.pos += 1;
                    if matches!(b, b'*' | b'/' | b'<' | b'>') && self.peek(0) == b {
                        self.pos += 1;
                    }
                    if matches!(self.peek(0), b'=' | b'>') && b != b'=' {
                        self.pos += 1;
                    }
                    self.push(Token::Other);
                }
            }
        }
        (mode == Mode::Code && depth == 0).then_some(())
    }

    /// A number (an exponent's sign is scanned as an operator, harmlessly).
    fn number(&mut self) {
        self.pos += 1;
        while self
            .bytes
            .get(self.pos)
            .is_some_and(|&b| is_name_byte(b) || b == b'.')
        {
            self.pos += 1;
        }
        self.push(Token::Other);
    }

    /// A name, or a string's prefix (`rb"..."`, `f'...'`).
    fn name(&mut self) -> Option<()> {
        let start = self.pos;
        self.pos += self.bytes[start..]
            .iter()
            .position(|&b| !is_name_byte(b))
            .unwrap_or(self.bytes.len() - start);
        let word = &self.text[start..self.pos];
        if matches!(self.peek(0), b'\'' | b'"')
            && word.len() <= 2
            && word.bytes().all(|c| b"rRbBuUfFtT".contains(&c))
        {
            let formatted = word.bytes().any(|c| b"fFtT".contains(&c));
            return self.string(formatted);
        }
        self.push(Token::Name(word));
        Some(())
    }

    /// A string at its opening quote; an f-string's (or t-string's) fields are scanned as
    /// code.
    fn string(&mut self, formatted: bool) -> Option<()> {
        let quote = self.bytes[self.pos];
        let triple = self.peek(1) == quote && self.peek(2) == quote;
        self.pos += if triple { 3 } else { 1 };
        loop {
            if triple {
                // Most string bytes are in docstrings: jump to the next byte that matters.
                let field = if formatted { b'{' } else { quote };
                self.pos += memchr::memchr3(quote, b'\\', field, self.bytes.get(self.pos..)?)?;
            }
            let b = *self.bytes.get(self.pos)?;
            match b {
                b'\\' => {
                    // An escape (in raw strings too, a backslash keeps the quote in); before
                    // a brace, the brace still opens or closes a field.
                    let next = self.peek(1);
                    self.pos += if formatted && matches!(next, b'{' | b'}') {
                        1
                    } else if next == b'\r' && self.peek(2) == b'\n' {
                        3
                    } else {
                        2
                    };
                }
                b'\n' | b'\r' if !triple => return None,
                _ if b == quote => {
                    if !triple {
                        self.pos += 1;
                        break;
                    }
                    if self.peek(1) == quote && self.peek(2) == quote {
                        self.pos += 3;
                        break;
                    }
                    self.pos += 1;
                }
                b'{' if formatted => {
                    if self.peek(1) == b'{' {
                        self.pos += 2;
                    } else {
                        self.pos += 1;
                        self.nesting += 1;
                        self.code(Mode::FieldExpression)?;
                        self.nesting -= 1;
                    }
                }
                _ => self.pos += 1,
            }
        }
        self.push(Token::Other);
        Some(())
    }

    /// A replacement field's conversion and format spec, up to and including its closing
    /// `}`: literal text with nested fields.
    fn format_spec(&mut self) -> Option<()> {
        loop {
            match *self.bytes.get(self.pos)? {
                b'}' => {
                    self.pos += 1;
                    return Some(());
                }
                b'{' => {
                    self.pos += 1;
                    self.nesting += 1;
                    self.code(Mode::FieldExpression)?;
                    self.nesting -= 1;
                }
                b'\'' | b'"' | b'\n' | b'\r' => return None,
                _ => self.pos += 1,
            }
        }
    }
}
