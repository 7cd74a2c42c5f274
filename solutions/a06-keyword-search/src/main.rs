//! `a06-keyword-search-solution KEYWORD [DIR] [--workers N]`: searches DIR (default: `.`)
//! for KEYWORD sequentially and with a pool, prints which files hold it on which lines, what
//! was skipped or could not be read, and both timings.
//!
//! Exit code: 0 when the keyword was found, 1 when not, 2 on an error (as grep).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use a06_keyword_search_solution as search;
use multiprocessing as mp;

const USAGE: &str = "usage: a06-keyword-search-solution KEYWORD [DIR] [--workers N]";

/// Exit code when the keyword was found.
const FOUND: u8 = 0;
/// Exit code when it was not.
const NOT_FOUND: u8 = 1;
/// Exit code on a bad command line or a failed search.
const FAILED: u8 = 2;

struct Args {
    keyword: Vec<u8>,
    root: PathBuf,
    workers: usize,
}

fn parse(mut args: impl Iterator<Item = OsString>) -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut workers = mp::cpu_count();
    while let Some(arg) = args.next() {
        if arg == "--workers" {
            let value = args.next().ok_or("--workers needs a number")?;
            workers = value
                .to_str()
                .and_then(|v| v.parse().ok())
                .filter(|&n| n > 0)
                .ok_or_else(|| {
                    format!(
                        "--workers {}: not a positive number",
                        value.to_string_lossy()
                    )
                })?;
        } else {
            positional.push(arg);
        }
    }
    let mut positional = positional.into_iter();
    let keyword = positional.next().ok_or(USAGE)?;
    let root = positional
        .next()
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    if positional.next().is_some() {
        return Err(USAGE.to_owned());
    }
    Ok(Args {
        keyword: keyword.as_bytes().to_vec(),
        root,
        workers,
    })
}

fn timed<T>(run: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let value = run();
    (value, started.elapsed())
}

/// Bytes in the files searched, for a throughput figure.
fn bytes_searched(root: &Path) -> u64 {
    search::scan(root)
        .map(|scan| {
            scan.files
                .iter()
                .filter_map(|path| std::fs::metadata(path).ok())
                .map(|metadata| metadata.len())
                .sum()
        })
        .unwrap_or(0)
}

fn print_results(results: &search::SearchResults) {
    for (path, lines) in &results.matches {
        let lines: Vec<String> = lines.iter().map(u64::to_string).collect();
        println!("{}: {}", path.display(), lines.join(", "));
    }
    let lines: usize = results.matches.values().map(Vec::len).sum();
    let binary = results
        .skipped
        .values()
        .filter(|skip| **skip == search::Skip::Binary)
        .count();
    println!(
        "\n{} files with matches on {lines} lines; {} files searched, {binary} binary files and \
         {} symbolic links skipped, {} errors",
        results.matches.len(),
        results.files_searched,
        results.skipped.len() - binary,
        results.errors.len()
    );
    for (path, error) in &results.errors {
        println!("  cannot search {}: {error}", path.display());
    }
}

fn run(args: &Args) -> Result<bool, search::SearchError> {
    let (sequential, sequential_time) =
        timed(|| search::search_sequential(&args.root, &args.keyword));
    let (parallel, parallel_time) =
        timed(|| search::search_parallel(&args.root, &args.keyword, args.workers));
    let (sequential, parallel) = (sequential?, parallel?);
    print_results(&parallel);
    if sequential != parallel {
        println!("\nwarning: the sequential and the parallel search disagree");
    }
    let megabytes = bytes_searched(&args.root) as f64 / 1e6;
    let rate = |time: Duration| megabytes / time.as_secs_f64().max(1e-9);
    println!(
        "\nsequential:             {:>9.1} ms  {:>8.0} MB/s",
        sequential_time.as_secs_f64() * 1e3,
        rate(sequential_time)
    );
    println!(
        "parallel, {:>2} workers:  {:>9.1} ms  {:>8.0} MB/s",
        args.workers,
        parallel_time.as_secs_f64() * 1e3,
        rate(parallel_time)
    );
    println!(
        "speedup:                {:>9.2}",
        sequential_time.as_secs_f64() / parallel_time.as_secs_f64().max(1e-9)
    );
    Ok(!parallel.matches.is_empty())
}

fn main() -> ExitCode {
    let args = match parse(std::env::args_os().skip(1)) {
        Ok(args) => args,
        Err(problem) => {
            eprintln!("{problem}");
            return ExitCode::from(FAILED);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::from(FOUND),
        Ok(false) => ExitCode::from(NOT_FOUND),
        Err(error) => {
            let mut message = format!("error: {error}");
            let mut cause = std::error::Error::source(&error);
            while let Some(inner) = cause {
                message.push_str(&format!(": {inner}"));
                cause = inner.source();
            }
            eprintln!("{message}");
            ExitCode::from(FAILED)
        }
    }
}
