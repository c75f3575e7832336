//! Import edits that fixes share: making a module reachable (reusing `import asyncio as aio`,
//! or adding `import asyncio` once, in the file's import block after the docstring and
//! `__future__` imports), and removing imports that the applied fixes left unused.

use crate::parse::KindName;
use std::collections::HashSet;

use tree_sitter::{Node, Tree};

use super::bound::{module_alias_bound_at, unbound_local_reason};
use super::{Edit, HeaderKind};
use crate::parse::{Field, FieldChild};
use crate::parse::{ParsedFile, walk_tree};
use crate::semantic::{BindingKind, Resolution, SemanticIndex, build_index};

/// How a fix refers to a module at some offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleReference {
    /// The local name to write (`asyncio`, or an alias such as `aio`).
    pub name: String,
    /// The import to add, when the module is not imported yet, with the blank lines after it
    /// when it starts the file's imports. Identical for every fix in a file, so it is applied
    /// once however many fixes need it.
    pub import: Vec<Edit>,
}

/// Make `module` (a top-level module such as `asyncio`) usable at `offset`.
pub fn reference_module(
    index: &SemanticIndex,
    tree: &Tree,
    text: &str,
    line_ending: &str,
    module: &str,
    offset: usize,
) -> Result<ModuleReference, String> {
    if let Some(alias) = module_alias_bound_at(index, tree, module, offset) {
        return Ok(ModuleReference {
            name: alias,
            import: Vec::new(),
        });
    }
    if let Some(reason) = unbound_local_reason(index, tree, text, module, offset) {
        return Err(reason);
    }
    let name_is_free = match index.resolve_name(module, offset) {
        Resolution::Builtin => true,
        // Only imported for type checkers: a runtime import of the same module is what it needs.
        Resolution::Binding(id) => matches!(
            &index.binding(id).kind,
            BindingKind::Import { qualified, type_checking_only: true, .. } if qualified == module
        ),
    };
    if !name_is_free {
        return Err(format!(
            "the name `{module}` means something else here, so `import {module}` cannot be added"
        ));
    }
    Ok(ModuleReference {
        name: module.to_owned(),
        import: import_insertion(tree, text, line_ending, module),
    })
}

fn is_docstring(node: Node) -> bool {
    node.kind_name() == "expression_statement"
        && node.named_child_count() == 1
        && node
            .named_child(0)
            .is_some_and(|c| c.kind_name() == "string")
}

fn is_import(node: Node) -> bool {
    matches!(
        node.kind_name(),
        "import_statement" | "import_from_statement"
    )
}

fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1)
}

/// An added import line: it may share its place with other header insertions.
fn import_edit(at: usize, content: String) -> Edit {
    Edit::header_insertion(at, content, HeaderKind::Import)
}

