//! Async test bodies and fixtures (`[single-task.tests]` in `codemods/*.toml`): pytest-asyncio
//! and anyio's pytest plugin run a marked `async def test_*` (`@pytest.mark.asyncio` on it or
//! its class, a `pytestmark`, or `asyncio_mode = "auto"`) on a loop where nothing else runs;
//! `unittest.IsolatedAsyncioTestCase` runs each `test*` method (after its `asyncSetUp`) so too.
//! `entry` counts a call there as single-task while nothing before it in the body suspended on
//! anything but a quiet library or started work, as it does for `asyncio.run(main())`.
//!
//! Conservative: every fixture the test takes (its parameters, `usefixtures`) and every
//! autouse fixture of the file must be a fixture the file defines that starts nothing before
//! its `yield` (a synchronous one, or an `async def` alone up to its `yield`), or one of the
//! `quiet-fixtures` of pytest and its plugins; any other parameter is a doubt. An async
//! fixture is alone at its start on the same terms, up to its `yield`. A test the file also
//! mentions elsewhere, a test case with another base, or a masked body is a doubt.

use std::collections::HashSet;

use tree_sitter::Node;

use super::FileContext;
use super::concurrency::{quiet_suspension, schedules_work, suspension};
use super::first_suspension::before_first_suspension;
use super::module_functions::{first_child_is_async, is_masked};

use crate::codemod::{SingleTaskData, TestRunners};
use crate::parse::{Field, FieldChild, KindName};
use crate::project::{
    CONFTEST_AUTOUSE_STARTS_WORK, ConftestFixture, ProjectLookup, conftest_fixture_key,
};
use crate::semantic::{BindingKind, Resolution};

/// What runs an async test body or fixture alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TestRole {
    /// A test function or method.
    Test,
    /// An async fixture, before its `yield`.
    Fixture,
    /// A test case's set-up coroutine (`asyncSetUp`).
    SetUp,
}

/// A fixture the file defines, by the name tests take it as.
struct Fixture<'t> {
    name: String,
    definition: Node<'t>,
    autouse: bool,
    /// The class it is defined in (`None`: module level).
    class: Option<usize>,
}

/// The file's test functions and fixtures as found, before the doubts.
struct Found<'t> {
    fixtures: Vec<Fixture<'t>>,
    /// `(def, role, class)`.
    candidates: Vec<(Node<'t>, TestRole, Option<usize>)>,
}

/// Every async test body, fixture and set-up of the file that starts alone on its loop, as
/// its `def` and role (the call's position in it is `entry`'s question).
pub(super) fn test_bodies<'t>(
    file: &FileContext<'t>,
    data: &SingleTaskData,
    auto_mode: bool,
) -> Vec<(Node<'t>, TestRole)> {
    let tests = &data.tests;
    if tests.markers.is_empty() && tests.test_cases.is_empty() {
        return Vec::new();
    }
    let found = find(file, tests, auto_mode);
    let checker = Checker {
        file,
        data,
        fixtures: &found.fixtures,
    };
    found
        .candidates
        .into_iter()
        .filter(|&(definition, role, class)| checker.starts_alone(definition, role, class))
        .map(|(definition, role, _)| (definition, role))
        .collect()
}

/// For a `conftest.py`: its fixtures, whether each starts nothing, and whether it is autouse
/// (the project phase tells the test files below it).
pub(super) fn conftest_fixtures(file: &FileContext, data: &SingleTaskData) -> Vec<ConftestFixture> {
    if file.path.file_name().and_then(|n| n.to_str()) != Some("conftest.py")
        || data.tests.fixture_decorators.is_empty()
    {
        return Vec::new();
    }
    let found = find(file, &data.tests, false);
    let checker = Checker {
        file,
        data,
        fixtures: &found.fixtures,
    };
    found
        .fixtures
        .iter()
        .filter(|f| f.class.is_none())
        .map(|fixture| ConftestFixture {
            name: fixture.name.clone(),
            starts_nothing: checker.fixture_quiet(fixture, &mut HashSet::new()),
            autouse: fixture.autouse,
        })
        .collect()
}

