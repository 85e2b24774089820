#!/usr/bin/env bash
# The test command: sets up, then runs the suite once per Keras backend, each
# in its own process, plus the docs build. Fails if any run fails.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -x -k bert`).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
status=0
for backend in jax tensorflow torch; do
    echo "=== KERAS_BACKEND=${backend} ==="
    KERAS_BACKEND=${backend} python -m pytest -q -p no:cacheprovider "$@"
    rc=$?
    # pytest exits 5 when it selected no tests: a failure here.
    if [ $rc -ne 0 ]; then
        echo "=== KERAS_BACKEND=${backend}: FAILED (exit ${rc}) ==="
        status=1
    fi
done
echo "=== docs: strict MkDocs build (scripts/build_docs.sh) ==="
if ! bash scripts/build_docs.sh; then
    echo "=== docs build: FAILED ==="
    status=1
fi
exit $status
