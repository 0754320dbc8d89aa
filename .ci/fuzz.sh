#!/usr/bin/env bash
# Bounded fuzzing: the model-file and converter fuzzers (fuzz/), FUZZ_SECONDS each (default 30),
# seeded with a corpus made from the test fixtures. Runs in the environment .ci/sanitize.sh
# builds (.ci-asan-venv: the extension under AddressSanitizer + UBSan), so the C++ model-file
# reader and the engine behind the fuzzers run instrumented; installs atheris there. A finding
# (an undocumented exception, a sanitizer report, a crash or a timeout) fails the run and
# leaves its input in build/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .ci-asan-venv/bin/python ]; then
  echo "fuzz.sh needs the sanitized environment: run .ci/sanitize.sh first" >&2
  exit 1
fi
. .ci-asan-venv/bin/activate
seconds="${FUZZ_SECONDS:-30}"
python -m pip install --quiet atheris
# As in sanitize.sh: Python is not instrumented, so the runtimes load first. A failed huge
# allocation returns null (std::bad_alloc, a MemoryError) rather than aborting.
cxx="${CXX:-c++}"
export LD_PRELOAD="$("$cxx" -print-file-name=libasan.so) $("$cxx" -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
out=build/fuzz
rm -rf "$out"
mkdir -p "$out/model_file" "$out/convert"
python fuzz/make_corpus.py "$out/seeds"

fuzz() {
  local target=$1 seeds=$2
  shift 2
  echo "+ fuzz_$target.py for ${seconds} s"
  if ! python "fuzz/fuzz_$target.py" "$out/$target" "$seeds" -max_total_time="$seconds" \
      -timeout=20 -rss_limit_mb=6144 -artifact_prefix="$out/$target-" "$@" \
      > "$out/$target.log" 2>&1; then
    grep -v '^INFO' "$out/$target.log" | tail -n 60
    echo "fuzz_$target.py found a problem; its input is in $out/" >&2
    exit 1
  fi
  grep -E "^Done [0-9]+ runs" "$out/$target.log"
}
fuzz model_file "$out/seeds/xnor" -dict="$out/seeds/xnor.dict"
fuzz convert "$out/seeds/onnx"
echo "fuzz: 2 passed, 0 failed"
