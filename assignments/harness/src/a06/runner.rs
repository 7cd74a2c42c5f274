//! The glue of an a06 runner binary, as a macro so every implementation (stub, solution,
//! fixtures) runs the very same glue under its own crate name.

use std::path::{Component, Path};

/// A reported path relative to the searched `root`, with `/` between components. A path
/// outside `root` is kept whole, so the comparison shows it as it was reported.
pub fn relative_path(root: &Path, path: &Path) -> String {
    let inside = path.strip_prefix(root).unwrap_or(path);
    if inside.is_absolute() {
        return path.to_string_lossy().into_owned();
    }
    let parts: Vec<String> = inside
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// Expands to the `main` of an a06-keyword-search runner that serves `$student`'s
/// `search_sequential` and `search_parallel`.
///
/// `assignments/a06-keyword-search/src/bin/a06-keyword-search-runner.rs` is
/// `a06_runner!(a06_keyword_search);`, the solution's is
/// `a06_runner!(a06_keyword_search_solution);`. A machine scenario never calls the student's
/// code: bare processes search the corpus ([`measure_machine`](crate::a06::measure_machine)).
/// Before a search, the runner gives up root's permission overrides
/// ([`drop_permission_overrides`](crate::a06::drop_permission_overrides)).
#[macro_export]
macro_rules! a06_runner {
    ($student:ident) => {
        fn main() {
            $crate::runner::serve(|scenario: $crate::a06::Scenario| {
                let (root, keyword, mode) = match scenario {
                    $crate::a06::Scenario::Search {
                        root,
                        keyword,
                        mode,
                    } => (root, keyword, mode),
                    $crate::a06::Scenario::Machine {
                        root,
                        keyword,
                        processes,
                    } => {
                        return $crate::a06::Report::Machine($crate::a06::measure_machine(
                            &root, &keyword, processes,
                        ));
                    }
                };
                // Entries without read permission must be unreadable, even to root.
                $crate::a06::drop_permission_overrides();
                let root = root.as_path();
                let result = match mode {
                    $crate::a06::Mode::Sequential => $student::search_sequential(root, &keyword),
                    $crate::a06::Mode::Parallel { workers } => {
                        $student::search_parallel(root, &keyword, workers)
                    }
                };
                let relative = |path: &::std::path::Path| $crate::a06::relative_path(root, path);
                let outcome = match result {
                    Ok(results) => Ok($crate::a06::Found {
                        matches: results
                            .matches
                            .iter()
                            .map(|(path, lines)| (relative(path), lines.clone()))
                            .collect(),
                        files_searched: results.files_searched as u64,
                        skipped: results
                            .skipped
                            .iter()
                            .map(|(path, skip)| {
                                let fact = match skip {
                                    $student::Skip::Binary => $crate::a06::SkipFact::Binary,
                                    $student::Skip::Symlink => $crate::a06::SkipFact::Symlink,
                                };
                                (relative(path), fact)
                            })
                            .collect(),
                        errors: results
                            .errors
                            .iter()
                            .map(|(path, error)| (relative(path), error.clone()))
                            .collect(),
                    }),
                    Err(error) => Err(match &error {
                        $student::SearchError::EmptyKeyword => $crate::a06::Refused::EmptyKeyword,
                        $student::SearchError::KeywordHasNewline => {
                            $crate::a06::Refused::KeywordHasNewline
                        }
                        other => $crate::a06::Refused::Other($crate::runner::error_chain(other)),
                    }),
                };
                $crate::a06::Report::Search(outcome)
            })
        }
    };
}
