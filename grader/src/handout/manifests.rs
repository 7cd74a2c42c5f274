//! The handout's `course.toml` (less its hidden checks) and `Cargo.toml` (less the packages
//! left out), edited with `toml_edit` so the course's comments and layout stay.

use std::path::Path;

use toml_edit::{Array, DocumentMut, Item, value};

use crate::handout::select::is_withheld;

/// The handout's `course.toml`, and the hidden checks it withheld.
#[derive(Debug)]
pub struct HandoutCourse {
    /// Its text.
    pub text: String,
    /// `assignment / check` of every hidden check left out.
    pub withheld: Vec<String>,
}

/// The comment above the handout's mark.
const HANDOUT_NOTE: &str = "\n# The students' copy (written by `grader handout`): the hidden checks are graded by the\n\
# course's grader only, so they are not listed here.\n";

/// `course.toml` without its hidden checks, marked `handout = true`.
pub fn handout_course_toml(text: &str) -> Result<HandoutCourse, String> {
    let mut doc: DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
    let mut withheld = Vec::new();
    let assignments = doc
        .get_mut("assignment")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or("no [[assignment]]")?;
    for assignment in assignments.iter_mut() {
        let id = assignment
            .get("id")
            .and_then(Item::as_str)
            .unwrap_or("?")
            .to_owned();
        let Some(checks) = assignment
            .get_mut("check")
            .and_then(Item::as_array_of_tables_mut)
        else {
            continue;
        };
        for check in checks.iter() {
            if is_hidden(check) {
                let check_id = check.get("id").and_then(Item::as_str).unwrap_or("?");
                withheld.push(format!("{id} / {check_id}"));
            }
        }
        checks.retain(|check| !is_hidden(check));
    }
    doc.insert("handout", value(true));
    if let Some(mut key) = doc.key_mut("handout") {
        key.leaf_decor_mut().set_prefix(HANDOUT_NOTE);
    }
    Ok(HandoutCourse {
        text: doc.to_string(),
        withheld,
    })
}

fn is_hidden(check: &toml_edit::Table) -> bool {
    check.get("visibility").and_then(Item::as_str) == Some("hidden")
}

/// The comment above the handout's `default-members`.
const DEFAULT_MEMBERS_NOTE: &str = "# `cargo test` at the root tests the course's library, harness and grader; your assignments\n\
# fail until you solve them: test each by name, `cargo test -p a00-process`.\n";

/// The workspace's `Cargo.toml` without the members left out of the handout.
pub fn handout_cargo_toml(text: &str) -> Result<String, String> {
    let mut doc: DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
    let workspace = doc
        .get_mut("workspace")
        .and_then(Item::as_table_mut)
        .ok_or("no [workspace]")?;
    for key in ["members", "default-members"] {
        if let Some(list) = workspace.get_mut(key).and_then(Item::as_array_mut) {
            keep_handout_members(list);
        }
    }
    if let Some(mut key) = workspace.key_mut("default-members") {
        key.leaf_decor_mut().set_prefix(DEFAULT_MEMBERS_NOTE);
    }
    Ok(doc.to_string())
}

/// Drops the entries (paths or globs) naming a part of the course left out.
fn keep_handout_members(list: &mut Array) {
    list.retain(|entry| {
        entry.as_str().is_none_or(|member| {
            let fixed = member.split(['*', '?', '[']).next().unwrap_or(member);
            !is_withheld(Path::new(fixed.trim_end_matches('/')))
        })
    });
    list.fmt();
    list.set_trailing_comma(true);
    list.set_trailing("\n");
    for entry in list.iter_mut() {
        entry.decor_mut().set_prefix("\n    ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COURSE: &str = r#"# The course.
format = 1

[[assignment]]
id = "a00-process"

[[assignment.check]]
id = "seen"
visibility = "visible"

# A hidden one.
[[assignment.check]]
id = "unseen"
visibility = "hidden"
inputs = { names = "unusual" }
"#;

    #[test]
    fn hidden_checks_and_their_inputs_are_withheld_and_the_rest_kept() {
        let handout = handout_course_toml(COURSE).expect("edits");
        assert_eq!(handout.withheld, ["a00-process / unseen"]);
        assert!(handout.text.starts_with("# The course.\nformat = 1\n"));
        assert!(handout.text.contains("handout = true"), "{}", handout.text);
        assert!(handout.text.contains("id = \"seen\""));
        for gone in ["unseen", "unusual", "A hidden one"] {
            assert!(!handout.text.contains(gone), "{gone}: {}", handout.text);
        }
    }

    #[test]
    fn the_workspace_loses_the_members_left_out() {
        let text = r#"[workspace]
members = [
    "common",
    "assignments/*",
    "assignments/harness/fixtures/*",
    "solutions/*",
    "grader",
    "tests",
]
# old comment
default-members = ["common", "solutions/*", "grader"]

[workspace.dependencies]
serde = "1"
"#;
        let edited = handout_cargo_toml(text).expect("edits");
        let doc: toml::Table = edited.parse().expect("still TOML");
        let list = |key: &str| -> Vec<String> {
            doc["workspace"][key]
                .as_array()
                .expect("a list")
                .iter()
                .map(|v| v.as_str().expect("a string").to_owned())
                .collect()
        };
        assert_eq!(list("members"), ["common", "assignments/*", "grader"]);
        assert_eq!(list("default-members"), ["common", "grader"]);
        assert!(!edited.contains("old comment"), "{edited}");
        assert!(edited.contains("serde = \"1\""));
    }
}