/// An insertion of `import module` on its own line; in a file with no import before its code,
/// followed by blank lines (two before a function or class, one before other code, as isort
/// and ruff leave them), which every such import shares.
fn import_insertion(tree: &Tree, text: &str, line_ending: &str, module: &str) -> Vec<Edit> {
    let line = format!("import {module}{line_ending}");
    let root = tree.root_node();
    let mut cursor = root.walk();
    // The file's head only (every fix that imports asks: not a walk of every statement): the
    // docstring, the `__future__` lines, the first block of imports and the statement after.
    let mut statements: Vec<Node> = Vec::new();
    for statement in root
        .named_children(&mut cursor)
        .filter(|n| n.kind_name() != "comment")
    {
        let head = (statements.is_empty() && is_docstring(statement))
            || statement.kind_name() == "future_import_statement"
            || is_import(statement);
        statements.push(statement);
        if !head {
            break;
        }
    }
    let mut first = 0;
    if statements.first().is_some_and(|s| is_docstring(*s)) {
        first = 1;
    }
    while statements
        .get(first)
        .is_some_and(|s| s.kind_name() == "future_import_statement")
    {
        first += 1;
    }
    let block_end = first
        + statements[first..]
            .iter()
            .take_while(|s| is_import(**s))
            .count();
    let block = &statements[first..block_end];
    if block.is_empty() {
        return match (statements.get(first), first.checked_sub(1)) {
            (Some(next), _) => {
                let at = line_start(text, next.start_byte());
                let blank_lines = match next.kind_name() {
                    "function_definition" | "class_definition" | "decorated_definition" => 2,
                    _ => 1,
                };
                vec![
                    import_edit(at, line),
                    Edit::header_insertion(
                        at,
                        line_ending.repeat(blank_lines),
                        HeaderKind::Separator,
                    ),
                ]
            }
            (None, Some(previous)) => vec![insertion_after(
                text,
                statements[previous],
                module,
                line_ending,
            )],
            (None, None) => {
                if text.is_empty() || text.ends_with(['\n', '\r']) {
                    vec![import_edit(text.len(), line)]
                } else {
                    vec![import_edit(
                        text.len(),
                        format!("{line_ending}import {module}{line_ending}"),
                    )]
                }
            }
        };
    }
    // The module a statement imports (`a.b` for `import a.b as c` and `from a.b import c`).
    let module_of = |statement: &Node| -> String {
        let name = if statement.kind_name() == "import_from_statement" {
            statement.field(Field::ModuleName)
        } else {
            statement.field(Field::Name).map(|n| {
                if n.kind_name() == "aliased_import" {
                    n.field(Field::Name).unwrap_or(n)
                } else {
                    n
                }
            })
        };
        name.map(|n| text[n.byte_range()].to_ascii_lowercase())
            .unwrap_or_default()
    };
    // Sections: runs of imports separated by blank lines (isort / ruff's groups).
    let mut sections: Vec<Vec<Node>> = vec![vec![block[0]]];
    for pair in block.windows(2) {
        let between = &text[pair[0].end_byte()..pair[1].start_byte()];
        let blank_line = between
            .split('\n')
            .skip(1)
            .any(|line| line.trim().is_empty() && !line.contains('#'));
        if blank_line && between.matches('\n').count() >= 2 {
            sections.push(Vec::new());
        }
        sections.last_mut().expect("non-empty").push(pair[1]);
    }
    let is_stdlib =
        |name: &str| crate::stdlib_names::is_stdlib(name.split('.').next().unwrap_or(name));
    let wanted_stdlib = is_stdlib(module);
    let section = sections
        .iter()
        .find(|section| {
            section.iter().any(|s| {
                let name = module_of(s);
                !name.starts_with('.') && is_stdlib(&name) == wanted_stdlib
            })
        })
        .or_else(|| {
            if wanted_stdlib {
                sections.first()
            } else {
                sections.last()
            }
        })
        .expect("at least one section");
    // Within the section: sorted by module name across `import` and `from` lines when the
    // section already is (force-sort-within-sections), else among the plain imports, which
    // come before the `from` lines.
    let names: Vec<String> = section.iter().map(&module_of).collect();
    let mixed_sorted = names.windows(2).all(|w| w[0] <= w[1])
        && section
            .iter()
            .any(|s| s.kind_name() == "import_from_statement")
        && section.iter().any(|s| s.kind_name() == "import_statement");
    let candidates: Vec<Node> = if mixed_sorted {
        section.clone()
    } else {
        section
            .iter()
            .copied()
            .filter(|s| s.kind_name() == "import_statement")
            .collect()
    };
    if let Some(after) = candidates.iter().find(|s| module_of(s).as_str() > module) {
        return vec![import_edit(line_start(text, after.start_byte()), line)];
    }
    if let Some(last) = candidates.last() {
        return vec![insertion_after(text, *last, module, line_ending)];
    }
    // Only `from` lines in the section: plain imports go first.
    vec![import_edit(line_start(text, section[0].start_byte()), line)]
}

