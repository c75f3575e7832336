//! Micro-benchmarks of one file's analysis steps: the pre-filter, the project phase's lexical
//! summary, parse, semantic index,
//! codemod matching, and the whole of `process_source` in fix mode. Inputs are the repository's
//! own Python: the demo service and every codemod fixture in one file.
//!
//!     cargo bench --bench analysis            (criterion; `-- parse` to pick one)
//!
//! The corpus-level benchmark against ruff and ast-grep is `scripts/bench`.

use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use unfreeze::analyze::{FileContext, analyze};
use unfreeze::codemod::Registry;
use unfreeze::config::Config;
use unfreeze::lexical::{LexicalFacts, needs_analysis};
use unfreeze::parse::{KeyNodes, parse};
use unfreeze::project::{EvidenceCalls, LexicalSummary, ModuleInfo};
use unfreeze::run::process_source;
use unfreeze::semantic::build_index;
use unfreeze::settings::{Mode, RuleSelection, Settings};

fn inputs() -> Vec<(&'static str, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let demo = std::fs::read_to_string(root.join("docs/demo/inventory_service/app.py"))
        .expect("the demo service is in the repository");
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(root.join("tests/fixtures/codemods"))
        .expect("the codemod fixtures are in the repository")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "py"))
        .collect();
    fixtures.sort();
    let all_fixtures: String = fixtures
        .iter()
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    vec![("demo-app", demo), ("all-fixtures", all_fixtures)]
}

fn benches(c: &mut Criterion) {
    let registry = Registry::bundled().unwrap();
    let selection = RuleSelection::default();
    let settings = Settings {
        mode: Mode::Fix {
            write: false,
            unsafe_fixes: false,
        },
        paths: Vec::new(),
        stdin_filename: None,
        read_stdin: false,
        exclude: Vec::new(),
        forced_excludes: None,
        selection: selection.clone(),
        per_file_ignores: Default::default(),
        config: Config::default(),
        progress: false,
        line_scope: None,
        cache_dir: None,
        file_timeout: None,
    };
    for (name, text) in inputs() {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function("prefilter", |b| {
            b.iter(|| needs_analysis(&text, &registry, &selection))
        });
        // The project phase's lexical pass: the tokenizer with functions and calls, and the
        // file's lexical summary.
        let module = ModuleInfo {
            name: "app.bench".to_owned(),
            is_package: false,
            names: vec!["app.bench".to_owned()],
            siblings: Vec::new(),
        };
        let evidence = EvidenceCalls::new(&registry);
        group.bench_function("lexical", |b| {
            b.iter(|| {
                LexicalFacts::scan_functions(&text, registry.interesting_words()).map(|facts| {
                    LexicalSummary::of(&facts, &evidence, &module, &|name| name.starts_with("app"))
                })
            })
        });
        group.bench_function("parse", |b| b.iter(|| parse(&text)));
        let parsed = parse(&text);
        group.bench_function("index", |b| b.iter(|| build_index(&parsed.tree, &text)));
        let index = build_index(&parsed.tree, &text);
        group.bench_function("nodes", |b| b.iter(|| KeyNodes::of(&parsed.tree)));
        // `match` runs the codemods over the calls `nodes` gathered.
        let nodes = KeyNodes::of(&parsed.tree);
        let context = FileContext {
            path: Path::new("bench.py"),
            text: &text,
            line_ending: "\n",
            parsed: &parsed,
            nodes: &nodes,
            index: &index,
            target_version: None,
            pytest_asyncio_auto: false,
            http_client: &Default::default(),
            unsafe_fixes: false,
            name_lookups: registry.name_lookups(),
            project: None,
            shared_files: Default::default(),
            await_hazards: Default::default(),
            line_limit: Default::default(),
            single_task: Default::default(),
            path_races: Default::default(),
            strategy_memo: Default::default(),
        };
        group.bench_function("match", |b| {
            b.iter(|| analyze(&context, &registry, &selection))
        });
        group.bench_function("process-fix", |b| {
            b.iter(|| process_source(text.as_bytes(), Path::new("bench.py"), &settings, &registry))
        });
        group.finish();
    }
}

criterion_group!(analysis, benches);
criterion_main!(analysis);
