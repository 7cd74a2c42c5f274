//! The sequential search: the homework's "synchronous manner", and the baseline of the
//! speedup.

use std::path::Path;

use crate::file::search_file;
use crate::lines::validate_keyword;
use crate::types::{SearchError, SearchResults};
use crate::walk::scan;

/// Searches every file under `root` for `keyword`, one after another, in this process.
pub fn search_sequential(root: &Path, keyword: &[u8]) -> Result<SearchResults, SearchError> {
    validate_keyword(keyword)?;
    let scan = scan(root)?;
    let mut results = SearchResults::from_scan(&scan);
    for path in scan.files {
        let outcome = search_file(&path, keyword);
        results.record(path, outcome);
    }
    Ok(results)
}
