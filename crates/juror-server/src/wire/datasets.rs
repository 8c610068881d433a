//! Datasets and their settings: fields, questions, metadata properties, vector settings.

use juror_core::dataset::Dataset;
use juror_core::field::Field;
use juror_core::metadata::MetadataProperty;
use juror_core::question::Question;
use juror_core::vector::VectorSettings;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// How a dataset's records are shared out: each is completed at `min_submitted` submitted
/// responses.
#[derive(Debug, Serialize, ToSchema)]
pub struct DistributionJson {
    /// Always `overlap`.
    pub strategy: &'static str,
    pub min_submitted: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetJson {
    pub id: String,
    pub name: String,
    pub guidelines: Option<String>,
    pub allow_extra_metadata: bool,
    /// `draft` or `ready` (published).
    pub status: &'static str,
    pub distribution: DistributionJson,
    pub metadata: Option<Map<String, Value>>,
    pub workspace_id: String,
    pub last_activity_at: String,
    pub inserted_at: String,
    pub updated_at: String,
}

pub fn dataset(dataset: &Dataset) -> DatasetJson {
    DatasetJson {
        id: dataset.id.to_string(),
        name: dataset.name.clone(),
        guidelines: dataset.guidelines.clone(),
        allow_extra_metadata: dataset.allow_extra_metadata,
        status: dataset.status.as_str(),
        distribution: DistributionJson { strategy: "overlap", min_submitted: dataset.distribution.min_submitted() },
        metadata: dataset.metadata.clone(),
        workspace_id: dataset.workspace_id.to_string(),
        last_activity_at: dataset.last_activity_at.to_naive_iso(),
        inserted_at: dataset.inserted_at.to_naive_iso(),
        updated_at: dataset.updated_at.to_naive_iso(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldJson {
    pub id: String,
    pub name: String,
    pub title: String,
    pub required: bool,
    /// `{"type": "text"|"image"|"chat"|"custom", ...}`.
    pub settings: Value,
    pub dataset_id: String,
    pub inserted_at: String,
    pub updated_at: String,
}

pub fn field(field: &Field) -> FieldJson {
    FieldJson {
        id: field.id.to_string(),
        name: field.name.clone(),
        title: field.title.clone(),
        required: field.required,
        settings: field.settings.to_json(),
        dataset_id: field.dataset_id.to_string(),
        inserted_at: field.inserted_at.to_naive_iso(),
        updated_at: field.updated_at.to_naive_iso(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionJson {
    pub id: String,
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    pub required: bool,
    /// `{"type": "ranking"|"rating"|"label_selection"|"multi_label_selection"|"text"|"span", ...}`.
    pub settings: Value,
    pub dataset_id: String,
    pub inserted_at: String,
    pub updated_at: String,
}

pub fn question(question: &Question) -> QuestionJson {
    QuestionJson {
        id: question.id.to_string(),
        name: question.name.clone(),
        title: question.title.clone(),
        description: question.description.clone(),
        required: question.required,
        settings: question.settings.to_json(),
        dataset_id: question.dataset_id.to_string(),
        inserted_at: question.inserted_at.to_naive_iso(),
        updated_at: question.updated_at.to_naive_iso(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MetadataPropertyJson {
    pub id: String,
    pub name: String,
    pub title: String,
    /// `{"type": "terms"|"integer"|"float", ...}`.
    pub settings: Value,
    pub visible_for_annotators: bool,
    pub dataset_id: String,
    pub inserted_at: String,
    pub updated_at: String,
}

pub fn metadata_property(property: &MetadataProperty) -> MetadataPropertyJson {
    MetadataPropertyJson {
        id: property.id.to_string(),
        name: property.name.clone(),
        title: property.title.clone(),
        settings: property.settings.to_json(),
        visible_for_annotators: property.visible_for_annotators,
        dataset_id: property.dataset_id.to_string(),
        inserted_at: property.inserted_at.to_naive_iso(),
        updated_at: property.updated_at.to_naive_iso(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VectorSettingsJson {
    pub id: String,
    pub name: String,
    pub title: String,
    pub dimensions: u32,
    pub dataset_id: String,
    pub inserted_at: String,
    pub updated_at: String,
}

pub fn vector_settings(settings: &VectorSettings) -> VectorSettingsJson {
    VectorSettingsJson {
        id: settings.id.to_string(),
        name: settings.name.clone(),
        title: settings.title.clone(),
        dimensions: settings.dimensions,
        dataset_id: settings.dataset_id.to_string(),
        inserted_at: settings.inserted_at.to_naive_iso(),
        updated_at: settings.updated_at.to_naive_iso(),
    }
}

/// One term of a terms property and how many records carry it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TermCount {
    pub term: String,
    pub count: u64,
}

/// What a metadata property's values amount to: its terms with their counts, or the range of
/// its numbers.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum MetadataMetricsJson {
    Terms {
        /// `terms`.
        #[serde(rename = "type")]
        kind: &'static str,
        total: usize,
        values: Vec<TermCount>,
    },
    Range {
        /// `integer` or `float`.
        #[serde(rename = "type")]
        kind: &'static str,
        /// `null` when no record has a value.
        #[schema(required = true)]
        min: Option<f64>,
        #[schema(required = true)]
        max: Option<f64>,
    },
}
