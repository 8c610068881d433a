//! Record search: text, filters, sorts and vector similarity, computed in process over a scan.

use std::cmp::Ordering;
use std::collections::HashMap;

use juror_core::ids::{DatasetId, RecordId, UserId};
use juror_core::record::DatasetSchema;
use juror_core::search::{self, Candidate, Condition, Filter, RecordProperty, Scope, SimilarityOrder, Sort, SuggestionProperty, TextQuery};
use juror_core::vector::cosine_similarity;
use juror_store::{RecordInclude, RecordScan};

use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::policy::Action;
use crate::records::RecordView;
use crate::visibility::Visibility;
use crate::App;

/// A scope as a client names it: questions by name, resolved against the dataset.
#[derive(Debug, Clone, PartialEq)]
pub enum ScopeRequest {
    Record(RecordProperty),
    Metadata(String),
    Suggestion { question: String, property: SuggestionProperty },
    Response { question: Option<String> },
}

/// A similarity query: by a vector, or by a record's own vector.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorQuery {
    pub name: String,
    pub value: Option<Vec<f64>>,
    pub record_id: Option<RecordId>,
    pub order: SimilarityOrder,
}

/// A search as a client asks for it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchRequest {
    pub text: Option<TextQuery>,
    pub vector: Option<VectorQuery>,
    pub filters: Vec<(ScopeRequest, Condition)>,
    pub sorts: Vec<(ScopeRequest, bool)>,
}

/// One matching record and its score (relevance or similarity).
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub view: RecordView,
    pub score: Option<f64>,
}

/// A page of hits and how many there are in all.
#[derive(Debug, Clone)]
pub struct SearchResult {
    pub hits: Vec<SearchHit>,
    pub total: u64,
}

/// Similarity queries rank at most this many records.
const MAX_SIMILAR: u64 = 1000;
/// Most sort keys one search may carry.
pub const MAX_SORTS: usize = 10;
/// Most filters one search may carry.
pub const MAX_FILTERS: usize = 50;
/// Longest text query, in characters.
pub const MAX_QUERY_CHARS: usize = 2000;

impl SearchRequest {
    /// Refuses requests past the search limits: each sort, filter and query word costs a pass
    /// over the dataset's records.
    fn check_limits(&self) -> AppResult<()> {
        if self.sorts.len() > MAX_SORTS {
            return Err(AppError::Invalid(format!("at most {MAX_SORTS} sorts are allowed, got {}", self.sorts.len())));
        }
        if self.filters.len() > MAX_FILTERS {
            return Err(AppError::Invalid(format!("at most {MAX_FILTERS} filters are allowed, got {}", self.filters.len())));
        }
        if let Some(text) = &self.text {
            let chars = text.q.chars().count();
            if chars > MAX_QUERY_CHARS {
                return Err(AppError::Invalid(format!("a text query may have at most {MAX_QUERY_CHARS} characters, got {chars}")));
            }
        }
        Ok(())
    }
}

impl App {
    /// Searches a dataset with every labeler's responses (owners and admins).
    pub async fn search_records(&self, caller: &Caller, dataset_id: DatasetId, request: SearchRequest, offset: u64, limit: u64, include: &RecordInclude) -> AppResult<SearchResult> {
        self.dataset_for(caller, dataset_id, Action::Manage).await?;
        self.run_search(dataset_id, request, &Visibility::Everything, offset, limit, include).await
    }

    /// Searches a dataset as a labeler: only the caller's own responses count and come back, and
    /// metadata hidden from annotators can be neither seen nor filtered or sorted by.
    pub async fn search_my_records(&self, caller: &Caller, dataset_id: DatasetId, request: SearchRequest, offset: u64, limit: u64, include: &RecordInclude) -> AppResult<SearchResult> {
        let visibility = match self.schema_seen_by(caller, dataset_id, Action::Read).await?.1 {
            // Everyone's own view, owners' included: `/me` searches read the caller's answers.
            Visibility::Everything => Visibility::Labeler { user: caller.user.id, hidden_metadata: Default::default() },
            labeler => labeler,
        };
        self.run_search(dataset_id, request, &visibility, offset, limit, include).await
    }

