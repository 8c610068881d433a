//! The `juror` binary: parses the command line and hands over to a command.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod commands;
mod demo;
mod files;

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
