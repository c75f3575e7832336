//! Parsing Python with tree-sitter: one parser per thread, and the ranges of syntax errors.

use std::cell::RefCell;
use std::ops::Range;
use std::sync::LazyLock;

use tree_sitter::{Node, Parser, Point, Tree, TreeCursor};

/// A parsed file: its syntax tree and where tree-sitter found syntax errors.
#[derive(Clone, Debug)]
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

/// The grammar's node kind names, by kind id.
static KIND_NAMES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let language: tree_sitter::Language = tree_sitter_python::LANGUAGE.into();
    (0..language.node_kind_count() as u16)
        .map(|id| language.node_kind_for_id(id).unwrap_or("").to_owned())
        .collect()
});

/// A node's kind name, looked up by its id. `Node::kind` measures the grammar's C string and
/// checks it is UTF-8 at every call, a few percent of a run where every node of a tree is
/// matched by kind; the names are the same.
pub trait KindName {
    fn kind_name(&self) -> &'static str;
}

impl KindName for Node<'_> {
    fn kind_name(&self) -> &'static str {
        // Every kind id of the grammar is below its kind count.
        KIND_NAMES
            .get(self.kind_id() as usize)
            .map_or("", String::as_str)
    }
}

/// The grammar's fields the analysis reads, by name. `Node::child_by_field_name` looks the
/// name up among all the grammar's fields with `strncmp` at every call (about 1 % of a
/// check); [`FieldChild::field`] uses the ids, looked up once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Alias,
    Arguments,
    Attribute,
    Body,
    Condition,
    Consequence,
    Function,
    Left,
    ModuleName,
    Name,
    Object,
    Operator,
    Parameters,
    ReturnType,
    Right,
    Subscript,
    Superclasses,
    Type,
    Value,
}

impl Field {
    const ALL: [Field; 19] = [
        Field::Alias,
        Field::Arguments,
        Field::Attribute,
        Field::Body,
        Field::Condition,
        Field::Consequence,
        Field::Function,
        Field::Left,
        Field::ModuleName,
        Field::Name,
        Field::Object,
        Field::Operator,
        Field::Parameters,
        Field::ReturnType,
        Field::Right,
        Field::Subscript,
        Field::Superclasses,
        Field::Type,
        Field::Value,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::Alias => "alias",
            Field::Arguments => "arguments",
            Field::Attribute => "attribute",
            Field::Body => "body",
            Field::Condition => "condition",
            Field::Consequence => "consequence",
            Field::Function => "function",
            Field::Left => "left",
            Field::ModuleName => "module_name",
            Field::Name => "name",
            Field::Object => "object",
            Field::Operator => "operator",
            Field::Parameters => "parameters",
            Field::ReturnType => "return_type",
            Field::Right => "right",
            Field::Subscript => "subscript",
            Field::Superclasses => "superclasses",
            Field::Type => "type",
            Field::Value => "value",
        }
    }
}

/// Each [`Field`]'s id in the grammar, by the field's place in [`Field::ALL`].
static FIELD_IDS: LazyLock<[u16; Field::ALL.len()]> = LazyLock::new(|| {
    let language: tree_sitter::Language = tree_sitter_python::LANGUAGE.into();
    Field::ALL.map(|field| {
        language
            .field_id_for_name(field.name())
            .map_or(0, |id| id.get())
    })
});

/// A node's child in a field, by the field's id.
pub trait FieldChild<'t> {
    fn field(&self, field: Field) -> Option<Node<'t>>;
}

impl<'t> FieldChild<'t> for Node<'t> {
    fn field(&self, field: Field) -> Option<Node<'t>> {
        // Every variant is in `ALL`, in declaration order.
        match FIELD_IDS[field as usize] {
            0 => None,
            id => self.child_by_field_id(id),
        }
    }
}

/// The nodes of a tree the analysis and the project summary look at, each kind in document
/// order, gathered in one walk (the two used to walk the whole tree each).
#[derive(Debug, Default)]
pub struct KeyNodes<'t> {
    pub calls: Vec<Node<'t>>,
    pub yields: Vec<Node<'t>>,
    pub comments: Vec<Node<'t>>,
    /// `return` statements (for the project summary: what a function returns).
    pub returns: Vec<Node<'t>>,
}

