//! The store conformance story: the reads and writes every backend must pass, generic over any
//! `Store`. Each backend's tests open a fresh store per part and call each part; together they
//! cover every trait method, the distribution rules included:
//! - [`main_story`], then [`check_persisted`] on the store reopened;
//! - [`rest_of_the_trait`]: every setting's life cycle, suggestions, deletions and listings;
//! - [`hand_outs_follow_the_rule`] for each of [`WALK_SEEDS`], and [`racing_labelers_never_overfill`];
//! - [`quality_controls`], [`swapped_repeats`], [`reviews`] and [`racing_under_adaptive_overlap`]
//!   (with one store, or several);
//! - [`webhooks_and_their_queue`] and [`racing_claims_take_each_delivery_once`] (with one store,
//!   or several sharing a database);
//! - for a backend that several processes share, [`racing_across_stores_never_overfill`].
//!
//! It panics on the first difference, like a test: it is meant to run inside one.

mod distribution;
mod quality;
mod rest;
mod story;
mod webhooks;

pub use distribution::{hand_outs_follow_the_rule, labeled_dataset, racing_across_stores_never_overfill, racing_labelers_never_overfill, WALK_SEEDS};
pub use quality::{quality_controls, racing_under_adaptive_overlap, reviews, swapped_repeats};
pub use rest::rest_of_the_trait;
pub use story::{check_persisted, run as main_story, Written};
pub use webhooks::{racing_claims_take_each_delivery_once, webhooks_and_their_queue};
