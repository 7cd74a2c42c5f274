//! The statements (`assignments/<id>/README.md`) show the manifest's points and hints in
//! generated blocks; this test fails when they drift from `course.toml`, and rewrites them
//! when run with `COURSE_BLESS=1`.

use std::path::{Path, PathBuf};

use course_harness::manifest::{self, Assignment, grading_table, hints_list};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The text between `<!-- BEGIN generated: NAME ... -->` and `<!-- END generated: NAME -->`.
fn block_bounds(text: &str, name: &str) -> Option<(usize, usize)> {
    let begin_tag = format!("<!-- BEGIN generated: {name} ");
    let end_tag = format!("<!-- END generated: {name} -->");
    let begin = text.find(&begin_tag)?;
    let content_start = begin + text[begin..].find("-->\n")? + 4;
    let end = text.find(&end_tag)?;
    (content_start <= end).then_some((content_start, end))
}

fn blocks(assignment: &Assignment) -> [(&'static str, String); 2] {
    [
        ("grading", grading_table(assignment)),
        ("hints", hints_list(assignment)),
    ]
}

#[test]
fn statements_show_the_manifests_points_and_hints() {
    let bless = std::env::var_os("COURSE_BLESS").is_some();
    let manifest = manifest::embedded().expect("course.toml is valid");
    let mut drifted = Vec::new();
    for assignment in &manifest.assignments {
        let path = workspace_root()
            .join("assignments")
            .join(&assignment.id)
            .join("README.md");
        let mut text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (name, wanted) in blocks(assignment) {
            let (start, end) = block_bounds(&text, name).unwrap_or_else(|| {
                panic!(
                    "{} has no generated {name} block: add the lines\n\
                     <!-- BEGIN generated: {name} (from course.toml; refresh: COURSE_BLESS=1 \
                     cargo test -p course-harness --test statements) -->\n\
                     <!-- END generated: {name} -->",
                    path.display()
                )
            });
            if text[start..end] != wanted {
                drifted.push(format!("{} ({name})", path.display()));
                text.replace_range(start..end, &wanted);
            }
        }
        if bless {
            std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
    assert!(
        bless || drifted.is_empty(),
        "these statements disagree with course.toml: {drifted:?}\n\
         refresh them with: COURSE_BLESS=1 cargo test -p course-harness --test statements"
    );
}
