//! Targets found through a library's lookup by name (`[[lookup-by-name]]`): the analysis
//! names `self.bot.get_cog("Economy").getBalance` `\0lookup:discord-cog:Economy.getBalance`
//! (`analyze/receivers.rs`), and the settling resolves it to the method of the one project
//! class that lookup finds by that name. Two classes so named, or one whose name is not
//! written out (`name=` of a variable), make the lookup unresolved: the call is then not
//! followed (a wrong class would say the wrong thing).

use std::collections::HashMap;

use super::ProjectFile;

/// How a target found through a lookup by name starts: `\0lookup:discord-cog:Economy`.
pub const LOOKUP_PREFIX: &str = "\u{0}lookup:";

/// Per `lookup:name` (`discord-cog:Economy`), the absolute name of the one class it finds;
/// `None` when several may answer.
pub(super) type NamedClasses = HashMap<String, Option<String>>;

/// The classes every lookup finds, by lookup and name.
pub(super) fn named_classes(files: &[ProjectFile]) -> NamedClasses {
    let mut found: NamedClasses = HashMap::new();
    let mut unnamed: Vec<&str> = Vec::new();
    for file in files {
        let Some(module) = file.module.names.first() else {
            continue;
        };
        for (lookup, name, class) in &file.summary.named_classes {
            if name == "*" {
                unnamed.push(lookup);
                continue;
            }
            let absolute = format!("{module}.{class}");
            found
                .entry(format!("{lookup}:{name}"))
                .and_modify(|c| {
                    if c.as_deref() != Some(absolute.as_str()) {
                        *c = None;
                    }
                })
                .or_insert(Some(absolute));
        }
    }
    // A class whose name is not written out may be the one any name finds.
    for lookup in unnamed {
        for (key, class) in found.iter_mut() {
            if key.split_once(':').is_some_and(|(l, _)| l == lookup) {
                *class = None;
            }
        }
    }
    found
}

/// The absolute name `name` stands for when it starts with a lookup by name
/// (`\0lookup:discord-cog:Economy.getBalance` → `cogs.economy.Economy.getBalance`).
pub(super) fn resolve_named(named: &NamedClasses, name: &str) -> Option<String> {
    let rest = name.strip_prefix(LOOKUP_PREFIX)?;
    let (lookup, rest) = rest.split_once(':')?;
    let (object, member) = match rest.split_once('.') {
        Some((object, member)) => (object, Some(member)),
        None => (rest, None),
    };
    let class = named.get(&format!("{lookup}:{object}"))?.as_deref()?;
    Some(match member {
        Some(member) => format!("{class}.{member}"),
        None => class.to_owned(),
    })
}
