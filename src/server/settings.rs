//! The editor's settings for the server (docs/editors.md): `initializationOptions` at
//! `initialize`, then `workspace/didChangeConfiguration` (its `settings`, or their `unfreeze`
//! object) or the editor's answer to `workspace/configuration` (`pull.rs`), whose keys
//! replace the initial ones. Each maps to a flag of `unfreeze check` and is applied as that flag, over the
//! configuration file, to the buffers and to the project views.

use std::path::PathBuf;

use serde_json::Value;

/// What the editor set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EditorSettings {
    /// `unsafeFixes` (`--unsafe-fixes`): a rule's unsafe alternative fix preferred to its safe
    /// one, as `fix --unsafe-fixes` does.
    pub unsafe_fixes: bool,
    /// `select` (`--select`): only these rules, replacing the configuration's `select`.
    pub select: Option<Vec<String>>,
    /// `extendSelect` (`--extend-select`).
    pub extend_select: Vec<String>,
    /// `ignore` / `extendIgnore` (`--ignore`, `--extend-ignore`: added to the
    /// configuration's `ignore`).
    pub ignore: Vec<String>,
    /// `config` (`--config`): this configuration file instead of the nearest one.
    pub config: Option<PathBuf>,
    /// `isolated` (`--isolated`): no configuration file.
    pub isolated: bool,
    /// `docsUrl`: where the rules' pages are (`CODE.md` under it, as the bot's `--docs-url`):
    /// each diagnostic links to its rule's page, and "explain rule" opens it.
    pub docs_url: Option<String>,
}

/// The server's own settings in `value`: its `unfreeze` object when it has one.
fn scoped(value: &Value) -> &Value {
    match value.get("unfreeze") {
        Some(inner) if inner.is_object() => inner,
        _ => value,
    }
}

/// The keys of the server's settings.
const KEYS: [&str; 8] = [
    "unsafeFixes",
    "select",
    "extendSelect",
    "ignore",
    "extendIgnore",
    "config",
    "isolated",
    "docsUrl",
];

/// Whether `value` (a `workspace/didChangeConfiguration`'s `settings`) carries settings of
/// the server's: an `unfreeze` object, or one of its keys. Without (`null`, `{}`, or only
/// other servers' sections), an editor that answers `workspace/configuration` is asked.
pub fn names_settings(value: &Value) -> bool {
    value.get("unfreeze").is_some_and(Value::is_object)
        || KEYS.iter().any(|key| value.get(key).is_some())
}

/// The settings `changed` (a `workspace/didChangeConfiguration`'s) gives over `initial` (the
/// `initializationOptions`): each key it sets replaces the initial one; a `null` (as some
/// editors send, to say "ask me") or a value that is not an object changes nothing.
pub fn layered(initial: &Value, changed: &Value) -> Value {
    let mut layered = match scoped(initial) {
        Value::Object(initial) => initial.clone(),
        _ => serde_json::Map::new(),
    };
    if let Value::Object(changed) = scoped(changed) {
        for (key, value) in changed {
            layered.insert(key.clone(), value.clone());
        }
    }
    Value::Object(layered)
}

impl EditorSettings {
    /// The settings `value` gives (an `unfreeze` object inside it is read instead, as editors
    /// send every server's settings in one object); the keys it has wrong, each with why.
    pub fn from_value(value: &Value) -> (EditorSettings, Vec<String>) {
        let value = scoped(value);
        let mut wrong = Vec::new();
        let mut boolean = |key: &str| match &value[key] {
            Value::Null => false,
            Value::Bool(b) => *b,
            other => {
                wrong.push(format!("`{key}` must be true or false, not {other}"));
                false
            }
        };
        let unsafe_fixes = boolean("unsafeFixes");
        let isolated = boolean("isolated");
        let mut codes = |key: &str| -> Option<Vec<String>> {
            match &value[key] {
                Value::Null => None,
                Value::String(s) => Some(s.split(',').map(|c| c.trim().to_owned()).collect()),
                Value::Array(items) if items.iter().all(Value::is_string) => Some(
                    items
                        .iter()
                        .filter_map(|c| c.as_str().map(str::to_owned))
                        .collect(),
                ),
                other => {
                    wrong.push(format!("`{key}` must be a list of rule codes, not {other}"));
                    None
                }
            }
        };
        let select = codes("select");
        let extend_select = codes("extendSelect").unwrap_or_default();
        let mut ignore = codes("ignore").unwrap_or_default();
        ignore.extend(codes("extendIgnore").unwrap_or_default());
        let mut text = |key: &str| match &value[key] {
            Value::Null => None,
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            other => {
                wrong.push(format!("`{key}` must be a non-empty string, not {other}"));
                None
            }
        };
        let config = text("config").map(PathBuf::from);
        let docs_url = text("docsUrl");
        let settings = EditorSettings {
            unsafe_fixes,
            select,
            extend_select,
            ignore,
            config,
            isolated,
            docs_url,
        };
        (settings, wrong)
    }

