//! End-to-end tests of the `juror` binary: the real process, its flags, its data directory.

mod admin;
mod backup;
mod credentials;
mod distribute;
mod export;
mod faults;
mod helpers;
mod import;
mod postgres;
mod serve;
mod train;
