#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer run: builds the extension with -DXI_SANITIZE=ON
# into its own virtual environment (.ci-asan-venv) and build folder (build/asan), then runs the
# kernel tests and the exactness guard once, and the ops, api and security tests once per ISA
# path this CPU has (XNORINFER_ISA); then the C++ tests, built sanitized (build/asan-ctest). Any sanitizer report fails the run: a report aborts the
# process, and the log is searched for one as well.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .ci-asan-venv
. .ci-asan-venv/bin/activate
python -m pip install --quiet --upgrade pip
pip install --quiet -C cmake.define.XI_SANITIZE=ON -C build-dir=build/asan ".[test]"

# Python itself is not instrumented, so the runtimes must be loaded first. Leak checking is off:
# CPython keeps interned objects alive until exit, which LeakSanitizer would report.
cxx="${CXX:-c++}"
export LD_PRELOAD="$("$cxx" -print-file-name=libasan.so) $("$cxx" -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

log=build/asan/pytest.log
run() {
  echo "+ XNORINFER_ISA=${XNORINFER_ISA:-default} pytest $*"
  if ! python -m pytest -q -p no:cacheprovider "$@" >> "$log" 2>&1; then
    tail -n 80 "$log"
    exit 1
  fi
  tail -n 1 "$log"
}
: > "$log"
# The kernel tests call every kernel by name and the exactness guard runs every ISA itself:
# once is enough for them.
guard=tests/security/test_exactness_guard.py
run tests/kernels "$guard"
for isa in $(python -c "import xnorinfer; print(*xnorinfer.get_available_isas())"); do
  XNORINFER_ISA="$isa" run tests/ops tests/api tests/security --ignore="$guard"
done
# The C++ tests (tests/cpp) under the same sanitizers, without Python, leaks checked too.
cmake -S . -B build/asan-ctest -G Ninja -DXI_SANITIZE=ON -DXNORINFER_PYTHON=OFF \
  -DXNORINFER_TESTS=ON >> "$log" 2>&1
cmake --build build/asan-ctest -j 2 >> "$log" 2>&1
LD_PRELOAD= ASAN_OPTIONS=abort_on_error=1 ctest --test-dir build/asan-ctest --output-on-failure \
  >> "$log" 2>&1 || { tail -n 60 "$log"; exit 1; }
tail -n 3 "$log"
if grep -E "ERROR: AddressSanitizer|runtime error:" "$log"; then
  echo "sanitizer reports found (full log: $log)" >&2
  exit 1
fi
