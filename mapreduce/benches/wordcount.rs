//! Word count throughput, end to end: `cargo bench -p mapreduce`.
//!
//! Generates a text of Zipf-distributed words (deterministic from a seed) in a temporary
//! directory, split into 4 input files, and times, on the same files:
//!
//! - (a) `mapreduce wc FILES --workers 2 -m 8 -r 10`: the command a user runs — a master
//!   process and 2 local worker processes over TCP on loopback, intermediate files in a job
//!   directory, the output written to a file. Timed from spawning the command to its exit.
//! - (b) a plain single-threaded count in a `std` `HashMap` (read the files, count, sort).
//! - (c) `tr -cs 'A-Za-z' '\n' | sort | uniq -c` with `LC_ALL=C`, via `sh -c`.
//! - (d) a master process (`mapreduce master`) and 2 worker processes started by the bench
//!   (`mapreduce worker`) with one task slot each, as (a) has on 2 cores; one SIGKILLed
//!   halfway through a map task once half the map tasks are done; and (d0), the same without
//!   the kill, as a control.
//! - (e), (e0): the same with a slot per core in each worker process (`mapreduce worker`'s
//!   default), so that the survivor of the kill keeps every core busy.
//!
//! Every output is checked against (b): the bench panics if any differs. All run in turn,
//! `MAPREDUCE_BENCH_RUNS` rounds (default 3), so a busy spell of a shared machine hits all
//! of them; the median of each is reported, with the load average.
//!
//! | variable | default | |
//! |---|---|---|
//! | `MAPREDUCE_BENCH_MB` | 200 | size of the text in MB (10^6 bytes) |
//! | `MAPREDUCE_BENCH_SEED` | 6824 | seed of the text |
//! | `MAPREDUCE_BENCH_RUNS` | 3 | runs of each measurement |
//! | `MAPREDUCE_BENCH_KEEP` | | a directory to write the text into and keep (else a temporary one) |
//! | `MAPREDUCE_BENCH_BASELINE` | | another `mapreduce` binary (say, built from an older commit) to time as (a) in each round too |
#![allow(clippy::disallowed_methods)] // real processes and wall-clock time, no simulation

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[path = "../tests/common/processes.rs"]
mod processes;
use processes::{free_ports, master_addr, stream_lines};

const EXE: &str = env!("CARGO_BIN_EXE_mapreduce");
const MAP_TASKS: usize = 8;
const REDUCE_TASKS: usize = 10;
const INPUT_FILES: usize = 4;
const VOCABULARY: usize = 50_000;
/// Zipf's exponent: the k-th most frequent word has weight 1/k^s.
const ZIPF_S: f64 = 1.0;
const WORDS_PER_LINE: usize = 12;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not a valid value")),
        Err(_) => default,
    }
}

// ----- the text ----------------------------------------------------------------------------

/// `VOCABULARY` distinct synthetic lowercase words of 2 to 11 letters, in rank order.
fn vocabulary(rng: &mut ChaCha8Rng) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut words = Vec::with_capacity(VOCABULARY);
    while words.len() < VOCABULARY {
        // Lengths 2..=11, most around 4 to 7, as in English.
        let len = 2 + rng.random_range(0..4) + rng.random_range(0..4) + rng.random_range(0..3);
        let word: String = (0..len)
            .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
            .collect();
        if seen.insert(word.clone()) {
            words.push(word);
        }
    }
    words
}

/// Writes `INPUT_FILES` files of about `total / INPUT_FILES` bytes each into `dir`: lines of
/// `WORDS_PER_LINE` Zipf-distributed words, the first capitalized, some followed by a comma,
/// the line ended by a period.
fn generate(dir: &Path, total: usize, seed: u64) -> Vec<PathBuf> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let words = vocabulary(&mut rng);
    let mut cumulative = Vec::with_capacity(words.len());
    let mut sum = 0.0;
    for rank in 1..=words.len() {
        sum += 1.0 / (rank as f64).powf(ZIPF_S);
        cumulative.push(sum);
    }
    let mut files = Vec::new();
    for i in 0..INPUT_FILES {
        let target = total / INPUT_FILES;
        let mut text = Vec::with_capacity(target + 256);
        while text.len() < target {
            for n in 0..WORDS_PER_LINE {
                let u = rng.random::<f64>() * sum;
                let rank = cumulative.partition_point(|&c| c <= u).min(words.len() - 1);
                let word = words[rank].as_bytes();
                if n == 0 {
                    text.push(word[0].to_ascii_uppercase());
                    text.extend_from_slice(&word[1..]);
                } else {
                    text.push(b' ');
                    text.extend_from_slice(word);
                }
                if n + 1 < WORDS_PER_LINE && rng.random_ratio(1, 10) {
                    text.push(b',');
                }
            }
            text.extend_from_slice(b".\n");
        }
        let path = dir.join(format!("zipf-{i}.txt"));
        std::fs::write(&path, &text).expect("write an input file");
        files.push(path);
    }
    files
}

