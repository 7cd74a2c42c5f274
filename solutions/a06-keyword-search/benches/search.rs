//! `cargo bench -p a06-keyword-search-solution --bench search`
//!
//! The reference solution against `grep -rn` (and ripgrep and the homework's Python
//! `Pool(2)` when installed) on one generated 512 MiB corpus of text files: 96 files of 4 MiB
//! and one of 128 MiB (so the parallel search also has to split a file). The corpus is
//! generated once into the system's temporary directory, read once so it is in the page
//! cache, searched by every contender `ROUNDS` times in turn, and deleted at the end. Every
//! contender must report the same number of matching lines.
//!
//! `A06_BENCH_MIB=128` makes a smaller corpus (for a quick look).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use a06_keyword_search_solution::{SearchResults, search_parallel, search_sequential};
use course_harness::a06::{CorpusKind, Size, corpus};
use course_harness::seed::Seed;
use multiprocessing as mp;

/// Timed runs of each contender; the median is reported.
const ROUNDS: usize = 5;

/// The homework in Python, as a student of the lesson would write it: one `Pool` task per
/// file, lines read as bytes.
const PYTHON: &str = r#"
import multiprocessing as mp, os, sys
def search(args):
    path, keyword = args
    found = []
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            if keyword in line:
                found.append(number)
    return path, found
if __name__ == "__main__":
    keyword = os.fsencode(sys.argv[1])
    files = [os.path.join(d, f) for d, _, fs in os.walk(sys.argv[2]) for f in fs]
    with mp.Pool(2) as pool:
        results = pool.map(search, [(f, keyword) for f in files])
    print(sum(len(lines) for _, lines in results))
"#;

struct Contender {
    name: String,
    /// One timed run: the number of matching lines it reported.
    run: Box<dyn Fn() -> Result<u64, String>>,
}

fn matching_lines(results: &SearchResults) -> u64 {
    results
        .matches
        .values()
        .map(|lines| lines.len() as u64)
        .sum()
}

/// Runs `program args` and counts the lines it prints (one per match for `grep -rn`).
fn count_output_lines(program: &str, args: &[&str]) -> Result<u64, String> {
    let mut child = Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let mut buffer = vec![0u8; 1 << 16];
    let mut lines = 0u64;
    loop {
        let read = stdout.read(&mut buffer).map_err(|e| e.to_string())?;
        if read == 0 {
            break;
        }
        lines += memchr::memchr_iter(b'\n', &buffer[..read]).count() as u64;
    }
    child.wait().map_err(|e| e.to_string())?;
    Ok(lines)
}

fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn read_everything(root: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    let mut pending = vec![root.to_owned()];
    let mut buffer = vec![0u8; 1 << 20];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                pending.push(entry.path());
            } else {
                let mut file = std::fs::File::open(entry.path())?;
                loop {
                    let read = file.read(&mut buffer)?;
                    if read == 0 {
                        break;
                    }
                    total += read as u64;
                }
            }
        }
    }
    Ok(total)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let mib: u64 = std::env::var("A06_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    let big = mib / 4;
    let size = Size {
        files: ((mib - big) / 4) as usize,
        file_bytes: 4 << 20,
        big_file_bytes: big << 20,
    };
    let workers = mp::cpu_count();
    println!(
        "generating a {mib} MiB corpus in {} ...",
        std::env::temp_dir().display()
    );
    let started = Instant::now();
    let corpus = corpus::generate(CorpusKind::Large, None, Seed(0x0a06_be4c), size)?;
    let root = corpus.root().to_owned();
    let keyword = corpus.keyword.clone();
    let bytes = read_everything(&root)?;
    let expected: u64 = corpus
        .expected
        .matches
        .values()
        .map(|l| l.len() as u64)
        .sum();
    println!(
        "{} files, {:.0} MiB, keyword {:?}, {expected} matching lines; generated and read once \
         (page cache) in {:.1} s; {workers} workers; median of {ROUNDS} rounds\n",
        corpus.expected.searched.len(),
        bytes as f64 / (1 << 20) as f64,
        String::from_utf8_lossy(&keyword),
        started.elapsed().as_secs_f64()
    );

    let root_text = root.to_string_lossy().into_owned();
    let keyword_text = String::from_utf8_lossy(&keyword).into_owned();
    let mut contenders: Vec<Contender> = Vec::new();
    {
        let (root, keyword) = (root.clone(), keyword.clone());
        contenders.push(Contender {
            name: format!("reference, parallel ({workers} workers)"),
            run: Box::new(move || {
                search_parallel(&root, &keyword, workers)
                    .map(|r| matching_lines(&r))
                    .map_err(|e| e.to_string())
            }),
        });
    }
    {
        let (root, keyword) = (root.clone(), keyword.clone());
        contenders.push(Contender {
            name: "reference, sequential".to_owned(),
            run: Box::new(move || {
                search_sequential(&root, &keyword)
                    .map(|r| matching_lines(&r))
                    .map_err(|e| e.to_string())
            }),
        });
    }
    {
        let (root, keyword) = (root_text.clone(), keyword_text.clone());
        contenders.push(Contender {
            name: "grep -rn (GNU grep, LC_ALL=C)".to_owned(),
            run: Box::new(move || count_output_lines("grep", &["-rn", &keyword, &root])),
        });
    }
    let mut missing = Vec::new();
    if installed("rg") {
        let (root, keyword) = (root_text.clone(), keyword_text.clone());
        contenders.push(Contender {
            name: "rg -n (ripgrep)".to_owned(),
            run: Box::new(move || {
                count_output_lines("rg", &["-n", "--no-heading", "-F", &keyword, &root])
            }),
        });
    } else {
        missing.push("ripgrep (rg) is not installed: not measured");
    }
    if installed("python3") {
        let (root, keyword) = (root_text.clone(), keyword_text.clone());
        contenders.push(Contender {
            name: "Python multiprocessing.Pool(2), the homework's way".to_owned(),
            run: Box::new(move || {
                let output = Command::new("python3")
                    .args(["-c", PYTHON, &keyword, &root])
                    .output()
                    .map_err(|e| e.to_string())?;
                String::from_utf8_lossy(&output.stdout)
                    .trim()
                    .parse()
                    .map_err(|e| format!("python printed no count: {e}"))
            }),
        });
    } else {
        missing.push("python3 is not installed: not measured");
    }

    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); contenders.len()];
    for _ in 0..ROUNDS {
        for (contender, times) in contenders.iter().zip(&mut times) {
            let started = Instant::now();
            let found = (contender.run)()?;
            times.push(started.elapsed());
            if found != expected {
                return Err(format!(
                    "{} reported {found} matching lines, expected {expected}",
                    contender.name
                )
                .into());
            }
        }
    }
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[(times.len() - 1) / 2]
    };
    let medians: Vec<Duration> = times.iter_mut().map(median).collect();
    println!(
        "{:<52} {:>10} {:>10} {:>14}",
        "contender", "time", "GB/s", "lines found"
    );
    for (contender, time) in contenders.iter().zip(&medians) {
        println!(
            "{:<52} {:>7.0} ms {:>10.2} {:>14}",
            contender.name,
            time.as_secs_f64() * 1e3,
            bytes as f64 / time.as_secs_f64() / 1e9,
            expected
        );
    }
    println!(
        "\nspeedup of the parallel reference over the sequential one: {:.2}",
        medians[1].as_secs_f64() / medians[0].as_secs_f64()
    );
    println!(
        "the parallel reference against grep -rn: {:.1}x faster",
        medians[2].as_secs_f64() / medians[0].as_secs_f64()
    );
    for line in missing {
        println!("{line}");
    }
    drop(corpus);
    Ok(())
}
