#!/usr/bin/env bash
# The C++ core alone, as an embedder builds it (no Python, no pybind11: -DXNORINFER_PYTHON=OFF),
# with its C++ tests (tests/cpp), run by CTest: every kernel against its reference, and a graph
# built and run through the C++ API on every ISA path.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/ctest
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXNORINFER_PYTHON=OFF \
  -DXNORINFER_TESTS=ON > "$build.log" 2>&1 || { cat "$build.log"; exit 1; }
cmake --build "$build" -j 2 >> "$build.log" 2>&1 || { tail -n 60 "$build.log"; exit 1; }
ctest --test-dir "$build" --output-on-failure
