//! What counts as a name in the codemod files: a Python identifier, and a qualified name with
//! object steps. Read by the compiler of codemods, the user's configured calls and the offload
//! idioms alike.

/// `a.b.c`, or with object steps: `requests.Session().get`, `sqlite3.connect().cursor().execute`
/// (`()` marks "the object this call returns"; never on the last segment).
pub(super) fn is_qualified_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    !name.is_empty()
        && parts.iter().enumerate().all(|(i, part)| {
            let identifier = match part.strip_suffix("()") {
                Some(_) if i + 1 == parts.len() => return false,
                Some(stripped) => stripped,
                None => part,
            };
            // `pymongo.MongoClient.*`: any member of the object (semantic/types.rs).
            if identifier == "*" && i > 0 && i + 1 < parts.len() {
                return true;
            }
            !identifier.is_empty()
                && !identifier.starts_with(|c: char| c.is_ascii_digit())
                && identifier.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
}

/// A Python identifier (ASCII digits may not start it).
pub(super) fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}
