//! a06-keyword-search: search a directory tree for a keyword with a pool of processes, and
//! aggregate which files hold it on which lines.
//!
//! - [`Scenario`] / [`Report`]: what the runner reads and writes.
//! - [`oracle`]: the rules, a simple sequential search, and how results differ from it.
//! - [`corpus`]: the seeded trees the checks search, generated in a [`ScratchDir`].
//! - [`BareSearch`]: what bare processes searching the same files show, for the speedup check.
//! - [`CHECKS`]: the checks of the manifest's `a06-keyword-search` entry.
//! - [`a06_runner!`](crate::a06_runner): the `main` of every a06 runner binary.

mod caps;
mod checks;
pub mod corpus;
mod explain;
mod inputs;
mod machine;
pub mod oracle;
mod protocol;
mod runner;
mod scratch;
mod speedup;
mod text;

pub use caps::drop_permission_overrides;
pub use checks::CHECKS;
pub use corpus::{Corpus, CorpusKind, LargeCorpus, Size};
pub use inputs::Inputs;
pub use machine::{BareSearch, measure_machine};
pub use protocol::{Found, Mode, Refused, Report, Scenario, SkipFact};
pub use runner::relative_path;
pub use scratch::ScratchDir;
pub use text::KEYWORDS;
