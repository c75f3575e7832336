//! What a value was made by: enough type knowledge to recognise calls on objects.
//!
//! An object is named after the callable that produced it, so no type table is needed:
//! `requests.Session()` gives an object of kind `requests.Session`, its `get` method is
//! `requests.Session().get`, and what `sqlite3.connect(p).cursor()` returns is of kind
//! `sqlite3.connect().cursor`. Names are followed through simple assignments
//! (`s = requests.Session()`), `with ... as s`, annotations (`path: Path`,
//! `Optional[Path]`, `Path | None`) and attributes set on `self` in any method of the class.
//! A member of a known object, by attribute or item (`client.shop`, `client["shop"]`), is of
//! the kind `<object kind>.*`: `pymongo.MongoClient.*.*().find_one` is a collection's
//! `find_one`, whatever the database and collection are called.

use crate::parse::KindName;
use tree_sitter::Node;

use super::{BindingKind, Resolution, ScopeKind, SemanticIndex};
use crate::parse::{Field, FieldChild};

/// How many assignments are followed before giving up (also stops cycles: `a = b; b = a`).
const MAX_DEPTH: usize = 12;

/// Context managers whose `__enter__` returns the object they wrap: the target of
/// `with closing(sqlite3.connect(p)) as con:` is the connection.
pub const ENTER_RETURNS_ARGUMENT: &[&str] = &["contextlib.closing"];

/// `pathlib.Path().resolve` → `pathlib.Path`: the path methods that return a path of the same
/// class, so that `path.resolve().exists()` is a `pathlib.Path().exists` call.
fn path_method_result(callable: &str) -> Option<String> {
    // `Path.home()`, `Path.cwd()`: class methods making a path of their class.
    if let Some(class) = callable
        .strip_suffix(".home")
        .or_else(|| callable.strip_suffix(".cwd"))
        .filter(|class| class.starts_with("pathlib.") && !class.contains("()"))
    {
        return Some(class.to_owned());
    }
    let (class, method) = callable.split_once("().")?;
    if !class.starts_with("pathlib.") || method.contains('.') {
        return None;
    }
    matches!(
        method,
        "resolve"
            | "absolute"
            | "expanduser"
            | "with_name"
            | "with_stem"
            | "with_suffix"
            | "with_segments"
            | "joinpath"
            | "relative_to"
            | "readlink"
    )
    .then(|| class.to_owned())
}

/// The node whose bytes are exactly `range`, if there is one.
pub fn node_at<'t>(root: Node<'t>, range: &std::ops::Range<usize>) -> Option<Node<'t>> {
    let mut node = root.descendant_for_byte_range(range.start, range.end)?;
    // The smallest node spanning the range may be a parent with extra bytes; never a child.
    while node.byte_range() != *range {
        node = node.parent()?;
        if node.start_byte() < range.start {
            return None;
        }
    }
    Some(node)
}

impl SemanticIndex {
    /// The name of what `callee` calls: its qualified name (`time.sleep`), or for a method on
    /// a known object, `<object kind>().<method>` (`requests.Session().get`), or for a local
    /// alias of a function (`fetch = requests.get`), the function's name.
    pub fn callable_name(&self, callee: Node, root: Node, source: &str) -> Option<String> {
        self.callable_name_at_depth(callee, root, source, 0)
    }

    fn callable_name_at_depth(
        &self,
        callee: Node,
        root: Node,
        source: &str,
        depth: usize,
    ) -> Option<String> {
        if depth > MAX_DEPTH {
            return None;
        }
        // `Baydb.session.commit` of a class of the file keeping a session: the method of the
        // class attribute's kind, before the name the class qualifies it with.
        if callee.kind_name() == "attribute"
            && let Some(object) = callee.field(Field::Object)
            && object.kind_name() == "attribute"
            && let Some(class) = object.field(Field::Object)
            && class.kind_name() == "identifier"
            && let Some(member) = object.field(Field::Attribute)
            && let Some(method) = callee.field(Field::Attribute)
            && let Some(kind) = self.class_attribute_kind(class, member, root, source, depth)
        {
            return Some(format!("{kind}().{}", &source[method.byte_range()]));
        }
        if let Some(qualified) = self.qualified_name(callee, source) {
            return Some(qualified);
        }
        match callee.kind_name() {
            "attribute" => {
                let object = callee.field(Field::Object)?;
                let attribute = callee.field(Field::Attribute)?;
                let kind = self.object_kind_at_depth(object, root, source, depth + 1)?;
                Some(format!("{kind}().{}", &source[attribute.byte_range()]))
            }
            "identifier" => {
                // `fetch = requests.get` then `fetch(url)`.
                let name = &source[callee.byte_range()];
                let Resolution::Binding(id) = self.resolve_name(name, callee.start_byte()) else {
                    return None;
                };
                let binding = self.binding(id);
                if binding.kind != BindingKind::Assignment {
                    return None;
                }
                let value = node_at(root, binding.value.as_ref()?)?;
                if matches!(value.kind_name(), "identifier" | "attribute") {
                    self.callable_name_at_depth(value, root, source, depth + 1)
                } else {
                    // `Session = sessionmaker(bind=engine)` then `Session()`: calling an
                    // object of a known kind is its `__call__`.
                    self.object_kind_at_depth(value, root, source, depth + 1)
                        .map(|kind| format!("{kind}().__call__"))
                }
            }
            "parenthesized_expression" => {
                self.callable_name_at_depth(callee.named_child(0)?, root, source, depth + 1)
            }
            _ => None,
        }
    }