    /// Filters, scores and sorts the dataset's records off the async runtime, then loads the
    /// page's relations; `visibility` decides whose responses count and what comes back.
    pub(crate) async fn run_search(&self, dataset_id: DatasetId, request: SearchRequest, visibility: &Visibility, offset: u64, limit: u64, include: &RecordInclude) -> AppResult<SearchResult> {
        request.check_limits()?;
        let schema = self.schema(dataset_id).await?;
        let filters = request.filters.iter().map(|(scope, condition)| Ok(Filter { scope: resolve_scope(&schema, visibility, scope)?, condition: condition.clone() })).collect::<AppResult<Vec<_>>>()?;
        let sorts = request.sorts.iter().map(|(scope, descending)| Ok(Sort { scope: resolve_scope(&schema, visibility, scope)?, descending: *descending })).collect::<AppResult<Vec<_>>>()?;
        if let Some(field) = request.text.as_ref().and_then(|text| text.field.as_deref()) {
            if !schema.fields.iter().any(|candidate| candidate.name == field) {
                return Err(AppError::Invalid(format!("Field `{field}` not found in dataset `{dataset_id}`")));
            }
        }
        let similarity = match &request.vector {
            Some(query) => Some(self.similarities(&schema, query).await?),
            None => None,
        };

        let scan = self.store.scan_records(dataset_id).await?;
        let ranking = Ranking { filters, sorts, text: request.text, similarity, me: visibility.responses_of() };
        let (scan, page, total) = tokio::task::spawn_blocking(move || {
            let (page, total) = ranking.page(&scan, offset, limit);
            (scan, page, total)
        })
        .await
        .map_err(|error| AppError::Internal(anyhow::anyhow!("search task failed: {error}")))?;

        let records: Vec<_> = page.iter().map(|(index, _)| scan.records[*index].clone()).collect();
        let include = RecordInclude { responses_of: include.responses_of.or(visibility.responses_of()), ..include.clone() };
        let relations = self.store.load_relations(&records, &include).await?;
        let hits = records
            .into_iter()
            .zip(relations)
            .zip(page)
            .map(|((record, relations), (_, score))| {
                let mut view = RecordView { record, relations };
                visibility.redact(&mut view);
                SearchHit { view, score: Some(score) }
            })
            .collect();
        Ok(SearchResult { hits, total })
    }

    async fn similarities(&self, schema: &DatasetSchema, query: &VectorQuery) -> AppResult<HashMap<RecordId, f64>> {
        let settings = schema
            .vector_settings
            .iter()
            .find(|settings| settings.name == query.name)
            .ok_or_else(|| AppError::Invalid(format!("Vector `{}` not found in dataset `{}`", query.name, schema.dataset.id)))?;
        let vectors = self.store.record_vectors(schema.dataset.id, settings.id).await?;
        let (target, exclude) = match (&query.value, query.record_id) {
            (Some(value), None) => {
                if value.len() != settings.dimensions as usize {
                    return Err(AppError::Invalid(format!("vector must have {} elements, got {} elements", settings.dimensions, value.len())));
                }
                (value.clone(), None)
            }
            (None, Some(record_id)) => {
                let record = self.store.get_record(record_id).await?.filter(|record| record.dataset_id == schema.dataset.id);
                record.ok_or_else(|| AppError::Invalid(format!("Record with id `{record_id}` not found in dataset `{}`", schema.dataset.id)))?;
                let vector = vectors.iter().find(|(id, _)| *id == record_id).map(|(_, vector)| vector.clone()).ok_or_else(|| {
                    AppError::MissingVector(format!("Record `{record_id}` does not have a vector for vector settings `{}`", settings.name))
                })?;
                (vector, Some(record_id))
            }
            _ => return Err(AppError::Invalid("a vector query needs exactly one of `value` and `record_id`".into())),
        };
        let sign = match query.order {
            SimilarityOrder::MostSimilar => 1.0,
            SimilarityOrder::LeastSimilar => -1.0,
        };
        Ok(vectors
            .into_iter()
            .filter(|(id, _)| Some(*id) != exclude)
            .map(|(id, vector)| (id, sign * cosine_similarity(&target, &vector)))
            .collect())
    }
}

