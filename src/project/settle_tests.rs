//! Unit tests of [`settle`](super::settle): blocking settled across modules.

use super::*;

/// `(qualname, is_async, sleeps directly, calls)`.
type Function<'a> = (&'a str, bool, bool, &'a [&'a str]);

fn file(name: &str, functions: &[Function], imports: &[(&str, &str)]) -> ProjectFile {
    let mut targets: Vec<String> = Vec::new();
    let functions = functions
        .iter()
        .map(|(qualname, is_async, direct, calls)| {
            let calls: Vec<u32> = calls
                .iter()
                .map(|target| {
                    targets.push((*target).to_owned());
                    targets.len() as u32 - 1
                })
                .collect();
            // Each call on a line of its own, after the function's `def`.
            let call_at = calls
                .iter()
                .map(|&target| CallAt {
                    target,
                    line: 10 + target,
                    column: 5,
                    text: format!("{}()", targets[target as usize]),
                })
                .collect();
            FunctionSummary {
                qualname: (*qualname).to_owned(),
                is_async: *is_async,
                is_generator: false,
                direct: direct.then(|| Evidence {
                    code: "ASYNC251".to_owned(),
                    call: "time.sleep".to_owned(),
                    line: 3,
                    column: 5,
                    text: "time.sleep(1)".to_owned(),
                }),
                affinity: None,
                imported_receivers: Vec::new(),
                returns: Vec::new(),
                // Every call of these summaries is a statement of its own.
                discarded: calls.clone(),
                calls,
                hazards: Vec::new(),
                direct_guard: None,
                call_sites: Vec::new(),
                files: Vec::new(),
                starts_work: None,
                yields: None,
                awaits: Vec::new(),
                sql_calls: Vec::new(),
                call_at,
                call_lines: Vec::new(),
                checked: Vec::new(),
                once: None,
            }
        })
        .collect();
    ProjectFile {
        display_path: format!("{name}.py"),
        module: ModuleInfo {
            name: name.to_owned(),
            is_package: false,
            names: vec![name.to_owned()],
            siblings: Vec::new(),
        },
        summary: FileSummary {
            functions,
            targets,
            imports: imports
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
            affine_globals: Vec::new(),
            ..Default::default()
        },
    }
}

#[test]
fn cycles_settle_and_only_blocking_ones_block() {
    // a <-> b cycle with no blocking call; c <-> d cycle where d sleeps.
    let files = [
        file(
            "m",
            &[
                ("a", false, false, &["m.b"]),
                ("b", false, false, &["m.a"]),
                ("c", false, false, &["m.d"]),
                ("d", false, true, &["m.c", "m.d"]),
                ("main", true, false, &["m.a", "m.c", "pkg.e"]),
            ],
            &[],
        ),
        file("pkg", &[], &[("e", "pkg.pkg"), ("f", "m.c")]),
    ];
    let calls = settle(&files, &|_| None);
    let main = calls[0].as_ref().unwrap();
    assert_eq!(main.len(), 1, "{main:?}");
    assert_eq!(
        main["m.c"],
        ProjectCall::Blocking {
            chain: "c -> d -> time.sleep".to_owned(),
            location: "m.py:3".to_owned(),
            hops: vec![
                Hop {
                    path: "m.py".to_owned(),
                    line: 12,
                    column: 5,
                    function: "c".to_owned(),
                    call: "m.d()".to_owned(),
                },
                Hop {
                    path: "m.py".to_owned(),
                    line: 3,
                    column: 5,
                    function: "d".to_owned(),
                    call: "time.sleep(1)".to_owned(),
                },
            ],
            pinned: None,
            returned: None,
            hazard: None,
            unless_passed: None,
        }
    );
    assert!(calls[1].is_none());
}

#[test]
fn reexport_cycles_resolve_to_nothing() {
    let files = [
        file("p", &[], &[("x", "q.x")]),
        file("q", &[], &[("x", "p.x")]),
        file("m", &[("main", true, false, &["p.x"])], &[]),
    ];
    assert!(settle(&files, &|_| None).iter().all(Option::is_none));
}
