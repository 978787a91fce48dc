//! Scores: each test's results over the runs, its points, and the table printed at the end.

/// One test's results over all runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TestResult {
    /// The lab (crate) it belongs to.
    pub lab: String,
    /// The test binary: `--lib` or `--test NAME`.
    pub target: String,
    /// The test's name inside its binary.
    pub name: String,
    /// Runs it passed.
    pub passed: u64,
    /// Runs it was graded in (every run, for a listed test).
    pub runs: u64,
    /// Seeds of the runs it failed, including those where it reported no result.
    pub failed_seeds: Vec<u64>,
    /// Seeds of the runs where it reported no result: its binary crashed or was killed, or the
    /// run timed out.
    pub no_result_seeds: Vec<u64>,
    /// The output of its first failure (for no result, a note and the end of its binary's
    /// output).
    pub output: String,
    /// A staff-only test: its results are shown to the student once grades are published.
    pub hidden: bool,
}

impl TestResult {
    /// The command that replays the failure of this test under `seed`.
    pub fn replay(&self, seed: u64) -> String {
        format!(
            "LABRPC_SEED={seed} cargo test -p {} {} -- {} --exact",
            self.lab, self.target, self.name
        )
    }

    /// Counts one run under `seed`: passed, failed with `output`, or failed with no result.
    pub(super) fn record(
        &mut self,
        seed: u64,
        passed: bool,
        output: impl FnOnce() -> String,
        no_result: bool,
    ) {
        self.runs += 1;
        if passed {
            self.passed += 1;
            return;
        }
        self.failed_seeds.push(seed);
        if no_result {
            self.no_result_seeds.push(seed);
        }
        if self.output.is_empty() {
            self.output = output();
        }
    }
}

/// The outcome of grading.
#[derive(Clone, Debug, Default)]
pub struct Grades {
    /// Every test, by lab, target and name.
    pub tests: Vec<TestResult>,
    /// Points per test.
    pub points: f64,
    /// Partial credit.
    pub partial: bool,
    /// The labs whose suites did not build, with the end of cargo's output: none of their
    /// tests ran, and they score nothing.
    pub build_failures: Vec<(String, String)>,
    /// Notes on the submission: files it changed outside the student files (ignored), and
    /// student files it lacks (graded as handed out).
    pub notes: Vec<String>,
    /// The absolute paths of the directories graded in, cut from reports.
    pub roots: Vec<String>,
}

impl Grades {
    /// The score of one test.
    pub fn score(&self, test: &TestResult) -> f64 {
        if test.runs == 0 {
            0.0
        } else if self.partial {
            self.points * test.passed as f64 / test.runs as f64
        } else if test.passed == test.runs {
            self.points
        } else {
            0.0
        }
    }

    /// The total score and the most it could be.
    pub fn total(&self) -> (f64, f64) {
        // `+ 0.0`: an empty float sum is -0.0, which would print as "-0.00".
        let score = self.tests.iter().map(|t| self.score(t)).sum::<f64>() + 0.0;
        (score, self.points * self.tests.len() as f64)
    }

    /// The table printed at the end.
    pub fn table(&self) -> String {
        let width = self
            .tests
            .iter()
            .map(|t| t.lab.len() + t.name.len() + 1)
            .max()
            .unwrap_or(4)
            .max(4);
        let mut out = format!("{:<width$}  {:>7}  {:>6}\n", "test", "passed", "points");
        let list = |seeds: &[u64]| {
            let seeds: Vec<String> = seeds.iter().map(u64::to_string).collect();
            seeds.join(", ")
        };
        for t in &self.tests {
            let name = format!("{} {}", t.lab, t.name);
            let passed = format!("{}/{}", t.passed, t.runs);
            out += &format!("{name:<width$}  {passed:>7}  {:>6.2}\n", self.score(t));
            if let Some(&seed) = t.failed_seeds.first() {
                let no_result = if t.no_result_seeds.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (no result with seeds {}: crashed, killed or timed out)",
                        list(&t.no_result_seeds)
                    )
                };
                out += &format!(
                    "    failed with seeds {}{no_result}; replay: {}\n",
                    list(&t.failed_seeds),
                    t.replay(seed)
                );
            }
        }
        let (score, max) = self.total();
        out += &format!("{:<width$}  {:>7}  {score:>6.2} / {max:.2}\n", "total", "");
        for (lab, _) in &self.build_failures {
            out += &format!("{lab}: the tests did not build, so none of them ran\n");
        }
        for note in &self.notes {
            out += &format!("{note}\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_all_or_nothing_or_partial() {
        let test = |passed| TestResult {
            passed,
            runs: 4,
            ..TestResult::default()
        };
        let mut grades = Grades {
            tests: vec![test(4), test(3)],
            points: 2.0,
            partial: false,
            ..Grades::default()
        };
        assert_eq!(grades.total(), (2.0, 4.0));
        grades.partial = true;
        assert_eq!(grades.total(), (3.5, 4.0));
    }
}
