//! Builds a [`SemanticIndex`] in one iterative walk of the syntax tree (no recursion, so a
//! 10,000-deep expression cannot overflow the stack).

use crate::parse::KindName;
use std::collections::HashMap;
use std::ops::Range;

use tree_sitter::{Node, Tree, TreeCursor};

use super::{Binding, BindingId, BindingKind, Scope, ScopeId, ScopeKind, SemanticIndex};
use crate::parse::{Field, FieldChild};

struct Builder<'a> {
    source: &'a str,
    scopes: Vec<Scope>,
    bindings: Vec<Binding>,
    dunder_all: Option<Vec<String>>,
    /// Bodies of `if TYPE_CHECKING:` blocks seen so far.
    type_checking_blocks: Vec<Range<usize>>,
    attribute_values: HashMap<(ScopeId, String), Vec<Range<usize>>>,
    /// `try:` bodies and their `except ImportError:` handlers seen so far (see
    /// [`Builder::is_import_fallback`]).
    import_fallbacks: Vec<(Range<usize>, Range<usize>)>,
}

pub fn build_index(tree: &Tree, source: &str) -> SemanticIndex {
    let root = tree.root_node();
    let mut builder = Builder {
        source,
        scopes: Vec::new(),
        bindings: Vec::new(),
        dunder_all: None,
        type_checking_blocks: Vec::new(),
        attribute_values: HashMap::new(),
        import_fallbacks: Vec::new(),
    };
    let module = builder.new_scope(ScopeKind::Module, None, 0..source.len(), None);
    let mut pending = Pending {
        stack: vec![(root, module)],
        cursor: root.walk(),
    };
    while let Some((node, scope)) = pending.stack.pop() {
        builder.visit(node, scope, &mut pending);
    }
    let mut scopes_by_start: Vec<ScopeId> = (0..builder.scopes.len() as u32).map(ScopeId).collect();
    scopes_by_start.sort_by_key(|id| {
        let range = &builder.scopes[id.0 as usize].range;
        (range.start, std::cmp::Reverse(range.end), *id)
    });
    let mut imports = Vec::new();
    let mut by_scope = vec![Vec::new(); builder.scopes.len()];
    for (i, binding) in builder.bindings.iter().enumerate() {
        let id = BindingId(i as u32);
        if matches!(binding.kind, BindingKind::Import { .. }) {
            imports.push(id);
        }
        by_scope[binding.scope.0 as usize].push(id);
    }
    SemanticIndex {
        scopes: builder.scopes,
        bindings: builder.bindings,
        scopes_by_start,
        dunder_all: builder.dunder_all,
        attribute_values: builder.attribute_values,
        imports,
        by_scope,
    }
}

/// The nodes left to visit, each with the scope it is in, and one cursor reused to list
/// children (a cursor and a list per node were a tenth of the index's time).
struct Pending<'t> {
    stack: Vec<(Node<'t>, ScopeId)>,
    cursor: TreeCursor<'t>,
}

