//! What the single-task recognition (`analyze/entry.rs`, `analyze/startup_hooks.rs`) knows of
//! libraries and frameworks, as data: `[single-task]` in `codemods/*.toml`, compiled and
//! validated here, merged by the registry. Which calls run a coroutine as a loop's main task,
//! which awaits of libraries start no concurrent work (request/response clients), which calls
//! and methods do start or schedule work (bot and server runners, `create_task`), and the
//! startup hooks of frameworks that run before anything else on the loop.

use serde::Deserialize;

use super::names::{is_identifier, is_qualified_name};

/// `[single-task]` as written. Every list is optional; the registry merges those of every file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawSingleTask {
    /// Calls that run a coroutine as the main task of a loop (`asyncio.run`).
    #[serde(default)]
    pub entry_calls: Vec<String>,
    /// Of those, the ones that make a new loop: wherever they are (a command's synchronous
    /// function), the coroutine is alone on it at first.
    #[serde(default)]
    pub new_loop_calls: Vec<String>,
    /// Of those, the ones that take the coroutine function and its arguments
    /// (`anyio.run(main, arg)`) rather than a coroutine call (`asyncio.run(main(arg))`).
    #[serde(default)]
    pub function_entry_calls: Vec<String>,
    /// Functions of `asyncio`, `anyio` or `trio` that start nothing on the loop.
    #[serde(default)]
    pub harmless_calls: Vec<String>,
    /// Method names that start or schedule work whatever their receiver (often unresolved).
    #[serde(default)]
    pub scheduling_methods: Vec<String>,
    /// Calls that start a server or a bot and keep the loop full of tasks; a doubt even
    /// under a quiet library.
    #[serde(default)]
    pub runner_calls: Vec<String>,
    /// Libraries (qualified prefixes: a module, a class) whose awaits are request/response
    /// calls that start no task the script's own code races with.
    #[serde(default)]
    pub quiet_libraries: Vec<String>,
    /// Calls that wait for every awaitable passed to them before they return
    /// (`asyncio.gather`): awaited with tasks made right there, they leave the loop as they
    /// found it (not when they raise: the other tasks go on).
    #[serde(default)]
    pub gathering_calls: Vec<String>,
    /// Calls that make a task of the coroutine passed to them (`asyncio.create_task`).
    #[serde(default)]
    pub task_makers: Vec<String>,
    /// Task groups (`asyncio.TaskGroup`): after their `async with` block every task started
    /// in it has finished, even when the block raised.
    #[serde(default)]
    pub task_groups: Vec<String>,
    /// The methods of a task group that start a task in it (`create_task`, `start_soon`).
    #[serde(default)]
    pub task_group_methods: Vec<String>,
    /// `[[single-task.hook]]`: framework hooks that run before anything else on the loop.
    #[serde(default, rename = "hook")]
    pub hooks: Vec<RawStartupHook>,
    /// `[single-task.tests]`: test runners that run an async test alone on a loop of its own.
    #[serde(default)]
    pub tests: RawTestRunners,
}

/// `[single-task.tests]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawTestRunners {
    /// Marks that make pytest run an `async def test_*` on the test's own loop
    /// (`pytest.mark.asyncio`), on the function, its class, or in `pytestmark`.
    #[serde(default)]
    pub markers: Vec<String>,
    /// Decorators that make an `async def` a fixture (`pytest_asyncio.fixture`).
    #[serde(default)]
    pub fixture_decorators: Vec<String>,
    /// The mark naming fixtures a test uses without taking them (`pytest.mark.usefixtures`).
    #[serde(default)]
    pub uses_fixtures: Vec<String>,
    /// Base classes whose `test*` coroutine methods run each on a loop of their own
    /// (`unittest.IsolatedAsyncioTestCase`).
    #[serde(default)]
    pub test_cases: Vec<String>,
    /// Their set-up coroutine methods, run on that loop before the test (`asyncSetUp`).
    #[serde(default)]
    pub set_up_methods: Vec<String>,
    /// Fixtures of pytest and its plugins, by name, that start nothing on the test's loop.
    #[serde(default)]
    pub quiet_fixtures: Vec<String>,
}

/// `[[single-task.hook]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawStartupHook {
    /// For messages and docs: `FastAPI lifespan`.
    pub framework: String,
    /// `argument` (`FastAPI(lifespan=f)`), `builder-call` (`Application.builder().post_init(f)`),
    /// `decorator` (`@app.on_event("startup")`) or `method` (`setup_hook` of a subclass).
    pub registered_by: String,
    /// The calls (qualified names): the constructor taking the argument, the builder's
    /// maker, the decorator; the base classes for `method`.
    pub calls: Vec<String>,
    /// With `argument`: the keyword; with `builder-call` and `method`: the method name.
    pub name: String,
    /// With `decorator`: the string the decorator's first argument must be (`startup`).
    pub first_argument: Option<String>,
    /// When the framework runs it and why nothing else runs then, for the reason shown.
    pub why: String,
    /// Members of the hook's first parameter that are request/response clients: an await of
    /// one of their methods starts nothing (`bot`: `await application.bot.set_my_commands()`).
    #[serde(default)]
    pub quiet_parameter_members: Vec<String>,
}

