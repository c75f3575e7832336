//! The lexical pre-pass: what a file's text tells before any parse, and which files and
//! function bodies therefore need the full analysis (parse, semantic index, codemod matching).
//! Parsing dominates the run time, and most files of a real project, even an async one, call
//! nothing a codemod matches in async context: a cheap scan of the text decides, and only the
//! files it lets through are parsed.
//!
//! The scan is conservative: it answers "skip" only when no call in the file can be a finding,
//! and "analyze" whenever it is unsure (a string left open, an unbalanced bracket, a stray
//! backslash). It works in two steps:
//!
//! 1. the matched calls of the rules the run reports whose words all occur in the text (an
//!    import spells the module, the call or the import the function), and whether `async`
//!    occurs at all;
//! 2. a tokenizer-level scan ([`LexicalFacts`]) outside comments and plain strings (f-string
//!    expressions are code): which names are called (`name(` / `.name(`), which of those calls
//!    are inside an `async def` (by indentation, with the parser's rule for tabs; a nested
//!    `def` counts as inside, which only lets more through), what names are bound to (the
//!    dotted names the semantic index follows: `import a.b as name`, `name = a.b`,
//!    `name: T = a.b`, `with a.b as name`), which names a `from ... import` binds, and which
//!    calls of a name or `self.name` / `cls.name` start a statement or an assignment's value
//!    (where a coroutine's result can be discarded).
//!
//! A call is a finding only if the name before its `(` is the matched call's last segment (an
//! attribute call on the module or a name bound to it, a builtin, a function `from m import`ed
//! by name) or a name bound to it (an alias, through up to eight assignments); a call of the
//! file's own coroutine only if an `async def` defines the name. A method (`requests.Session()
//! .get`) counts on a longer chain (`self.session.get`), or on a name the semantic index may
//! know the kind of (assigned at a statement start, annotated, or bound by `as`; not a bare
//! parameter or a loop variable), and then only if a binding the call's scope sees may give
//! it the method's class (`LexicalFacts::may_hold_object`). Where a call's result may
//! be thrown away is read as `is_result_discarded` decides it: a statement, a one-line body,
//! a local never used again.
//!
//! With [`LexicalFacts::scan_functions`], the same scan also records each function and the
//! calls in it, for the project phase's lexical pass (`project/lexical_summary.rs`,
//! `project/lexical_settle.rs`), which decides from them which files the project rules need
//! parsed.
//!
//! The rooms, in the order the text flows through them:
//!
//! - `scanner.rs`: the tokenizer: lines, indentation, comments, strings (f-string fields are
//!   code), numbers and names, turned into tokens; the scanner's state;
//! - `collect.rs`: what each token adds to the facts: calls, bindings, imports, scopes,
//!   functions and their bodies;
//! - `facts.rs`: the facts a scan yields ([`LexicalFacts`] and the functions, bodies and calls
//!   it records), and the questions they answer (may this call be that matched call?);
//! - `decide.rs`: the decisions read from them: which files need the analysis
//!   ([`needs_analysis`]), which bodies a fix round's check parse may leave out
//!   ([`bodies_a_fix_round_leaves_out`]).
//!
//! This pass runs before any parse, so it imports only the settings and the codemod registry
//! (the words of its matched calls); everything after it (parse, project, analyze, run) may
//! import it, never the other way round. The project phase settled lexically stays in
//! `project/`: it reads the module map and, for a file the scanner cannot follow, the precise
//! summary, and the project's on-demand lookup consults it, so in `lexical/` it would make
//! `lexical` and `project` import each other.

mod collect;
mod decide;
mod facts;
mod scanner;

pub use decide::{bodies_a_fix_round_leaves_out, may_need_analysis, needs_analysis};
pub use facts::{
    FunctionBody, Imported, LexicalCall, LexicalFacts, LexicalFunction, LexicalReceiver,
};
