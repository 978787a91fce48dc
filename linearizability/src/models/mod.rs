//! Ready-made models: a register and a key/value map.

mod kv;
mod register;

pub use kv::{KvInput, KvMap, KvOp, KvOutput};
pub use register::{Register, RegisterInput, RegisterOutput};
