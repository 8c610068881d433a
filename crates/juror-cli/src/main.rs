//! The `juror` binary: parses the command line and hands over to a command.

use std::process::ExitCode;

use clap::Parser;

mod allocator;
mod cli;
mod commands;
mod database;
mod demo;
mod files;

/// mimalloc for Rust and, through its `override` feature, for the bundled SQLite too: the labeling
/// loop's writer allocates a 1 KiB statement-journal chunk for every page each statement touches,
/// and glibc's allocator spent about a sixth of that thread's time on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if matches!(cli.command, cli::Command::Train(_) | cli::Command::Score(_)) {
        allocator::keep_freed_memory();
    }
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("juror: {error:#}");
            ExitCode::from(2)
        }
    }
}
