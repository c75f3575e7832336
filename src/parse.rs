//! Parsing Python with tree-sitter: one parser per thread, and the ranges of syntax errors.

use std::cell::RefCell;
use std::ops::Range;

use tree_sitter::{Parser, Tree};

/// A parsed file: its syntax tree and where tree-sitter found syntax errors.
pub struct ParsedFile {
    pub tree: Tree,
    /// Byte ranges of `ERROR` nodes and (zero-width) `MISSING` nodes, in source order.
    pub error_ranges: Vec<Range<usize>>,
}

impl ParsedFile {
    pub fn has_errors(&self) -> bool {
        !self.error_ranges.is_empty()
    }

    /// Whether `range` touches or overlaps any syntax error (bounds included).
    pub fn touches_error(&self, range: &Range<usize>) -> bool {
        self.error_ranges
            .iter()
            .any(|error| range.start <= error.end && error.start <= range.end)
    }
}

thread_local! {
    static PARSER: RefCell<Parser> = RefCell::new(new_parser());
}

fn new_parser() -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .expect("the bundled tree-sitter-python grammar matches the tree-sitter runtime");
    parser
}

/// Parse Python source with this thread's parser.
pub fn parse(text: &str) -> ParsedFile {
    let tree = PARSER.with(|parser| {
        parser
            .borrow_mut()
            .parse(text, None)
            .expect("parsing without a timeout or cancellation flag always yields a tree")
    });
    let error_ranges = error_ranges(&tree);
    ParsedFile { tree, error_ranges }
}

/// Collect error ranges with an explicit cursor walk (no recursion: deep trees are fine).
fn error_ranges(tree: &Tree) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    if !tree.root_node().has_error() {
        return ranges;
    }
    let mut cursor = tree.walk();
    loop {
        let node = cursor.node();
        let descend = if node.is_error() || node.is_missing() {
            ranges.push(node.byte_range());
            false
        } else {
            node.has_error()
        };
        if descend && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return ranges;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_file_has_no_errors() {
        assert!(!parse("async def f():\n    await g()\n").has_errors());
    }

    #[test]
    fn broken_file_reports_error_ranges() {
        let parsed = parse("def f(:\n    pass\nx = 1\n");
        assert!(parsed.has_errors());
        assert!(parsed.touches_error(&(5..7)));
        assert!(!parsed.touches_error(&(20..22)));
    }
}
