//! Domain values in Argilla's JSON shapes: every response body is one of these types, built
//! here. Each derives `ToSchema`, so the OpenAPI document (`api/openapi.rs`) describes exactly
//! what the handlers send.

mod accounts;
mod admin;
mod datasets;
mod labeling;
mod preferences;
mod quality;
mod records;
mod status;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use accounts::*;
pub use admin::*;
pub use datasets::*;
pub use labeling::*;
pub use preferences::*;
pub use quality::*;
pub use records::*;
pub use status::*;

/// `{"items": [...]}`, the list envelope of `/api/v1`, in answers and in bulk request bodies.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// The list envelope around each value turned into its wire form.
pub fn items<'a, V, T>(values: &'a [V], to_wire: impl Fn(&'a V) -> T) -> Items<T> {
    Items { items: values.iter().map(to_wire).collect() }
}
