//! Splitting the input into M map tasks (paper §3.1: "splits the input files into M pieces").
//!
//! A split is a byte range of one input file. Cuts fall anywhere; a split *owns the lines
//! that start inside its range*, so each line (and so each word, since a newline is not a
//! letter) is read by exactly one split, wherever the cuts fall. The master only needs the
//! files' sizes; the reader of a split reads a little past its end to finish its last line,
//! as Hadoop's line reader does.

use serde::{Deserialize, Serialize};

/// A piece of an input file: the lines that start in bytes `start..end` of `file`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// The input file (a path for files on disk, a name for the in-memory store).
    pub file: String,
    /// First byte of the range.
    pub start: u64,
    /// One past the last byte of the range.
    pub end: u64,
}

/// Cuts files of the given sizes into `map_tasks` splits, at least one per file, the rest
/// shared out in proportion to size (largest remainder), each file cut into equal ranges.
///
/// The caller guarantees `map_tasks >= files.len()`.
pub fn plan(files: &[(String, u64)], map_tasks: usize) -> Vec<Split> {
    let extra = map_tasks.saturating_sub(files.len()) as u128;
    let total: u128 = files.iter().map(|(_, size)| u128::from(*size)).sum();
    // Pieces per file: 1 + its share of the extra pieces.
    let mut pieces: Vec<usize> = vec![1; files.len()];
    if total == 0 {
        if let Some(first) = pieces.first_mut() {
            *first += extra as usize;
        }
    } else {
        let mut remainders = Vec::with_capacity(files.len());
        let mut given = 0u128;
        for (i, (_, size)) in files.iter().enumerate() {
            let exact = extra * u128::from(*size);
            let whole = exact.checked_div(total).unwrap_or(0);
            pieces[i] += whole as usize;
            given += whole;
            remainders.push((exact % total, i));
        }
        // Largest remainders first; ties to the earlier file, so the plan is deterministic.
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, i) in remainders.iter().take((extra - given) as usize) {
            pieces[i] += 1;
        }
    }
    let mut splits = Vec::with_capacity(map_tasks);
    for ((file, size), &k) in files.iter().zip(&pieces) {
        let (size, k) = (u128::from(*size), k as u128);
        for j in 0..k {
            splits.push(Split {
                file: file.clone(),
                start: (size * j / k) as u64,
                end: (size * (j + 1) / k) as u64,
            });
        }
    }
    splits
}

/// The bytes of split `start..end`, given `data`: the file's bytes from offset
/// `start.saturating_sub(1)` to at least the end of the line that holds byte `end - 1`
/// (or to the end of the file).
///
/// A line starts at offset `p` when `p == 0` or byte `p - 1` is a newline. The split runs
/// from the first line start `>= start` to the first line start `>= end` (or the end of the
/// file).
pub fn own_lines(data: &[u8], start: u64, end: u64) -> &[u8] {
    &data[own_range(data, start, end)]
}

/// Where [`own_lines`] is in `data`.
pub fn own_range(data: &[u8], start: u64, end: u64) -> std::ops::Range<usize> {
    if start >= end {
        return 0..0;
    }
    let base = start.saturating_sub(1);
    // `offset >= start - 1 == base` below; an offset past `usize` is past `data`.
    let rel =
        |offset: u64| usize::try_from(offset - base).map_or(data.len(), |n| n.min(data.len()));
    let begin = if start == 0 {
        0
    } else {
        // data[0] is byte start-1: the first newline at or after it ends the previous line.
        match data.iter().position(|&b| b == b'\n') {
            Some(i) => i + 1,
            None => return 0..0,
        }
    };
    let from = rel(end - 1);
    let finish = match data[from..].iter().position(|&b| b == b'\n') {
        Some(i) => from + i + 1,
        None => data.len(),
    };
    if begin >= finish { 0..0 } else { begin..finish }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splitting anywhere and reading each split's lines gives back the whole text once.
    #[test]
    fn every_line_read_once_wherever_the_cuts_fall() {
        let text = b"one two\nthree\n\nfour five six\nseven";
        for pieces in 1..=text.len() + 3 {
            let files = [("f".to_string(), text.len() as u64)];
            let mut joined = Vec::new();
            for split in plan(&files, pieces) {
                let base = split.start.saturating_sub(1) as usize;
                joined.extend_from_slice(own_lines(&text[base..], split.start, split.end));
            }
            assert_eq!(joined, text, "with {pieces} pieces");
        }
    }

    #[test]
    fn every_file_gets_a_split_and_the_count_is_exact() {
        let files = [
            ("a".to_string(), 1000),
            ("b".to_string(), 10),
            ("c".to_string(), 0),
        ];
        for m in 3..20 {
            let splits = plan(&files, m);
            assert_eq!(splits.len(), m);
            for (name, _) in &files {
                assert!(splits.iter().any(|s| &s.file == name));
            }
        }
    }
}