/// Why a module-level definition a fix needs cannot be placed: another fix's definition of
/// the same name may lift it in a later round, so `check` asks the fix rounds.
pub const SPLIT_IMPORTS_REASON: &str = "this runs while the module is imported, before some of \
     its imports: the module-level definition the fix needs would split the imports (E402)";

/// Whether a module-level statement is code that E402 counts before an import: not an
/// import, a docstring, or a conditional / `try` / `with` block (which pycodestyle lets
/// precede imports).
fn is_module_code(statement: Node) -> bool {
    !is_import(statement)
        && !is_docstring(statement)
        && !matches!(
            statement.kind_name(),
            "future_import_statement" | "if_statement" | "try_statement" | "with_statement"
        )
}

/// An insertion of a module-level `statement` after the module's last top-level import
/// (after the docstring when there are none), set off by blank lines, so that no import
/// follows module code it did not follow before (no new E402). Identical for every fix that
/// needs it. `used_at` is where a fix uses what the statement defines: the statement goes
/// before any module code that may run that use while the module is imported (the
/// statement holding the use, when that runs at import time; the first module-level call
/// after a function or class definition). An `Err` when that would put it between two
/// imports.
pub fn module_statement_insertion(
    tree: &Tree,
    text: &str,
    line_ending: &str,
    statement: &str,
    used_at: usize,
) -> Result<Edit, String> {
    let root = tree.root_node();
    let mut cursor = root.walk();
    let statements: Vec<Node> = root
        .named_children(&mut cursor)
        .filter(|n| n.kind_name() != "comment")
        .collect();
    let holds_use = |node: &Node| node.start_byte() <= used_at && used_at < node.end_byte();
    let use_index = statements.iter().position(holds_use);
    let at_import = use_index.is_some_and(|i| runs_at_import(statements[i], used_at));
    let first_definition = statements.iter().position(|node| {
        matches!(
            node.kind_name(),
            "function_definition" | "class_definition" | "decorated_definition"
        )
    });
    // Code that may run the use before the statement would define it.
    let runs_use = statements.iter().enumerate().position(|(i, node)| {
        (at_import && Some(i) == use_index)
            || first_definition.is_some_and(|first| i > first && calls_at_import(*node))
    });
    let limit = runs_use.unwrap_or(statements.len());
    // An import after code that runs the use would follow the new statement: a new E402
    // only when no module code precedes that import already (a statement of code, or a
    // definition: the use's own `if __name__ == "__main__":` block is not code to E402).
    if at_import
        && statements[limit..].iter().any(|node| is_import(*node))
        && !statements[..limit].iter().any(|node| is_module_code(*node))
    {
        return Err(SPLIT_IMPORTS_REASON.to_owned());
    }
    let last_import = statements[..limit]
        .iter()
        .rposition(|node| is_import(*node) || holds_imports(*node))
        .or_else(|| {
            // The leading docstring and `__future__` imports.
            statements[..limit]
                .iter()
                .enumerate()
                .take_while(|(i, node)| {
                    node.kind_name() == "future_import_statement"
                        || (*i == 0 && is_docstring(**node))
                })
                .map(|(i, _)| i)
                .last()
        });
    let le = line_ending;
    let (at, content) = match last_import.map(|i| statements[i]) {
        Some(node) => {
            let end = node.end_byte();
            match text[end..].find('\n') {
                Some(newline) => (end + newline + 1, format!("{le}{statement}{le}")),
                None => (text.len(), format!("{le}{le}{statement}{le}")),
            }
        }
        None => (
            statements
                .first()
                .map_or(text.len(), |first| line_start(text, first.start_byte())),
            format!("{statement}{le}{le}"),
        ),
    };
    Ok(Edit::header_insertion(at, content, HeaderKind::Definition))
}

