//! Writing the handout: the files selected, the manifests edited, the student README,
//! then cargo trims the lock.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use course_harness::manifest::Manifest;

use crate::errors::HandoutError;
use crate::handout::{manifests, select};

/// The student README, before the generated list of assignments.
const STUDENT_README: &str = include_str!("README.student.md");

/// Writes the handout of the course at `root` into `out`, and what it left out on stderr.
pub fn write(root: &Path, out: &Path) -> Result<(), HandoutError> {
    let empty = match std::fs::read_dir(out) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(source) => return Err(io("list", out)(source)),
    };
    if !empty || out.is_file() {
        return Err(HandoutError::NotEmpty {
            path: out.to_owned(),
        });
    }
    let files = select::files(root)?;
    let course_toml = manifests::handout_course_toml(&read_text(root, "course.toml")?)
        .map_err(manifest_error(root, "course.toml"))?;
    let manifest = Manifest::parse(&course_toml.text).map_err(|e| HandoutError::Manifest {
        path: root.join("course.toml"),
        why: format!(
            "the handout's manifest is invalid: {}",
            crate::errors::chain(&e)
        ),
    })?;
    let cargo_toml = manifests::handout_cargo_toml(&read_text(root, "Cargo.toml")?)
        .map_err(manifest_error(root, "Cargo.toml"))?;
    for relative in &files.copied {
        let to = out.join(relative);
        create_parent(&to)?;
        std::fs::copy(root.join(relative), &to).map_err(io("copy to", &to))?;
    }
    write_file(out, "course.toml", &course_toml.text)?;
    write_file(out, "Cargo.toml", &cargo_toml)?;
    write_file(out, "README.md", &student_readme(&manifest))?;
    std::fs::copy(root.join("Cargo.lock"), out.join("Cargo.lock"))
        .map_err(io("copy to", &out.join("Cargo.lock")))?;
    resolve(out)?;
    {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "grader: wrote the handout to {} ({} files). Left out:",
            out.display(),
            files.copied.len() + select::REWRITTEN.len()
        );
        for withheld in select::WITHHELD {
            let _ = writeln!(err, "  {}/: {}", withheld.path, withheld.why);
        }
        let _ = writeln!(
            err,
            "  the hidden checks of course.toml: {}",
            course_toml.withheld.join(", ")
        );
    }
    Ok(())
}

/// The student README with the generated list of assignments.
fn student_readme(manifest: &Manifest) -> String {
    let mut text = STUDENT_README.to_owned();
    text.push_str("\n## The assignments\n\n| assignment | what you build |\n|---|---|\n");
    for assignment in manifest.in_order() {
        text.push_str(&format!(
            "| [`{id}`](assignments/{id}/README.md) | {title} |\n",
            id = assignment.id,
            title = assignment.title.replace('|', "\\|")
        ));
    }
    text
}

/// Lets cargo resolve the handout's workspace: it trims `Cargo.lock` to the packages left
/// (no download when the course has been built here before).
fn resolve(out: &Path) -> Result<(), HandoutError> {
    let cargo = std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
    let output = Command::new(&cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(out.join("Cargo.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| HandoutError::Cargo {
            why: format!("could not start {}: {e}", cargo.display()),
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(HandoutError::Cargo {
            why: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

fn read_text(root: &Path, name: &str) -> Result<String, HandoutError> {
    let path = root.join(name);
    std::fs::read_to_string(&path).map_err(io("read", &path))
}

fn write_file(out: &Path, name: &str, text: &str) -> Result<(), HandoutError> {
    let path = out.join(name);
    create_parent(&path)?;
    std::fs::write(&path, text).map_err(io("write", &path))
}

fn create_parent(path: &Path) -> Result<(), HandoutError> {
    match path.parent() {
        Some(parent) => std::fs::create_dir_all(parent).map_err(io("create the directory", parent)),
        None => Ok(()),
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> HandoutError {
    let path = path.to_owned();
    move |source| HandoutError::Io {
        action,
        path,
        source,
    }
}

fn manifest_error(root: &Path, name: &str) -> impl FnOnce(String) -> HandoutError {
    let path = root.join(name);
    move |why| HandoutError::Manifest { path, why }
}