impl<'t> Pending<'t> {
    fn push(&mut self, entry: (Node<'t>, ScopeId)) {
        self.stack.push(entry);
    }

    /// Push the named children of `node` (in reverse, so they pop in source order).
    fn push_children(&mut self, node: Node<'t>, scope: ScopeId) {
        let start = self.stack.len();
        self.cursor.reset(node);
        if self.cursor.goto_first_child() {
            loop {
                let child = self.cursor.node();
                if child.is_named() {
                    self.stack.push((child, scope));
                }
                if !self.cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        self.stack[start..].reverse();
    }
}

impl<'a> Builder<'a> {
    fn text(&self, node: Node) -> &'a str {
        &self.source[node.byte_range()]
    }

    fn new_scope(
        &mut self,
        kind: ScopeKind,
        parent: Option<ScopeId>,
        range: Range<usize>,
        name: Option<String>,
    ) -> ScopeId {
        let id = ScopeId(self.scopes.len() as u32);
        self.scopes.push(Scope {
            kind,
            parent,
            range,
            name,
            bindings: HashMap::new(),
            globals: Vec::new(),
            nonlocals: Vec::new(),
        });
        id
    }

    fn bind(&mut self, name: &str, kind: BindingKind, scope: ScopeId, range: Range<usize>) {
        self.bind_typed(name, kind, scope, range, None, None);
    }

    /// Bind `name`, remembering the value or annotation that says what it holds.
    fn bind_typed(
        &mut self,
        name: &str,
        kind: BindingKind,
        scope: ScopeId,
        range: Range<usize>,
        value: Option<Range<usize>>,
        annotation: Option<Range<usize>>,
    ) {
        let scope = self.binding_scope(name, scope);
        if self.is_import_fallback(name, &kind, scope, &range) {
            return;
        }
        let id = BindingId(self.bindings.len() as u32);
        self.bindings.push(Binding {
            name: name.to_owned(),
            kind,
            scope,
            range,
            value,
            annotation,
        });
        self.scopes[scope.0 as usize]
            .bindings
            .entry(name.to_owned())
            .or_default()
            .push(id);
    }

    /// Whether a binding is the fallback of an import: made (by anything but an import) in an
    /// `except ImportError:` handler of a `try:` whose body imports the same name in the same
    /// scope (`try: import redis` / `except ImportError: redis = None`). The import is what
    /// runs wherever the module is installed, so the fallback is not recorded and every use
    /// resolves to the import.
    fn is_import_fallback(
        &self,
        name: &str,
        kind: &BindingKind,
        scope: ScopeId,
        range: &Range<usize>,
    ) -> bool {
        if self.import_fallbacks.is_empty() || matches!(kind, BindingKind::Import { .. }) {
            return false;
        }
        let Some(ids) = self.scopes[scope.0 as usize].bindings.get(name) else {
            return false;
        };
        self.import_fallbacks
            .iter()
            .filter(|(_, handler)| handler.start <= range.start && range.end <= handler.end)
            .any(|(body, _)| {
                ids.iter().any(|id| {
                    let binding = &self.bindings[id.0 as usize];
                    matches!(binding.kind, BindingKind::Import { .. })
                        && body.start <= binding.range.start
                        && binding.range.end <= body.end
                })
            })
    }

    /// Record the `except` handlers of a `try:` that catch a failed import (`ImportError`,
    /// `ModuleNotFoundError`, a bare `except:`, `Exception`), with the `try:` body.
    fn record_import_fallbacks(&mut self, node: Node) {
        let Some(body) = node.field(Field::Body) else {
            return;
        };
        let mut cursor = node.walk();
        for clause in node.named_children(&mut cursor) {
            if clause.kind_name() != "except_clause" {
                continue;
            }
            let catches_import = match clause.field(Field::Value) {
                None => true,
                Some(value) => {
                    let mut names = vec![value];
                    if value.kind_name() == "tuple" {
                        let mut inner = value.walk();
                        names = value.named_children(&mut inner).collect();
                    }
                    names.iter().any(|n| {
                        n.kind_name() == "identifier"
                            && matches!(
                                self.text(*n),
                                "ImportError"
                                    | "ModuleNotFoundError"
                                    | "Exception"
                                    | "BaseException"
                            )
                    })
                }
            };
            if catches_import {
                self.import_fallbacks
                    .push((body.byte_range(), clause.byte_range()));
            }
        }
    }

    /// The scope a binding of `name` made in `scope` lands in: `global` sends it to the
    /// module, `nonlocal` to the nearest enclosing function that binds it.
    fn binding_scope(&self, name: &str, scope: ScopeId) -> ScopeId {
        let current = &self.scopes[scope.0 as usize];
        if current.globals.iter().any(|g| g == name) {
            return ScopeId(0);
        }
        if current.nonlocals.iter().any(|n| n == name) {
            let mut id = current.parent;
            while let Some(parent) = id {
                let candidate = &self.scopes[parent.0 as usize];
                if matches!(
                    candidate.kind,
                    ScopeKind::Function { .. } | ScopeKind::Lambda
                ) && candidate.bindings.contains_key(name)
                {
                    return parent;
                }
                id = candidate.parent;
            }
        }
        scope
    }

    /// The scope a walrus target binds in: the nearest enclosing non-comprehension scope.
    fn walrus_scope(&self, mut scope: ScopeId) -> ScopeId {
        while let ScopeKind::Comprehension { .. } = self.scopes[scope.0 as usize].kind {
            match self.scopes[scope.0 as usize].parent {
                Some(parent) => scope = parent,
                None => break,
            }
        }
        scope
    }

    /// Bind every name in an assignment target (`a`, `a, b`, `[a, *b]`, `(a, (b, c))`);
    /// attributes and subscripts bind nothing. Iterative: targets can be deeply nested.
    fn bind_target(&mut self, target: Node, scope: ScopeId, kind: BindingKind) {
        let mut pending = vec![target];
        while let Some(node) = pending.pop() {
            match node.kind_name() {
                "identifier" => self.bind(self.text(node), kind.clone(), scope, node.byte_range()),
                "pattern_list"
                | "tuple_pattern"
                | "list_pattern"
                | "tuple"
                | "list"
                | "expression_list"
                | "parenthesized_expression"
                | "list_splat_pattern"
                | "list_splat"
                | "as_pattern_target" => {
                    let mut cursor = node.walk();
                    pending.extend(node.named_children(&mut cursor));
                }
                _ => {}
            }
        }
    }

    fn bind_parameters(&mut self, parameters: Node, scope: ScopeId) {
        let mut cursor = parameters.walk();
        for parameter in parameters.named_children(&mut cursor) {
            let name = match parameter.kind_name() {
                "identifier" => Some(parameter),
                "default_parameter" | "typed_default_parameter" => parameter.field(Field::Name),
                "typed_parameter" | "list_splat_pattern" | "dictionary_splat_pattern" => {
                    let mut inner = parameter.walk();
                    let found = parameter.named_children(&mut inner).find(|c| {
                        matches!(
                            c.kind_name(),
                            "identifier" | "list_splat_pattern" | "dictionary_splat_pattern"
                        )
                    });
                    found.and_then(|c| {
                        if c.kind_name() == "identifier" {
                            Some(c)
                        } else {
                            c.named_child(0)
                        }
                    })
                }
                _ => None,
            };
            if let Some(name) = name.filter(|n| n.kind_name() == "identifier") {
                let annotation = match parameter.kind_name() {
                    "typed_parameter" | "typed_default_parameter" => {
                        parameter.field(Field::Type).map(|t| t.byte_range())
                    }
                    _ => None,
                };
                self.bind_typed(
                    self.text(name),
                    BindingKind::Parameter,
                    scope,
                    name.byte_range(),
                    None,
                    annotation,
                );
            }
        }
    }

    fn visit<'t>(&mut self, node: Node<'t>, scope: ScopeId, stack: &mut Pending<'t>) {
        match node.kind_name() {
            "function_definition" => {
                let is_async = node.child(0).is_some_and(|c| c.kind_name() == "async");
                let name = node.field(Field::Name);
                if let Some(name) = name {
                    self.bind(
                        self.text(name),
                        BindingKind::Function { is_async },
                        scope,
                        name.byte_range(),
                    );
                }
                let Some(body) = node.field(Field::Body) else {
                    stack.push_children(node, scope);
                    return;
                };
                let inner = self.new_scope(
                    ScopeKind::Function { is_async },
                    Some(scope),
                    body.byte_range(),
                    name.map(|n| self.text(n).to_owned()),
                );
                if let Some(parameters) = node.field(Field::Parameters) {
                    self.bind_parameters(parameters, inner);
                    // Defaults and annotations run in the enclosing scope.
                    stack.push((body, inner));
                    stack.push((parameters, scope));
                } else {
                    stack.push((body, inner));
                }
                if let Some(returns) = node.field(Field::ReturnType) {
                    stack.push((returns, scope));
                }
            }
            "lambda" => {
                let Some(body) = node.field(Field::Body) else {
                    stack.push_children(node, scope);
                    return;
                };
                let inner = self.new_scope(ScopeKind::Lambda, Some(scope), body.byte_range(), None);
                stack.push((body, inner));
                if let Some(parameters) = node.field(Field::Parameters) {
                    self.bind_parameters(parameters, inner);
                    stack.push((parameters, scope));
                }
            }
            "class_definition" => {
                let name = node.field(Field::Name);
                if let Some(name) = name {
                    self.bind(
                        self.text(name),
                        BindingKind::Class,
                        scope,
                        name.byte_range(),
                    );
                }
                let Some(body) = node.field(Field::Body) else {
                    stack.push_children(node, scope);
                    return;
                };
                let inner = self.new_scope(
                    ScopeKind::Class,
                    Some(scope),
                    body.byte_range(),
                    name.map(|n| self.text(n).to_owned()),
                );
                stack.push((body, inner));
                if let Some(superclasses) = node.field(Field::Superclasses) {
                    stack.push((superclasses, scope));
                }
            }
            "list_comprehension"
            | "set_comprehension"
            | "dictionary_comprehension"
            | "generator_expression" => {
                let generator = node.kind_name() == "generator_expression";
                let inner = self.new_scope(
                    ScopeKind::Comprehension { generator },
                    Some(scope),
                    node.byte_range(),
                    None,
                );
                let mut cursor = node.walk();
                for clause in node.named_children(&mut cursor) {
                    if clause.kind_name() == "for_in_clause"
                        && let Some(left) = clause.field(Field::Left)
                    {
                        self.bind_target(left, inner, BindingKind::Assignment);
                    }
                }
                stack.push_children(node, inner);
            }
            "if_statement" => {
                let condition = node.field(Field::Condition);
                let is_type_checking = condition.is_some_and(|c| {
                    let text = self.text(c);
                    text == "TYPE_CHECKING" || text.ends_with(".TYPE_CHECKING")
                });
                if is_type_checking && let Some(body) = node.field(Field::Consequence) {
                    self.type_checking_blocks.push(body.byte_range());
                }
                stack.push_children(node, scope);
            }
            "import_statement" => self.bind_import(node, scope),
            "import_from_statement" => self.bind_from_import(node, scope),
            "global_statement" | "nonlocal_statement" => {
                let mut cursor = node.walk();
                let names: Vec<String> = node
                    .named_children(&mut cursor)
                    .filter(|c| c.kind_name() == "identifier")
                    .map(|c| self.text(c).to_owned())
                    .collect();
                let target = &mut self.scopes[scope.0 as usize];
                if node.kind_name() == "global_statement" {
                    target.globals.extend(names);
                } else {
                    target.nonlocals.extend(names);
                }
            }
            "assignment"
                if node
                    .field(Field::Left)
                    .is_some_and(|l| matches!(l.kind_name(), "identifier" | "attribute")) =>
            {
                let left = node.field(Field::Left).expect("checked");
                // `a = b = value`: every target gets the innermost value.
                let mut right = node.field(Field::Right);
                while let Some(inner) = right.filter(|r| r.kind_name() == "assignment") {
                    right = inner.field(Field::Right);
                }
                let value = right.map(|r| r.byte_range());
                let annotation = node.field(Field::Type).map(|t| t.byte_range());
                if left.kind_name() == "identifier" {
                    self.bind_typed(
                        self.text(left),
                        BindingKind::Assignment,
                        scope,
                        left.byte_range(),
                        value,
                        annotation,
                    );
                    if scope == ScopeId(0) && self.text(left) == "__all__" {
                        self.record_dunder_all(node);
                    }
                } else if let Some(value) = value {
                    self.record_attribute_value(left, scope, value);
                }
                stack.push_children(node, scope);
            }
            "assignment" | "augmented_assignment" => {
                if let Some(left) = node.field(Field::Left) {
                    self.bind_target(left, scope, BindingKind::Assignment);
                    if scope == ScopeId(0) && self.text(left) == "__all__" {
                        self.record_dunder_all(node);
                    }
                }
                stack.push_children(node, scope);
            }
            "for_statement" => {
                if let Some(left) = node.field(Field::Left) {
                    self.bind_target(left, scope, BindingKind::Assignment);
                }
                stack.push_children(node, scope);
            }
            "as_pattern" => {
                // `with x as y` / `except E as e` carry an `alias` field; `case P as y` ends
                // with the bound identifier.
                let alias = node.field(Field::Alias).or_else(|| {
                    node.named_child(node.named_child_count().saturating_sub(1) as u32)
                        .filter(|last| {
                            last.kind_name() == "identifier"
                                && node
                                    .parent()
                                    .is_some_and(|p| p.kind_name() == "case_pattern")
                        })
                });
                let in_with = node.parent().is_some_and(|p| p.kind_name() == "with_item");
                let single_name = alias.and_then(|a| {
                    if a.kind_name() == "identifier" {
                        Some(a)
                    } else {
                        a.named_child(0)
                            .filter(|n| n.kind_name() == "identifier" && a.named_child_count() == 1)
                    }
                });
                match (alias, single_name) {
                    (Some(_), Some(name)) if in_with => {
                        // `with value as name`: `__enter__` of clients, sessions and
                        // connections returns the object itself.
                        let value = node.named_child(0).map(|v| v.byte_range());
                        self.bind_typed(
                            self.text(name),
                            BindingKind::Assignment,
                            scope,
                            name.byte_range(),
                            value,
                            None,
                        );
                    }
                    (Some(alias), _) => self.bind_target(alias, scope, BindingKind::Assignment),
                    (None, _) => {}
                }
                stack.push_children(node, scope);
            }
            // Capture patterns in `match`: `case x`, `case [a, *rest]`, `case {**kw}`,
            // `case Point(x=px)` bind names; `case Color.RED` (dotted) is a value.
            "case_pattern" | "keyword_pattern" => {
                let capture = if node.kind_name() == "case_pattern" {
                    node.named_child(0)
                        .filter(|_| node.named_child_count() == 1)
                } else {
                    node.named_child(1)
                };
                if let Some(capture) =
                    capture.filter(|c| c.kind_name() == "dotted_name" && c.named_child_count() == 1)
                    && let Some(name) = capture.named_child(0)
                    && self.text(name) != "_"
                {
                    self.bind(
                        self.text(name),
                        BindingKind::Assignment,
                        scope,
                        name.byte_range(),
                    );
                }
                stack.push_children(node, scope);
            }
            "splat_pattern" => {
                if let Some(name) = node
                    .named_child(0)
                    .filter(|n| n.kind_name() == "identifier")
                {
                    self.bind(
                        self.text(name),
                        BindingKind::Assignment,
                        scope,
                        name.byte_range(),
                    );
                }
            }
            "try_statement" => {
                self.record_import_fallbacks(node);
                stack.push_children(node, scope);
            }
            "except_clause" => {
                if let Some(alias) = node.field(Field::Alias) {
                    self.bind_target(alias, scope, BindingKind::Assignment);
                }
                stack.push_children(node, scope);
            }
            // `del x` makes `x` local to its function, like an assignment.
            "delete_statement" => {
                let mut cursor = node.walk();
                let targets: Vec<Node> = node.named_children(&mut cursor).collect();
                for target in targets {
                    self.bind_target(target, scope, BindingKind::Assignment);
                }
            }
            "named_expression" => {
                if let Some(name) = node.field(Field::Name) {
                    let target = self.walrus_scope(scope);
                    self.bind(
                        self.text(name),
                        BindingKind::Assignment,
                        target,
                        name.byte_range(),
                    );
                }
                stack.push_children(node, scope);
            }
            "expression_statement" => {
                if scope == ScopeId(0) {
                    self.record_dunder_all_extension(node);
                }
                stack.push_children(node, scope);
            }
            // Leaves and strings hold no scopes or bindings.
            "identifier" | "string" | "comment" | "integer" | "float" => {}
            _ => stack.push_children(node, scope),
        }
    }

    fn in_type_checking_block(&self, statement: &Range<usize>) -> bool {
        self.type_checking_blocks
            .iter()
            .any(|block| block.start <= statement.start && statement.end <= block.end)
    }

    fn bind_import(&mut self, node: Node, scope: ScopeId) {
        let statement = node.byte_range();
        let mut cursor = node.walk();
        for name in node.children_by_field_name("name", &mut cursor) {
            match name.kind_name() {
                "dotted_name" => {
                    let dotted = self.text(name);
                    let top = dotted.split('.').next().unwrap_or(dotted).trim();
                    self.bind(
                        top,
                        BindingKind::Import {
                            qualified: top.to_owned(),
                            statement: statement.clone(),
                            clause: name.byte_range(),
                            type_checking_only: self.in_type_checking_block(&statement),
                        },
                        scope,
                        name.byte_range(),
                    );
                }
                "aliased_import" => {
                    let (Some(module), Some(alias)) =
                        (name.field(Field::Name), name.field(Field::Alias))
                    else {
                        continue;
                    };
                    self.bind(
                        self.text(alias),
                        BindingKind::Import {
                            qualified: normalize_dotted(self.text(module)),
                            statement: statement.clone(),
                            clause: name.byte_range(),
                            type_checking_only: self.in_type_checking_block(&statement),
                        },
                        scope,
                        name.byte_range(),
                    );
                }
                _ => {}
            }
        }
    }

    fn bind_from_import(&mut self, node: Node, scope: ScopeId) {
        let statement = node.byte_range();
        let Some(module) = node.field(Field::ModuleName) else {
            return;
        };
        let module = normalize_dotted(self.text(module));
        let mut cursor = node.walk();
        for name in node.children_by_field_name("name", &mut cursor) {
            let (imported, bound) = match name.kind_name() {
                "dotted_name" => (name, name),
                "aliased_import" => match (name.field(Field::Name), name.field(Field::Alias)) {
                    (Some(imported), Some(alias)) => (imported, alias),
                    _ => continue,
                },
                _ => continue,
            };
            let imported = normalize_dotted(self.text(imported));
            let qualified = if module.ends_with('.') {
                format!("{module}{imported}")
            } else {
                format!("{module}.{imported}")
            };
            self.bind(
                self.text(bound),
                BindingKind::Import {
                    qualified,
                    statement: statement.clone(),
                    clause: name.byte_range(),
                    type_checking_only: self.in_type_checking_block(&statement),
                },
                scope,
                name.byte_range(),
            );
        }
    }

    /// `self.attr = value` in a method: remembered per class, so `self.attr.get()` in another
    /// method knows what `self.attr` holds.
    fn record_attribute_value(&mut self, target: Node, scope: ScopeId, value: Range<usize>) {
        let (Some(object), Some(attribute)) =
            (target.field(Field::Object), target.field(Field::Attribute))
        else {
            return;
        };
        if object.kind_name() != "identifier" || !matches!(self.text(object), "self" | "cls") {
            return;
        }
        let method = &self.scopes[scope.0 as usize];
        let Some(class) = method
            .parent
            .filter(|p| self.scopes[p.0 as usize].kind == ScopeKind::Class)
        else {
            return;
        };
        if !matches!(method.kind, ScopeKind::Function { .. }) {
            return;
        }
        self.attribute_values
            .entry((class, self.text(attribute).to_owned()))
            .or_default()
            .push(value);
    }

    /// `__all__ = ["a", "b"]` (or a tuple, or `+=`).
    fn record_dunder_all(&mut self, assignment: Node) {
        let Some(right) = assignment.field(Field::Right) else {
            return;
        };
        let names = self.string_items(right);
        let all = self.dunder_all.get_or_insert_with(Vec::new);
        if assignment.kind_name() == "assignment" {
            all.clear();
        }
        all.extend(names);
    }

    /// `__all__.extend([...])` / `__all__.append("x")`.
    fn record_dunder_all_extension(&mut self, statement: Node) {
        let Some(call) = statement.named_child(0).filter(|c| c.kind_name() == "call") else {
            return;
        };
        let Some(function) = call.field(Field::Function) else {
            return;
        };
        let text = self.text(function);
        if text != "__all__.extend" && text != "__all__.append" {
            return;
        }
        if let Some(arguments) = call.field(Field::Arguments) {
            let names = self.string_items(arguments);
            self.dunder_all.get_or_insert_with(Vec::new).extend(names);
        }
    }

    fn string_items(&self, node: Node) -> Vec<String> {
        let mut names = Vec::new();
        let mut pending = vec![node];
        while let Some(node) = pending.pop() {
            if node.kind_name() == "string" {
                let text = self.text(node);
                let trimmed = text.trim_matches(|c| c == '"' || c == '\'');
                names.push(trimmed.to_owned());
            } else {
                let mut cursor = node.walk();
                let children: Vec<Node> = node.named_children(&mut cursor).collect();
                pending.extend(children.into_iter().rev());
            }
        }
        names
    }
}

/// `a . b` → `a.b` (tree-sitter keeps the source spacing of dotted names).
fn normalize_dotted(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '\\')
        .collect()
}
