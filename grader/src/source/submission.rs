//! A submission, taken into a scratch workspace: the student's sources, and everything else
//! from the course repository.
//!
//! For each assignment `<id>` the submission has (`DIR/assignments/<id>/` or `DIR/<id>/`):
//!
//! - every regular file under `src/` is taken, except the runner `src/bin/<id>-runner.rs`
//!   (the trusted glue between the harness and the student's library); symlinks are not
//!   followed; at most [`MAX_FILES`] files of at most [`MAX_FILE_BYTES`] each and
//!   [`MAX_TOTAL_BYTES`] in all;
//! - from its `Cargo.toml`, only `[dependencies]` entries `name.workspace = true` whose name
//!   is a crate of the course's `[workspace.dependencies]` (crates the course already
//!   builds and trusts); every other entry is reported as ignored.
//!
//! The rest of the package is the course's: its `Cargo.toml` (path dependencies made
//! absolute, so the course library and the harness are the very packages of the course
//! repository, built once in the shared target directory), its runner, its tests. The
//! scratch workspace's root `Cargo.toml` is the course's workspace settings (package
//! defaults, dependency versions, lints, profiles) with only these packages as members, and
//! the course's `Cargo.lock`. Nothing from the submission can add a build script, a proc
//! macro crate or a path outside the scratch workspace.
//!
//! The scratch workspace lives at `<target-dir>/submissions/<name>-<hash of DIR>/` and is
//! reused when the same submission is graded again; unchanged files are not rewritten, so
//! cargo does not rebuild them. Each package's version gets the hash as build metadata
//! (`0.1.0+grader.<hash>`): cargo keys a member's artifacts by name, version and path
//! relative to its workspace (the same `assignments/<id>` in every scratch workspace), so
//! without it two submissions would take each other's builds for their own.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use course_harness::manifest::Assignment;
use course_harness::manifest::schema::runner_bin_name;

use crate::build::BuildTarget;
use crate::errors::GraderError;
use crate::plan::Plan;
use crate::source::Intake;
use crate::source::files::{FileSet, regular_files, sync_dir};
use crate::verdict::BuildFailure;

/// Most files taken from one assignment's `src/`.
pub const MAX_FILES: usize = 200;
/// Largest file taken.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// Most bytes taken from one assignment's `src/`.
pub const MAX_TOTAL_BYTES: u64 = 4 << 20;

/// Dependency tables of a package manifest whose `path`s are relative to it.
const DEPENDENCY_TABLES: &[&str] = &["dependencies", "dev-dependencies", "build-dependencies"];

/// Prepares the scratch workspace for `dir` and returns one intake per planned assignment.
pub fn take(
    plan: &Plan,
    course_root: &Path,
    dir: &Path,
    work_root: &Path,
) -> Result<Vec<Intake>, GraderError> {
    let unreadable = |source| GraderError::Submission {
        path: dir.to_owned(),
        source,
    };
    let dir = dir.canonicalize().map_err(unreadable)?;
    if !dir.is_dir() {
        return Err(unreadable(std::io::Error::from(
            std::io::ErrorKind::NotADirectory,
        )));
    }
    let (base, shown_base) = if dir.join("assignments").is_dir() {
        (dir.join("assignments"), "assignments/")
    } else {
        (dir.clone(), "")
    };
    let course_toml = read_toml(&course_root.join("Cargo.toml"))?;
    let allowed: BTreeSet<String> = course_toml
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(toml::Value::as_table)
        .map(|deps| deps.keys().cloned().collect())
        .unwrap_or_default();
    let name = scratch_name(&dir);
    let tag = format!("grader.{}", &name[name.len() - 16..]);
    let scratch = work_root.join("submissions").join(name);
    let mut intakes = Vec::new();
    let mut members = Vec::new();
    for planned in &plan.assignments {
        let assignment = planned.assignment;
        let student = Student {
            dir: base.join(&assignment.id),
            shown: format!("{shown_base}{}", assignment.id),
        };
        match package_files(course_root, &student, assignment, &allowed, &tag)? {
            Ok((files, notes)) => {
                let member = format!("assignments/{}", assignment.id);
                sync_dir(&scratch.join(&member), &files)?;
                members.push(member);
                intakes.push(Intake::Ready {
                    target: BuildTarget::new(
                        assignment,
                        plan.source.package(assignment),
                        scratch.join("Cargo.toml"),
                    ),
                    notes,
                });
            }
            Err(failure) => intakes.push(Intake::Refused(failure)),
        }
    }
    remove_other_packages(&scratch.join("assignments"), &members)?;
    let root = workspace_manifest(&course_toml, course_root, &members);
    write_if_changed(&scratch.join("Cargo.toml"), root.as_bytes())?;
    let lock = course_root.join("Cargo.lock");
    let lock_bytes = std::fs::read(&lock).map_err(|source| GraderError::Io {
        action: "read",
        path: lock.clone(),
        source,
    })?;
    write_if_changed(&scratch.join("Cargo.lock"), &lock_bytes)?;
    Ok(intakes)
}

