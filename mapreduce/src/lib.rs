//! mapreduce (in progress)
