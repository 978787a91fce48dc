//! A linearizability checker for histories of concurrent operations.
//!
//! A history records, for each client operation, when it was called, when it returned (or that
//! its outcome is unknown), what it asked and what it was told. It is *linearizable* when each
//! operation can be given an instant inside its interval such that, taken in that order, the
//! operations are what a sequential object — the [`Model`] — would have done.
//!
//! The checker is the one of porcupine: Wing & Gong's backtracking search with Lowe's
//! memoization of (linearized set, state) pairs, run separately on each independent part of the
//! history the model's partition gives (P-compositionality, e.g. one part per key). When a part
//! is not linearizable, the [`Report`] gives the longest linearizable prefix found and the
//! operation where it breaks; [`html::render`] draws that as a picture.
//!
//! ```
//! use linearizability::models::{Register, RegisterInput as In, RegisterOutput as Out};
//! use linearizability::{Operation, Verdict, check};
//!
//! // Client 0 writes 1 during [0, 10]; client 1 reads 1 during [5, 15], then reads 0 at [20, 30].
//! let history = vec![
//!     Operation::returned(0, 0, 10, In::Write(1), Out::Written),
//!     Operation::returned(1, 5, 15, In::Read, Out::Read(1)),
//!     Operation::returned(1, 20, 30, In::Read, Out::Read(0)),
//! ];
//! let report = check(&Register::new(0), &history).expect("a well-formed history");
//! assert_eq!(report.verdict, Verdict::Violation);
//! assert_eq!(report.parts[0].linearization, vec![0, 1]);
//! assert_eq!(report.parts[0].breaking_op, Some(2));
//! ```

pub mod checker;
pub mod history;
pub mod html;
mod memo;
pub mod model;
pub mod models;
pub mod parse;
mod search;
pub mod testing;

pub use checker::{CheckError, Limits, PartReport, Report, Verdict, check, check_with};
pub use history::{OpId, Operation, Outcome, RecordError, Recorder, Time, partition_by};
pub use model::Model;