    /// The kind of object `expr` evaluates to, named after what made it (see the module doc).
    pub fn object_kind(&self, expr: Node, root: Node, source: &str) -> Option<String> {
        self.object_kind_at_depth(expr, root, source, 0)
    }

    fn object_kind_at_depth(
        &self,
        expr: Node,
        root: Node,
        source: &str,
        depth: usize,
    ) -> Option<String> {
        if depth > MAX_DEPTH {
            return None;
        }
        match expr.kind_name() {
            "call" => {
                let callee = expr.field(Field::Function)?;
                let name = self.callable_name_at_depth(callee, root, source, depth + 1)?;
                Some(path_method_result(&name).unwrap_or(name))
            }
            "parenthesized_expression" => {
                self.object_kind_at_depth(expr.named_child(0)?, root, source, depth + 1)
            }
            "identifier" => {
                let name = &source[expr.byte_range()];
                let Resolution::Binding(mut id) = self.resolve_name(name, expr.start_byte()) else {
                    return None;
                };
                // `img = img.resize(...)`: the value is evaluated before the name is bound
                // again, so the `img` in it is the one bound before.
                if let Some(value) = &self.binding(id).value
                    && value.contains(&expr.start_byte())
                {
                    let Resolution::Binding(before) =
                        self.resolve_name(name, self.binding(id).range.start)
                    else {
                        return None;
                    };
                    if before == id {
                        return None;
                    }
                    id = before;
                }
                let binding = self.binding(id);
                if let Some(value) = &binding.value {
                    let value = node_at(root, value)?;
                    let value = self.entered(value, root, source).unwrap_or(value);
                    if let Some(kind) = self.object_kind_at_depth(value, root, source, depth + 1) {
                        return Some(kind);
                    }
                }
                let annotation = node_at(root, binding.annotation.as_ref()?)?;
                self.annotated_kind(annotation, source)
            }
            "attribute" => self.attribute_kind(expr, root, source, depth),
            // `client["shop"]`: a member of a known object, named like an attribute.
            "subscript" => {
                let object = expr.field(Field::Value)?;
                self.object_kind_at_depth(object, root, source, depth + 1)
                    .map(|kind| format!("{kind}.*"))
            }
            // `folder / "name"` on a pathlib path is a path of the same class.
            "binary_operator" => {
                let operator = expr.field(Field::Operator)?;
                let left = expr.field(Field::Left)?;
                if &source[operator.byte_range()] != "/" {
                    return None;
                }
                self.object_kind_at_depth(left, root, source, depth + 1)
                    .filter(|kind| kind.starts_with("pathlib."))
            }
            _ => None,
        }
    }