/// Whether the file has async tests, fixtures or set-ups at all, doubts or not (the project
/// phase then tells it the facts the doubts ask: which project calls and which fixtures of
/// the `conftest.py` files above start nothing).
pub(super) fn has_async_tests(file: &FileContext, data: &SingleTaskData, auto_mode: bool) -> bool {
    !find(file, &data.tests, auto_mode).candidates.is_empty()
}

/// Whether the file is one pytest collects tests from by default (`test_*.py`, `*_test.py`).
fn collected_by_pytest(file: &FileContext) -> bool {
    let name = file.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".py") && (name.starts_with("test_") || name.ends_with("_test.py"))
}

/// The file's fixtures and its async tests, fixtures and set-ups.
fn find<'t>(file: &FileContext<'t>, tests: &TestRunners, auto_mode: bool) -> Found<'t> {
    let root = file.parsed.tree.root_node();
    let collected = collected_by_pytest(file);
    let module_marked = auto_mode || pytestmark(file, tests, root);
    let module_shared = pytestmark_shares(file, tests, root);
    let mut found = Found {
        fixtures: Vec::new(),
        candidates: Vec::new(),
    };
    for statement in root.named_children(&mut root.walk()) {
        let (definition, decorators) = unwrap_decorated(statement);
        match definition.kind_name() {
            "function_definition" => {
                found.add_function(
                    file,
                    tests,
                    definition,
                    &decorators,
                    None,
                    collected,
                    (module_marked, module_shared),
                );
            }
            "class_definition" => {
                let class = Some(definition.id());
                let Some(body) = definition.field(Field::Body) else {
                    continue;
                };
                let case = test_case(file, tests, definition);
                let marked = module_marked
                    || decorators.iter().any(|d| is_marker(file, tests, *d))
                    || pytestmark(file, tests, body);
                let shared = module_shared
                    || decorators.iter().any(|d| shares_a_loop(file, tests, *d))
                    || pytestmark_shares(file, tests, body);
                let pytest_class = file.text[definition
                    .field(Field::Name)
                    .map_or(0..0, |n| n.byte_range())]
                .starts_with("Test");
                for member in body.named_children(&mut body.walk()) {
                    let (method, decorators) = unwrap_decorated(member);
                    if method.kind_name() != "function_definition" {
                        continue;
                    }
                    if let Some(case) = case {
                        let name = def_name(file, method);
                        if !case || !first_child_is_async(method) {
                            continue;
                        }
                        if name.starts_with("test") {
                            found.candidates.push((method, TestRole::Test, class));
                        } else if tests.set_up_methods.iter().any(|m| m == name) {
                            found.candidates.push((method, TestRole::SetUp, class));
                        }
                    } else if pytest_class {
                        found.add_function(
                            file,
                            tests,
                            method,
                            &decorators,
                            class,
                            collected,
                            (marked, shared),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    found
}

impl<'t> Found<'t> {
    /// A module-level function or a method of a pytest test class: a fixture, or a test
    /// (`marked` by its class or module, or on a loop they `shared` between tests).
    #[allow(clippy::too_many_arguments)]
    fn add_function(
        &mut self,
        file: &FileContext<'t>,
        tests: &TestRunners,
        definition: Node<'t>,
        decorators: &[Node<'t>],
        class: Option<usize>,
        collected: bool,
        (marked, shared): (bool, bool),
    ) {
        if let Some(fixture) = decorators
            .iter()
            .find_map(|d| fixture_decorator(file, tests, *d))
        {
            let name = fixture
                .name
                .unwrap_or_else(|| def_name(file, definition).to_owned());
            self.fixtures.push(Fixture {
                name,
                definition,
                autouse: fixture.autouse,
                class,
            });
            if first_child_is_async(definition) {
                self.candidates.push((definition, TestRole::Fixture, class));
            }
            return;
        }
        let marked = marked || decorators.iter().any(|d| is_marker(file, tests, *d));
        // On a loop shared with other tests, what an earlier one left running may run beside
        // it: a doubt.
        let shared = shared || decorators.iter().any(|d| shares_a_loop(file, tests, *d));
        if collected
            && marked
            && !shared
            && first_child_is_async(definition)
            && def_name(file, definition).starts_with("test")
        {
            self.candidates.push((definition, TestRole::Test, class));
        }
    }
}

/// A `def` and the decorator expressions above it.
fn unwrap_decorated(statement: Node) -> (Node, Vec<Node>) {
    if statement.kind_name() != "decorated_definition" {
        return (statement, Vec::new());
    }
    let decorators = statement
        .named_children(&mut statement.walk())
        .filter(|c| c.kind_name() == "decorator")
        .filter_map(|d| d.named_child(0))
        .collect();
    match statement.child_by_field_name("definition") {
        Some(definition) => (definition, decorators),
        None => (statement, Vec::new()),
    }
}

fn def_name<'t>(file: &FileContext<'t>, definition: Node) -> &'t str {
    definition
        .field(Field::Name)
        .map_or("", |n| &file.text[n.byte_range()])
}

/// The qualified name of a decorator or mark, called or not (`pytest.mark.asyncio`,
/// `pytest.mark.asyncio(loop_scope="module")`).
fn mark_name(file: &FileContext, expression: Node) -> Option<String> {
    let named = if expression.kind_name() == "call" {
        expression.field(Field::Function)?
    } else {
        expression
    };
    file.index.qualified_name(named, file.text)
}

fn is_marker(file: &FileContext, tests: &TestRunners, expression: Node) -> bool {
    mark_name(file, expression).is_some_and(|name| tests.markers.contains(&name))
}

/// A mark that runs the test on a loop shared with other tests (`loop_scope="module"`,
/// `scope=...`): what an earlier test left running may run beside it.
fn shares_a_loop(file: &FileContext, tests: &TestRunners, expression: Node) -> bool {
    if !is_marker(file, tests, expression) || expression.kind_name() != "call" {
        return false;
    }
    expression.field(Field::Arguments).is_some_and(|arguments| {
        arguments
            .named_children(&mut arguments.walk())
            .filter(|a| a.kind_name() == "keyword_argument")
            .any(|a| {
                a.field(Field::Name)
                    .is_some_and(|n| matches!(&file.text[n.byte_range()], "loop_scope" | "scope"))
                    && a.field(Field::Value)
                        .is_none_or(|v| string_text(file, v) != Some("function"))
            })
    })
}

/// The marks of a `pytestmark = ...` assignment among `block`'s statements.
fn pytestmark_marks<'t>(file: &FileContext, block: Node<'t>) -> Vec<Node<'t>> {
    let mut marks = Vec::new();
    for statement in block.named_children(&mut block.walk()) {
        let Some(assignment) = statement.named_child(0).filter(|a| {
            statement.kind_name() == "expression_statement" && a.kind_name() == "assignment"
        }) else {
            continue;
        };
        let (Some(left), Some(right)) = (
            assignment.field(Field::Left),
            assignment.field(Field::Right),
        ) else {
            continue;
        };
        if &file.text[left.byte_range()] != "pytestmark" {
            continue;
        }
        match right.kind_name() {
            "list" | "tuple" => marks.extend(right.named_children(&mut right.walk())),
            _ => marks.push(right),
        }
    }
    marks
}

/// A `pytestmark = <mark>` (or a list or tuple holding one) among `block`'s statements.
fn pytestmark(file: &FileContext, tests: &TestRunners, block: Node) -> bool {
    pytestmark_marks(file, block)
        .into_iter()
        .any(|mark| is_marker(file, tests, mark))
}

/// Whether a `pytestmark` among `block`'s statements shares a loop between tests.
fn pytestmark_shares(file: &FileContext, tests: &TestRunners, block: Node) -> bool {
    pytestmark_marks(file, block)
        .into_iter()
        .any(|mark| shares_a_loop(file, tests, mark))
}

/// A fixture decorator's facts: the name given with `name=`, and `autouse=True` (or a scope
/// wider than a test's).
struct FixtureDecorator {
    name: Option<String>,
    autouse: bool,
}

fn fixture_decorator(
    file: &FileContext,
    tests: &TestRunners,
    expression: Node,
) -> Option<FixtureDecorator> {
    let name = mark_name(file, expression)?;
    if !tests.fixture_decorators.contains(&name) {
        return None;
    }
    let mut decorator = FixtureDecorator {
        name: None,
        autouse: false,
    };
    if expression.kind_name() == "call"
        && let Some(arguments) = expression.field(Field::Arguments)
    {
        for argument in arguments.named_children(&mut arguments.walk()) {
            if argument.kind_name() != "keyword_argument" {
                continue;
            }
            let key = argument
                .field(Field::Name)
                .map(|n| &file.text[n.byte_range()]);
            let value = argument.field(Field::Value);
            match (key, value) {
                (Some("autouse"), Some(v)) => {
                    // Anything but a literal `False` may be true.
                    decorator.autouse = &file.text[v.byte_range()] != "False";
                }
                // A fixture living longer than a test (`scope="module"`) may run beside
                // every test after the first: counted as autouse.
                (Some("scope"), Some(v)) if string_text(file, v) != Some("function") => {
                    decorator.autouse = true;
                }
                (Some("name"), Some(v)) => {
                    // A name that is not a plain string: the fixture is found by no name, so
                    // a parameter naming it is a doubt.
                    decorator.name = Some(string_text(file, v).unwrap_or("\u{0}").to_owned());
                }
                _ => {}
            }
        }
    }
    Some(decorator)
}

/// The text of a plain string literal.
fn string_text<'t>(file: &FileContext<'t>, string: Node) -> Option<&'t str> {
    if string.kind_name() != "string" {
        return None;
    }
    let mut content = "";
    for child in string.named_children(&mut string.walk()) {
        match child.kind_name() {
            "string_start" | "string_end" => {}
            "string_content" => content = &file.text[child.byte_range()],
            _ => return None,
        }
    }
    Some(content)
}

