//! Metadata properties: typed, filterable facts about records (source, length, model, ...).

use serde_json::{json, Value};

use crate::error::{ensure, ValidationError};
use crate::ids::{DatasetId, MetadataPropertyId};
use crate::time::Timestamp;

/// The type of a metadata property and the values it admits.
#[derive(Debug, Clone, PartialEq)]
pub enum MetadataSettings {
    /// A set of terms; `None` admits any term.
    Terms { values: Option<Vec<Value>> },
    /// Integers within optional bounds.
    Integer { min: Option<i64>, max: Option<i64> },
    /// Floats within optional bounds.
    Float { min: Option<f64>, max: Option<f64> },
}

/// A metadata property of a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataProperty {
    pub id: MetadataPropertyId,
    pub name: String,
    pub title: String,
    pub settings: MetadataSettings,
    pub visible_for_annotators: bool,
    pub dataset_id: DatasetId,
    pub inserted_at: Timestamp,
    pub updated_at: Timestamp,
}

impl MetadataSettings {
    /// Reads settings as clients send them; unknown keys (such as `visible_for_annotators`) are dropped.
    pub fn from_json(value: &Value) -> Result<Self, ValidationError> {
        let object = value.as_object().ok_or_else(|| ValidationError::new("metadata property settings must be an object"))?;
        match object.get("type").and_then(Value::as_str) {
            Some("terms") => match object.get("values") {
                None | Some(Value::Null) => Ok(Self::Terms { values: None }),
                Some(Value::Array(values)) => {
                    ensure((1..=250).contains(&values.len()), || {
                        format!("terms values must have between 1 and 250 items, got {}", values.len())
                    })?;
                    Ok(Self::Terms { values: Some(values.clone()) })
                }
                Some(_) => Err(ValidationError::new("terms values must be a list")),
            },
            Some("integer") => {
                let min = optional_integer(object.get("min"), "min")?;
                let max = optional_integer(object.get("max"), "max")?;
                if let (Some(min), Some(max)) = (min, max) {
                    ensure(min < max, || format!("'min' value {min} must be lower than 'max' value {max}"))?;
                }
                Ok(Self::Integer { min, max })
            }
            Some("float") => {
                let min = optional_float(object.get("min"), "min")?;
                let max = optional_float(object.get("max"), "max")?;
                if let (Some(min), Some(max)) = (min, max) {
                    ensure(min < max, || format!("'min' value {min} must be lower than 'max' value {max}"))?;
                }
                Ok(Self::Float { min, max })
            }
            Some(other) => Err(ValidationError::new(format!("unknown metadata property type `{other}`"))),
            None => Err(ValidationError::new("metadata property settings need a `type`: terms, integer or float")),
        }
    }

    /// The canonical JSON form.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Terms { values } => json!({"type": "terms", "values": values}),
            Self::Integer { min, max } => json!({"type": "integer", "min": min, "max": max}),
            Self::Float { min, max } => json!({"type": "float", "min": min, "max": max}),
        }
    }

    /// The type name: terms, integer or float.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Terms { .. } => "terms",
            Self::Integer { .. } => "integer",
            Self::Float { .. } => "float",
        }
    }

    /// Checks a record's value for this property (null is always allowed).
    pub fn check_value(&self, name: &str, value: &Value) -> Result<(), ValidationError> {
        if value.is_null() {
            return Ok(());
        }
        match self {
            Self::Terms { values } => {
                let Some(allowed) = values else { return Ok(()) };
                let given: Vec<&Value> = match value {
                    Value::Array(items) => items.iter().collect(),
                    single => vec![single],
                };
                for term in given {
                    ensure(allowed.contains(term), || format!("'{term}' is not an allowed term for metadata property `{name}`"))?;
                }
                Ok(())
            }
            Self::Integer { min, max } => {
                let number = value
                    .as_i64()
                    .filter(|_| value.is_i64() || value.is_u64())
                    .ok_or_else(|| ValidationError::new(format!("'{value}' is not an integer for metadata property `{name}`")))?;
                ensure(min.is_none_or(|min| number >= min) && max.is_none_or(|max| number <= max), || {
                    format!("'{number}' is out of range for metadata property `{name}`")
                })
            }
            Self::Float { min, max } => {
                let number = value
                    .as_f64()
                    .filter(|number| number.is_finite())
                    .ok_or_else(|| ValidationError::new(format!("'{value}' is not a float for metadata property `{name}`")))?;
                ensure(min.is_none_or(|min| number >= min) && max.is_none_or(|max| number <= max), || {
                    format!("'{number}' is out of range for metadata property `{name}`")
                })
            }
        }
    }
}

