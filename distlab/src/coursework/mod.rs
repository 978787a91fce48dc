//! Coursework: the student handout made from the staff's workspace, and the files a
//! submission is graded by.
//!
//! Each lab's `Cargo.toml` names the files a student writes ([`Manifest`]); in them, the
//! staff's solution stands in marked regions ([`regions`]), each with the stub the handout
//! puts in its place. `distlab handout` writes the workspace with every region replaced
//! ([`Handout`]) and checks the result ([`check`]); `distlab grade --submission` takes only
//! the student files from a submission, into a copy of the staff's workspace.

pub mod check;
mod error;
pub mod handout;
pub mod manifest;
pub mod regions;
pub mod tree;

pub use error::CourseError;
pub use handout::Handout;
pub use manifest::Manifest;