impl<'t> KeyNodes<'t> {
    pub fn of(tree: &'t Tree) -> KeyNodes<'t> {
        let mut nodes = KeyNodes::default();
        walk_tree(tree, |cursor| {
            let node = cursor.node();
            match node.kind_name() {
                "call" => nodes.calls.push(node),
                "yield" => nodes.yields.push(node),
                "comment" => nodes.comments.push(node),
                "return_statement" => nodes.returns.push(node),
                _ => {}
            }
            true
        });
        nodes
    }
}

/// Visit `tree`'s nodes in document order (parents before children) with one cursor, no
/// recursion (deep trees are fine); `visit` sees the cursor on each node (its field name
/// too) and answers whether to go into the node's children.
pub fn walk_tree<'t>(tree: &'t Tree, mut visit: impl FnMut(&TreeCursor<'t>) -> bool) {
    let mut cursor = tree.walk();
    loop {
        if visit(&cursor) && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
        }
    }
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

/// [`parse`] without reading the bytes of `skipped` (in source order, not overlapping):
/// blanks a masked text need not have lexed (`masked.rs`). Offsets, rows and columns are the
/// text's.
pub fn parse_skipping(text: &str, skipped: &[Range<usize>]) -> ParsedFile {
    if skipped.is_empty() {
        return parse(text);
    }
    let bytes = text.as_bytes();
    // The included ranges are what lies between the skipped ones, with their positions
    // (tree-sitter counts rows at `\n`, columns in bytes).
    let mut included = Vec::with_capacity(skipped.len() + 1);
    let (mut row, mut line_start, mut scanned) = (0usize, 0usize, 0usize);
    let mut point_at = |offset: usize| {
        for (i, &b) in bytes[scanned..offset].iter().enumerate() {
            if b == b'\n' {
                row += 1;
                line_start = scanned + i + 1;
            }
        }
        scanned = offset;
        Point::new(row, offset - line_start)
    };
    let mut start = (0, point_at(0));
    for gap in skipped {
        included.push(tree_sitter::Range {
            start_byte: start.0,
            end_byte: gap.start,
            start_point: start.1,
            end_point: point_at(gap.start),
        });
        start = (gap.end, point_at(gap.end));
    }
    included.push(tree_sitter::Range {
        start_byte: start.0,
        end_byte: usize::MAX,
        start_point: start.1,
        end_point: Point::new(usize::MAX, usize::MAX),
    });
    let tree = PARSER.with(|parser| {
        let mut parser = parser.borrow_mut();
        // Ranges in order, each after the last: always accepted.
        let tree = parser
            .set_included_ranges(&included)
            .ok()
            .and_then(|()| parser.parse(text, None));
        parser
            .set_included_ranges(&[])
            .expect("the whole text is a valid range");
        tree.unwrap_or_else(|| {
            parser
                .parse(text, None)
                .expect("parsing without a timeout or cancellation flag always yields a tree")
        })
    });
    let error_ranges = error_ranges(&tree);
    ParsedFile { tree, error_ranges }
}

/// The ranges of the `ERROR` and `MISSING` nodes, going only into nodes that hold one.
fn error_ranges(tree: &Tree) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    if !tree.root_node().has_error() {
        return ranges;
    }
    walk_tree(tree, |cursor| {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            ranges.push(node.byte_range());
            false
        } else {
            node.has_error()
        }
    });
    ranges
}

/// The exception types of an `except` clause: the expression that names them, and each type
/// (the items of a tuple, or the expression itself).
pub struct HandledTypes<'t> {
    pub expression: Node<'t>,
    pub items: Vec<Node<'t>>,
}

/// The `except` clauses of every `try` whose body holds `node`, innermost first, within
/// `node`'s own function (a `def`, `lambda` or `class` stops the walk).
pub fn handlers_around(node: Node) -> Vec<HandledTypes> {
    let mut handlers = Vec::new();
    let mut current = node.parent();
    while let Some(ancestor) = current {
        if matches!(
            ancestor.kind_name(),
            "function_definition" | "lambda" | "class_definition"
        ) {
            break;
        }
        if ancestor.kind_name() == "block"
            && let Some(try_statement) = ancestor
                .parent()
                .filter(|p| p.kind_name() == "try_statement")
            && try_statement
                .field(Field::Body)
                .is_some_and(|b| b.id() == ancestor.id())
        {
            let mut cursor = try_statement.walk();
            handlers.extend(
                try_statement
                    .named_children(&mut cursor)
                    .filter_map(handled_types),
            );
        }
        current = ancestor.parent();
    }
    handlers
}

/// The types `clause` catches, if it is an `except` clause that names them (not a bare
/// `except:`).
pub fn handled_types(clause: Node) -> Option<HandledTypes> {
    if clause.kind_name() != "except_clause" {
        return None;
    }
    let mut expression = clause
        .field(Field::Value)
        .or_else(|| clause.named_child(0).filter(|c| c.kind_name() != "block"))?;
    // `except E as e`: the types are the pattern's first child.
    if expression.kind_name() == "as_pattern" {
        expression = expression.named_child(0)?;
    }
    let items = if expression.kind_name() == "tuple" {
        let mut c = expression.walk();
        expression.named_children(&mut c).collect()
    } else {
        // `except A, B:` (Python 3.14) names each type in a `value` field of its own.
        let mut c = clause.walk();
        let values: Vec<Node> = clause.children_by_field_name("value", &mut c).collect();
        if values.len() > 1 {
            values
        } else {
            vec![expression]
        }
    };
    Some(HandledTypes { expression, items })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_the_grammars_and_finds_the_child_its_name_finds() {
        for field in Field::ALL {
            assert_ne!(FIELD_IDS[field as usize], 0, "{} is no field", field.name());
        }
        let text = "x = a.b(c, d=e[1]) + await f(*g) if h else -i\n";
        let parsed = parse(text);
        walk_tree(&parsed.tree, |cursor| {
            let node = cursor.node();
            for field in Field::ALL {
                assert_eq!(
                    node.field(field),
                    node.child_by_field_name(field.name()),
                    "{} of {}",
                    field.name(),
                    node.kind_name()
                );
            }
            true
        });
    }

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
