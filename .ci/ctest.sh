#!/usr/bin/env bash
# The C++ core alone, as an embedder builds it (no Python, no pybind11: -DXNORINFER_PYTHON=OFF),
# with its C++ tests (tests/cpp), run by CTest: every kernel against its reference, the
# model-file reader, the engine and the public API on every ISA path. Then the library is
# installed, the example (examples/cpp) is built against the installed package with
# find_package(xnorinfer) and run on the bundled digits model, and its output is compared with
# the Python session's. Python (with xnorinfer) only makes the model and the input, and checks.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/ctest
prefix=build/ctest-install
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXNORINFER_PYTHON=OFF \
  -DXNORINFER_TESTS=ON -DCMAKE_INSTALL_PREFIX="$PWD/$prefix" > "$build.log" 2>&1 ||
  { cat "$build.log"; exit 1; }
cmake --build "$build" -j 2 >> "$build.log" 2>&1 || { tail -n 60 "$build.log"; exit 1; }
ctest --test-dir "$build" --output-on-failure

rm -rf "$prefix" build/example
cmake --install "$build" >> "$build.log"
cmake -S examples/cpp -B build/example -G Ninja -DCMAKE_PREFIX_PATH="$PWD/$prefix" \
  >> "$build.log" 2>&1 || { tail -n 30 "$build.log"; exit 1; }
cmake --build build/example >> "$build.log" 2>&1 || { tail -n 30 "$build.log"; exit 1; }
python .ci/example_check.py prepare build/example
build/example/run_model build/example/digits.xnor build/example/input.npy build/example/output.npy
python .ci/example_check.py compare build/example
