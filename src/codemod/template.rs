//! Message templates with `{placeholder}`s, checked against the allowed names when a codemod
//! is compiled, so rendering cannot fail.

/// A parsed template: literal text and placeholder names, alternating.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Placeholder(String),
}

impl Template {
    /// Parse `text`, accepting only the placeholders in `allowed`; `{{` and `}}` are braces.
    pub fn parse(text: &str, allowed: &[&str]) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    if !allowed.contains(&name.as_str()) {
                        return Err(format!(
                            "unknown placeholder `{{{name}}}` (allowed: {})",
                            allowed
                                .iter()
                                .map(|a| format!("{{{a}}}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Placeholder(name));
                }
                '}' => return Err("unmatched `}` (write `}}` for a brace)".to_owned()),
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template { parts })
    }

    /// Render with `value(name)` for each placeholder.
    pub fn render(&self, value: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Placeholder(name) => out.push_str(&value(name)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_placeholders_and_escaped_braces() {
        let template = Template::parse("`{callee}` in {{x}}", &["callee"]).unwrap();
        assert_eq!(
            template.render(|_| "time.sleep".into()),
            "`time.sleep` in {x}"
        );
    }

    #[test]
    fn rejects_unknown_placeholders() {
        let err = Template::parse("{nope}", &["callee"]).unwrap_err();
        assert!(err.contains("unknown placeholder `{nope}`"), "{err}");
    }
}
