//! One `[[moved-code.files]]` table of a codemod file compiled and validated: a call that
//! reads, writes, deletes or (by its mode) opens a file, or runs statements on a database.

/// One `[[moved-code.files]]` table: the path is an argument or the receiver, never both;
/// an access decided by the mode names the mode's argument.
pub(super) fn compile(raw: &super::raw::RawFileAccess) -> Result<super::FileAccessCall, String> {
    use super::FileAccessKind;
    let access = match raw.access.as_str() {
        "read" => FileAccessKind::Read,
        "write" => FileAccessKind::Write,
        "delete" => FileAccessKind::Delete,
        "exists" => FileAccessKind::Exists,
        "mode" => FileAccessKind::Mode,
        "database" => FileAccessKind::Database,
        other => {
            return Err(format!(
                "`[[moved-code.files]] access`: {other:?} is not `read`, `write`, `delete`, \
                 `exists`, `mode` or `database`"
            ));
        }
    };
    let path_argument = raw
        .path_argument
        .map(|position| (position, raw.path_keyword.clone()));
    if path_argument.is_some() == raw.path_receiver {
        return Err(
            "`[[moved-code.files]]` needs one of `path-argument` and `path-receiver`".to_owned(),
        );
    }
    let mode_argument = raw
        .mode_argument
        .map(|position| (position, raw.mode_keyword.clone()));
    if (access == FileAccessKind::Mode) != mode_argument.is_some() {
        return Err(
            "`[[moved-code.files]]`: `mode-argument` goes with `access = \"mode\"`".to_owned(),
        );
    }
    if raw.atomic && access != FileAccessKind::Write {
        return Err("`[[moved-code.files]]`: `atomic` goes with `access = \"write\"`".to_owned());
    }
    if (access == FileAccessKind::Database) == raw.statement_methods.is_empty() {
        return Err(
            "`[[moved-code.files]]`: `statement-methods` goes with `access = \"database\"`"
                .to_owned(),
        );
    }
    Ok(super::FileAccessCall {
        access,
        path_argument,
        mode_argument,
        atomic: raw.atomic,
        statements: super::DatabaseStatements {
            methods: raw.statement_methods.clone(),
            reads: raw
                .read_statements
                .iter()
                .map(|w| w.to_ascii_uppercase())
                .collect(),
            inserts: raw
                .insert_statements
                .iter()
                .map(|w| w.to_ascii_uppercase())
                .collect(),
        },
    })
}