/// How a framework is told about a startup hook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HookRegistration {
    /// `Framework(<name>=hook)`.
    Argument,
    /// `<maker>()....<name>(hook)`: a builder chain.
    BuilderCall,
    /// `@<call>("<first_argument>")` on the hook.
    Decorator,
    /// `async def <name>(self)` in a subclass of one of the classes.
    Method,
}

/// A compiled `[[single-task.hook]]`.
#[derive(Clone, Debug)]
pub struct StartupHook {
    pub framework: String,
    pub registration: HookRegistration,
    pub calls: Vec<String>,
    pub name: String,
    pub first_argument: Option<String>,
    pub why: String,
    pub quiet_parameter_members: Vec<String>,
}

/// The compiled, merged `[single-task]` data.
#[derive(Clone, Debug, Default)]
pub struct SingleTaskData {
    pub entry_calls: Vec<String>,
    pub new_loop_calls: Vec<String>,
    pub function_entry_calls: Vec<String>,
    pub harmless_calls: Vec<String>,
    pub scheduling_methods: Vec<String>,
    pub runner_calls: Vec<String>,
    pub quiet_libraries: Vec<String>,
    pub gathering_calls: Vec<String>,
    pub task_makers: Vec<String>,
    pub task_groups: Vec<String>,
    pub task_group_methods: Vec<String>,
    pub hooks: Vec<StartupHook>,
    pub tests: TestRunners,
}

/// The compiled, merged `[single-task.tests]` (as written: names checked).
#[derive(Clone, Debug, Default)]
pub struct TestRunners {
    pub markers: Vec<String>,
    pub fixture_decorators: Vec<String>,
    pub uses_fixtures: Vec<String>,
    pub test_cases: Vec<String>,
    pub set_up_methods: Vec<String>,
    pub quiet_fixtures: Vec<String>,
}

impl TestRunners {
    fn lists(&mut self) -> [&mut Vec<String>; 6] {
        [
            &mut self.markers,
            &mut self.fixture_decorators,
            &mut self.uses_fixtures,
            &mut self.test_cases,
            &mut self.set_up_methods,
            &mut self.quiet_fixtures,
        ]
    }
}

/// Whether `name` is `prefix` or a member of it (`prefix.x`, `prefix().x`).
pub fn under(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('('))
}

impl SingleTaskData {
    /// Add another file's data.
    pub fn extend(&mut self, other: &SingleTaskData) {
        let lists = [
            (&mut self.entry_calls, &other.entry_calls),
            (&mut self.new_loop_calls, &other.new_loop_calls),
            (&mut self.function_entry_calls, &other.function_entry_calls),
            (&mut self.harmless_calls, &other.harmless_calls),
            (&mut self.scheduling_methods, &other.scheduling_methods),
            (&mut self.runner_calls, &other.runner_calls),
            (&mut self.quiet_libraries, &other.quiet_libraries),
            (&mut self.gathering_calls, &other.gathering_calls),
            (&mut self.task_makers, &other.task_makers),
            (&mut self.task_groups, &other.task_groups),
            (&mut self.task_group_methods, &other.task_group_methods),
        ];
        for (mine, theirs) in lists {
            for item in theirs {
                if !mine.contains(item) {
                    mine.push(item.clone());
                }
            }
        }
        self.hooks.extend(other.hooks.iter().cloned());
        let mut theirs = other.tests.clone();
        for (mine, theirs) in self.tests.lists().into_iter().zip(theirs.lists()) {
            for item in theirs.iter() {
                if !mine.contains(item) {
                    mine.push(item.clone());
                }
            }
        }
    }

    /// Whether an awaited call (or an object used by `async with` / `async for`) named `name`
    /// belongs to a quiet library and is no runner nor scheduling method.
    pub fn is_quiet(&self, name: &str) -> bool {
        let method = name.rsplit('.').next().unwrap_or(name);
        self.quiet_libraries.iter().any(|p| under(name, p))
            && !self.runner_calls.iter().any(|r| under(name, r))
            && !self.scheduling_methods.iter().any(|m| m == method)
    }