/// For a class: `Some(true)` when its only base is a test case class of the data, `Some(false)`
/// when a base is one among others (a doubt), `None` when none is.
fn test_case(file: &FileContext, tests: &TestRunners, class: Node) -> Option<bool> {
    let bases: Vec<Node> = class
        .field(Field::Superclasses)
        .map(|b| b.named_children(&mut b.walk()).collect())
        .unwrap_or_default();
    let is_case = |base: &Node| {
        file.index
            .qualified_name(*base, file.text)
            .is_some_and(|name| tests.test_cases.contains(&name))
    };
    bases.iter().any(is_case).then_some(bases.len() == 1)
}

/// The doubts, asked of each candidate.
struct Checker<'a, 't> {
    file: &'a FileContext<'t>,
    data: &'a SingleTaskData,
    fixtures: &'a [Fixture<'t>],
}

impl<'t> Checker<'_, 't> {
    /// Whether the project phase told the file `key` (a fact of the `conftest.py` files
    /// above it); nothing is known before the settling or outside a project run.
    fn settled(&self, key: &str) -> bool {
        self.file.project.as_ref().is_some_and(|project| {
            matches!(project.lookup, ProjectLookup::Settled(calls) if calls.contains_key(key))
        })
    }

    /// Whether the candidate starts alone: its body is there to read, the file mentions it
    /// nowhere else, every fixture it takes and every autouse fixture starts nothing, and
    /// (for a test case's test) its set-up starts nothing either.
    fn starts_alone(&self, definition: Node<'t>, role: TestRole, class: Option<usize>) -> bool {
        let file = self.file;
        if definition
            .field(Field::Body)
            .is_none_or(|body| is_masked(file, body))
            || mentioned_elsewhere(file, definition)
        {
            return false;
        }
        let mut seen = HashSet::from([definition.id()]);
        let autouse_quiet = self
            .fixtures
            .iter()
            .filter(|f| f.autouse && (f.class.is_none() || f.class == class))
            .all(|f| f.definition.id() == definition.id() || self.fixture_quiet(f, &mut seen));
        if !autouse_quiet
            || self.settled(CONFTEST_AUTOUSE_STARTS_WORK)
            || !self.takes_quiet_fixtures(definition, class, &mut seen)
        {
            return false;
        }
        if role == TestRole::Test && self.fixtures_of_case(definition).is_some_and(|s| !s) {
            return false;
        }
        true
    }

    /// For a test case's test: whether its class's set-up methods start nothing (`None` for a
    /// pytest test).
    fn fixtures_of_case(&self, definition: Node<'t>) -> Option<bool> {
        let file = self.file;
        // The class around the method (through its decorators: `@unittest.expectedFailure`).
        let class = std::iter::successors(definition.parent(), |p| p.parent())
            .find(|p| p.kind_name() != "decorated_definition" && p.kind_name() != "block")
            .filter(|c| c.kind_name() == "class_definition")?;
        test_case(file, &self.data.tests, class)?;
        let body = class.field(Field::Body)?;
        Some(body.named_children(&mut body.walk()).all(|member| {
            let (method, _) = unwrap_decorated(member);
            method.kind_name() != "function_definition"
                || !self
                    .data
                    .tests
                    .set_up_methods
                    .iter()
                    .any(|m| m == def_name(file, method))
                || self.body_starts_nothing(method)
        }))
    }

    /// Whether every fixture `definition` takes (parameters, `usefixtures` marks) starts
    /// nothing on the loop.
    fn takes_quiet_fixtures(
        &self,
        definition: Node<'t>,
        class: Option<usize>,
        seen: &mut HashSet<usize>,
    ) -> bool {
        let file = self.file;
        let Some(parameters) = definition.field(Field::Parameters) else {
            return false;
        };
        let mut names: Vec<String> = Vec::new();
        for (i, parameter) in parameters
            .named_children(&mut parameters.walk())
            .enumerate()
        {
            let name = match parameter.kind_name() {
                "identifier" => parameter,
                "typed_parameter" => match parameter.named_child(0) {
                    Some(n) if n.kind_name() == "identifier" => n,
                    _ => return false,
                },
                // A default value is no fixture; `*args` is a doubt.
                "default_parameter" | "typed_default_parameter" => continue,
                _ => return false,
            };
            let name = &file.text[name.byte_range()];
            if i == 0 && class.is_some() && (name == "self" || name == "cls") {
                continue;
            }
            names.push(name.to_owned());
        }
        if let Some(decorated) = definition
            .parent()
            .filter(|p| p.kind_name() == "decorated_definition")
        {
            for decorator in unwrap_decorated(decorated).1 {
                if !mark_name(file, decorator)
                    .is_some_and(|n| self.data.tests.uses_fixtures.contains(&n))
                {
                    continue;
                }
                let Some(arguments) = decorator.field(Field::Arguments) else {
                    return false;
                };
                for argument in arguments.named_children(&mut arguments.walk()) {
                    match string_text(file, argument) {
                        Some(name) => names.push(name.to_owned()),
                        None => return false,
                    }
                }
            }
        }
        names.iter().all(|name| {
            let defined: Vec<&Fixture> = self
                .fixtures
                .iter()
                .filter(|f| &f.name == name && (f.class.is_none() || f.class == class))
                .collect();
            match defined.as_slice() {
                [] => {
                    self.data.tests.quiet_fixtures.contains(name)
                        || self.settled(&conftest_fixture_key(name))
                }
                [fixture] => self.fixture_quiet(fixture, seen),
                // Two of that name (a class's overriding the module's): a doubt.
                _ => false,
            }
        })
    }

    /// Whether a fixture the file defines starts nothing before its `yield`: a synchronous
    /// one runs outside the loop; an async one may only await quiet libraries there, and
    /// the fixtures it takes start nothing either. A cycle is a doubt.
    fn fixture_quiet(&self, fixture: &Fixture<'t>, seen: &mut HashSet<usize>) -> bool {
        if !seen.insert(fixture.definition.id()) {
            return false;
        }
        self.takes_quiet_fixtures(fixture.definition, fixture.class, seen)
            && (!first_child_is_async(fixture.definition)
                || (fixture
                    .definition
                    .field(Field::Body)
                    .is_some_and(|body| !is_masked(self.file, body))
                    && self.body_starts_nothing(fixture.definition)))
    }

    /// Whether nothing in a coroutine's body up to its first `yield` (the whole body without
    /// one) suspends on anything but a quiet library or starts work.
    fn body_starts_nothing(&self, definition: Node<'t>) -> bool {
        let Some(body) = definition.field(Field::Body) else {
            return false;
        };
        match first_yield(body) {
            // What the `yield` hands over runs before the test too.
            Some(yielded) => {
                before_first_suspension(self.file, self.data, definition, yielded)
                    && !self.starts_work_within(yielded)
            }
            None => before_first_suspension(self.file, self.data, definition, last_leaf(body)),
        }
    }

    /// Whether an expression awaits anything but a quiet library or starts work.
    fn starts_work_within(&self, node: Node) -> bool {
        let mut stack: Vec<Node> = node.named_children(&mut node.walk()).collect();
        while let Some(node) = stack.pop() {
            if (suspension(node) && !quiet_suspension(self.file, self.data, node))
                || (node.kind_name() == "call" && schedules_work(self.file, self.data, node))
            {
                return true;
            }
            stack.extend(node.named_children(&mut node.walk()));
        }
        false
    }
}

