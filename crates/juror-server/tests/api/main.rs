//! Integration tests of the HTTP surface, as one binary: each test starts a real server on a fresh
//! SQLite database (see `helpers`) and talks to it the way the Argilla SDKs do.

mod audit;
mod auth;
mod distribution;
mod helpers;
mod limits;
mod matrix;
mod openapi;
mod properties;
mod preferences;
mod quality;
mod records;
mod responses;
mod roles;
mod search;
mod security;
mod status;
mod ui;
mod validation;
mod webhooks;
