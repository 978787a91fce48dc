//! pbkv (in progress)
