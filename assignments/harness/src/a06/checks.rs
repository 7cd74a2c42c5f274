//! The checks of a06-keyword-search. Each generates a seeded corpus, runs the runner on it,
//! and compares what came back with the oracle, naming the likely mistake when it differs.

use std::path::PathBuf;

use crate::a06::corpus::{self, Corpus, CorpusKind};
use crate::a06::explain;
use crate::a06::inputs::Inputs;
use crate::a06::oracle;
use crate::a06::protocol::{Found, Mode, Refused, Report, Scenario};
use crate::a06::speedup;
use crate::checks::{AssignmentChecks, CheckContext, CheckDef, Execution, Failure, Judgement};
use crate::checks::{execute, repeat};
use crate::seed::Seed;
use crate::verdict::{Figure, Verdict};

/// The checks of the manifest's `a06-keyword-search` entry.
pub const CHECKS: AssignmentChecks = AssignmentChecks {
    assignment: "a06-keyword-search",
    checks: &[
        CheckDef {
            id: "invalid-arguments",
            run: invalid_arguments,
        },
        CheckDef {
            id: "sequential-search",
            run: matches_oracle,
        },
        CheckDef {
            id: "parallel-search",
            run: matches_oracle,
        },
        CheckDef {
            id: "line-ends-and-bytes",
            run: matches_oracle,
        },
        CheckDef {
            id: "binary-files",
            run: matches_oracle,
        },
        CheckDef {
            id: "links-and-special-files",
            run: matches_oracle,
        },
        CheckDef {
            id: "many-files",
            run: matches_oracle,
        },
        CheckDef {
            id: "speedup",
            run: speedup::speedup,
        },
    ],
    validate_inputs,
};

fn validate_inputs(table: &toml::Table) -> Result<(), String> {
    Inputs::from_table(table).map(|_| ())
}

pub(super) fn inputs(ctx: &CheckContext<'_>) -> Result<Inputs, Failure> {
    Inputs::from_table(&ctx.check.inputs).map_err(|why| {
        Failure::new(Verdict::CouldNotRun {
            why: format!("invalid inputs in the manifest: {why}"),
        })
    })
}

pub(super) fn generate(
    ctx: &CheckContext<'_>,
    kind: CorpusKind,
    inputs: &Inputs,
    seed: Seed,
) -> Result<Corpus, Failure> {
    corpus::generate(
        kind,
        ctx.sandbox.working_dir.as_deref(),
        seed,
        inputs.size(),
    )
    .map_err(|e| {
        Failure::new(Verdict::CouldNotRun {
            why: format!("could not generate the corpus to search: {e}"),
        })
    })
}

/// What one search returned: the student's results, or the error it returned.
pub(super) type Searched = Result<Found, Refused>;

/// Runs the runner once; `Err` for a run that went wrong (timeout, crash, panic...).
pub(super) fn run_search(
    ctx: &CheckContext<'_>,
    root: PathBuf,
    keyword: &[u8],
    mode: Mode,
) -> Result<Execution<Searched>, Failure> {
    let scenario = Scenario::Search {
        root,
        keyword: keyword.to_vec(),
        mode,
    };
    let Execution {
        report,
        runner_pid,
        children_after,
        student_time,
        record,
    } = execute::<_, Report>(ctx, &scenario)?;
    let report = match report {
        Report::Search(searched) => searched,
        Report::Machine(_) => {
            return Err(Failure::new(Verdict::CouldNotRun {
                why: "the runner answered a search with a machine report: was it built from \
                      this course's sources?"
                    .to_owned(),
            }));
        }
    };
    Ok(Execution {
        report,
        runner_pid,
        children_after,
        student_time,
        record,
    })
}

/// Runs one search of `corpus` and compares it with the oracle.
pub(super) fn search_and_judge(
    ctx: &CheckContext<'_>,
    corpus: &Corpus,
    mode: Mode,
) -> Result<(Execution<Searched>, Vec<Figure>), Failure> {
    let execution = run_search(ctx, corpus.root().to_owned(), &corpus.keyword, mode)?;
    let found = match &execution.report {
        Ok(found) => found,
        Err(refused) => {
            return Err(execution.fail(explain::refused(mode, &corpus.keyword, refused)));
        }
    };
    let figures = judge(corpus, mode, found).map_err(|failure| execution.fail(failure))?;
    Ok((execution, figures))
}

