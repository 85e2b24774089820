#!/usr/bin/env bash
# Builds the documentation site (mkdocs.yml) in strict mode: a broken link,
# a broken cross-reference or a docstring warning fails the build. The site
# goes to a temporary directory that is removed afterwards, unless you pass
# `--site-dir DIR`. Extra arguments go to `mkdocs build`.
set -euo pipefail
cd "$(dirname "$0")/.."
# The presets-table hook imports the package, which imports Keras.
export KERAS_BACKEND="${KERAS_BACKEND:-jax}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}"
export PYTHONDONTWRITEBYTECODE=1
own_site_dir=0
for arg in "$@"; do
    case "$arg" in
        # At log level ERROR, warnings are never emitted, so --strict would
        # pass silently.
        -q|--quiet)
            echo "build_docs.sh: -q/--quiet would hide the warnings that" \
                "--strict turns into errors; run without it." >&2
            exit 2
            ;;
        -d|--site-dir|--site-dir=*) own_site_dir=1 ;;
    esac
done
if [ "$own_site_dir" -eq 1 ]; then
    exec python -m mkdocs build --strict "$@"
fi
site_dir="$(mktemp -d)"
trap 'rm -rf "$site_dir"' EXIT
python -m mkdocs build --strict --site-dir "$site_dir" "$@"
