//! Thread-affine objects a function returns, settled across functions and modules: what a
//! synchronous project function's return value holds that must stay on the thread that made
//! it (made in its body, or returned to it by another project function), which decides two
//! things: a call of it moved to a worker thread whose result the coroutine keeps gets no
//! fix (the object would come back to the event loop's thread), and a coroutine's calls on
//! such an object (`conn, cursor = create_conn()` then `cursor.execute(...)`) are findings
//! of the rule matching them, pinned to the loop's thread.

use std::collections::HashMap;

use super::{Functions, MAX_CHAIN, ReturnedObject};

/// A thread-affine object a function's return value holds, as settled.
#[derive(Clone, Copy, Debug)]
pub(super) struct Returned<'a> {
    /// Which part of the returned value: `None` the whole of it, `Some(i)` element `i`.
    pub position: Option<u32>,
    /// The function whose body made it.
    pub maker: usize,
    /// How it was made (a [`ReturnedObject::Made`]).
    pub made: &'a ReturnedObject,
}

/// The parts of a [`ReturnedObject::Made`]: kind, label, why, remedy, line.
fn parts(made: &ReturnedObject) -> (&str, &str, &str, &str, u32) {
    match made {
        ReturnedObject::Made {
            kind,
            label,
            why,
            remedy,
            line,
        } => (kind, label, why, remedy, *line),
        ReturnedObject::Call { .. } => unreachable!("only made objects are settled"),
    }
}