// ----- the counters ------------------------------------------------------------------------

/// (b): read each file, count its words (maximal runs of Unicode letters, as the crate's
/// `WordCount`) in a `HashMap`, then sort. Returns `word: count` lines.
fn hashmap_count(files: &[PathBuf]) -> String {
    let mut counts: HashMap<String, u64> = HashMap::new();
    for file in files {
        let text = std::fs::read_to_string(file).expect("read an input file");
        for word in text.split(|c: char| !c.is_alphabetic()) {
            if word.is_empty() {
                continue;
            }
            match counts.get_mut(word) {
                Some(n) => *n += 1,
                None => {
                    counts.insert(word.to_owned(), 1);
                }
            }
        }
    }
    let mut sorted: Vec<(String, u64)> = counts.into_iter().collect();
    sorted.sort_unstable();
    sorted
        .iter()
        .map(|(word, n)| format!("{word}: {n}\n"))
        .collect()
}

/// (a): `mapreduce wc` end to end. Returns its output and the last line of its stderr.
fn mapreduce_wc(exe: &Path, files: &[PathBuf], scratch: &Path) -> (String, String) {
    let output = scratch.join("wc-out.txt");
    let result = Command::new(exe)
        .arg("wc")
        .args(files)
        .args(["--workers", "2", "-m"])
        .arg(MAP_TASKS.to_string())
        .arg("-r")
        .arg(REDUCE_TASKS.to_string())
        .arg("--output")
        .arg(&output)
        .arg("--work-dir")
        .arg(scratch)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .expect("run mapreduce wc");
    let stderr = String::from_utf8_lossy(&result.stderr).into_owned();
    assert!(result.status.success(), "mapreduce wc failed:\n{stderr}");
    let text = std::fs::read_to_string(&output).expect("the output of mapreduce wc");
    std::fs::remove_file(&output).expect("remove the output");
    let last = stderr.lines().last().unwrap_or_default().to_owned();
    (text, last)
}

/// (c): the sort pipeline, its `uniq -c` lines turned into `word: count` lines (the order is
/// already bytewise, as `LC_ALL=C sort` sorts).
fn shell_pipeline(files: &[PathBuf], scratch: &Path) -> String {
    let output = scratch.join("sh-out.txt");
    let status = Command::new("sh")
        .arg("-c")
        .arg(r#"cat "$@" | tr -cs 'A-Za-z' '\n' | sort | uniq -c > "$OUT""#)
        .arg("sh")
        .args(files)
        .env("LC_ALL", "C")
        .env("OUT", &output)
        .status()
        .expect("run sh");
    assert!(status.success(), "the shell pipeline failed: {status}");
    let text = std::fs::read_to_string(&output).expect("the pipeline's output");
    std::fs::remove_file(&output).expect("remove the output");
    let mut lines = String::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let count = parts.next().expect("a count");
        // tr's output begins with an empty line if the text begins with a non-letter.
        if let Some(word) = parts.next() {
            lines.push_str(&format!("{word}: {count}\n"));
        }
    }
    lines
}

