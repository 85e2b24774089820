#!/usr/bin/env bash
# The test command: sets up, then runs the suite once per Keras backend, each
# in its own process, plus the docs build. Fails if any run fails.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -x -k bert`).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
# Test files run in parallel on PYTEST_WORKERS processes (pytest-xdist),
# each file whole on one worker (`--dist loadfile`: module fixtures are
# shared, test order within a file kept). Most tests are bound by Python
# and compilation on one core, so two workers use both cores of the
# project's machines. PYTEST_WORKERS=0 runs in one process.
workers=${PYTEST_WORKERS:-2}
parallel=()
if [ "${workers}" != "0" ]; then
    parallel=(-n "${workers}" --dist loadfile)
fi
status=0
for backend in jax tensorflow torch; do
    echo "=== KERAS_BACKEND=${backend} ==="
    # `--durations`: the slowest tests of each backend, to keep the run
    # inside its time budget.
    KERAS_BACKEND=${backend} python -m pytest -q -p no:cacheprovider \
        --durations=20 "${parallel[@]}" "$@"
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