impl<'a> Functions<'a> {
    /// What each function's return value holds of thread-affine objects, by function id
    /// (empty for most), followed through the project functions whose results they return.
    pub(super) fn returned_objects(&self) -> Vec<Vec<Returned<'a>>> {
        let mut memo = HashMap::new();
        (0..self.ids.len())
            .map(|id| {
                if self.function(id).returns.is_empty() {
                    Vec::new()
                } else {
                    self.returned(id, &mut memo, 0)
                }
            })
            .collect()
    }

    fn returned(
        &self,
        id: usize,
        memo: &mut HashMap<usize, Vec<Returned<'a>>>,
        depth: usize,
    ) -> Vec<Returned<'a>> {
        if let Some(known) = memo.get(&id) {
            return known.clone();
        }
        if depth > MAX_CHAIN {
            return Vec::new();
        }
        // A cycle of functions returning each other's results adds nothing.
        memo.insert(id, Vec::new());
        let function = self.function(id);
        let (file, _) = self.ids[id];
        let mut found: Vec<Returned<'a>> = Vec::new();
        for part in &function.returns {
            match &part.object {
                ReturnedObject::Made { .. } => found.push(Returned {
                    position: part.position,
                    maker: id,
                    made: &part.object,
                }),
                ReturnedObject::Call { target, position } => {
                    let name = &self.files[file].summary.targets[*target as usize];
                    let Some(callee) = self.resolve(name) else {
                        continue;
                    };
                    let summary = self.function(callee);
                    if callee == id || summary.is_async || summary.is_generator {
                        continue;
                    }
                    for inner in self.returned(callee, memo, depth + 1) {
                        let position = match position {
                            Some(wanted) if inner.position != Some(*wanted) => continue,
                            Some(_) => part.position,
                            None => part.position.or(inner.position),
                        };
                        found.push(Returned { position, ..inner });
                    }
                }
            }
        }
        memo.insert(id, found.clone());
        found
    }

    /// The object a coroutine's receiver, named as the analysis's `returned_receiver` names
    /// it, holds: `db.create_conn()[1]` is element 1 of what `db.create_conn` returns.
    pub(super) fn returned_receiver(
        &self,
        object: &str,
        returned: &[Vec<Returned<'a>>],
    ) -> Option<(usize, Returned<'a>, Option<String>)> {
        // `db.get_connection().cursor()`: what `cursor()` of the returned object makes.
        if let Some((base, derived)) = object
            .strip_suffix("()")
            .and_then(|rest| rest.split_once("()."))
            .filter(|(_, derived)| names_one_member(derived))
        {
            let (callee, found, _) = self.returned_receiver(&format!("{base}()"), returned)?;
            return Some((callee, found, Some(derived.to_owned())));
        }
        let (function, position) = match object.strip_suffix(']') {
            Some(rest) => {
                let (function, index) = rest.rsplit_once('[')?;
                (function, Some(index.parse::<u32>().ok()?))
            }
            None => (object, None),
        };
        let callee = self.resolve(function.strip_suffix("()")?)?;
        let found = returned[callee]
            .iter()
            .find(|r| r.position == position)
            .copied()?;
        Some((callee, found, None))
    }

    /// `docker_setup/cogs/sksetup.py:14`: where a returned object was made.
    fn made_location(&self, returned: &Returned) -> String {
        let (file, _) = self.ids[returned.maker];
        let (.., line) = parts(returned.made);
        format!("{}:{line}", self.files[file].display_path)
    }

    /// Why a call of `callee` whose result the coroutine keeps is not moved to a worker
    /// thread: it returns the thread-affine objects `returned` (none: `None`).
    pub(super) fn returned_reason(&self, callee: usize, returned: &[Returned]) -> Option<String> {
        let first = returned.first()?;
        let mut labels: Vec<&str> = Vec::new();
        for r in returned {
            let (_, label, ..) = parts(r.made);
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
        let (_, _, why, remedy, _) = parts(first.made);
        let who = if first.maker == callee {
            "it makes".to_owned()
        } else {
            format!("`{}` makes", self.function(first.maker).qualname)
        };
        let (them, objects) = match labels.as_slice() {
            [one] => ("it", format!("the {one}")),
            _ => ("them", format!("the {}", labels.join(" and the "))),
        };
        Some(format!(
            "`{}` returns {objects} {who} ({}), so the call is not moved to a worker thread, \
             which would make {them} there and hand {them} back to the event loop's thread: \
             {why}. Instead: {remedy}",
            self.function(callee).qualname,
            self.made_location(first),
        ))
    }

    /// Whether the helper that handed the coroutine a returned object (and the function
    /// that made it) may run in a worker thread: neither uses a thread-affine object it did
    /// not make, nor does anything there it must not (`moved_hazard`), so the coroutine's
    /// `for` / `with` statement calling it moves whole (`for conn in get_connection(): ...`).
    pub(super) fn maker_moves(
        &self,
        source: &super::UseSource,
        hazards: &mut HashMap<usize, Option<super::ThreadHazard>>,
    ) -> bool {
        let super::UseSource::Returned { callee, returned } = source else {
            return false;
        };
        [*callee, returned.maker].into_iter().all(|id| {
            self.function(id).affinity.is_none() && self.moved_hazard(id, hazards).is_none()
        })
    }

    /// Why a coroutine's call on an object a project function returned to it stays on the
    /// event loop's thread.
    pub(super) fn returned_use_reason(&self, callee: usize, returned: &Returned) -> String {
        let (_, label, why, remedy, _) = parts(returned.made);
        // A generator's (`for conn in get_connection():`, a `@contextmanager`'s `with`).
        let verb = match self.function(callee).is_generator {
            true => "yields",
            false => "returns",
        };
        let callee = &self.function(callee).qualname;
        format!(
            "the {label} `{callee}` {verb} (made at {}) belongs to the event loop's thread, \
             where the coroutine called `{callee}`, so the call is not moved to a worker \
             thread: {why}. Instead: {remedy}",
            self.made_location(returned),
        )
    }
}

/// The object kind of a returned object (`sqlite3.connect().cursor`).
pub(super) fn returned_kind<'a>(returned: &Returned<'a>) -> &'a str {
    parts(returned.made).0
}

/// The kind of what a coroutine's call is on: the returned object, or what its method
/// `derived` made (`cur = conn.cursor()`: `sqlite3.connect().cursor`).
pub(super) fn derived_kind(returned: &Returned, derived: Option<String>) -> String {
    let made = returned_kind(returned);
    match derived {
        Some(method) => format!("{made}().{method}"),
        None => made.to_owned(),
    }
}

