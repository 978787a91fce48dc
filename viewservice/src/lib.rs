//! viewservice (in progress)
