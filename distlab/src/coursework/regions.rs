//! Solution regions: the parts of a student file that the handout replaces by stubs.
//!
//! A region is a block of lines between two marker comments, each alone on its line:
//!
//! ```text
//!     // BEGIN SOLUTION: todo!("lab 3A: answer a prepare")
//!     ...the staff's code...
//!     // END SOLUTION
//! ```
//!
//! In the handout the whole block, markers included, becomes its stub: the text after
//! `BEGIN SOLUTION:`, at the marker's indentation, then every `// STUB: TEXT` line of the
//! region as `TEXT` at that line's indentation (for stubs of several lines). A region with
//! no stub text is simply left out. Regions do not nest.

use std::fmt;

/// The opening marker (after the line's indentation).
const BEGIN: &str = "// BEGIN SOLUTION";
/// The closing marker.
const END: &str = "// END SOLUTION";
/// A stub line inside a region.
const STUB: &str = "// STUB:";

/// A file cut into its handout and its solution.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cut {
    /// The file as the handout has it: every region replaced by its stub.
    pub handout: String,
    /// The lines of the regions (markers and stub lines excluded), with their line numbers
    /// (from 1), which must not appear in the handout.
    pub solution: Vec<(usize, String)>,
    /// The line (from 1) where each region begins.
    pub begins: Vec<usize>,
    /// The lines outside the regions (the handout without its stubs).
    pub outside: Vec<String>,
}

/// A file whose markers do not pair up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionError {
    /// The line (from 1) of the faulty marker.
    pub line: usize,
    /// What is wrong there.
    pub kind: RegionErrorKind,
}

/// What is wrong with a file's markers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegionErrorKind {
    /// A region opens inside the one opened at this line.
    Nested(usize),
    /// `END SOLUTION` with no region open.
    StrayEnd,
    /// `STUB:` outside any region.
    StrayStub,
    /// The region opened at the error's line never closes.
    Unclosed,
}

impl fmt::Display for RegionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = self.line;
        match self.kind {
            RegionErrorKind::Nested(outer) => write!(
                f,
                "line {line}: `{BEGIN}` inside the region opened at line {outer} \
                 (regions do not nest)"
            ),
            RegionErrorKind::StrayEnd => write!(f, "line {line}: `{END}` with no region open"),
            RegionErrorKind::StrayStub => {
                write!(f, "line {line}: `{STUB}` outside a solution region")
            }
            RegionErrorKind::Unclosed => {
                write!(f, "line {line}: the region opened here has no `{END}`")
            }
        }
    }
}

impl std::error::Error for RegionError {}

/// A marker line, and what follows the marker on it.
enum Marker<'a> {
    Begin(&'a str),
    End,
    Stub(&'a str),
}

fn marker(line: &str) -> Option<Marker<'_>> {
    let text = line.trim();
    if let Some(rest) = text.strip_prefix(BEGIN) {
        let stub = rest.strip_prefix(':').unwrap_or(rest).trim();
        Some(Marker::Begin(stub))
    } else if text == END {
        Some(Marker::End)
    } else {
        text.strip_prefix(STUB)
            .map(|rest| Marker::Stub(rest.trim()))
    }
}

/// The leading whitespace of `line`.
fn indent(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// Cuts `text` into its handout and its solution lines.
///
/// # Errors
/// If a region opens inside another, never closes, or a closing or stub marker stands
/// outside a region.
pub fn cut(text: &str) -> Result<Cut, RegionError> {
    let mut out = Cut::default();
    // The line where the open region began, if one is open.
    let mut open: Option<usize> = None;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let number = i + 1;
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = &line[body.len()..];
        match (marker(body), open) {
            (Some(Marker::Begin(_)), Some(outer)) => {
                return Err(RegionError {
                    line: number,
                    kind: RegionErrorKind::Nested(outer),
                });
            }
            (Some(Marker::Begin(stub)), None) => {
                open = Some(number);
                out.begins.push(number);
                if !stub.is_empty() {
                    out.handout += &format!("{}{stub}\n", indent(body));
                }
            }
            (Some(Marker::End), Some(_)) => open = None,
            (Some(Marker::Stub(stub)), Some(_)) => {
                out.handout += &format!("{}{stub}\n", indent(body));
            }
            (Some(Marker::End), None) => {
                return Err(RegionError {
                    line: number,
                    kind: RegionErrorKind::StrayEnd,
                });
            }
            (Some(Marker::Stub(_)), None) => {
                return Err(RegionError {
                    line: number,
                    kind: RegionErrorKind::StrayStub,
                });
            }
            (None, Some(_)) => out.solution.push((number, body.to_owned())),
            (None, None) => {
                out.handout += body;
                out.handout += ending;
                out.outside.push(body.to_owned());
            }
        }
    }
    match open {
        Some(line) => Err(RegionError {
            line,
            kind: RegionErrorKind::Unclosed,
        }),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_becomes_its_stub_at_the_marker_indentation() {
        let text = "fn f() -> u32 {\n    // BEGIN SOLUTION: todo!(\"lab 1: f\")\n    let x = 41;\n    x + 1\n    // END SOLUTION\n}\n";
        let cut = cut(text).expect("well formed");
        assert_eq!(cut.handout, "fn f() -> u32 {\n    todo!(\"lab 1: f\")\n}\n");
        assert_eq!(
            cut.solution,
            vec![
                (3, "    let x = 41;".to_owned()),
                (4, "    x + 1".to_owned())
            ]
        );
        assert_eq!(cut.begins, vec![2]);
    }

    #[test]
    fn stub_lines_and_regions_without_stub() {
        let text = "struct S {\n    // BEGIN SOLUTION\n    // STUB: // Your fields here.\n    a: u8,\n    // END SOLUTION\n}\n// BEGIN SOLUTION\nfn helper() {}\n// END SOLUTION\nfn g() {}";
        let cut = cut(text).expect("well formed");
        assert_eq!(
            cut.handout,
            "struct S {\n    // Your fields here.\n}\nfn g() {}"
        );
        assert_eq!(cut.begins, vec![2, 7]);
        assert_eq!(cut.solution.len(), 2);
    }

    #[test]
    fn a_file_without_regions_is_unchanged() {
        let text = "a\r\nb\n\nc";
        assert_eq!(cut(text).map(|c| c.handout).as_deref(), Ok("a\r\nb\n\nc"));
    }

    #[test]
    fn markers_that_do_not_pair_up_are_errors_naming_the_line() {
        let err = |text: &str| cut(text).err().map(|e| e.to_string());
        assert_eq!(
            err("// BEGIN SOLUTION\n// BEGIN SOLUTION\n").as_deref(),
            Some(
                "line 2: `// BEGIN SOLUTION` inside the region opened at line 1 (regions do not nest)"
            )
        );
        assert_eq!(
            err("x\n// END SOLUTION\n").as_deref(),
            Some("line 2: `// END SOLUTION` with no region open")
        );
        assert_eq!(
            err("a\n  // BEGIN SOLUTION: todo!()\nb\n").as_deref(),
            Some("line 2: the region opened here has no `// END SOLUTION`")
        );
        assert_eq!(
            err("// STUB: x\n").as_deref(),
            Some("line 1: `// STUB:` outside a solution region")
        );
    }
}