/// The first `yield` in a body, not in a nested function.
fn first_yield(body: Node) -> Option<Node> {
    let mut first: Option<Node> = None;
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        match node.kind_name() {
            "function_definition" | "lambda" | "class_definition" => continue,
            "yield" if first.is_none_or(|f| node.start_byte() < f.start_byte()) => {
                first = Some(node);
            }
            _ => {}
        }
        stack.extend(node.named_children(&mut node.walk()));
    }
    first
}

/// The last token of a node: everything of the node but it starts before it.
fn last_leaf(node: Node) -> Node {
    let mut leaf = node;
    while let Some(child) = leaf
        .child(leaf.child_count().saturating_sub(1))
        .filter(|_| leaf.child_count() > 0)
    {
        leaf = child;
    }
    leaf
}

/// Whether the file names the function anywhere but its `def` (a test also awaited by
/// another, a fixture called directly): then it does not only run as pytest runs it.
fn mentioned_elsewhere(file: &FileContext, definition: Node) -> bool {
    let Some(name) = definition.field(Field::Name) else {
        return true;
    };
    let text = &file.text[name.byte_range()];
    let mut stack = vec![file.parsed.tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.kind_name() == "identifier"
            && node.id() != name.id()
            && &file.text[node.byte_range()] == text
            && !names_a_parameter(file, node)
        {
            return true;
        }
        stack.extend(node.named_children(&mut node.walk()));
    }
    false
}

/// Whether an identifier is a parameter's name, or a use of a parameter (how a test takes a
/// fixture of the same name).
fn names_a_parameter(file: &FileContext, identifier: Node) -> bool {
    let in_parameters = std::iter::successors(identifier.parent(), |p| p.parent())
        .take(2)
        .any(|p| p.kind_name() == "parameters" || p.kind_name() == "lambda_parameters");
    in_parameters
        || matches!(
            file.index.resolve_name(&file.text[identifier.byte_range()], identifier.start_byte()),
            Resolution::Binding(id) if file.index.binding(id).kind == BindingKind::Parameter
        )
}
