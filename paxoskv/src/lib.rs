//! paxoskv (in progress)
