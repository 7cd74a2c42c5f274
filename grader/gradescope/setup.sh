#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu, with
# network access). It installs what grading needs and builds the grader, so that grading a
# submission only compiles the submission.
#
# The autograder zip (made by make-zip.sh) holds this file, run_autograder, the file
# `assignments` (what to grade) and the course repository under course/. Gradescope
# extracts it into /autograder/source.
set -euo pipefail

source_dir=${AUTOGRADER_SOURCE:-/autograder/source}
course=${GRADER_COURSE:-$source_dir/course}

# A C toolchain for linking (and for crates with build scripts), curl for rustup.
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends build-essential ca-certificates curl

# rustup and the stable toolchain (the course needs Rust 1.85 or newer: edition 2024).
if ! command -v rustup >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/rustup" ]; then
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
        sh -s -- -y --profile minimal --default-toolchain stable
fi
export PATH="$HOME/.cargo/bin:$PATH"
rustup default stable

cd "$course"
cargo build --release --locked -p grader

# Warm the grader's target directory: grading the course's own stubs builds every
# assignment with all its dependencies (each check then stops at a todo!() at once), so a
# submission's build later compiles only the submission. Exit 1 (the stubs fail) is
# expected; anything else means the setup is broken.
status=0
./target/release/grader --all --quiet --format table >/dev/null || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
    echo "setup.sh: warming up the grader failed (exit $status)" >&2
    exit "$status"
fi
echo "setup.sh: the grader is ready: $course/target/release/grader"