/// Whether the code at `offset` in the module-level `statement` runs when the module is
/// imported (not inside a function or lambda body).
fn runs_at_import(statement: Node, offset: usize) -> bool {
    let mut child = statement.descendant_for_byte_range(offset, offset);
    while let Some(node) = child {
        let Some(parent) = node.parent() else {
            return true;
        };
        if matches!(parent.kind_name(), "function_definition" | "lambda")
            && parent
                .field(Field::Body)
                .is_some_and(|b| b.id() == node.id())
        {
            return false;
        }
        if parent.id() == statement.id() {
            return true;
        }
        child = Some(parent);
    }
    true
}

/// Whether a module-level statement calls something when the module is imported (calls in
/// function and lambda bodies wait).
fn calls_at_import(statement: Node) -> bool {
    let mut stack = vec![statement];
    let mut cursor = statement.walk();
    while let Some(node) = stack.pop() {
        match node.kind_name() {
            "call" | "decorator" => return true,
            "function_definition" => {
                // Its decorators, defaults and annotations run now; its body later.
                stack.extend(node.field(Field::Parameters));
                stack.extend(node.field(Field::ReturnType));
            }
            "lambda" => {}
            _ => stack.extend(node.named_children(&mut cursor)),
        }
    }
    false
}

/// Whether a module-level `try` / `if` holds imports (`try: import ujson as json`).
fn holds_imports(statement: Node) -> bool {
    if !matches!(statement.kind_name(), "try_statement" | "if_statement") {
        return false;
    }
    let mut stack = vec![statement];
    let mut cursor = statement.walk();
    while let Some(node) = stack.pop() {
        if is_import(node) {
            return true;
        }
        if !matches!(node.kind_name(), "function_definition" | "class_definition") {
            stack.extend(node.named_children(&mut cursor));
        }
    }
    false
}

/// Insert `import module` on the line after `statement`.
fn insertion_after(text: &str, statement: Node, module: &str, line_ending: &str) -> Edit {
    let end = statement.end_byte();
    match text[end..].find('\n').or_else(|| text[end..].find('\r')) {
        Some(newline) => import_edit(end + newline + 1, format!("import {module}{line_ending}")),
        None => import_edit(text.len(), format!("{line_ending}import {module}")),
    }
}

/// Edits removing the imports of `names` that the new text no longer uses: not referenced
/// anywhere, not listed in `__all__`, not an explicit re-export (`import a as a`), not the
/// only statement of a block, and not sharing its line with a comment or another statement.
pub fn orphaned_import_removals(text: &str, parsed: &ParsedFile, names: &[&str]) -> Vec<Edit> {
    let index = build_index(&parsed.tree, text);
    let wanted: HashSet<&str> = names.iter().copied().collect();
    let used = referenced_names(&parsed.tree, text, &wanted);
    let exported: HashSet<&str> = index
        .dunder_all()
        .map(|all| all.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let mut removals = Vec::new();
    for (_, binding) in index.import_bindings() {
        let BindingKind::Import {
            statement, clause, ..
        } = &binding.kind
        else {
            continue;
        };
        let name = binding.name.as_str();
        if !wanted.contains(name) || used.contains(name) || exported.contains(name) {
            continue;
        }
        let clause_text = &text[clause.clone()];
        if clause_text.contains(" as ")
            && clause_text.rsplit(" as ").next().map(str::trim)
                == clause_text.split(" as ").next().map(str::trim)
        {
            continue;
        }
        let Some(statement_node) = parsed
            .tree
            .root_node()
            .descendant_for_byte_range(statement.start, statement.end)
            .filter(|n| is_import(*n))
        else {
            continue;
        };
        if let Some(edit) = clause_removal(text, statement_node, clause.clone()) {
            removals.push(edit);
        }
    }
    removals.sort_by_key(|e| e.range.start);
    removals.dedup_by(|a, b| a.range.start < b.range.end && b.range.start < a.range.end);
    removals
}

/// Those of `names` that `text` uses outside its import statements (a whole parse of it).
pub fn referenced_in<'a>(text: &str, names: &[&'a str]) -> Vec<&'a str> {
    let wanted: HashSet<&str> = names.iter().copied().collect();
    let used = referenced_names(&crate::parse::parse(text).tree, text, &wanted);
    let mut kept: Vec<&str> = names.iter().copied().filter(|n| used.contains(n)).collect();
    kept.dedup();
    kept
}

