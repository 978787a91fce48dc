//! linearizability (in progress)