/// How the records of one search are filtered, scored and ordered: pure, run off the runtime.
struct Ranking {
    filters: Vec<Filter>,
    sorts: Vec<Sort>,
    text: Option<TextQuery>,
    similarity: Option<HashMap<RecordId, f64>>,
    me: Option<UserId>,
}

impl Ranking {
    /// The indices and scores of the hits from `offset`, at most `limit`, and how many hits there are.
    fn page(&self, scan: &RecordScan, offset: u64, limit: u64) -> (Vec<(usize, f64)>, u64) {
        let candidate = |index: usize| Candidate { record: &scan.records[index], responses: &scan.responses[index], suggestions: &scan.suggestions[index] };
        let mut hits: Vec<(usize, f64)> = Vec::new();
        for (index, record) in scan.records.iter().enumerate() {
            if !self.filters.iter().all(|filter| search::matches(filter, candidate(index), self.me)) {
                continue;
            }
            let text_score = match &self.text {
                Some(query) => match search::text_score(query, record) {
                    Some(score) => score,
                    None => continue,
                },
                None => 1.0,
            };
            let score = match &self.similarity {
                Some(scores) => match scores.get(&record.id) {
                    Some(score) => *score,
                    None => continue,
                },
                None => text_score,
            };
            hits.push((index, score));
        }
        if self.similarity.is_some() || (self.text.is_some() && self.sorts.is_empty()) {
            hits.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(Ordering::Equal).then_with(|| search::compare(&[], candidate(a.0), candidate(b.0), self.me)));
        } else if !self.sorts.is_empty() {
            hits.sort_by(|a, b| search::compare(&self.sorts, candidate(a.0), candidate(b.0), self.me));
        }
        let mut total = hits.len() as u64;
        let mut end = offset.saturating_add(limit);
        if self.similarity.is_some() {
            end = end.min(MAX_SIMILAR);
            total = total.min(MAX_SIMILAR);
        }
        let page = hits.into_iter().take(end as usize).skip(offset as usize).collect();
        (page, total)
    }
}

/// A scope resolved against the dataset; metadata hidden from the caller reads as unknown.
fn resolve_scope(schema: &DatasetSchema, visibility: &Visibility, scope: &ScopeRequest) -> AppResult<Scope> {
    Ok(match scope {
        ScopeRequest::Record(property) => Scope::Record(*property),
        ScopeRequest::Metadata(name) => {
            if visibility.hides_metadata(name) || !schema.metadata_properties.iter().any(|property| &property.name == name) {
                return Err(AppError::Invalid(format!("MetadataProperty not found filtering by name={name}, dataset_id={}", schema.dataset.id)));
            }
            Scope::Metadata(name.clone())
        }
        ScopeRequest::Suggestion { question, property } => {
            let question = schema.question_named(question).ok_or_else(|| unknown_question(schema, question))?;
            Scope::Suggestion { question: question.id, property: *property }
        }
        ScopeRequest::Response { question } => {
            if let Some(name) = question {
                schema.question_named(name).ok_or_else(|| unknown_question(schema, name))?;
            }
            Scope::Response { question: question.clone() }
        }
    })
}

fn unknown_question(schema: &DatasetSchema, name: &str) -> AppError {
    AppError::Invalid(format!("Question not found filtering by name={name}, dataset_id={}", schema.dataset.id))
}