fn spawn_worker(master: &str, listen: &str, slots: usize) -> Child {
    Command::new(EXE)
        .args(["worker", "--master", master, "--listen", listen])
        .arg(format!("--slots={slots}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start a worker process")
}

/// Cores: `mapreduce worker`'s default number of slots.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// What happened in a run of (d) or (e).
struct KillRun {
    output: String,
    /// When the victim was killed, after the start; and how far into the map phase (done
    /// map tasks).
    killed: Option<(Duration, usize)>,
    failed_attempts: usize,
    summary: String,
}

/// (d), (e): a master process and 2 worker processes of `slots` slots each; with `kill`, the
/// first worker process is SIGKILLed halfway through the first-started map task it runs once
/// `MAP_TASKS / 2` map tasks are done (halfway by the mean duration of the map tasks done so
/// far).
fn master_and_workers(files: &[PathBuf], scratch: &Path, slots: usize, kill: bool) -> KillRun {
    let start = Instant::now();
    let output = scratch.join("master-out.txt");
    let mut master = Command::new(EXE)
        .args(["master", "--listen", "127.0.0.1:0", "--app", "wc", "-m"])
        .arg(MAP_TASKS.to_string())
        .arg("-r")
        .arg(REDUCE_TASKS.to_string())
        .arg("--output")
        .arg(&output)
        .arg("--work-dir")
        .arg(scratch)
        .arg("--verbose")
        .args(files)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the master process");
    let (lines, reader) = stream_lines(master.stderr.take().expect("the master's stderr"));
    let addr = master_addr(&lines.recv().expect("the master's first line"));
    let victim_port = free_ports(slots);
    let victim_addrs: HashSet<String> = (0..slots)
        .map(|i| format!("127.0.0.1:{}", usize::from(victim_port) + i))
        .collect();
    let mut victim = spawn_worker(&addr, &format!("127.0.0.1:{victim_port}"), slots);
    let mut survivor = spawn_worker(&addr, "127.0.0.1:0", slots);

    let mut log = Vec::new();
    let mut map_done = 0;
    let mut map_phase_over = false;
    let mut map_time = Duration::ZERO;
    let mut running: HashMap<String, Instant> = HashMap::new(); // "task@worker" -> start
    // The victim's running map tasks ("task@slot" -> start).
    let mut victim_tasks: HashMap<String, Instant> = HashMap::new();
    let mut killed = None;
    let mut failed_attempts = 0;
    loop {
        let trying = kill && killed.is_none() && !map_phase_over && map_done > 0;
        // Halfway through the victim's task that started first.
        let first_started = victim_tasks.values().min();
        let deadline = match (first_started, trying) {
            (Some(started), true) if map_done >= MAP_TASKS / 2 => {
                Some(*started + map_time / (2 * map_done as u32))
            }
            _ => None,
        };
        let line = match deadline {
            Some(deadline) => {
                match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(line) => Some(line),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
            None => match lines.recv() {
                Ok(line) => Some(line),
                Err(_) => break,
            },
        };
        let Some(line) = line else {
            victim.kill().expect("SIGKILL the victim");
            killed = Some((start.elapsed(), map_done));
            log.push(format!(
                "[bench] SIGKILL the worker process at {victim_port}"
            ));
            continue;
        };
        let now = Instant::now();
        if line.starts_with("reduce phase") {
            map_phase_over = true;
        }
        if let Some(rest) = line.strip_prefix("map task ") {
            // "map task N started on W", "map task N done by W", "map task N failed on W: .."
            let mut words = rest.split(' ');
            let task = words.next().unwrap_or_default().to_owned();
            let what = words.next().unwrap_or_default();
            let worker = words.nth(1).unwrap_or_default().trim_end_matches(':');
            let key = format!("{task}@{worker}");
            match what {
                "started" => {
                    running.insert(key.clone(), now);
                    if victim_addrs.contains(worker) {
                        victim_tasks.insert(key, now);
                    }
                }
                "done" => {
                    if let Some(started) = running.remove(&key) {
                        map_time += now - started;
                        map_done += 1;
                    }
                    victim_tasks.remove(&key);
                }
                _ => {
                    running.remove(&key);
                    victim_tasks.remove(&key);
                }
            }
        }
        failed_attempts += usize::from(line.contains(" failed on "));
        log.push(line);
    }
    let status = master.wait().expect("the master exits");
    reader.join().expect("the reader thread");
    let log = log.join("\n");
    assert!(status.success(), "the master failed:\n{log}");
    // On a small text the map phase may end before the victim is halfway through a task:
    // then there was no kill, which the caller reports.
    if killed.is_some() {
        assert!(
            failed_attempts >= 1,
            "no task failed with the victim:\n{log}"
        );
    }
    if killed.is_none() {
        assert!(victim.wait().expect("the first worker exits").success());
    } else {
        let _ = victim.wait();
    }
    assert!(survivor.wait().expect("the second worker exits").success());
    let text = std::fs::read_to_string(&output).expect("the master's output");
    std::fs::remove_file(&output).expect("remove the output");
    let summary = log.lines().last().unwrap_or_default().to_owned();
    KillRun {
        output: text,
        killed,
        failed_attempts,
        summary,
    }
}

/// The runs of (d0) and (d), or of (e0) and (e): without and with a kill, `slots` slots
/// per worker process.
struct KillSeries {
    letter: char,
    slots: usize,
    controls: Vec<Duration>,
    kills: Vec<Duration>,
    /// Runs in which the map phase ended before a kill.
    missed: usize,
    last: Option<KillRun>,
}

impl KillSeries {
    fn new(letter: char, slots: usize) -> KillSeries {
        KillSeries {
            letter,
            slots,
            controls: Vec::new(),
            kills: Vec::new(),
            missed: 0,
            last: None,
        }
    }

    /// One run without the kill and one with it, their outputs checked.
    fn round(&mut self, files: &[PathBuf], scratch: &Path, reference: &str) {
        let (t, run) = timed(|| master_and_workers(files, scratch, self.slots, false));
        check(&format!("({}0)", self.letter), &run.output, reference);
        self.controls.push(t);
        let (t, run) = timed(|| master_and_workers(files, scratch, self.slots, true));
        check(&format!("({})", self.letter), &run.output, reference);
        if run.killed.is_some() {
            self.kills.push(t);
        } else {
            self.missed += 1;
        }
        self.last = Some(run);
    }

    fn report(&self, bytes: usize) {
        let (letter, slots) = (self.letter, self.slots);
        report(
            &format!("({letter}0) master + 2 worker processes, {slots} slot(s) each, no kill"),
            &self.controls,
            bytes,
        );
        if self.missed > 0 {
            println!(
                "({letter}) {} runs: the map phase ended before the victim was halfway through \
                 a task, no kill (too small a text?); those runs are left out",
                self.missed
            );
        }
        if !self.kills.is_empty() {
            report(
                &format!("({letter}) the same, one worker process SIGKILLed mid-map"),
                &self.kills,
                bytes,
            );
        }
        if let Some(run) = &self.last {
            if let Some((at, done)) = run.killed {
                println!(
                    "    last run: killed at {:.2} s with {done}/{MAP_TASKS} map tasks done; {} \
                     failed attempts",
                    at.as_secs_f64(),
                    run.failed_attempts
                );
            }
            println!("    {}", run.summary);
        }
    }

    /// The median time with the kill over the median without.
    fn kill_cost(&self) -> Option<f64> {
        (!self.kills.is_empty())
            .then(|| median(&self.kills).as_secs_f64() / median(&self.controls).as_secs_f64())
    }
}

// ----- measuring ---------------------------------------------------------------------------

/// Runs `f` once; returns how long it took and its result.
fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let result = f();
    (start.elapsed(), result)
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn check(name: &str, got: &str, want: &str) {
    if got == want {
        return;
    }
    let diff = got
        .lines()
        .zip(want.lines())
        .enumerate()
        .find(|(_, (g, w))| g != w);
    panic!(
        "OUTPUT MISMATCH: {name} differs from the hash-map count ({} vs {} lines); first \
         difference: {diff:?}",
        got.lines().count(),
        want.lines().count()
    );
}

fn report(name: &str, times: &[Duration], bytes: usize) -> f64 {
    let med = median(times);
    let mbps = bytes as f64 / 1e6 / med.as_secs_f64();
    let all: Vec<String> = times
        .iter()
        .map(|t| format!("{:.2}", t.as_secs_f64()))
        .collect();
    println!(
        "{name:<58} {:>7.2} s {:>8.1} MB/s   (runs: {} s)",
        med.as_secs_f64(),
        mbps,
        all.join(", ")
    );
    mbps
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() {
    let mb: usize = env_or("MAPREDUCE_BENCH_MB", 200);
    let seed: u64 = env_or("MAPREDUCE_BENCH_SEED", 6824);
    let runs: usize = env_or("MAPREDUCE_BENCH_RUNS", 3).max(1);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let scratch = dir.path().join("work");
    std::fs::create_dir(&scratch).expect("a work directory");
    let text_dir = match std::env::var_os("MAPREDUCE_BENCH_KEEP") {
        Some(keep) => {
            std::fs::create_dir_all(&keep).expect("the directory MAPREDUCE_BENCH_KEEP");
            PathBuf::from(keep)
        }
        None => dir.path().to_owned(),
    };

    let start = Instant::now();
    let files = generate(&text_dir, mb * 1_000_000, seed);
    let bytes: usize = files
        .iter()
        .map(|f| std::fs::metadata(f).expect("an input's size").len() as usize)
        .sum();
    println!(
        "text: {:.1} MB in {INPUT_FILES} files, Zipf (s = {ZIPF_S}) over {VOCABULARY} words, \
         seed {seed}; generated in {:.1} s",
        bytes as f64 / 1e6,
        start.elapsed().as_secs_f64()
    );
    println!(
        "M = {MAP_TASKS}, R = {REDUCE_TASKS}; {runs} rounds of (b) (a) (c) (d0) (d) (e0) (e), \
         median of each; load average {} at the start",
        loadavg()
    );
    // (d): one slot per worker process, as `mapreduce wc --workers 2` shares 2 cores; (e):
    // a slot per core in each, `mapreduce worker`'s default, so the survivor of a kill keeps
    // every core busy, at the price of more tasks than cores before it.
    let mut series = [
        KillSeries::new('d', cores().div_ceil(2)),
        KillSeries::new('e', cores()),
    ];

    let mut hashmap_times = Vec::new();
    let mut wc_times = Vec::new();
    let mut pipeline_times = Vec::new();
    let mut reference = String::new();
    let baseline = std::env::var_os("MAPREDUCE_BENCH_BASELINE").map(PathBuf::from);
    let mut baseline_times = Vec::new();
    let mut wc_summary = String::new();
    for _ in 0..runs {
        let (t, counted) = timed(|| hashmap_count(&files));
        hashmap_times.push(t);
        reference = counted;

        let (t, (output, summary)) = timed(|| mapreduce_wc(Path::new(EXE), &files, &scratch));
        check("mapreduce wc", &output, &reference);
        wc_times.push(t);
        wc_summary = summary;
        if let Some(exe) = &baseline {
            let (t, (output, _)) = timed(|| mapreduce_wc(exe, &files, &scratch));
            check("mapreduce wc (baseline)", &output, &reference);
            baseline_times.push(t);
        }

        let (t, output) = timed(|| shell_pipeline(&files, &scratch));
        check("the sort pipeline", &output, &reference);
        pipeline_times.push(t);

        for series in &mut series {
            series.round(&files, &scratch, &reference);
        }
    }
    println!(
        "{} distinct words; every output equals the hash-map count",
        reference.lines().count()
    );
    println!();
    let hashmap = report(
        "(b) single-threaded std HashMap count",
        &hashmap_times,
        bytes,
    );
    let wc = report(
        "(a) mapreduce wc --workers 2 (TCP, 2 worker processes)",
        &wc_times,
        bytes,
    );
    println!("    {wc_summary}");
    if let Some(exe) = &baseline {
        report(
            &format!("(a) with the baseline {}", exe.display()),
            &baseline_times,
            bytes,
        );
    }
    let pipeline = report(
        "(c) tr -cs 'A-Za-z' '\\n' | sort | uniq -c",
        &pipeline_times,
        bytes,
    );
    for series in &series {
        series.report(bytes);
    }

    println!();
    println!("load average {} at the end", loadavg());
    if mb < 200 {
        println!("(the goals are for the 200 MB text: MAPREDUCE_BENCH_MB={mb} is a quick run)");
    }
    let goal = |ok: bool| if ok { "met" } else { "MISSED" };
    println!(
        "goal >= 100 MB/s end to end:      (a) {wc:.0} MB/s: {}",
        goal(wc >= 100.0)
    );
    println!(
        "goal >= 3x the sort pipeline:     (a) is {:.1}x (c): {}",
        wc / pipeline,
        goal(wc >= 3.0 * pipeline)
    );
    let wc_time = median(&wc_times).as_secs_f64();
    for series in &series {
        let letter = series.letter;
        match series.kill_cost() {
            None => println!("goal kill mid-map costs <= 1.3x:  ({letter}) not measured"),
            Some(cost) => println!(
                "goal kill mid-map costs <= 1.3x:  ({letter}) is {cost:.2}x ({letter}0), \
                 {:.2}x (a): {}",
                median(&series.kills).as_secs_f64() / wc_time,
                goal(cost <= 1.3)
            ),
        }
    }
    println!("(a) is {:.1}x (b)", wc / hashmap);
}