/// Remove one `name [as alias]` clause: the whole statement when it is the only clause.
fn clause_removal(text: &str, statement: Node, clause: std::ops::Range<usize>) -> Option<Edit> {
    let mut cursor = statement.walk();
    let clauses: Vec<Node> = statement
        .children_by_field_name("name", &mut cursor)
        .collect();
    if clauses.len() > 1 {
        let position = clauses.iter().position(|c| c.byte_range() == clause)?;
        let range = if position + 1 < clauses.len() {
            clause.start..clauses[position + 1].start_byte()
        } else {
            // Remove from the end of the previous clause: `, name`.
            clauses[position - 1].end_byte()..clause.end
        };
        if text[range.clone()].contains('#') {
            return None;
        }
        return Some(Edit::deletion(range));
    }
    // The only clause: delete the statement's line, if it stands alone on it.
    let parent = statement.parent()?;
    let mut siblings = parent.walk();
    let statements = parent
        .named_children(&mut siblings)
        .filter(|n| n.kind_name() != "comment")
        .count();
    if parent.kind_name() == "block" && statements == 1 {
        return None;
    }
    let start = line_start(text, statement.start_byte());
    if !text[start..statement.start_byte()].trim().is_empty() {
        return None;
    }
    let rest = &text[statement.end_byte()..];
    let line_end = rest.find(['\n', '\r']).unwrap_or(rest.len());
    if !rest[..line_end].trim().is_empty() {
        return None;
    }
    let mut end = past_line_break(text, statement.end_byte() + line_end);
    // A statement that was a group of its own (blank line, file start or its block's header
    // before it, blank line after it) takes one of the blank lines with it, so no double blank
    // line, nor a block opening with one, is left.
    let first_in_block = parent.kind_name() == "block"
        && parent
            .named_child(0)
            .is_some_and(|first| first.id() == statement.id());
    let blank_before = start == 0
        || first_in_block
        || text[..start].ends_with("\n\n")
        || text[..start].ends_with("\n\r\n");
    let next_line_end = text[end..].find('\n').map(|i| end + i);
    if blank_before
        && let Some(next_end) = next_line_end
        && text[end..next_end].trim().is_empty()
    {
        end = next_end + 1;
    }
    Some(Edit::deletion(start..end))
}

/// The offset just past the line break at `offset` (or `offset` at the end of the text).
fn past_line_break(text: &str, offset: usize) -> usize {
    if text[offset..].starts_with("\r\n") {
        offset + 2
    } else if offset < text.len() {
        offset + 1
    } else {
        offset
    }
}

/// Which of `names` occur as a name reference outside import statements (attribute names,
/// keyword-argument names and import clauses do not count).
fn referenced_names<'a>(tree: &Tree, text: &str, names: &HashSet<&'a str>) -> HashSet<&'a str> {
    let mut used = HashSet::new();
    walk_tree(tree, |cursor| {
        let node = cursor.node();
        match node.kind_name() {
            "import_statement" | "import_from_statement" | "future_import_statement" => {
                return false;
            }
            "identifier" => {
                let name = &text[node.byte_range()];
                if let Some(found) = names.get(name) {
                    let field = cursor.field_name();
                    let parent_kind = node.parent().map(|p| p.kind_name());
                    let is_attribute_name =
                        field == Some("attribute") && parent_kind == Some("attribute");
                    let is_keyword_name =
                        field == Some("name") && parent_kind == Some("keyword_argument");
                    if !is_attribute_name && !is_keyword_name {
                        used.insert(*found);
                    }
                }
            }
            // Names used in string annotations count as uses.
            "string_content" => {
                let content = &text[node.byte_range()];
                for name in names {
                    if content
                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                        .any(|w| w == *name)
                        && is_annotation_string(node)
                    {
                        used.insert(*name);
                    }
                }
            }
            _ => {}
        }
        true
    });
    used
}

