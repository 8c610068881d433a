//! A statement as data: SQL text with `?` placeholders and its parameters, so the statements
//! both backends share are written once (`crud.rs`) and each backend binds and runs them.

use std::borrow::Cow;

/// One parameter value, in the column types Juror's schemas use.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(Option<String>),
    Int(Option<i64>),
    Flag(bool),
    Bytes(Vec<u8>),
}

impl From<String> for Param {
    fn from(value: String) -> Self {
        Self::Text(Some(value))
    }
}

impl From<&str> for Param {
    fn from(value: &str) -> Self {
        Self::Text(Some(value.to_owned()))
    }
}

impl From<Option<String>> for Param {
    fn from(value: Option<String>) -> Self {
        Self::Text(value)
    }
}

impl From<Option<&str>> for Param {
    fn from(value: Option<&str>) -> Self {
        Self::Text(value.map(str::to_owned))
    }
}

impl From<i64> for Param {
    fn from(value: i64) -> Self {
        Self::Int(Some(value))
    }
}

impl From<Option<i64>> for Param {
    fn from(value: Option<i64>) -> Self {
        Self::Int(value)
    }
}

impl From<bool> for Param {
    fn from(value: bool) -> Self {
        Self::Flag(value)
    }
}

/// SQL with positional `?` placeholders, one per parameter in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: Cow<'static, str>,
    pub params: Vec<Param>,
}

impl Statement {
    pub fn new(sql: impl Into<Cow<'static, str>>) -> Self {
        Self { sql: sql.into(), params: Vec::new() }
    }

    /// Adds the next parameter.
    pub fn bind(mut self, param: impl Into<Param>) -> Self {
        self.params.push(param.into());
        self
    }

    /// The SQL with `$1, $2, ...` for its `?`s, as PostgreSQL wants (a `?` inside a quoted
    /// string or identifier stays as it is).
    pub fn numbered_sql(&self) -> String {
        numbered(&self.sql)
    }
}

/// `?` placeholders as `$n`, counted in order, outside quotes; a numbered `?n` (a statement
/// that uses a parameter more than once) becomes `$n`.
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut count = 0;
    let mut quote: Option<char> = None;
    let mut characters = sql.chars().peekable();
    while let Some(character) = characters.next() {
        match (quote, character) {
            (None, '?') if characters.peek().is_some_and(char::is_ascii_digit) => out.push('$'),
            (None, '\'' | '"') => {
                quote = Some(character);
                out.push(character);
            }
            (Some(open), _) if character == open => {
                quote = None;
                out.push(character);
            }
            (None, '?') => {
                count += 1;
                out.push('$');
                out.push_str(&count.to_string());
            }
            _ => out.push(character),
        }
    }
    out
}

/// `?, ?, ...` for an `IN (...)` list of `count` parameters.
pub fn placeholders(count: usize) -> String {
    vec!["?"; count].join(", ")
}

/// `(?, ?), (?, ?), ...`: the `VALUES` of a multi-row insert of `rows` rows of `width` columns.
pub fn value_rows(width: usize, rows: usize) -> String {
    vec![format!("({})", placeholders(width)); rows].join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order_outside_quotes() {
        assert_eq!(numbered("SELECT \"values\" FROM t WHERE a = ? AND b IN (?, ?) AND c = '?'"), "SELECT \"values\" FROM t WHERE a = $1 AND b IN ($2, $3) AND c = '?'");
        assert_eq!(numbered("no parameters"), "no parameters");
        assert_eq!(numbered("a = ?2 AND b = ?1 AND c = ?2"), "a = $2 AND b = $1 AND c = $2");
        assert_eq!(placeholders(3), "?, ?, ?");
        assert_eq!(value_rows(2, 3), "(?, ?), (?, ?), (?, ?)");
    }
}
