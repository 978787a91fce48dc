//! `distlab trace`: looking at a trace written by a run, a replay or a test.

use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `distlab trace`.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// What to do with the trace.
    #[command(subcommand)]
    pub command: TraceCommand,
}

/// The subcommands of `distlab trace`.
#[derive(Debug, Subcommand)]
pub enum TraceCommand {
    /// Write one offline HTML page drawing the trace as a space-time diagram: a lane per
    /// node, an arrow per message, partitions and crashes as bands, protocol events as marks.
    #[command(after_help = "Examples:\n  \
        distlab replay --seed 1 paxos --out run1 && distlab trace view run1/trace.jsonl\n  \
        LABRPC_TRACE=$PWD/t.jsonl LABRPC_SEED=3 cargo test -p paxos --test go_partitions\n  \
        distlab trace view t.jsonl --out /tmp/t.html\n\n\
        The page needs no network: open it in any browser.\n\n\
        Exit status:\n  \
        0  the page was written (its absolute path is printed)\n  \
        2  bad arguments\n  \
        3  distlab could not do its job: a trace it could not read, a line that is not an \
        event (named by its number), a page it could not write")]
    View(TraceViewArgs),
}

/// `distlab trace view`.
#[derive(Debug, Args)]
pub struct TraceViewArgs {
    /// The trace: JSON lines, as LABRPC_TRACE, distlab run and distlab replay write them.
    pub file: PathBuf,
    /// The page to write (default: FILE with the extension .html, beside it).
    #[arg(long)]
    pub out: Option<PathBuf>,
}