fn is_annotation_string(node: Node) -> bool {
    let mut current = node.parent();
    while let Some(n) = current {
        if n.kind_name() == "type" {
            return true;
        }
        current = n.parent();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::apply_edits;
    use crate::parse::parse;

    fn add_import(text: &str) -> String {
        let parsed = parse(text);
        let index = build_index(&parsed.tree, text);
        let reference =
            reference_module(&index, &parsed.tree, text, "\n", "asyncio", text.len() - 1).unwrap();
        apply_edits(text, &reference.import)
    }

    #[test]
    fn import_lands_after_docstring_and_future_imports() {
        let text = "\"\"\"Doc.\"\"\"\nfrom __future__ import annotations\nx = 1\n";
        assert_eq!(
            add_import(text),
            "\"\"\"Doc.\"\"\"\nfrom __future__ import annotations\nimport asyncio\n\nx = 1\n"
        );
    }

    #[test]
    fn a_files_first_import_is_set_apart_from_its_code_once() {
        assert_eq!(
            add_import("# A comment.\n\nasync def f():\n    pass\n"),
            "# A comment.\n\nimport asyncio\n\n\nasync def f():\n    pass\n"
        );
        assert_eq!(
            add_import("@decorate\nclass A:\n    pass\n"),
            "import asyncio\n\n\n@decorate\nclass A:\n    pass\n"
        );
        // Two imports added at once share the blank lines.
        let text = "x = 1\n";
        let parsed = parse(text);
        let index = build_index(&parsed.tree, text);
        let mut edits = Vec::new();
        for module in ["asyncio", "functools"] {
            edits.extend(
                reference_module(&index, &parsed.tree, text, "\n", module, 0)
                    .unwrap()
                    .import,
            );
        }
        let fixes: Vec<_> = edits
            .chunks(2)
            .map(|e| crate::fix::Fix::new(crate::fix::Applicability::Safe, "t".into(), e.to_vec()))
            .collect();
        let refs: Vec<_> = fixes.iter().map(Some).collect();
        let fixed = crate::fix::fix_file(text, 0, &refs, crate::fix::Applicability::Safe, true);
        assert_eq!(
            fixed.fixed_text.unwrap(),
            "import asyncio\nimport functools\n\nx = 1\n"
        );
    }

    #[test]
    fn import_is_sorted_into_the_existing_block() {
        let text = "import os\nimport time\nfrom x import y\n\nz = 1\n";
        assert_eq!(
            add_import(text),
            "import asyncio\nimport os\nimport time\nfrom x import y\n\nz = 1\n"
        );
        let text = "import abc\nfrom x import y\n";
        assert_eq!(
            add_import(text),
            "import abc\nimport asyncio\nfrom x import y\n"
        );
    }

    #[test]
    fn stdlib_import_goes_to_the_stdlib_section_and_third_party_to_its_own() {
        let text = "import os\nimport time\n\nimport requests\nfrom yarl import URL\n\nx = 1\n";
        assert_eq!(
            add_import(text),
            "import asyncio\nimport os\nimport time\n\nimport requests\nfrom yarl import URL\n\nx = 1\n"
        );
        let parsed = parse(text);
        let index = build_index(&parsed.tree, text);
        let httpx = reference_module(&index, &parsed.tree, text, "\n", "httpx", text.len() - 1)
            .unwrap()
            .import;
        assert_eq!(
            apply_edits(text, &httpx),
            "import os\nimport time\n\nimport httpx\nimport requests\nfrom yarl import URL\n\nx = 1\n"
        );
    }

    #[test]
    fn a_section_of_less_common_stdlib_modules_is_the_stdlib_section() {
        // atexit and getopt are standard-library modules (the one list of `stdlib_names`):
        // a third-party import goes to the requests section, not beside them.
        let text = "import atexit\nimport getopt\n\nimport requests\n\nx = 1\n";
        let parsed = parse(text);
        let index = build_index(&parsed.tree, text);
        let httpx = reference_module(&index, &parsed.tree, text, "\n", "httpx", text.len() - 1)
            .unwrap()
            .import;
        assert_eq!(
            apply_edits(text, &httpx),
            "import atexit\nimport getopt\n\nimport httpx\nimport requests\n\nx = 1\n"
        );
    }

    #[test]
    fn force_sorted_sections_keep_module_order_across_from_lines() {
        // Home Assistant style: `from` and `import` lines sorted together by module.
        let text =
            "from collections.abc import Mapping\nimport os\nfrom typing import Any\n\nx = 1\n";
        assert_eq!(
            add_import(text),
            "import asyncio\nfrom collections.abc import Mapping\nimport os\nfrom typing import Any\n\nx = 1\n"
        );
    }

    #[test]
    fn existing_alias_is_reused() {
        let text = "import asyncio as aio\nx = 1\n";
        let parsed = parse(text);
        let index = build_index(&parsed.tree, text);
        let reference = reference_module(&index, &parsed.tree, text, "\n", "asyncio", 23).unwrap();
        assert_eq!(reference.name, "aio");
        assert!(reference.import.is_empty());
    }

    #[test]
    fn type_checking_import_gets_a_runtime_import() {
        let text =
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import asyncio\nx = 1\n";
        assert_eq!(
            add_import(text),
            "import asyncio\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import asyncio\nx = 1\n"
        );
    }

    #[test]
    fn shadowed_module_name_is_refused() {
        let text = "def f(asyncio):\n    return asyncio\n";
        let parsed = parse(text);
        let index = build_index(&parsed.tree, text);
        assert!(reference_module(&index, &parsed.tree, text, "\n", "asyncio", 27).is_err());
    }

    fn remove(text: &str, names: &[&str]) -> String {
        let parsed = parse(text);
        apply_edits(text, &orphaned_import_removals(text, &parsed, names))
    }

    #[test]
    fn unused_import_is_removed_but_used_or_exported_kept() {
        assert_eq!(remove("import time\nx = 1\n", &["time"]), "x = 1\n");
        assert_eq!(
            remove("import time\nx = time.time()\n", &["time"]),
            "import time\nx = time.time()\n"
        );
        let exported = "from time import sleep\n__all__ = ['sleep']\n";
        assert_eq!(remove(exported, &["sleep"]), exported);
        assert_eq!(
            remove("from time import sleep, time\nx = time()\n", &["sleep"]),
            "from time import time\nx = time()\n"
        );
        assert_eq!(
            remove("from time import time, sleep\nx = time()\n", &["sleep"]),
            "from time import time\nx = time()\n"
        );
        assert_eq!(
            remove("import time\n\nimport trio\n", &["time"]),
            "import trio\n"
        );
        assert_eq!(
            remove("import os\n\nimport time\n\nx = os\n", &["time"]),
            "import os\n\nx = os\n"
        );
        let commented = "import time  # keep\n";
        assert_eq!(remove(commented, &["time"]), commented);
        let only_in_block = "try:\n    import time\nexcept ImportError:\n    pass\n";
        assert_eq!(remove(only_in_block, &["time"]), only_in_block);
    }

    #[test]
    fn attribute_and_keyword_names_are_not_uses() {
        assert_eq!(
            remove("import time\nx.time = f(time=1)\n", &["time"]),
            "x.time = f(time=1)\n"
        );
    }
}
