//! A fixture package turned into what a student would hand in: the repository layout with
//! `assignments/<id>/src/` and a `Cargo.toml` asking only for the course's workspace crates.
//!
//! The grader takes nothing else from a submission (no path dependency, no runner), so:
//!
//! - the library is the fixture's `src/lib.rs`, or its `[lib] path` (a stub fixture compiles
//!   the assignment's own stub), with the other files beside it (not `bin/`, not `main.rs`);
//! - a path dependency on a course crate other than the harness (a fixture that reuses the
//!   reference solution's types, e.g. `a01-queue-solution`) becomes a module of the same name
//!   holding that crate's sources, its `crate::` paths rewritten to the module's. The
//!   fixture's `use a01_queue_solution::...` then names the module, and the code graded is
//!   exactly the code the fixture's own package builds;
//! - `name.workspace = true` dependencies of the fixture and of the crates inlined are asked
//!   for in the submission's `Cargo.toml`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The course's harness: the runner's, never part of a submission.
const HARNESS_PACKAGE: &str = "course-harness";

/// Writes the submission of `fixture` (a package folder) for `assignment` under `dest`
/// (created), and returns `dest`.
pub fn write(fixture: &Path, assignment: &str, dest: &Path) -> Result<PathBuf, String> {
    let package = dest.join("assignments").join(assignment);
    let manifest = read_manifest(&fixture.join("Cargo.toml"))?;
    let (lib, mut files) = sources(fixture, &manifest)?;
    let mut lib_text = read(&lib)?;
    let mut workspace_deps = BTreeSet::new();
    for (key, spec) in dependencies(&manifest) {
        let crate_dir = match classify(fixture, key, spec)? {
            Dependency::Workspace => {
                workspace_deps.insert(key.clone());
                continue;
            }
            Dependency::Harness => continue,
            Dependency::Inline(dir) => dir,
        };
        let inlined = read_manifest(&crate_dir.join("Cargo.toml"))?;
        let module = key.replace('-', "_");
        let (inlined_lib, inlined_files) = sources(&crate_dir, &inlined)?;
        for (relative, content) in inlined_files {
            let Content::File(source) = content else {
                continue;
            };
            let to = if source == inlined_lib {
                PathBuf::from(&module).join("mod.rs")
            } else {
                PathBuf::from(&module).join(&relative)
            };
            let text = rebase_crate_paths(&read(&source)?, &module);
            files.push((to, Content::Text(text)));
        }
        for (dep, dep_spec) in dependencies(&inlined) {
            match classify(&crate_dir, dep, dep_spec)? {
                Dependency::Workspace => {
                    workspace_deps.insert(dep.clone());
                }
                Dependency::Harness => {}
                Dependency::Inline(_) => {
                    return Err(format!(
                        "{}: {dep}, a path dependency of a crate inlined in turn, is not \
                         supported",
                        crate_dir.display()
                    ));
                }
            }
        }
        lib_text.push_str(&format!(
            "\n// The crate `{key}` of the fixture's package, as a module (see the tests' \
             submission.rs).\n#[allow(dead_code, unused_imports)]\nmod {module};\n"
        ));
    }
    let src = package.join("src");
    write_file(&src.join("lib.rs"), lib_text.as_bytes())?;
    for (relative, content) in files {
        if relative == Path::new("lib.rs") {
            continue;
        }
        let bytes = match content {
            Content::Text(text) => text.into_bytes(),
            Content::File(path) if path == lib => continue,
            Content::File(path) => {
                std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?
            }
        };
        write_file(&src.join(relative), &bytes)?;
    }
    let mut cargo = String::from("[dependencies]\n");
    for dep in workspace_deps {
        cargo.push_str(&format!("{dep}.workspace = true\n"));
    }
    write_file(&package.join("Cargo.toml"), cargo.as_bytes())?;
    Ok(dest.to_owned())
}

/// What a dependency of a fixture becomes in its submission.
enum Dependency {
    /// `name.workspace = true`: asked for in the submission's `Cargo.toml`.
    Workspace,
    /// The course's harness: the course's package already has it.
    Harness,
    /// Another course crate, at this path: a module.
    Inline(PathBuf),
}

fn classify(dir: &Path, key: &str, spec: &toml::Value) -> Result<Dependency, String> {
    if is_workspace(spec) {
        return Ok(Dependency::Workspace);
    }
    let Some(path) = spec.get("path").and_then(toml::Value::as_str) else {
        return Err(format!(
            "{}: the dependency {key} is neither `workspace = true` nor a path",
            dir.display()
        ));
    };
    let crate_dir = dir.join(path);
    let manifest = read_manifest(&crate_dir.join("Cargo.toml"))?;
    if package_name(&manifest) == Some(HARNESS_PACKAGE) {
        Ok(Dependency::Harness)
    } else {
        Ok(Dependency::Inline(crate_dir))
    }
}

/// A file of the submission: rewritten text, or a file copied as it is.
enum Content {
    Text(String),
    File(PathBuf),
}

