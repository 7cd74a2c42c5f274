//! The parallel search: the main process walks the tree and submits one pool task per file
//! (per chunk of a large file); the tasks' outcomes come back to callbacks in the main
//! process, which record them into one `Mutex`-guarded aggregate.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use multiprocessing as mp;

use crate::chunks::{ChunkOutcome, ChunkTask, Plan, combine, plan, search_chunk};
use crate::file::search_task;
use crate::lines::validate_keyword;
use crate::types::{FileOutcome, FileTask, SearchError, SearchResults};
use crate::walk::scan;

/// Everything the callbacks record into.
struct Aggregate {
    results: SearchResults,
    /// Large files searched in chunks: each chunk's outcome, by file.
    split: BTreeMap<PathBuf, Vec<Option<ChunkOutcome>>>,
}

impl Aggregate {
    fn task_failed(&mut self, path: &Path, error: &mp::PoolError) {
        self.results.errors.insert(
            path.to_owned(),
            format!("the search of this file failed: {error}"),
        );
    }

    /// The results, once every chunk of every split file is back.
    fn finish(mut self) -> SearchResults {
        for (path, chunks) in self.split {
            if self.results.errors.contains_key(&path) {
                continue;
            }
            let chunks: Option<Vec<ChunkOutcome>> = chunks.into_iter().collect();
            let outcome = chunks.map_or_else(
                || FileOutcome::Unreadable {
                    error: "a chunk of the file was never searched".to_owned(),
                },
                combine,
            );
            self.results.record(path, outcome);
        }
        self.results
    }
}

fn lock(aggregate: &Mutex<Aggregate>) -> MutexGuard<'_, Aggregate> {
    // A callback that panicked left at worst one file unrecorded; the scope reports the panic.
    aggregate.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Searches every file under `root` for `keyword` with a pool of `workers` processes.
pub fn search_parallel(
    root: &Path,
    keyword: &[u8],
    workers: usize,
) -> Result<SearchResults, SearchError> {
    validate_keyword(keyword)?;
    let scan = scan(root)?;
    let pool = mp::Pool::new(workers)?;
    let aggregate = Mutex::new(Aggregate {
        results: SearchResults::from_scan(&scan),
        split: BTreeMap::new(),
    });
    // The callbacks borrow it: the scope does not end before every callback has run.
    let shared = &aggregate;
    pool.scope(|s| -> Result<(), mp::PoolError> {
        for path in &scan.files {
            match plan(path) {
                Plan::Whole => {
                    s.apply_async_callbacks(
                        search_task,
                        FileTask::new(path, keyword),
                        move |outcome| lock(shared).results.record(path.clone(), outcome),
                        move |error| lock(shared).task_failed(path, &error),
                    )?;
                }
                Plan::Chunks(ranges) => {
                    lock(shared)
                        .split
                        .insert(path.clone(), vec![None; ranges.len()]);
                    for (index, (start, end)) in ranges.into_iter().enumerate() {
                        let task = ChunkTask {
                            file: FileTask::new(path, keyword),
                            start,
                            end,
                        };
                        s.apply_async_callbacks(
                            search_chunk,
                            task,
                            move |outcome| {
                                if let Some(slot) = lock(shared)
                                    .split
                                    .get_mut(path)
                                    .and_then(|chunks| chunks.get_mut(index))
                                {
                                    *slot = Some(outcome);
                                }
                            },
                            move |error| lock(shared).task_failed(path, &error),
                        )?;
                    }
                }
                Plan::Done(outcome) => lock(shared).results.record(path.clone(), outcome),
            }
        }
        Ok(())
    })??;
    pool.close();
    pool.join()?;
    Ok(aggregate
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .finish())
}
