//! Records: one item to label (a prompt and its candidate responses), and how a new or updated
//! record is checked against its dataset's settings.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::dataset::Dataset;
use crate::error::{ensure, ValidationError};
use crate::field::Field;
use crate::ids::{DatasetId, QuestionId, RecordId, UserId};
use crate::metadata::MetadataProperty;
use crate::question::Question;
use crate::response::{check_response_values, check_suggestion, NewSuggestion, Response, ResponseStatus, Suggestion};
use crate::time::Timestamp;
use crate::vector::VectorSettings;

/// Whether a record has collected the submissions its dataset's distribution asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordStatus {
    Pending,
    Completed,
}

impl RecordStatus {
    /// The status for a record with `submitted` submitted responses under `min_submitted`.
    pub fn from_submissions(submitted: u64, min_submitted: u32) -> Self {
        if submitted >= u64::from(min_submitted) {
            Self::Completed
        } else {
            Self::Pending
        }
    }

    /// Reads `pending` or `completed`.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        match text {
            "pending" => Ok(Self::Pending),
            "completed" => Ok(Self::Completed),
            other => Err(ValidationError::new(format!("unknown record status `{other}`"))),
        }
    }

    /// The status name as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Completed => "completed",
        }
    }
}

/// A record as stored, without its relationships.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: RecordId,
    pub dataset_id: DatasetId,
    pub external_id: Option<String>,
    pub fields: Map<String, Value>,
    pub metadata: Option<Map<String, Value>>,
    pub status: RecordStatus,
    pub inserted_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A record with the relationships a caller asked for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecordRelations {
    pub responses: Option<Vec<Response>>,
    pub suggestions: Option<Vec<Suggestion>>,
    pub vectors: Option<Vec<(String, Vec<f64>)>>,
}

/// A response carried inside a record write.
#[derive(Debug, Clone, PartialEq)]
pub struct NewResponse {
    pub user_id: UserId,
    pub values: Option<Map<String, Value>>,
    pub status: ResponseStatus,
}

/// A record as a client writes it: a create, or an upsert when it names an existing record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecordWrite {
    pub id: Option<RecordId>,
    pub external_id: Option<String>,
    pub fields: Option<Map<String, Value>>,
    pub metadata: Option<Map<String, Value>>,
    pub vectors: Option<Map<String, Value>>,
    pub responses: Option<Vec<NewResponse>>,
    pub suggestions: Option<Vec<NewSuggestion>>,
}

/// A record write that passed validation; vectors are parsed and field values normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidRecordWrite {
    pub id: Option<RecordId>,
    pub external_id: Option<String>,
    pub fields: Option<Map<String, Value>>,
    pub metadata: Option<Map<String, Value>>,
    pub vectors: Vec<(String, Vec<f64>)>,
    pub responses: Vec<NewResponse>,
    /// `None` leaves suggestions alone; `Some` upserts per question.
    pub suggestions: Option<Vec<NewSuggestion>>,
}

/// Names as a Python list literal (`['a', 'b']`), the form Argilla's messages use.
fn python_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("'{name}'")).collect();
    format!("[{}]", quoted.join(", "))
}

/// Everything a record is checked against: the dataset and its settings.
#[derive(Debug, Clone)]
pub struct DatasetSchema {
    pub dataset: Dataset,
    pub fields: Vec<Field>,
    pub questions: Vec<Question>,
    pub metadata_properties: Vec<MetadataProperty>,
    pub vector_settings: Vec<VectorSettings>,
}

impl DatasetSchema {
    /// The question with this id, if it belongs to the dataset.
    pub fn question(&self, id: QuestionId) -> Option<&Question> {
        self.questions.iter().find(|question| question.id == id)
    }

    /// The question with this name, if any.
    pub fn question_named(&self, name: &str) -> Option<&Question> {
        self.questions.iter().find(|question| question.name == name)
    }

