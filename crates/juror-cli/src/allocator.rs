//! The allocator's settings for tensor work (`juror train`, `juror score`).
//!
//! A training step allocates and frees tensors of several megabytes hundreds of times. By default
//! mimalloc hands freed pages back to the kernel, which must zero them again at the next
//! allocation: 12-15% of a MiniLM step went to that. Told never to purge, it keeps them for reuse.
//! mimalloc reads its options once, at process start, so the command re-executes itself with the
//! option in its environment.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// mimalloc's option: milliseconds before freed memory goes back to the kernel; -1 is never.
const PURGE_DELAY: &str = "MIMALLOC_PURGE_DELAY";

/// Replaces this process by the same command with freed memory kept, unless the environment
/// already says how long to keep it (then, or if the executable cannot be found or run again,
/// it returns and the command goes on as it is).
pub fn keep_freed_memory() {
    if std::env::var_os(PURGE_DELAY).is_some() {
        return;
    }
    let Ok(executable) = std::env::current_exe() else { return };
    let mut args = std::env::args_os();
    let mut command = Command::new(executable);
    if let Some(name) = args.next() {
        command.arg0(name);
    }
    // `exec` returns only when it failed; the command then runs with the default setting.
    let _failed = command.args(args).env(PURGE_DELAY, "-1").exec();
}
