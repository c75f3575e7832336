//! The `except` clauses a migration widens: around the request itself (`requests.exceptions.X`
//! also catches the httpx equivalents), and around each call of a response's raising methods
//! wherever it is in the function (`r.raise_for_status()` in a later `try`: `HTTPError` also
//! catches `HTTPStatusError`; `r.json()`: requests' `JSONDecodeError` also catches the
//! standard library's, which httpx raises). Each clause is rewritten once, with the union of
//! what every use adds to it.

use tree_sitter::Node;

use super::HttpxMapping;
use crate::codemod::strategy::site::Site;
use crate::fix::Edit;
use crate::fix::imports::reference_module;
use crate::parse::{HandledTypes, handlers_around};

/// What raises at a place: the request, or one of the response's methods.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Raiser {
    /// The request, or `raise_for_status()`: requests exceptions → the client's.
    Request,
    /// `.json()`: requests' JSON errors → `json.JSONDecodeError`.
    Json,
}

/// The clauses to widen, each with the names it also catches.
#[derive(Default)]
pub struct Handlers<'t> {
    clauses: Vec<(HandledTypes<'t>, Vec<String>)>,
    /// How the file names the `json` module, and its import when one is needed.
    json: Option<(String, Vec<Edit>)>,
}

impl<'t> Handlers<'t> {
    /// Widen the clauses of every `try` around `node` for what `raiser` raises; whether one
    /// was.
    pub fn around(
        &mut self,
        site: &Site<'t>,
        node: Node<'t>,
        raiser: Raiser,
        client_module: &str,
        mapping: &HttpxMapping,
    ) -> Result<bool, String> {
        let text = site.text;
        let mut widened = false;
        for handler in handlers_around(node) {
            let mut added: Vec<String> = Vec::new();
            for item in &handler.items {
                let Some(qualified) = site.index.qualified_name(*item, text) else {
                    continue;
                };
                match raiser {
                    Raiser::Request => {
                        for e in mapping.httpx_exceptions(&qualified) {
                            added.push(format!("{client_module}.{e}"));
                        }
                    }
                    Raiser::Json if mapping.is_json_error(&qualified) => {
                        if self.json.is_none() {
                            let module = reference_module(
                                site.index,
                                site.tree,
                                text,
                                site.line_ending,
                                "json",
                                node.start_byte(),
                            )?;
                            self.json = Some((module.name, module.import));
                        }
                        let (json, _) = self.json.as_ref().expect("set above");
                        added.push(format!("{json}.JSONDecodeError"));
                    }
                    Raiser::Json => {}
                }
            }
            if added.is_empty() {
                continue;
            }
            widened = true;
            let at = handler.expression.id();
            let index = match self
                .clauses
                .iter()
                .position(|(h, _)| h.expression.id() == at)
            {
                Some(index) => index,
                None => {
                    self.clauses.push((handler, Vec::new()));
                    self.clauses.len() - 1
                }
            };
            let names = &mut self.clauses[index].1;
            for name in added {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        Ok(widened)
    }

    /// Add what `other` widens (several calls' migrations in one fix).
    pub fn merge(&mut self, other: Handlers<'t>) {
        if self.json.is_none() {
            self.json = other.json;
        }
        for (handler, added) in other.clauses {
            let at = handler.expression.id();
            match self
                .clauses
                .iter_mut()
                .find(|(h, _)| h.expression.id() == at)
            {
                Some((_, names)) => {
                    for name in added {
                        if !names.contains(&name) {
                            names.push(name);
                        }
                    }
                }
                None => self.clauses.push((handler, added)),
            }
        }
    }

    /// One edit per widened clause (`except (requests.HTTPError, httpx.HTTPStatusError)`), and
    /// the `json` import when a clause names it.
    pub fn edits(self, text: &str) -> Vec<Edit> {
        let mut edits = Vec::new();
        let mut names_json = false;
        for (handler, added) in self.clauses {
            let existing: Vec<&str> = handler
                .items
                .iter()
                .map(|i| &text[i.byte_range()])
                .collect();
            names_json |= self
                .json
                .as_ref()
                .is_some_and(|(json, _)| added.iter().any(|a| a.starts_with(&format!("{json}."))));
            edits.push(Edit::replacement(
                handler.expression.byte_range(),
                format!("({}, {})", existing.join(", "), added.join(", ")),
            ));
        }
        if names_json && let Some((_, import)) = self.json {
            edits.extend(import);
        }
        edits
    }
}
