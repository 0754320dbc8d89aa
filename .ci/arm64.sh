#!/usr/bin/env bash
# aarch64: cross-compiles the C++ core and its C++ tests (tests/cpp) with Debian's
# g++-aarch64-linux-gnu and runs them under qemu-aarch64 (Debian's qemu-user): every NEON kernel
# against its reference over the randomized shape grid, the model-file reader, the engine and
# the public API, on the scalar and NEON paths. Installs the two packages when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v aarch64-linux-gnu-g++ > /dev/null || ! command -v qemu-aarch64 > /dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq g++-aarch64-linux-gnu qemu-user > /dev/null
fi

build=build/arm64
cmake -S . -B "$build" -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
  -DCMAKE_BUILD_TYPE=Release -DXNORINFER_PYTHON=OFF -DXNORINFER_TESTS=ON -DXI_ENABLE_NEON=ON \
  > "$build.log" 2>&1 ||
  { cat "$build.log"; exit 1; }
cmake --build "$build" -j 2 >> "$build.log" 2>&1 || { tail -n 60 "$build.log"; exit 1; }
ctest --test-dir "$build" --output-on-failure
# Which kernels were compared with their references there (the NEON ones among them).
ctest --test-dir "$build" -R kernels_test -V | sed -n 's/^[0-9]*:      \([a-z]*: .*\)/  \1/p'
# A Cortex-A72 (a Raspberry Pi 4) has no dot-product instructions: the int8 first layer must
# fall back to the portable kernel there, with the same results.
qemu-aarch64 -cpu cortex-a72 -L /usr/aarch64-linux-gnu "$build/tests/cpp/kernels_test" |
  sed -n 's/^ *\(qconv: .*\)/  cortex-a72 \1/p; s/^\([0-9]* tests, .*\)/  cortex-a72: \1/p'
