//! Which reports a run writes, and where: every `--format` with its `--out`, so one grading
//! can write, say, JSON for the record and Markdown for a CI summary.
//!
//! Each `--out FILE` belongs to the `--format` before it on the command line; a `--format`
//! without one writes to stdout, which only one report may do. With a single `--format`,
//! the order does not matter (`--out grades.json --format json` works as it always has).
//! No `--format` at all is the table.

use std::path::PathBuf;

use clap::ArgMatches;

use crate::cli::Format;
use crate::report::Output;

/// One report of a run.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its format.
    pub format: Format,
    /// Where it goes.
    pub output: Output,
}

/// The reports a command line asks for (`Err` says what is wrong with `--format`/`--out`).
pub fn targets(matches: &ArgMatches) -> Result<Vec<Target>, String> {
    let formats: Vec<(usize, Format)> = indexed(matches, "format");
    let outs: Vec<(usize, PathBuf)> = indexed(matches, "out");
    pair(formats, outs)
}

/// An argument's values with their positions on the command line.
fn indexed<T: Clone + Send + Sync + 'static>(matches: &ArgMatches, id: &str) -> Vec<(usize, T)> {
    match (matches.indices_of(id), matches.get_many::<T>(id)) {
        (Some(indices), Some(values)) => indices.zip(values.cloned()).collect(),
        (None, _) | (_, None) => Vec::new(),
    }
}

fn pair(
    mut formats: Vec<(usize, Format)>,
    outs: Vec<(usize, PathBuf)>,
) -> Result<Vec<Target>, String> {
    if formats.is_empty() {
        formats.push((0, Format::Table));
    }
    let mut files: Vec<Option<PathBuf>> = vec![None; formats.len()];
    if let ([_], [(_, file)]) = (formats.as_slice(), outs.as_slice()) {
        files[0] = Some(file.clone());
    } else if formats.len() == 1 && outs.len() > 1 {
        return Err("--out is given more than once for one --format".to_owned());
    } else {
        for (at, file) in outs {
            let owner = formats
                .iter()
                .rposition(|(index, _)| *index < at)
                .ok_or_else(|| {
                    format!(
                        "--out {} comes before every --format: with several reports, put each \
                         --out right after its --format",
                        file.display()
                    )
                })?;
            if files[owner].is_some() {
                return Err(format!(
                    "--format {} has two --out: put each --out right after its --format",
                    formats[owner].1.name()
                ));
            }
            files[owner] = Some(file);
        }
    }
    let to_stdout = files.iter().filter(|f| f.is_none()).count();
    if to_stdout > 1 {
        return Err(format!(
            "{to_stdout} reports would go to stdout: give every --format but one an --out FILE"
        ));
    }
    for (i, file) in files
        .iter()
        .enumerate()
        .filter_map(|(i, f)| Some((i, f.as_ref()?)))
    {
        if files[..i].iter().flatten().any(|earlier| earlier == file) {
            return Err(format!(
                "two reports would both be written to {}",
                file.display()
            ));
        }
    }
    Ok(formats
        .into_iter()
        .zip(files)
        .map(|((_, format), file)| Target {
            format,
            output: file.map_or(Output::Stdout, Output::File),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::cli::Cli;

    fn parsed(args: &[&str]) -> Result<Vec<(Format, Option<String>)>, String> {
        let matches = Cli::command()
            .try_get_matches_from(std::iter::once("grader").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        Ok(targets(&matches)?
            .into_iter()
            .map(|t| {
                let file = match t.output {
                    Output::Stdout => None,
                    Output::File(path) => Some(path.display().to_string()),
                };
                (t.format, file)
            })
            .collect())
    }

    #[test]
    fn no_format_is_the_table_on_stdout() {
        assert_eq!(parsed(&["--all"]), Ok(vec![(Format::Table, None)]));
        assert_eq!(
            parsed(&["--all", "--out", "t.txt"]),
            Ok(vec![(Format::Table, Some("t.txt".to_owned()))])
        );
    }

    #[test]
    fn one_format_takes_its_out_in_either_order() {
        let expected = Ok(vec![(Format::Json, Some("g.json".to_owned()))]);
        assert_eq!(
            parsed(&["--all", "--format", "json", "--out", "g.json"]),
            expected
        );
        assert_eq!(
            parsed(&["--all", "--out", "g.json", "--format", "json"]),
            expected
        );
    }

    #[test]
    fn several_formats_pair_each_out_with_the_format_before_it() {
        assert_eq!(
            parsed(&[
                "--all", "--format", "json", "--out", "g.json", "--format", "markdown", "--out",
                "s.md", "--format", "table",
            ]),
            Ok(vec![
                (Format::Json, Some("g.json".to_owned())),
                (Format::Markdown, Some("s.md".to_owned())),
                (Format::Table, None),
            ])
        );
    }

    #[test]
    fn ambiguous_pairings_are_refused() {
        let refused = |args: &[&str], says: &str| {
            let error = parsed(args).expect_err("refused");
            assert!(error.contains(says), "{error}");
        };
        refused(
            &["--all", "--format", "json", "--format", "junit"],
            "would go to stdout",
        );
        refused(
            &[
                "--all", "--out", "a", "--format", "json", "--format", "junit", "--out", "b",
            ],
            "comes before every --format",
        );
        refused(
            &[
                "--all", "--format", "json", "--out", "a", "--out", "b", "--format", "junit",
            ],
            "has two --out",
        );
        refused(
            &["--all", "--format", "json", "--out", "a", "--out", "b"],
            "more than once",
        );
        refused(
            &[
                "--all", "--format", "json", "--out", "a", "--format", "junit", "--out", "a",
            ],
            "both be written to a",
        );
    }
}
