//! For unit tests: the analysis context of a source text, parsed and indexed as a run would,
//! with the defaults of a run without configuration.

use super::FileContext;
use crate::parse::{KeyNodes, parse};
use crate::semantic::build_index;

/// `work` given the context of `source`, analysed as the file `path` for `target_version`.
pub(super) fn with_context<T>(
    path: &str,
    source: &str,
    target_version: Option<(u8, u8)>,
    work: impl FnOnce(&FileContext) -> T,
) -> T {
    let parsed = parse(source);
    let index = build_index(&parsed.tree, source);
    let nodes = KeyNodes::of(&parsed.tree);
    let file = FileContext {
        path: std::path::Path::new(path),
        text: source,
        line_ending: "\n",
        parsed: &parsed,
        nodes: &nodes,
        index: &index,
        target_version,
        pytest_asyncio_auto: false,
        http_client: &Default::default(),
        unsafe_fixes: false,
        name_lookups: &[],
        project: None,
        shared_files: Default::default(),
        await_hazards: Default::default(),
        line_limit: Default::default(),
        single_task: Default::default(),
        path_races: Default::default(),
        strategy_memo: Default::default(),
    };
    work(&file)
}

/// The project summary of `source` as module `db` of a one-file project.
pub(super) fn db_summary(source: &str) -> crate::project::FileSummary {
    let registry = crate::codemod::Registry::bundled().unwrap();
    let root = std::path::PathBuf::from("/project");
    let path = root.join("db.py");
    let map = crate::project::ModuleMap::build(&[root], std::slice::from_ref(&path));
    let module = map.module(&path).unwrap();
    with_context("db.py", source, None, |file| {
        super::summarize(
            file,
            module,
            &map,
            &registry,
            &crate::settings::RuleSelection::default(),
        )
    })
}