/// A package's library file and every source file beside it (relative to the library's
/// folder), except binaries (`bin/`, `main.rs`).
fn sources(
    dir: &Path,
    manifest: &toml::Table,
) -> Result<(PathBuf, Vec<(PathBuf, Content)>), String> {
    let lib = manifest
        .get("lib")
        .and_then(|l| l.get("path"))
        .and_then(toml::Value::as_str)
        .map_or_else(|| dir.join("src/lib.rs"), |p| dir.join(p));
    let lib = lib
        .canonicalize()
        .map_err(|e| format!("{}: {e}", lib.display()))?;
    let root = lib.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(folder) = stack.pop() {
        let entries =
            std::fs::read_dir(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let relative = path.strip_prefix(&root).unwrap_or(&path).to_path_buf();
            if relative == Path::new("bin") || relative == Path::new("main.rs") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push((relative, Content::File(path)));
            }
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((lib, files))
}

/// `crate::` paths of an inlined crate's sources, made paths into its module.
fn rebase_crate_paths(text: &str, module: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        let before = &rest[..at];
        let part_of_a_word = before
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        out.push_str(before);
        out.push_str("crate::");
        if !part_of_a_word {
            out.push_str(module);
            out.push_str("::");
        }
        rest = &rest[at + "crate::".len()..];
    }
    out.push_str(rest);
    out
}

fn dependencies(manifest: &toml::Table) -> impl Iterator<Item = (&String, &toml::Value)> {
    manifest
        .get("dependencies")
        .and_then(toml::Value::as_table)
        .into_iter()
        .flatten()
}

fn is_workspace(spec: &toml::Value) -> bool {
    spec.get("workspace").and_then(toml::Value::as_bool) == Some(true)
}

fn package_name(manifest: &toml::Table) -> Option<&str> {
    manifest.get("package")?.get("name")?.as_str()
}

fn read_manifest(path: &Path) -> Result<toml::Table, String> {
    read(path)?
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(root: &Path, files: &[(&str, &str)]) {
        for (path, text) in files {
            write_file(&root.join(path), text.as_bytes()).expect("writes");
        }
    }

    /// A fixture reusing a multi-module solution crate: the solution becomes a module tree
    /// of the submission, binaries and the harness stay out, workspace crates of both are
    /// asked for.
    #[test]
    fn a_solution_dependency_becomes_a_module_tree() {
        let dir = tempfile::tempdir().expect("a scratch directory");
        let root = dir.path();
        put(
            root,
            &[
                (
                    "harness/Cargo.toml",
                    "[package]\nname = \"course-harness\"\n",
                ),
                (
                    "solution/Cargo.toml",
                    "[package]\nname = \"x-solution\"\n[dependencies]\nmemchr.workspace = true\n\
                     course-harness = { path = \"../harness\" }\n",
                ),
                (
                    "solution/src/lib.rs",
                    "mod walk;\npub use crate::walk::scan;\n",
                ),
                ("solution/src/walk.rs", "pub fn scan() {}\n"),
                ("solution/src/main.rs", "fn main() {}\n"),
                ("solution/src/bin/x-runner.rs", "fn main() {}\n"),
                (
                    "fixture/Cargo.toml",
                    "[package]\nname = \"fixture-x\"\n[dependencies]\nserde.workspace = true\n\
                     x-solution = { path = \"../solution\" }\n\
                     course-harness = { path = \"../harness\" }\n",
                ),
                ("fixture/src/lib.rs", "pub use x_solution::scan;\n"),
                ("fixture/src/bin/fixture-x-runner.rs", "fn main() {}\n"),
            ],
        );
        let out = write(&root.join("fixture"), "a09-x", &root.join("out")).expect("written");
        let package = out.join("assignments/a09-x");
        let read = |p: &str| std::fs::read_to_string(package.join(p)).expect(p);
        assert!(read("src/lib.rs").contains("mod x_solution;"));
        assert_eq!(
            read("src/x_solution/mod.rs"),
            "mod walk;\npub use crate::x_solution::walk::scan;\n"
        );
        assert_eq!(read("src/x_solution/walk.rs"), "pub fn scan() {}\n");
        assert!(!package.join("src/x_solution/main.rs").exists());
        assert!(!package.join("src/x_solution/bin").exists());
        assert!(!package.join("src/bin").exists());
        assert_eq!(
            read("Cargo.toml"),
            "[dependencies]\nmemchr.workspace = true\nserde.workspace = true\n"
        );
    }

    #[test]
    fn crate_paths_become_module_paths_and_nothing_else_changes() {
        let text = "use crate::types::X;\nfn f() -> crate::file::Y { $crate::z(); subcrate::w() }";
        assert_eq!(
            rebase_crate_paths(text, "sol"),
            "use crate::sol::types::X;\nfn f() -> crate::sol::file::Y { $crate::sol::z(); subcrate::w() }"
        );
    }
}
