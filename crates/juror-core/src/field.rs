//! Fields: the content a labeler reads (a prompt, a response, a conversation), and their values.

use serde_json::{json, Map, Value};

use crate::error::{ensure, ValidationError};
use crate::ids::{DatasetId, FieldId};
use crate::time::Timestamp;

/// The kind of a field and how it is displayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldSettings {
    /// Plain or markdown text.
    Text { use_markdown: bool },
    /// An image, by http(s) or data URL.
    Image,
    /// A conversation: a list of `{role, content}` messages.
    Chat { use_markdown: bool },
    /// An object shown through a custom HTML template.
    Custom { template: String, advanced_mode: bool },
}

impl FieldSettings {
    /// Reads settings as clients send them; unknown keys are dropped, defaults filled in.
    pub fn from_json(value: &Value) -> Result<Self, ValidationError> {
        let object = value.as_object().ok_or_else(|| ValidationError::new("field settings must be an object"))?;
        let kind = object.get("type").and_then(Value::as_str).ok_or_else(|| {
            ValidationError::new("field settings need a `type`: one of text, image, chat or custom")
        })?;
        match kind {
            "text" => Ok(Self::Text { use_markdown: bool_setting(object, "use_markdown", false)? }),
            "image" => Ok(Self::Image),
            "chat" => Ok(Self::Chat { use_markdown: bool_setting(object, "use_markdown", true)? }),
            "custom" => {
                let template = object
                    .get("template")
                    .and_then(Value::as_str)
                    .ok_or_else(|| ValidationError::new("custom field settings need a `template` string"))?;
                Ok(Self::Custom {
                    template: template.to_owned(),
                    advanced_mode: bool_setting(object, "advanced_mode", false)?,
                })
            }
            other => Err(ValidationError::new(format!(
                "unknown field type `{other}`: expected text, image, chat or custom"
            ))),
        }
    }

    /// The canonical JSON form, with every setting present.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Text { use_markdown } => json!({"type": "text", "use_markdown": use_markdown}),
            Self::Image => json!({"type": "image"}),
            Self::Chat { use_markdown } => json!({"type": "chat", "use_markdown": use_markdown}),
            Self::Custom { template, advanced_mode } => {
                json!({"type": "custom", "template": template, "advanced_mode": advanced_mode})
            }
        }
    }

    /// The type name: text, image, chat or custom.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Text { .. } => "text",
            Self::Image => "image",
            Self::Chat { .. } => "chat",
            Self::Custom { .. } => "custom",
        }
    }

    /// Checks one record value for a field of this kind, normalising numbers to strings for text.
    pub fn check_value(&self, field_name: &str, value: Value) -> Result<Value, ValidationError> {
        match self {
            Self::Text { .. } => match value {
                Value::String(_) => Ok(value),
                Value::Number(number) => Ok(Value::String(number.to_string())),
                _ => Err(ValidationError::new(format!("text field `{field_name}` must be a string"))),
            },
            Self::Image => check_image(field_name, value),
            Self::Chat { .. } => check_chat(field_name, value),
            Self::Custom { .. } => {
                ensure(value.is_object(), || format!("custom field `{field_name}` must be an object"))?;
                Ok(value)
            }
        }
    }
}

/// A field of a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub id: FieldId,
    pub name: String,
    pub title: String,
    pub required: bool,
    pub settings: FieldSettings,
    pub dataset_id: DatasetId,
    pub inserted_at: Timestamp,
    pub updated_at: Timestamp,
}

fn bool_setting(object: &Map<String, Value>, key: &str, default: bool) -> Result<bool, ValidationError> {
    match object.get(key) {
        None => Ok(default),
        Some(Value::Bool(value)) => Ok(*value),
        Some(_) => Err(ValidationError::new(format!("`{key}` must be a boolean"))),
    }
}

const MAX_IMAGE_URL_CHARS: usize = 2038;
const MAX_DATA_URL_BYTES: usize = 5 * 1024 * 1024;
const MAX_CHAT_MESSAGES: usize = 500;

fn check_image(field_name: &str, value: Value) -> Result<Value, ValidationError> {
    let url = value
        .as_str()
        .ok_or_else(|| ValidationError::new(format!("image field `{field_name}` must be a URL string")))?;
    if let Some(rest) = url.strip_prefix("data:") {
        ensure(rest.starts_with("image/"), || format!("image field `{field_name}` has a data URL that is not an image"))?;
        ensure(url.len() <= MAX_DATA_URL_BYTES, || format!("image field `{field_name}` is larger than 5 MB"))?;
    } else {
        ensure(url.starts_with("http://") || url.starts_with("https://"), || {
            format!("image field `{field_name}` must be an http(s) or data URL")
        })?;
        ensure(url.chars().count() <= MAX_IMAGE_URL_CHARS, || {
            format!("image field `{field_name}` URL is longer than {MAX_IMAGE_URL_CHARS} characters")
        })?;
    }
    Ok(value)
}

fn check_chat(field_name: &str, value: Value) -> Result<Value, ValidationError> {
    let messages = value
        .as_array()
        .ok_or_else(|| ValidationError::new(format!("chat field `{field_name}` must be a list of messages")))?;
    ensure(messages.len() <= MAX_CHAT_MESSAGES, || {
        format!("chat field `{field_name}` has more than {MAX_CHAT_MESSAGES} messages")
    })?;
    for (index, message) in messages.iter().enumerate() {
        let is_message = message.get("role").is_some_and(Value::is_string)
            && message.get("content").is_some_and(Value::is_string);
        ensure(is_message, || {
            format!("chat field `{field_name}` message {index} needs string `role` and `content`")
        })?;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_fill_defaults_and_drop_unknown_keys() {
        let text = FieldSettings::from_json(&json!({"type": "text", "extra": 1})).unwrap();
        assert_eq!(text.to_json(), json!({"type": "text", "use_markdown": false}));
        let chat = FieldSettings::from_json(&json!({"type": "chat"})).unwrap();
        assert_eq!(chat.to_json(), json!({"type": "chat", "use_markdown": true}));
    }

    #[test]
    fn missing_or_unknown_type_and_null_markdown_are_rejected() {
        assert!(FieldSettings::from_json(&json!({})).is_err());
        assert!(FieldSettings::from_json(&json!({"type": "video"})).is_err());
        assert!(FieldSettings::from_json(&json!({"type": "text", "use_markdown": null})).is_err());
    }

    #[test]
    fn values_are_checked_by_kind() {
        let text = FieldSettings::Text { use_markdown: false };
        assert_eq!(text.check_value("p", json!(3)).unwrap(), json!("3"));
        assert!(text.check_value("p", json!({"a": 1})).is_err());
        let chat = FieldSettings::Chat { use_markdown: true };
        assert!(chat.check_value("c", json!([{"role": "user", "content": "hi"}])).is_ok());
        assert!(chat.check_value("c", json!([{"role": "user"}])).is_err());
        assert!(FieldSettings::Image.check_value("i", json!("ftp://x")).is_err());
        assert!(FieldSettings::Image.check_value("i", json!("data:image/png;base64,AA")).is_ok());
    }
}
