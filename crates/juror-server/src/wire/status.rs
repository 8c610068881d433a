//! Health, version and UI settings: what the SDKs ask before anything else.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The Argilla server version the legacy SDK checks against (it warns on a different minor).
pub const LEGACY_API_VERSION: &str = "1.29.1";
/// The Argilla server version whose `/api/v1` Juror serves.
pub const API_VERSION: &str = "2.8.0";

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionJson {
    pub version: &'static str,
}

/// `/api/_status`: the legacy health check, with Juror's own version.
#[derive(Debug, Serialize, ToSchema)]
pub struct LegacyStatusJson {
    pub version: &'static str,
    pub elasticsearch: Value,
    pub mem_info: Value,
    pub juror: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchEngineJson {
    pub name: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusJson {
    pub version: &'static str,
    pub search_engine: SearchEngineJson,
    pub memory: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArgillaSettingsJson {
    pub show_huggingface_space_persistent_storage_warning: bool,
    pub share_your_progress_enabled: bool,
}

/// The UI settings the v2 SDK reads; no Hugging Face integration.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsJson {
    pub argilla: ArgillaSettingsJson,
    pub huggingface: Option<Value>,
}