    /// The words a file needs for the recognition to matter: the entry calls' and the hooks'
    /// names, the test runners' modules and test case classes (the lexical pre-pass then
    /// keeps every body).
    pub fn words(&self) -> Vec<String> {
        let mut words: Vec<String> = Vec::new();
        let names = self
            .entry_calls
            .iter()
            .map(|c| c.rsplit('.').next().unwrap_or(c).to_owned())
            .chain(self.hooks.iter().map(|h| h.name.clone()))
            // A test file: its marks' and fixture decorators' module (`pytest`), its test
            // case's class (`IsolatedAsyncioTestCase`).
            .chain(
                self.tests
                    .markers
                    .iter()
                    .chain(&self.tests.fixture_decorators)
                    .map(|m| m.split('.').next().unwrap_or(m).to_owned()),
            )
            .chain(
                self.tests
                    .test_cases
                    .iter()
                    .map(|c| c.rsplit('.').next().unwrap_or(c).to_owned()),
            );
        for word in names {
            if !words.contains(&word) {
                words.push(word);
            }
        }
        words
    }
}

/// Validate one file's `[single-task]`.
pub fn compile_single_task(raw: &RawSingleTask) -> Result<SingleTaskData, String> {
    let context = "`[single-task]`";
    let qualified = [
        ("entry-calls", &raw.entry_calls),
        ("new-loop-calls", &raw.new_loop_calls),
        ("function-entry-calls", &raw.function_entry_calls),
        ("harmless-calls", &raw.harmless_calls),
        ("runner-calls", &raw.runner_calls),
        ("quiet-libraries", &raw.quiet_libraries),
        ("gathering-calls", &raw.gathering_calls),
        ("task-makers", &raw.task_makers),
        ("task-groups", &raw.task_groups),
    ];
    for (key, list) in qualified {
        if let Some(bad) = list.iter().find(|name| !is_qualified_name(name)) {
            return Err(format!(
                "{context}: `{key}` entry {bad:?} is not a qualified name"
            ));
        }
    }
    if let Some(bad) = raw.scheduling_methods.iter().find(|m| !is_identifier(m)) {
        return Err(format!(
            "{context}: `scheduling-methods` entry {bad:?} is not a method name"
        ));
    }
    if let Some(bad) = raw.task_group_methods.iter().find(|m| !is_identifier(m)) {
        return Err(format!(
            "{context}: `task-group-methods` entry {bad:?} is not a method name"
        ));
    }
    if let Some(bad) = raw
        .new_loop_calls
        .iter()
        .find(|c| !raw.entry_calls.contains(c))
    {
        return Err(format!(
            "{context}: `new-loop-calls` entry {bad:?} is not one of `entry-calls`"
        ));
    }
    if let Some(bad) = raw
        .function_entry_calls
        .iter()
        .find(|c| !raw.entry_calls.contains(c))
    {
        return Err(format!(
            "{context}: `function-entry-calls` entry {bad:?} is not one of `entry-calls`"
        ));
    }
    if let Some(bad) = raw
        .quiet_libraries
        .iter()
        .find(|q| raw.runner_calls.iter().any(|r| under(q, r)))
    {
        return Err(format!(
            "{context}: `quiet-libraries` entry {bad:?} is under one of `runner-calls`"
        ));
    }
    let tests = &raw.tests;
    let qualified = [
        ("tests.markers", &tests.markers),
        ("tests.fixture-decorators", &tests.fixture_decorators),
        ("tests.uses-fixtures", &tests.uses_fixtures),
        ("tests.test-cases", &tests.test_cases),
    ];
    for (key, list) in qualified {
        if let Some(bad) = list.iter().find(|name| !is_qualified_name(name)) {
            return Err(format!(
                "{context}: `{key}` entry {bad:?} is not a qualified name"
            ));
        }
    }
    let names = [
        ("tests.set-up-methods", &tests.set_up_methods),
        ("tests.quiet-fixtures", &tests.quiet_fixtures),
    ];
    for (key, list) in names {
        if let Some(bad) = list.iter().find(|name| !is_identifier(name)) {
            return Err(format!("{context}: `{key}` entry {bad:?} is not a name"));
        }
    }
    let hooks = raw
        .hooks
        .iter()
        .map(compile_hook)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SingleTaskData {
        entry_calls: raw.entry_calls.clone(),
        new_loop_calls: raw.new_loop_calls.clone(),
        function_entry_calls: raw.function_entry_calls.clone(),
        harmless_calls: raw.harmless_calls.clone(),
        scheduling_methods: raw.scheduling_methods.clone(),
        runner_calls: raw.runner_calls.clone(),
        quiet_libraries: raw.quiet_libraries.clone(),
        gathering_calls: raw.gathering_calls.clone(),
        task_makers: raw.task_makers.clone(),
        task_groups: raw.task_groups.clone(),
        task_group_methods: raw.task_group_methods.clone(),
        hooks,
        tests: TestRunners {
            markers: tests.markers.clone(),
            fixture_decorators: tests.fixture_decorators.clone(),
            uses_fixtures: tests.uses_fixtures.clone(),
            test_cases: tests.test_cases.clone(),
            set_up_methods: tests.set_up_methods.clone(),
            quiet_fixtures: tests.quiet_fixtures.clone(),
        },
    })
}

