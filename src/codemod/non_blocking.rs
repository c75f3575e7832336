//! `[[match.non-blocking]]`: the arguments with which a matched call returns at once
//! (`queue.get(block=False)`, `lock.acquire(timeout=0)`, `os.waitpid(pid, os.WNOHANG)`), so
//! such a call is no finding and no blocking evidence. The data names the argument by
//! position and keyword and the values that make the call non-blocking; the analysis reads
//! the argument's tree and resolved names (`analyze/conditions.rs`), never its text.

use std::collections::HashSet;

use super::names::{is_identifier, is_qualified_name};
use super::raw::RawNonBlocking;

/// One value an argument is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgumentValue {
    /// `False`, `True` or `None`.
    Constant(String),
    Number(f64),
    /// A qualified name the argument resolves to.
    Name(String),
}

/// A compiled `[[match.non-blocking]]` table.
#[derive(Debug, Clone)]
pub struct NonBlocking {
    pub calls: HashSet<String>,
    pub position: Option<usize>,
    pub keyword: Option<String>,
    pub values: Vec<ArgumentValue>,
    /// Also non-blocking when the call does not pass the argument.
    pub when_absent: bool,
}

/// Validate the tables against the codemod's matched calls.
pub fn compile_non_blocking(
    raw: &[RawNonBlocking],
    matched: &[String],
) -> Result<Vec<NonBlocking>, String> {
    let context = "`[[match.non-blocking]]`";
    raw.iter()
        .map(|table| {
            let mut calls: HashSet<String> = table.calls.iter().cloned().collect();
            for methods in &table.methods {
                for receiver in &methods.receivers {
                    calls.extend(methods.names.iter().map(|n| format!("{receiver}().{n}")));
                }
            }
            if calls.is_empty() {
                return Err(format!("{context} needs `calls` or `methods`"));
            }
            if let Some(call) = calls.iter().find(|c| !matched.contains(c)) {
                return Err(format!(
                    "{context}: {call:?} is not one of the codemod's calls"
                ));
            }
            if table.position.is_none() && table.keyword.is_none() {
                return Err(format!("{context} needs `position` or `keyword`"));
            }
            if let Some(keyword) = table.keyword.as_ref().filter(|k| !is_identifier(k)) {
                return Err(format!("{context}: `keyword = {keyword:?}` is not a name"));
            }
            if table.values.is_empty() {
                return Err(format!("{context} needs `values`"));
            }
            let values = table
                .values
                .iter()
                .map(|value| parse_value(value).ok_or_else(|| format!(
                    "{context}: value {value:?} is not `False`, `True`, `None`, a number or a qualified name"
                )))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(NonBlocking {
                calls,
                position: table.position,
                keyword: table.keyword.clone(),
                values,
                when_absent: table.when_absent,
            })
        })
        .collect()
}

fn parse_value(value: &str) -> Option<ArgumentValue> {
    let value = value.trim();
    if matches!(value, "False" | "True" | "None") {
        return Some(ArgumentValue::Constant(value.to_owned()));
    }
    if let Ok(number) = value.parse::<f64>() {
        return Some(ArgumentValue::Number(number));
    }
    (is_qualified_name(value) && value.contains('.') && !value.contains("()"))
        .then(|| ArgumentValue::Name(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(values: &[&str], keyword: Option<&str>) -> RawNonBlocking {
        RawNonBlocking {
            calls: vec!["os.waitpid".to_owned()],
            methods: Vec::new(),
            position: Some(1),
            keyword: keyword.map(str::to_owned),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
            when_absent: false,
        }
    }

    #[test]
    fn values_are_constants_numbers_or_qualified_names() {
        let matched = vec!["os.waitpid".to_owned()];
        let compiled =
            compile_non_blocking(&[table(&["False", "0", "os.WNOHANG"], None)], &matched).unwrap();
        assert_eq!(
            compiled[0].values,
            vec![
                ArgumentValue::Constant("False".to_owned()),
                ArgumentValue::Number(0.0),
                ArgumentValue::Name("os.WNOHANG".to_owned()),
            ]
        );
        assert!(compile_non_blocking(&[table(&["nohang"], None)], &matched).is_err());
        assert!(compile_non_blocking(&[table(&["0"], Some("a b"))], &matched).is_err());
        // A call the codemod does not match.
        assert!(compile_non_blocking(&[table(&["0"], None)], &[]).is_err());
    }
}
