#!/usr/bin/env bash
# Runs every benchmark and prints their tables. Usage:
#   bash benchmarks/run_all.sh            # default backends
#   BACKENDS="jax torch" bash benchmarks/run_all.sh
# Figures depend on machine load: run on an otherwise idle machine.
set -uo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=3
BACKENDS=${BACKENDS:-"jax tensorflow torch"}
status=0

run() {
    echo
    echo "\$ $*"
    "$@" || { echo "FAILED (exit $?): $*"; status=1; }
}

run python benchmarks/import_benchmark.py
for backend in ${BACKENDS}; do
    run python benchmarks/backbone_build_benchmark.py --backend "${backend}"
done
for backend in ${BACKENDS}; do
    run python benchmarks/preset_load_benchmark.py --backend "${backend}"
done
for backend in ${BACKENDS}; do
    run python benchmarks/predict_benchmark.py --backend "${backend}"
done
run python benchmarks/train_backend_benchmark.py
if [ -f benchmarks/tokenization_benchmark.py ]; then
    run python benchmarks/tokenization_benchmark.py
fi
run python benchmarks/byte_pair_tokenization_benchmark.py
run python benchmarks/generation_benchmark.py
run python benchmarks/fit_benchmark.py
# shellcheck disable=SC2086
run python benchmarks/transformers_comparison_benchmark.py --backends ${BACKENDS}
run python benchmarks/sharded_predict_benchmark.py
run python benchmarks/lora_benchmark.py
for backend in ${BACKENDS}; do
    run python benchmarks/quantization_benchmark.py --backend "${backend}"
done
for backend in ${BACKENDS}; do
    run python benchmarks/text_embedder_benchmark.py --backend "${backend}"
done
for backend in ${BACKENDS}; do
    run python benchmarks/speculative_sampling_benchmark.py --backend "${backend}"
done
exit $status
