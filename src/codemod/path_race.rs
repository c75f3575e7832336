//! `[[moved-code.path-races]]` (in `codemods/UNF401.toml`): the calls that check a filesystem
//! path (`Path.exists`, `os.path.isdir`) and those that create, write or remove one
//! (`Path.symlink_to`, `os.mkdir`, `os.remove`), with where the path is, the keyword that makes
//! a second call harmless (`exist_ok`) and what a second call raises. Read by
//! `analyze/path_race.rs`: a check then an act on one fixed path in moved code is a race.

use std::collections::HashMap;

/// What a call does to the path it names, in a check-then-act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathRaceRole {
    /// Tests the path (`exists`, `is_dir`).
    Check,
    /// Makes it (`mkdir`, `symlink_to`): a second call raises.
    Create,
    /// Removes it (`unlink`, `os.remove`): a second call raises.
    Remove,
    /// Writes it whole (`write_text`): a second call overwrites the first.
    Write,
}

/// One way a call takes part in a check-then-act on a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRaceCall {
    pub role: PathRaceRole,
    /// The path operand: `None` for the receiver (`target.symlink_to(...)`).
    pub path_argument: Option<(usize, Option<String>)>,
    /// A keyword which, passed as anything but `False`, makes a second call harmless
    /// (`exist_ok`, `missing_ok`).
    pub tolerated_by: Option<String>,
    /// What a second call raises (`builtins.FileExistsError`): a handler of it tolerates it.
    pub raises: Option<String>,
}

/// The compiled `path-races`, `path-race-handlers` and `fresh-path-calls`.
#[derive(Debug, Clone, Default)]
pub struct PathRaces {
    /// The calls, by qualified name.
    pub calls: HashMap<String, Vec<PathRaceCall>>,
    /// Handlers around an act that tolerate a second call whatever it raises.
    pub handlers: Vec<String>,
    /// Calls (or module prefixes ending in `.`) whose result differs per call.
    pub fresh: Vec<String>,
}

impl PathRaces {
    /// Whether a call of `qualified` gives a different value on every call.
    pub fn is_fresh(&self, qualified: &str) -> bool {
        self.fresh.iter().any(|f| match f.ends_with('.') {
            true => qualified.starts_with(f.as_str()),
            false => qualified == f,
        })
    }
}

/// The tables compiled, by qualified call.
pub(super) fn compile(raw: &super::raw::RawMovedCode) -> Result<PathRaces, String> {
    let tables = &raw.path_races;
    let mut calls: HashMap<String, Vec<PathRaceCall>> = HashMap::new();
    for table in tables {
        let role = match table.role.as_str() {
            "check" => PathRaceRole::Check,
            "create" => PathRaceRole::Create,
            "remove" => PathRaceRole::Remove,
            "write" => PathRaceRole::Write,
            other => {
                return Err(format!(
                    "`[[moved-code.path-races]] role`: {other:?} is not `check`, `create`, \
                     `remove` or `write`"
                ));
            }
        };
        let path_argument = table
            .path_argument
            .map(|position| (position, table.path_keyword.clone()));
        if path_argument.is_some() == table.path_receiver {
            return Err(
                "`[[moved-code.path-races]]` needs one of `path-argument` and `path-receiver`"
                    .to_owned(),
            );
        }
        if let Some(name) = table
            .calls
            .iter()
            .chain(&table.raises)
            .find(|n| !n.contains('.') || n.contains(' '))
        {
            return Err(format!(
                "`[[moved-code.path-races]]`: {name:?} is not a qualified name"
            ));
        }
        let way = PathRaceCall {
            role,
            path_argument,
            tolerated_by: table.tolerated_by.clone(),
            raises: table.raises.clone(),
        };
        for call in &table.calls {
            calls.entry(call.clone()).or_default().push(way.clone());
        }
    }
    if let Some(name) = raw
        .path_race_handlers
        .iter()
        .chain(&raw.fresh_path_calls)
        .find(|n| !n.contains('.') || n.contains(' '))
    {
        return Err(format!(
            "`[moved-code] path-race-handlers / fresh-path-calls`: {name:?} is not qualified"
        ));
    }
    Ok(PathRaces {
        calls,
        handlers: raw.path_race_handlers.clone(),
        fresh: raw.fresh_path_calls.clone(),
    })
}
