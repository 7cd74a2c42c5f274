//! A check's `inputs` in the manifest.

use serde::Deserialize;

use crate::a06::corpus::{CorpusKind, Size};
use crate::a06::protocol::Mode;
use crate::checks::speedup::available_cores;

/// What a check searches, and with which of the student's functions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// The corpus generated for each run.
    pub corpus: CorpusKind,
    /// Call `search_sequential`.
    #[serde(default)]
    pub sequential: bool,
    /// Call `search_parallel`.
    #[serde(default)]
    pub parallel: bool,
    /// Worker processes for `search_parallel`; 0 (the default) for one per available core.
    #[serde(default)]
    pub workers: usize,
    /// Files of the `many-files` and `large` corpora.
    #[serde(default)]
    pub files: usize,
    /// KiB per file of the `large` corpus.
    #[serde(default)]
    pub file_kib: u64,
    /// Speedup checks: the `large` corpus grows (up to `files` files) until one sequential
    /// search of it takes about this long, so that a debug build and a release build both
    /// time enough work.
    #[serde(default)]
    pub target_ms: u64,
}

impl Inputs {
    /// Decodes and range-checks a manifest `inputs` table.
    pub fn from_table(table: &toml::Table) -> Result<Inputs, String> {
        let inputs: Inputs = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string())?;
        if !inputs.sequential && !inputs.parallel {
            return Err("set sequential = true, parallel = true, or both".to_owned());
        }
        if inputs.workers > 64 {
            return Err(format!("workers = {} is above 64", inputs.workers));
        }
        match inputs.corpus {
            CorpusKind::ManyFiles if !(1..=20_000).contains(&inputs.files) => {
                return Err(format!("files = {} is not in 1..=20000", inputs.files));
            }
            CorpusKind::Large => {
                if !(2..=4096).contains(&inputs.files) {
                    return Err(format!("files = {} is not in 2..=4096", inputs.files));
                }
                if !(16..=1 << 20).contains(&inputs.file_kib) {
                    return Err(format!(
                        "file_kib = {} is not in 16..=1048576",
                        inputs.file_kib
                    ));
                }
                if !(10..=10_000).contains(&inputs.target_ms) {
                    return Err(format!(
                        "target_ms = {} is not in 10..=10000",
                        inputs.target_ms
                    ));
                }
            }
            _ => {}
        }
        Ok(inputs)
    }

    /// The worker count to pass: `workers`, or one per available core.
    pub fn worker_count(&self) -> usize {
        if self.workers == 0 {
            available_cores()
        } else {
            self.workers
        }
    }

    /// The searches to run, sequential first.
    pub fn modes(&self) -> Vec<Mode> {
        let mut modes = Vec::new();
        if self.sequential {
            modes.push(Mode::Sequential);
        }
        if self.parallel {
            modes.push(Mode::Parallel {
                workers: self.worker_count(),
            });
        }
        modes
    }

    /// The corpus's size parameters.
    pub fn size(&self) -> Size {
        Size {
            files: self.files,
            file_bytes: self.file_kib * 1024,
            big_file_bytes: 0,
        }
    }
}