/// What the records hold for one metadata property.
#[derive(Debug, Clone, PartialEq)]
pub enum MetadataSummary {
    /// Each term with how many records carry it, most frequent first.
    Terms(Vec<(String, u64)>),
    /// The smallest and largest value, if any record has one.
    Range { min: Option<f64>, max: Option<f64> },
}

impl MetadataSettings {
    /// Summarises the values records hold for a property of this type.
    pub fn summarize(&self, values: &[Value]) -> MetadataSummary {
        match self {
            Self::Terms { .. } => {
                let mut counts: Vec<(String, u64)> = Vec::new();
                let terms = values.iter().flat_map(|value| match value {
                    Value::Array(items) => items.iter().collect::<Vec<_>>(),
                    other => vec![other],
                });
                for term in terms.filter(|term| !term.is_null()) {
                    let term = term.as_str().map_or_else(|| term.to_string(), str::to_owned);
                    match counts.iter_mut().find(|(existing, _)| *existing == term) {
                        Some((_, count)) => *count += 1,
                        None => counts.push((term, 1)),
                    }
                }
                counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                MetadataSummary::Terms(counts)
            }
            Self::Integer { .. } | Self::Float { .. } => {
                let numbers = values.iter().filter_map(Value::as_f64);
                let (min, max) = numbers.fold((None, None), |(min, max): (Option<f64>, Option<f64>), number| {
                    (Some(min.map_or(number, |min| min.min(number))), Some(max.map_or(number, |max| max.max(number))))
                });
                MetadataSummary::Range { min, max }
            }
        }
    }
}

fn optional_integer(value: Option<&Value>, key: &str) -> Result<Option<i64>, ValidationError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value.as_i64().map(Some).ok_or_else(|| ValidationError::new(format!("`{key}` must be an integer"))),
    }
}

fn optional_float(value: Option<&Value>, key: &str) -> Result<Option<f64>, ValidationError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value.as_f64().map(Some).ok_or_else(|| ValidationError::new(format!("`{key}` must be a number"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_must_be_ordered() {
        assert!(MetadataSettings::from_json(&json!({"type": "integer", "min": 5, "max": 1})).is_err());
        assert!(MetadataSettings::from_json(&json!({"type": "float", "min": 0.5, "max": 1.5})).is_ok());
        assert!(MetadataSettings::from_json(&json!({"type": "terms", "values": []})).is_err());
    }

    #[test]
    fn summaries_count_terms_and_bound_numbers() {
        let terms = MetadataSettings::Terms { values: None };
        let summary = terms.summarize(&[json!("a"), json!(["b", "a"]), json!(null), json!(3)]);
        assert_eq!(summary, MetadataSummary::Terms(vec![("a".into(), 2), ("3".into(), 1), ("b".into(), 1)]));
        let integer = MetadataSettings::Integer { min: None, max: None };
        assert_eq!(integer.summarize(&[json!(4), json!(-2), json!(9)]), MetadataSummary::Range { min: Some(-2.0), max: Some(9.0) });
        assert_eq!(integer.summarize(&[]), MetadataSummary::Range { min: None, max: None });
    }

    #[test]
    fn values_are_checked_against_type_and_bounds() {
        let terms = MetadataSettings::from_json(&json!({"type": "terms", "values": ["a", "b"]})).unwrap();
        assert!(terms.check_value("t", &json!("a")).is_ok());
        assert!(terms.check_value("t", &json!(["a", "c"])).is_err());
        let integer = MetadataSettings::Integer { min: Some(0), max: Some(10) };
        assert!(integer.check_value("n", &json!(3)).is_ok());
        assert!(integer.check_value("n", &json!(11)).is_err());
        assert!(integer.check_value("n", &json!(1.5)).is_err());
        let float = MetadataSettings::Float { min: None, max: None };
        assert!(float.check_value("f", &json!(1.5)).is_ok());
        assert!(float.check_value("f", &json!("x")).is_err());
    }
}
