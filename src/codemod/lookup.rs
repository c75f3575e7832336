//! A project object a library finds by name (`[[lookup-by-name]]`): discord.py's
//! `Bot.get_cog("Economy")` returns the cog whose `qualified_name` is `"Economy"`, the class
//! deriving from `commands.Cog` so named (its class name, unless its class keywords pass
//! `name=`). The analysis follows such a call with a literal name to that project class
//! (`analyze/receivers.rs`), so what its methods read, write and block is seen at the call.

use serde::Deserialize;

use super::names::{is_identifier, is_qualified_name};

/// `[[lookup-by-name]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawNameLookup {
    /// For messages and docs: `discord-cog`.
    pub name: String,
    /// The lookups, as the codemods name a method of a known object
    /// (`discord.ext.commands.Bot().get_cog`); also reached through an attribute annotated
    /// with the class (`self.bot: commands.Bot = bot`).
    pub calls: Vec<String>,
    /// The library classes whose project subclasses the lookup finds (direct subclasses).
    pub classes: Vec<String>,
    /// The class keyword naming the object another way (`class Economy(Cog, name="Econ")`);
    /// without it, the class's own name.
    pub name_keyword: Option<String>,
}

/// A compiled `[[lookup-by-name]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameLookup {
    pub name: String,
    pub calls: Vec<String>,
    pub classes: Vec<String>,
    pub name_keyword: Option<String>,
}

/// Validate a `[[lookup-by-name]]`: a plain name, qualified calls with a method
/// (`Class().method`), qualified classes.
pub fn compile_name_lookup(raw: &RawNameLookup) -> Result<NameLookup, String> {
    let context = format!("`[[lookup-by-name]]` {:?}", raw.name);
    if !raw
        .name
        .split('-')
        .all(|part| !part.is_empty() && is_identifier(part))
    {
        return Err(format!("{context}: `name` must be words joined by `-`"));
    }
    if raw.calls.is_empty() || raw.classes.is_empty() {
        return Err(format!("{context}: needs `calls` and `classes`"));
    }
    for call in &raw.calls {
        let valid = call
            .split_once("().")
            .is_some_and(|(class, method)| is_qualified_name(class) && is_identifier(method));
        if !valid {
            return Err(format!(
                "{context}: `calls` entry {call:?} is not `package.Class().method`"
            ));
        }
    }
    if let Some(bad) = raw
        .classes
        .iter()
        .find(|c| !is_qualified_name(c) || !c.contains('.'))
    {
        return Err(format!(
            "{context}: `classes` entry {bad:?} is not a dotted qualified name"
        ));
    }
    if let Some(keyword) = &raw.name_keyword
        && !is_identifier(keyword)
    {
        return Err(format!(
            "{context}: `name-keyword` {keyword:?} is not a name"
        ));
    }
    Ok(NameLookup {
        name: raw.name.clone(),
        calls: raw.calls.clone(),
        classes: raw.classes.clone(),
        name_keyword: raw.name_keyword.clone(),
    })
}

/// Every `[[lookup-by-name]]` of a codemod file, validated.
pub fn compile_all(raw: &[RawNameLookup]) -> Result<Vec<NameLookup>, String> {
    raw.iter().map(compile_name_lookup).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(calls: &[&str], classes: &[&str]) -> RawNameLookup {
        RawNameLookup {
            name: "discord-cog".to_owned(),
            calls: calls.iter().map(|c| (*c).to_owned()).collect(),
            classes: classes.iter().map(|c| (*c).to_owned()).collect(),
            name_keyword: Some("name".to_owned()),
        }
    }

    #[test]
    fn calls_are_methods_of_a_known_object_and_classes_dotted_names() {
        let good = raw(
            &["discord.ext.commands.Bot().get_cog"],
            &["discord.ext.commands.Cog"],
        );
        assert!(compile_name_lookup(&good).is_ok());
        assert!(compile_name_lookup(&raw(&["get_cog"], &["discord.ext.commands.Cog"])).is_err());
        assert!(compile_name_lookup(&raw(&["discord.Bot().get_cog"], &["Cog"])).is_err());
        assert!(compile_name_lookup(&raw(&[], &["discord.Cog"])).is_err());
    }
}