    /// Checks a record write. `is_new` says whether it creates a record (fields then required).
    ///
    /// `user_exists` answers whether a response's user is known.
    pub fn check_record(
        &self,
        write: RecordWrite,
        is_new: bool,
        user_exists: &dyn Fn(UserId) -> bool,
    ) -> Result<ValidRecordWrite, ValidationError> {
        let fields = match write.fields {
            Some(fields) => Some(self.check_fields(fields)?),
            None if is_new => return Err(ValidationError::new("fields cannot be empty")),
            None => None,
        };
        if let Some(metadata) = &write.metadata {
            self.check_metadata(metadata)?;
        }
        let vectors = match &write.vectors {
            Some(vectors) => self.check_vectors(vectors)?,
            None => Vec::new(),
        };
        let responses = write.responses.unwrap_or_default();
        let mut users = HashSet::new();
        for response in &responses {
            ensure(users.insert(response.user_id), || format!("'responses' contains several responses for the same user_id: {}", response.user_id))?;
            ensure(user_exists(response.user_id), || format!("user_id={} does not exist", response.user_id))?;
            check_response_values(&self.questions, response.values.as_ref(), response.status, fields.as_ref())
                .map_err(|error| error.prefixed("response: "))?;
        }
        if let Some(suggestions) = &write.suggestions {
            let mut seen = HashSet::new();
            for suggestion in suggestions {
                ensure(seen.insert(suggestion.question_id), || format!("found duplicate suggestions question IDs: {}", suggestion.question_id))?;
                let question = self
                    .question(suggestion.question_id)
                    .ok_or_else(|| ValidationError::new(format!("question id={} does not exists", suggestion.question_id)))?;
                check_suggestion(question, suggestion, fields.as_ref())?;
            }
        }
        Ok(ValidRecordWrite {
            id: write.id,
            external_id: write.external_id,
            fields,
            metadata: write.metadata,
            vectors,
            responses,
            suggestions: write.suggestions,
        })
    }

    fn check_fields(&self, fields: Map<String, Value>) -> Result<Map<String, Value>, ValidationError> {
        ensure(!fields.is_empty(), || "fields cannot be empty".into())?;
        let configured: HashMap<&str, &Field> = self.fields.iter().map(|field| (field.name.as_str(), field)).collect();
        let unknown: Vec<&str> = fields.keys().map(String::as_str).filter(|name| !configured.contains_key(name)).collect();
        ensure(unknown.is_empty(), || format!("found fields values for non configured fields: {}", python_list(&unknown)))?;
        for field in self.fields.iter().filter(|field| field.required) {
            ensure(fields.get(&field.name).is_some_and(|value| !value.is_null()), || {
                format!("missing required value for field: '{}'", field.name)
            })?;
        }
        let mut checked = Map::with_capacity(fields.len());
        for (name, value) in fields {
            let value = if value.is_null() { value } else { configured[name.as_str()].settings.check_value(&name, value)? };
            checked.insert(name, value);
        }
        Ok(checked)
    }

    fn check_metadata(&self, metadata: &Map<String, Value>) -> Result<(), ValidationError> {
        for (name, value) in metadata {
            if value.is_null() {
                continue;
            }
            ensure(!value.as_f64().is_some_and(f64::is_nan), || format!("metadata `{name}` is NaN"))?;
            match self.metadata_properties.iter().find(|property| &property.name == name) {
                Some(property) => property.settings.check_value(name, value)?,
                None => ensure(self.dataset.allow_extra_metadata, || {
                    format!("metadata property `{name}` is not defined for the dataset and extra metadata is not allowed")
                })?,
            }
        }
        Ok(())
    }

    fn check_vectors(&self, vectors: &Map<String, Value>) -> Result<Vec<(String, Vec<f64>)>, ValidationError> {
        let mut parsed = Vec::with_capacity(vectors.len());
        for (name, value) in vectors {
            let settings = self
                .vector_settings
                .iter()
                .find(|settings| &settings.name == name)
                .ok_or_else(|| ValidationError::new(format!("vector with name={name} does not exist for dataset_id={}", self.dataset.id)))?;
            let items = value.as_array().ok_or_else(|| ValidationError::new(format!("vector `{name}` must be a list of numbers")))?;
            ensure(items.len() == settings.dimensions as usize, || {
                format!("vector must have {} elements, got {} elements", settings.dimensions, items.len())
            })?;
            let numbers = items
                .iter()
                .map(Value::as_f64)
                .collect::<Option<Vec<f64>>>()
                .ok_or_else(|| ValidationError::new(format!("vector `{name}` must be a list of numbers")))?;
            parsed.push((name.clone(), numbers));
        }
        Ok(parsed)
    }
}