/// Whether `text` is one member name (`cursor`), no chain.
fn names_one_member(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::super::{
        AffineReturn, Evidence, FileSummary, FunctionSummary, ModuleInfo, ProjectCall, ProjectFile,
        settle,
    };
    use super::*;

    fn function(qualname: &str, is_async: bool, calls: Vec<u32>) -> FunctionSummary {
        FunctionSummary {
            qualname: qualname.to_owned(),
            is_async,
            is_generator: false,
            direct: None,
            affinity: None,
            calls,
            imported_receivers: Vec::new(),
            returns: Vec::new(),
            discarded: Vec::new(),
            hazards: Vec::new(),
            direct_guard: None,
            call_sites: Vec::new(),
            files: Vec::new(),
            starts_work: None,
            yields: None,
            awaits: Vec::new(),
            sql_calls: Vec::new(),
            call_at: Vec::new(),
            call_lines: Vec::new(),
            checked: Vec::new(),
            once: None,
        }
    }

    fn made(kind: &str, label: &str, line: u32) -> ReturnedObject {
        ReturnedObject::Made {
            kind: kind.to_owned(),
            label: label.to_owned(),
            why: "why".to_owned(),
            remedy: "remedy".to_owned(),
            line,
        }
    }

    /// `create_conn` returns `(conn, cursor)`; `get_db` returns `create_conn()`;
    /// `cursor_only` returns element 1 of it; the coroutine calls them and uses the cursor.
    #[test]
    fn returns_are_followed_through_helpers_and_name_the_receivers() {
        let targets: Vec<String> = [
            "m.create_conn",
            "m.get_db",
            "m.cursor_only",
            "m.get_db()[1].execute",
            "m.cursor_only().fetchone",
        ]
        .map(str::to_owned)
        .to_vec();
        let mut create_conn = function("create_conn", false, Vec::new());
        create_conn.direct = Some(Evidence {
            code: "UNF101".to_owned(),
            call: "sqlite3.connect".to_owned(),
            line: 3,
            column: 0,
            text: String::new(),
        });
        create_conn.returns = vec![
            AffineReturn {
                position: Some(0),
                object: made("sqlite3.connect", "sqlite3 connection", 3),
            },
            AffineReturn {
                position: Some(1),
                object: made("sqlite3.connect().cursor", "sqlite3 cursor", 4),
            },
        ];
        let mut get_db = function("get_db", false, vec![0]);
        get_db.returns = vec![AffineReturn {
            position: None,
            object: ReturnedObject::Call {
                target: 0,
                position: None,
            },
        }];
        let mut cursor_only = function("cursor_only", false, vec![0]);
        cursor_only.returns = vec![AffineReturn {
            position: None,
            object: ReturnedObject::Call {
                target: 0,
                position: Some(1),
            },
        }];
        let mut handler = function("handler", true, vec![1, 2]);
        handler.imported_receivers = vec![(3, 10), (4, 11)];
        let files = [ProjectFile {
            display_path: "m.py".to_owned(),
            module: ModuleInfo {
                name: "m".to_owned(),
                is_package: false,
                names: vec!["m".to_owned()],
                siblings: Vec::new(),
            },
            summary: FileSummary {
                functions: vec![create_conn, get_db, cursor_only, handler],
                targets,
                imports: Vec::new(),
                affine_globals: Vec::new(),
                ..Default::default()
            },
        }];
        let calls = settle(&files, &|_| Some("UNF101".to_owned()));
        let calls = calls[0].as_ref().unwrap();
        let returned = |name: &str| match &calls[name] {
            ProjectCall::Blocking { returned, .. } => returned.clone().unwrap(),
            other => panic!("{other:?}"),
        };
        assert!(
            returned("m.get_db").starts_with(
                "`get_db` returns the sqlite3 connection and the sqlite3 cursor `create_conn` \
                 makes (m.py:3)"
            ),
            "{}",
            returned("m.get_db")
        );
        assert!(
            returned("m.cursor_only").starts_with(
                "`cursor_only` returns the sqlite3 cursor `create_conn` makes (m.py:4)"
            ),
            "{}",
            returned("m.cursor_only")
        );
        for (name, qualified, made_at) in [
            (
                "m.get_db()[1].execute",
                "sqlite3.connect().cursor().execute",
                "the sqlite3 cursor `get_db` returns (made at m.py:4)",
            ),
            (
                "m.cursor_only().fetchone",
                "sqlite3.connect().cursor().fetchone",
                "the sqlite3 cursor `cursor_only` returns (made at m.py:4)",
            ),
        ] {
            match &calls[name] {
                ProjectCall::Affine {
                    qualified: q,
                    pinned,
                    ..
                } => {
                    assert_eq!(q, qualified);
                    let pinned = pinned.as_deref().expect("pinned");
                    assert!(pinned.starts_with(made_at), "{pinned}");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }
}
