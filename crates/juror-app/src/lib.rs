//! Juror's use cases: every action a client can take, with who may take it.
//!
//! Each public method of [`App`] is one use case: it authorizes the caller, loads what it needs,
//! validates with `juror-core`, and makes one change through the `Store`. Nothing here knows HTTP:
//! the Argilla API, the web UI and the CLI all call these same methods.

mod activity;
mod adjudication;
mod audit;
mod auth;
mod cache;
mod datasets;
mod distribution;
mod error;
mod event_payload;
mod events;
mod labeling;
mod policy;
mod preferences;
mod progress;
mod quality;
mod records;
mod repeats;
mod responses;
mod reward;
mod search;
mod sessions;
mod settings;
mod setup;
mod throttle;
mod users;
mod visibility;
mod webhooks;
mod workspaces;
mod workspaces_split;

use std::sync::Arc;

use juror_store::Store;

pub use activity::ActivityCounts;
pub use adjudication::{Dispute, DisputedRecord, ReviewRecord, MAX_NOTE_CHARS, SPLIT_AGREEMENT};
pub use audit::MAX_AUDIT_PAGE;
pub use auth::{generate_api_key, Caller};
pub use datasets::{DatasetPatch, NewDataset};
pub use distribution::{NextRecord, DEFAULT_LEASE};
pub use error::{AppError, AppResult};
pub use labeling::LabelingRecord;
pub use preferences::{
    detect_settings, judgment_from_values, strategy_named, JudgmentExport, LabelerSummary, PairExport, PreferenceKind, PreferenceReport, PreferenceRequest, PreferenceSettings,
};
pub use progress::{DatasetMetrics, UserProgress};
pub use quality::{AdaptiveFigures, LabelerQuality, QualityFigures, PAUSED};
pub use records::{RecordPages, RecordView, RecordsQuery};
pub use repeats::LabelerConsistency;
pub use reward::{ranking_suggestion, untrained, ModelAgreement, RecordToScore, ScoringPages, REWARD_MODEL_AGENT};
pub use responses::{BulkResponseItem, ResponseWrite};
pub use search::{ScopeRequest, SearchHit, SearchRequest, SearchResult, VectorQuery, MAX_FILTERS};
pub use sessions::{ActiveSession, SessionStart, SESSION_LIFETIME};
pub use settings::{NewField, NewMetadataProperty, NewQuestion, NewVectorSettings, SettingPatch};
pub use setup::{DefaultOwner, WELL_KNOWN_API_KEY, WELL_KNOWN_PASSWORD};
pub use users::{NewUser, UserPatch};
pub use webhooks::{NewWebhook, WebhookPatch, MAX_DELIVERY_PAGE};
pub use workspaces_split::LabelerCopy;

/// The application: use cases over a store.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    activity: Arc<activity::Activity>,
    auth_cache: Arc<cache::AuthCache>,
    schema_cache: Arc<cache::SchemaCache>,
    membership_cache: Arc<cache::MembershipCache>,
    limited_datasets: Arc<cache::LimitedDatasets>,
    quality_settings: Arc<cache::QualityCache>,
    record_datasets: Arc<cache::RecordDatasets>,
    login_throttle: Arc<throttle::LoginThrottle>,
    events: Arc<events::Events>,
    lease_duration: std::time::Duration,
}

impl App {
    /// An application over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store, auth_cache: Arc::default(), schema_cache: Arc::default(), membership_cache: Arc::default(), limited_datasets: Arc::default(), quality_settings: Arc::default(), record_datasets: Arc::default(), activity: Arc::default(), login_throttle: Arc::default(), events: Arc::default(), lease_duration: DEFAULT_LEASE }
    }

    /// The same application, handing out records for `duration` at a time.
    pub fn with_lease_duration(mut self, duration: std::time::Duration) -> Self {
        self.lease_duration = duration;
        self
    }

    /// The underlying store, for start-up checks and tools.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}

pub use juror_store::{Adjudication, DatasetProgress, GoldStanding, Lease, Repeat, RecordInclude, ResponseCounts, StoreStats, WebSession};