    /// The flags of `unfreeze check` these settings are (the settings of the analysis).
    pub fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(select) = &self.select {
            args.push(format!("--select={}", select.join(",")));
        }
        if !self.extend_select.is_empty() {
            args.push(format!("--extend-select={}", self.extend_select.join(",")));
        }
        if !self.ignore.is_empty() {
            args.push(format!("--ignore={}", self.ignore.join(",")));
        }
        if let Some(config) = &self.config {
            args.push(format!("--config={}", config.display()));
        }
        if self.isolated {
            args.push("--isolated".to_owned());
        }
        args
    }

    /// The page of the rule `code`, when the editor said where the pages are.
    pub fn rule_page(&self, code: &str) -> Option<String> {
        let base = self.docs_url.as_deref()?;
        let slash = if base.ends_with('/') { "" } else { "/" };
        Some(format!("{base}{slash}{code}.md"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn settings_become_check_flags() {
        let (settings, wrong) = EditorSettings::from_value(&json!({"unfreeze": {
            "unsafeFixes": true,
            "select": ["ASYNC", "UNF401"],
            "extendSelect": "UNF402",
            "ignore": ["ASYNC250"],
            "extendIgnore": ["RUF006"],
            "docsUrl": "https://example.org/rules",
        }}));
        assert!(wrong.is_empty(), "{wrong:?}");
        assert!(settings.unsafe_fixes);
        assert_eq!(
            settings.args(),
            [
                "--select=ASYNC,UNF401",
                "--extend-select=UNF402",
                "--ignore=ASYNC250,RUF006",
            ]
        );
        assert_eq!(
            settings.rule_page("UNF401").as_deref(),
            Some("https://example.org/rules/UNF401.md")
        );
    }

    #[test]
    fn changed_settings_are_layered_over_the_initial_ones() {
        let initial = json!({"unsafeFixes": true, "ignore": ["ASYNC250"]});
        let changed = json!({"unfreeze": {"ignore": ["ASYNC251"]}, "python": {}});
        let (settings, _) = EditorSettings::from_value(&layered(&initial, &changed));
        assert!(settings.unsafe_fixes);
        assert_eq!(settings.ignore, ["ASYNC251"]);
        let (unchanged, _) = EditorSettings::from_value(&layered(&initial, &Value::Null));
        assert!(unchanged.unsafe_fixes);
        assert_eq!(unchanged.ignore, ["ASYNC250"]);
    }

    #[test]
    fn settings_of_other_servers_or_none_are_not_the_servers() {
        assert!(names_settings(&json!({"unfreeze": {}})));
        assert!(names_settings(&json!({"select": ["ASYNC"]})));
        assert!(!names_settings(&json!({"python": {"analysis": {}}})));
        assert!(!names_settings(&json!({})));
        assert!(!names_settings(&Value::Null));
    }

    #[test]
    fn wrong_types_are_said() {
        let (settings, wrong) =
            EditorSettings::from_value(&json!({"unsafeFixes": "yes", "select": 3}));
        assert_eq!(settings, EditorSettings::default());
        assert_eq!(wrong.len(), 2, "{wrong:?}");
        assert!(wrong[0].contains("unsafeFixes"), "{wrong:?}");
    }
}
