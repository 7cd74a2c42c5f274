#!/usr/bin/env bash
# Makes the zip to upload as a Gradescope autograder:
#
#   grader/gradescope/make-zip.sh OUT.zip [ASSIGNMENT...]
#
# With no ASSIGNMENT, the autograder grades every assignment (--all); with some, only
# those (one Gradescope assignment per course assignment is the usual setup:
# `make-zip.sh a03.zip a03-counter`). The zip holds setup.sh and run_autograder at its root,
# the file `assignments` (what to grade), and the course repository as committed (HEAD)
# under course/. Needs git 2.28 or newer.
set -euo pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 OUT.zip [ASSIGNMENT...]" >&2
    exit 2
fi
out=$(realpath -m "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
if [ $# -eq 0 ]; then
    echo "--all" >"$staging/assignments"
else
    echo "$*" >"$staging/assignments"
fi
cp "$here/setup.sh" "$here/run_autograder" "$staging/"
chmod +x "$staging/setup.sh" "$staging/run_autograder"

# --add-file puts a file at the last --prefix given before it: the root for these three.
git -C "$repo" archive --format=zip --output="$out" \
    --add-file="$staging/setup.sh" \
    --add-file="$staging/run_autograder" \
    --add-file="$staging/assignments" \
    --prefix=course/ HEAD
echo "wrote $out (grades: $(cat "$staging/assignments"))"