/// An assignment's folder in the submission.
struct Student {
    dir: PathBuf,
    /// How to name it in messages (`assignments/a00-process`).
    shown: String,
}

/// The files of one package of the scratch workspace, or why the submission's code for it
/// is refused.
fn package_files(
    course_root: &Path,
    student: &Student,
    assignment: &Assignment,
    allowed: &BTreeSet<String>,
    tag: &str,
) -> Result<Result<(FileSet, Vec<String>), BuildFailure>, GraderError> {
    let shown = &student.shown;
    let src = student.dir.join("src");
    match std::fs::symlink_metadata(src.join("lib.rs")) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => {
            return Ok(Err(BuildFailure::Rejected {
                why: format!("{shown}/src/lib.rs is not a regular file (a symlink?)"),
            }));
        }
        Err(_) => {
            return Ok(Err(BuildFailure::Missing {
                why: format!("the submission has no {shown}/src/lib.rs"),
            }));
        }
    }
    let runner = PathBuf::from("bin").join(format!("{}.rs", runner_bin_name(assignment.package())));
    let pristine = course_root.join("assignments").join(&assignment.id);
    let mut files = FileSet::new();
    let mut notes = Vec::new();
    for relative in regular_files(&pristine, &["target"])? {
        let is_source = relative.starts_with("src");
        if relative == Path::new("Cargo.toml")
            || (is_source && relative != Path::new("src").join(&runner))
        {
            continue;
        }
        files.insert(relative.clone(), read(&pristine.join(&relative))?);
    }
    let taken = match student_sources(&src, &runner) {
        Ok(taken) => taken,
        Err(why) => {
            return Ok(Err(BuildFailure::Rejected {
                why: format!("{shown}/src: {why}"),
            }));
        }
    };
    if taken.replaced_runner {
        notes.push(format!(
            "{shown}/src/{} was replaced by the course's runner",
            runner.display()
        ));
    }
    files.extend(taken.files);
    let mut manifest = read_toml(&pristine.join("Cargo.toml"))?;
    absolutize_dependencies(&mut manifest, &pristine);
    tag_version(&mut manifest, tag);
    notes.extend(add_student_dependencies(
        &mut manifest,
        &student.dir.join("Cargo.toml"),
        shown,
        allowed,
    ));
    files.insert(
        PathBuf::from("Cargo.toml"),
        toml::to_string(&manifest).unwrap_or_default().into_bytes(),
    );
    Ok(Ok((files, notes)))
}

struct Taken {
    files: FileSet,
    replaced_runner: bool,
}

/// The student's `src/` files (as `src/...`), within the limits.
fn student_sources(src: &Path, runner: &Path) -> Result<Taken, String> {
    let listed = regular_files(src, &[]).map_err(|e| crate::errors::chain(&e))?;
    if listed.len() > MAX_FILES {
        return Err(format!(
            "{} files, more than the {MAX_FILES} taken",
            listed.len()
        ));
    }
    let mut taken = Taken {
        files: FileSet::new(),
        replaced_runner: false,
    };
    let mut total = 0u64;
    for relative in listed {
        if relative == runner {
            taken.replaced_runner = true;
            continue;
        }
        let path = src.join(&relative);
        let size = std::fs::symlink_metadata(&path)
            .map_err(|e| format!("{}: {e}", relative.display()))?
            .len();
        if size > MAX_FILE_BYTES {
            return Err(format!(
                "{} has {size} bytes, more than the {MAX_FILE_BYTES} allowed",
                relative.display()
            ));
        }
        total += size;
        if total > MAX_TOTAL_BYTES {
            return Err(format!(
                "more than {MAX_TOTAL_BYTES} bytes of sources in all"
            ));
        }
        let content = std::fs::read(&path).map_err(|e| format!("{}: {e}", relative.display()))?;
        taken.files.insert(Path::new("src").join(relative), content);
    }
    Ok(taken)
}

