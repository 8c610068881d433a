//! The `juror` binary: parses the command line and hands over to a command.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod commands;
mod demo;
mod files;

/// mimalloc instead of the system allocator: the server allocates and frees small buffers across
/// threads on every request, where glibc's allocator spends a sixth of the hot path's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("juror: {error:#}");
            ExitCode::from(2)
        }
    }
}