    /// What `with value as name:` binds when `value` is `closing(x)` (an
    /// [`ENTER_RETURNS_ARGUMENT`] call): `x`.
    pub fn entered<'t>(&self, value: Node<'t>, root: Node, source: &str) -> Option<Node<'t>> {
        let in_with = value.parent().is_some_and(|p| {
            p.kind_name() == "with_item"
                || (p.kind_name() == "as_pattern"
                    && p.parent().is_some_and(|i| i.kind_name() == "with_item"))
        });
        if !in_with || value.kind_name() != "call" {
            return None;
        }
        let name = self.callable_name(value.field(Field::Function)?, root, source)?;
        if !ENTER_RETURNS_ARGUMENT.contains(&name.as_str()) {
            return None;
        }
        let arguments = value.field(Field::Arguments)?;
        (arguments.named_child_count() == 1)
            .then(|| arguments.named_child(0))
            .flatten()
            .filter(|a| a.kind_name() != "keyword_argument")
    }

    /// The call a `with` item holds for `call`: `closing(sqlite3.connect(p))` for the
    /// `connect` it wraps (its `__enter__` gives the connection, its exit closes it), else
    /// `call` itself.
    pub fn with_item_call<'t>(&self, call: Node<'t>, root: Node, source: &str) -> Node<'t> {
        call.parent()
            .filter(|p| p.kind_name() == "argument_list")
            .and_then(|p| p.parent())
            .filter(|wrapper| {
                self.entered(*wrapper, root, source)
                    .is_some_and(|inner| inner.id() == call.id())
            })
            .unwrap_or(call)
    }

    /// `path.parent` is a path of the same class; `self.session` in a method: what every
    /// `self.session = ...` in the class assigned, when they all agree (`None` aside).
    fn attribute_kind(&self, expr: Node, root: Node, source: &str, depth: usize) -> Option<String> {
        let object = expr.field(Field::Object)?;
        let attribute = expr.field(Field::Attribute)?;
        if &source[attribute.byte_range()] == "parent"
            && let Some(kind) = self
                .object_kind_at_depth(object, root, source, depth + 1)
                .filter(|k| k.starts_with("pathlib."))
        {
            return Some(kind);
        }
        if object.kind_name() == "identifier"
            && let Some(kind) = self.class_attribute_kind(object, attribute, root, source, depth)
        {
            return Some(kind);
        }
        if object.kind_name() != "identifier"
            || !matches!(&source[object.byte_range()], "self" | "cls")
        {
            // `client.shop`: a member of a known object (a pymongo database, a collection of
            // it) is named after that object, `pymongo.MongoClient.*`, whatever its name.
            return self
                .object_kind_at_depth(object, root, source, depth + 1)
                .map(|kind| format!("{kind}.*"));
        }
        let mut scope = self.scope_at(expr.start_byte());
        // Up from comprehensions and lambdas to the method, whose parent is the class.
        loop {
            let current = self.scope(scope);
            match current.kind {
                ScopeKind::Function { .. } => break,
                ScopeKind::Comprehension { .. } | ScopeKind::Lambda => scope = current.parent?,
                _ => return None,
            }
        }
        let class = self.scope(scope).parent?;
        if self.scope(class).kind != ScopeKind::Class {
            return None;
        }
        let values = self
            .attribute_values
            .get(&(class, source[attribute.byte_range()].to_owned()))?;
        // `self.conn = None` (before opening, after closing) says nothing about the kind.
        let mut kinds = values
            .iter()
            .filter_map(|range| node_at(root, range))
            .filter(|v| v.kind_name() != "none")
            .map(|v| self.object_kind_at_depth(v, root, source, depth + 1));
        let first = kinds.next()??;
        kinds
            .all(|k| k.as_deref() == Some(first.as_str()))
            .then_some(first)
    }

    /// `Baydb.session` where `Baydb` is a class of the file whose body binds `session =
    /// DBSession()`: the kind of that value (a class attribute, shared by every user of the
    /// class).
    fn class_attribute_kind(
        &self,
        object: Node,
        attribute: Node,
        root: Node,
        source: &str,
        depth: usize,
    ) -> Option<String> {
        let name = &source[object.byte_range()];
        let Resolution::Binding(id) = self.resolve_name(name, object.start_byte()) else {
            return None;
        };
        let class = self.binding(id);
        if class.kind != BindingKind::Class {
            return None;
        }
        let (scope, _) = self.scopes().find(|(_, scope)| {
            scope.kind == ScopeKind::Class
                && scope.parent == Some(class.scope)
                && scope.name.as_deref() == Some(name)
                && scope.range.start >= class.range.end
        })?;
        let attribute = self.binding_in_scope(scope, &source[attribute.byte_range()])?;
        let binding = self.binding(attribute);
        if binding.kind != BindingKind::Assignment {
            return None;
        }
        let value = node_at(root, binding.value.as_ref()?)?;
        self.object_kind_at_depth(value, root, source, depth + 1)
    }

    /// `Path`, `pathlib.Path`, `Optional[Path]`, `Path | None`, `"Path"` → `pathlib.Path`;
    /// `Queue[int]` → `queue.Queue`.
    fn annotated_kind(&self, annotation: Node, source: &str) -> Option<String> {
        let mut node = annotation;
        loop {
            match node.kind_name() {
                "type" | "parenthesized_expression" => node = node.named_child(0)?,
                "identifier" | "attribute" => return self.qualified_name(node, source),
                "binary_operator" => {
                    // `X | None`: the side that is not None.
                    let left = node.field(Field::Left)?;
                    let right = node.field(Field::Right)?;
                    node = if &source[left.byte_range()] == "None" {
                        right
                    } else {
                        left
                    };
                }
                "generic_type" | "subscript" => {
                    let base = node.named_child(0)?;
                    let base_name = self.qualified_name(base, source)?;
                    if base_name != "typing.Optional" {
                        // `queue.Queue[int]`, `Future[str]`: an object of the generic class;
                        // `Union[...]` names no one class.
                        return (base_name != "typing.Union").then_some(base_name);
                    }
                    let mut inner = node.named_child(1)?;
                    if inner.kind_name() == "type_parameter" {
                        inner = inner.named_child(0)?;
                    }
                    node = inner;
                }
                _ => return None,
            }
        }
    }
}