/// Adds the student's `name.workspace = true` dependencies on crates the course provides;
/// returns a note for every entry not taken.
fn add_student_dependencies(
    manifest: &mut toml::Table,
    student_toml: &Path,
    shown: &str,
    allowed: &BTreeSet<String>,
) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(student_toml) else {
        return Vec::new();
    };
    let student: toml::Table = match text.parse() {
        Ok(table) => table,
        Err(e) => {
            return vec![format!(
                "{shown}/Cargo.toml does not parse, its dependencies were not taken: {}",
                e.message()
            )];
        }
    };
    let Some(wanted) = student.get("dependencies").and_then(toml::Value::as_table) else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    let deps = manifest
        .entry("dependencies")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let Some(deps) = deps.as_table_mut() else {
        return notes;
    };
    for (name, spec) in wanted {
        if deps.contains_key(name) {
            continue;
        }
        let workspace_only = spec.as_table().is_some_and(|t| {
            t.len() == 1 && t.get("workspace").and_then(toml::Value::as_bool) == Some(true)
        });
        if workspace_only && allowed.contains(name) {
            let mut entry = toml::Table::new();
            entry.insert("workspace".to_owned(), toml::Value::Boolean(true));
            deps.insert(name.clone(), toml::Value::Table(entry));
        } else {
            notes.push(format!(
                "the dependency `{name}` in {shown}/Cargo.toml was not taken: only \
                 `name.workspace = true` for a crate of the course's workspace ({}) is",
                allowed.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    notes
}

/// Gives the package a version of its own (`0.1.0+grader.<hash>`, semver build metadata).
///
/// Cargo names a workspace member's artifacts after its name, version and path *relative
/// to the workspace root*, which is `assignments/<id>` in every scratch workspace: without
/// this, two submissions would share (and mistake each other's) builds in the shared target
/// directory.
fn tag_version(manifest: &mut toml::Table, tag: &str) {
    let Some(package) = manifest
        .get_mut("package")
        .and_then(toml::Value::as_table_mut)
    else {
        return;
    };
    let version = match package.get("version").and_then(toml::Value::as_str) {
        Some(version) if version.contains('+') => format!("{version}.{tag}"),
        Some(version) => format!("{version}+{tag}"),
        None => format!("0.0.0+{tag}"),
    };
    package.insert("version".to_owned(), toml::Value::String(version));
}

/// Makes every `path` of the manifest's dependency tables absolute, relative to `base`.
fn absolutize_dependencies(manifest: &mut toml::Table, base: &Path) {
    for table in DEPENDENCY_TABLES {
        if let Some(deps) = manifest.get_mut(*table).and_then(toml::Value::as_table_mut) {
            absolutize_paths(deps, base);
        }
    }
    if let Some(targets) = manifest
        .get_mut("target")
        .and_then(toml::Value::as_table_mut)
    {
        for target in targets
            .iter_mut()
            .map(|(_, v)| v)
            .filter_map(toml::Value::as_table_mut)
        {
            for table in DEPENDENCY_TABLES {
                if let Some(deps) = target.get_mut(*table).and_then(toml::Value::as_table_mut) {
                    absolutize_paths(deps, base);
                }
            }
        }
    }
}

/// `name = { path = "../x" }` entries of one dependency table, made absolute.
fn absolutize_paths(deps: &mut toml::Table, base: &Path) {
    for spec in deps
        .iter_mut()
        .map(|(_, v)| v)
        .filter_map(toml::Value::as_table_mut)
    {
        if let Some(toml::Value::String(path)) = spec.get_mut("path") {
            let joined = base.join(&*path);
            *path = joined
                .canonicalize()
                .unwrap_or(joined)
                .to_string_lossy()
                .into_owned();
        }
    }
}

/// The scratch workspace's root manifest: the course's workspace settings, these members.
fn workspace_manifest(course: &toml::Table, course_root: &Path, members: &[String]) -> String {
    let mut workspace = toml::Table::new();
    let course_workspace = course.get("workspace").and_then(toml::Value::as_table);
    for key in ["resolver", "package", "dependencies", "lints"] {
        if let Some(value) = course_workspace.and_then(|w| w.get(key)) {
            workspace.insert(key.to_owned(), value.clone());
        }
    }
    if let Some(deps) = workspace
        .get_mut("dependencies")
        .and_then(toml::Value::as_table_mut)
    {
        absolutize_paths(deps, course_root);
    }
    workspace.insert(
        "members".to_owned(),
        toml::Value::Array(members.iter().cloned().map(toml::Value::String).collect()),
    );
    let mut root = toml::Table::new();
    root.insert("workspace".to_owned(), toml::Value::Table(workspace));
    if let Some(profile) = course.get("profile") {
        root.insert("profile".to_owned(), profile.clone());
    }
    let body = toml::to_string(&root).unwrap_or_default();
    format!("# Written by the grader: a scratch workspace for one submission. Do not edit.\n{body}")
}

/// Removes package folders of earlier gradings that are not members now.
fn remove_other_packages(dir: &Path, members: &[String]) -> Result<(), GraderError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let member = format!("assignments/{}", entry.file_name().to_string_lossy());
        if !members.contains(&member) {
            let path = entry.path();
            std::fs::remove_dir_all(&path).map_err(|source| GraderError::Io {
                action: "remove",
                path,
                source,
            })?;
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, GraderError> {
    std::fs::read(path).map_err(|source| GraderError::Io {
        action: "read",
        path: path.to_owned(),
        source,
    })
}

fn read_toml(path: &Path) -> Result<toml::Table, GraderError> {
    let text = String::from_utf8_lossy(&read(path)?).into_owned();
    text.parse().map_err(|e| GraderError::CourseToml {
        path: path.to_owned(),
        source: Box::new(e),
    })
}

fn write_if_changed(path: &Path, content: &[u8]) -> Result<(), GraderError> {
    if std::fs::read(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| GraderError::Io {
            action: "create the directory",
            path: parent.to_owned(),
            source,
        })?;
    }
    std::fs::write(path, content).map_err(|source| GraderError::Io {
        action: "write",
        path: path.to_owned(),
        source,
    })
}

/// `<folder name>-<hash of the full path>`: one scratch workspace per submission.
fn scratch_name(dir: &Path) -> String {
    let name: String = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    let hash = dir
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xCBF2_9CE4_8422_2325u64, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01B3)
        });
    format!("{name}-{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_workspace_dependencies_the_course_has_are_taken() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let student = dir.path().join("Cargo.toml");
        std::fs::write(
            &student,
            "[dependencies]\nserde_json.workspace = true\nrand = \"0.8\"\n\
             evil = { path = \"/etc\" }\nlibc = { workspace = true, features = [\"x\"] }\n",
        )
        .expect("writes");
        let mut manifest: toml::Table = "[dependencies]\nserde.workspace = true\n"
            .parse()
            .expect("parses");
        let allowed: BTreeSet<String> = ["serde", "serde_json", "libc", "rand"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let notes = add_student_dependencies(&mut manifest, &student, "a00", &allowed);
        let deps = manifest["dependencies"].as_table().expect("a table");
        let names: Vec<&str> = deps.keys().map(String::as_str).collect();
        assert_eq!(names, ["serde", "serde_json"]);
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes.iter().any(|n| n.contains("`rand`")));
    }

    #[test]
    fn relative_dependency_paths_become_absolute_and_others_stay() {
        let mut manifest: toml::Table = "[lib]\npath = \"src/lib.rs\"\n\
             [dependencies]\nh = { path = \"../harness\" }\n\
             [target.'cfg(unix)'.dev-dependencies]\nt = { path = \"t\" }\n"
            .parse()
            .expect("parses");
        absolutize_dependencies(&mut manifest, Path::new("/course/assignments/a00"));
        assert_eq!(manifest["lib"]["path"].as_str(), Some("src/lib.rs"));
        assert_eq!(
            manifest["dependencies"]["h"]["path"].as_str(),
            Some("/course/assignments/a00/../harness")
        );
        assert_eq!(
            manifest["target"]["cfg(unix)"]["dev-dependencies"]["t"]["path"].as_str(),
            Some("/course/assignments/a00/t")
        );
    }

    #[test]
    fn each_submission_builds_as_its_own_version() {
        let mut plain: toml::Table = "[package]\nname = \"a\"\nversion = \"0.1.0\"\n"
            .parse()
            .expect("parses");
        tag_version(&mut plain, "grader.00ff");
        assert_eq!(
            plain["package"]["version"].as_str(),
            Some("0.1.0+grader.00ff")
        );
        let mut inherited: toml::Table = "[package]\nname = \"a\"\nversion.workspace = true\n"
            .parse()
            .expect("parses");
        tag_version(&mut inherited, "grader.00ff");
        assert_eq!(
            inherited["package"]["version"].as_str(),
            Some("0.0.0+grader.00ff")
        );
    }

    #[test]
    fn scratch_names_differ_per_path_and_stay_readable() {
        let a = scratch_name(Path::new("/home/x/alice smith"));
        let b = scratch_name(Path::new("/home/y/alice smith"));
        assert_ne!(a, b);
        assert!(a.starts_with("alice_smith-"));
    }
}