fn compile_hook(raw: &RawStartupHook) -> Result<StartupHook, String> {
    let context = format!("`[[single-task.hook]]` {:?}", raw.framework);
    let registration = match raw.registered_by.as_str() {
        "argument" => HookRegistration::Argument,
        "builder-call" => HookRegistration::BuilderCall,
        "decorator" => HookRegistration::Decorator,
        "method" => HookRegistration::Method,
        other => {
            return Err(format!(
                "{context}: `registered-by = {other:?}`: expected \"argument\", \"builder-call\", \
                 \"decorator\" or \"method\""
            ));
        }
    };
    if raw.framework.trim().is_empty() || raw.why.trim().is_empty() {
        return Err(format!("{context} needs `framework` and `why`"));
    }
    if raw.calls.is_empty() {
        return Err(format!("{context} needs `calls`"));
    }
    if let Some(bad) = raw.calls.iter().find(|c| !is_qualified_name(c)) {
        return Err(format!(
            "{context}: `calls` entry {bad:?} is not a qualified name"
        ));
    }
    if !is_identifier(&raw.name) {
        return Err(format!(
            "{context}: `name = {:?}` is not an identifier",
            raw.name
        ));
    }
    if let Some(bad) = raw
        .quiet_parameter_members
        .iter()
        .find(|m| !is_identifier(m))
    {
        return Err(format!(
            "{context}: `quiet-parameter-members` entry {bad:?} is not a name"
        ));
    }
    if raw.first_argument.is_some() != (registration == HookRegistration::Decorator) {
        return Err(format!(
            "{context}: `first-argument` goes with `registered-by = \"decorator\"`, and only there"
        ));
    }
    Ok(StartupHook {
        framework: raw.framework.trim().to_owned(),
        registration,
        calls: raw.calls.clone(),
        name: raw.name.clone(),
        first_argument: raw.first_argument.clone(),
        why: raw.why.trim().to_owned(),
        quiet_parameter_members: raw.quiet_parameter_members.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(text: &str) -> Result<SingleTaskData, String> {
        let raw: RawSingleTask = toml::from_str(text).map_err(|e| e.to_string())?;
        compile_single_task(&raw)
    }

    #[test]
    fn names_are_checked() {
        assert!(
            compiled("entry-calls = [\"asyncio.run\"]\nnew-loop-calls = [\"asyncio.run\"]").is_ok()
        );
        assert!(compiled("new-loop-calls = [\"asyncio.run\"]").is_err());
        assert!(compiled("quiet-libraries = [\"not a name\"]").is_err());
        assert!(compiled("scheduling-methods = [\"a.b\"]").is_err());
        assert!(
            compiled("quiet-libraries = [\"aiohttp.web\"]\nrunner-calls = [\"aiohttp.web\"]")
                .is_err()
        );
        let hook = "[[hook]]\nframework = \"F\"\nregistered-by = \"argument\"\n\
                    calls = [\"fastapi.FastAPI\"]\nname = \"lifespan\"\nwhy = \"w\"\n";
        assert!(compiled(hook).is_ok());
        assert!(compiled(&hook.replace("argument\"", "constructor\"")).is_err());
        assert!(compiled(&format!("{hook}first-argument = \"startup\"\n")).is_err());
        assert!(compiled(&hook.replace("lifespan", "life span")).is_err());
        assert!(compiled("[tests]\nmarkers = [\"pytest.mark.asyncio\"]").is_ok());
        assert!(compiled("[tests]\nmarkers = [\"pytest mark\"]").is_err());
        assert!(compiled("[tests]\nquiet-fixtures = [\"a.b\"]").is_err());
    }

    #[test]
    fn quiet_means_a_member_of_a_quiet_library_and_no_runner() {
        let data = compiled(
            "quiet-libraries = [\"sqlalchemy.ext.asyncio\", \"aiohttp.ClientSession\"]\n\
             runner-calls = [\"aiohttp.ClientSession().ws_connect\"]\n\
             scheduling-methods = [\"create_task\"]",
        )
        .unwrap();
        assert!(data.is_quiet("sqlalchemy.ext.asyncio.create_async_engine().begin"));
        assert!(data.is_quiet("aiohttp.ClientSession().get"));
        assert!(!data.is_quiet("aiohttp.ClientSessionX().get"));
        assert!(!data.is_quiet("aiohttp.ClientSession().ws_connect"));
        assert!(!data.is_quiet("aiohttp.ClientSession().create_task"));
        assert!(!data.is_quiet("aiohttp.web.run_app"));
    }
}
