//! HTML picture (to come).
use crate::{Model, Operation, Report};
/// Renders.
pub fn render<M: Model>(
    _title: &str,
    _model: &M,
    _history: &[Operation<M::Input, M::Output>],
    _report: &Report,
) -> String {
    String::new()
}