pub(super) fn judge(corpus: &Corpus, mode: Mode, found: &Found) -> Result<Vec<Figure>, Failure> {
    let expected = corpus.expected_for(found);
    let differences = oracle::compare(&expected, found);
    if differences.is_empty() {
        Ok(vec![
            Figure::count("files with matches", found.matches.len()),
            Figure::count("files searched", found.files_searched as usize),
        ])
    } else {
        Err(explain::differences(
            corpus,
            &expected,
            mode,
            found,
            &differences,
        ))
    }
}

/// The correctness checks: every search the inputs name agrees with the oracle.
fn matches_oracle(ctx: &CheckContext<'_>) -> Judgement {
    repeat(ctx, |seed| {
        let inputs = inputs(ctx)?;
        let corpus = generate(ctx, inputs.corpus, &inputs, seed)?;
        let mut figures = Vec::new();
        for mode in inputs.modes() {
            let (execution, judged) = search_and_judge(ctx, &corpus, mode)?;
            figures = execution.figures();
            figures.extend(judged);
        }
        Ok(figures)
    })
}

/// What an invalid call must return.
#[derive(Debug, Clone, Copy)]
enum MustRefuse {
    EmptyKeyword,
    KeywordHasNewline,
    BadRoot,
}

/// Empty keyword, keyword with a newline, a root that is missing or not a directory: each a
/// clear error from both searches, never results and never a panic.
fn invalid_arguments(ctx: &CheckContext<'_>) -> Judgement {
    repeat(ctx, |seed| {
        let inputs = inputs(ctx)?;
        let corpus = generate(ctx, CorpusKind::PlainTree, &inputs, seed)?;
        let root = corpus.root().to_owned();
        let cases: [(&[u8], PathBuf, MustRefuse); 4] = [
            (b"", root.clone(), MustRefuse::EmptyKeyword),
            (b"two\nlines", root.clone(), MustRefuse::KeywordHasNewline),
            (
                &corpus.keyword,
                root.join("no-such-directory"),
                MustRefuse::BadRoot,
            ),
            (&corpus.keyword, root.join("empty.txt"), MustRefuse::BadRoot),
        ];
        let mut figures = Vec::new();
        for mode in inputs.modes() {
            for (keyword, at, must) in &cases {
                let execution = run_search(ctx, at.clone(), keyword, mode)?;
                judge_refusal(&execution, mode, keyword, *must)
                    .map_err(|failure| execution.fail(failure))?;
                figures = execution.figures();
            }
        }
        Ok(figures)
    })
}

fn judge_refusal(
    execution: &Execution<Searched>,
    mode: Mode,
    keyword: &[u8],
    must: MustRefuse,
) -> Result<(), Failure> {
    let call = explain::call(mode, keyword);
    let got = match &execution.report {
        Ok(found) => format!(
            "Ok: results with {} files with matches and {} searched",
            found.matches.len(),
            found.files_searched
        ),
        Err(refused) => format!("Err({})", refused.describe()),
    };
    let (wanted, right, meaning) = match must {
        MustRefuse::EmptyKeyword => (
            "Err(SearchError::EmptyKeyword)",
            matches!(execution.report, Err(Refused::EmptyKeyword)),
            "an empty keyword is in every line at every position, so it is refused before \
             anything is searched: return Err(SearchError::EmptyKeyword)",
        ),
        MustRefuse::KeywordHasNewline => (
            "Err(SearchError::KeywordHasNewline)",
            matches!(execution.report, Err(Refused::KeywordHasNewline)),
            "a line never holds a \\n, so such a keyword could never match: refuse it with \
             Err(SearchError::KeywordHasNewline)",
        ),
        MustRefuse::BadRoot => (
            "an error (SearchError::Root)",
            execution.report.is_err(),
            "a root that does not exist or is not a directory cannot be searched: that is an \
             error of the whole search (SearchError::Root with the OS error), not empty \
             results",
        ),
    };
    if right {
        return Ok(());
    }
    let place = match must {
        MustRefuse::BadRoot => " with a root that is missing or not a directory",
        MustRefuse::EmptyKeyword | MustRefuse::KeywordHasNewline => "",
    };
    Err(Failure::wrong(
        format!("{call}{place} to return {wanted}"),
        got,
        meaning,
    ))
}
