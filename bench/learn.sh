#!/usr/bin/env bash
# Cost of `hardinit learn` (issue 8): every syscall of the recorded program
# is a seccomp user notification answered by PID 1. Runs a syscall-heavy
# loop (N getppid calls from python3) with
# and without learning, and with the default profile, and prints Markdown.
#
#   bench/learn.sh            # N=200000 by default
set -euo pipefail
N=${N:-200000}
REPEAT=${REPEAT:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
TARGET=$(rustc -vV | sed -n 's/^host: //p')
(cd "$ROOT" && RUSTFLAGS='-C target-feature=+crt-static' cargo build -q --release \
    --target "$TARGET" --target-dir "$ROOT/target/bench" --bin hardinit)
H="$ROOT/target/bench/$TARGET/release/hardinit"
cat > "$WORK/loop.py" <<PY
import os
for _ in range($N):
    os.getppid()
PY
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run() { # label, command...
    local label=$1; shift
    local times=()
    for _ in $(seq "$REPEAT"); do
        local t0 t1
        t0=$(date +%s%N)
        "$@" >/dev/null 2>&1
        t1=$(date +%s%N)
        times+=($(( (t1 - t0) / 1000 )))
    done
    printf '%s\n' "${times[@]}" | median
}
plain=$(run plain "$H" -s --log-format raw --seccomp unconfined -- python3 "$WORK/loop.py")
default=$(run default "$H" -s --log-format raw -- python3 "$WORK/loop.py")
learn=$(run learn "$H" learn -s -o "$WORK/p.json" --log-format raw -- python3 "$WORK/loop.py")
echo "### learn overhead: $N getppid() calls from python3 (median of $REPEAT, $(nproc) cores, $(uname -r))"
echo
echo "| run | wall (ms) | per syscall over plain (µs) |"
echo "|---|---|---|"
echo "| hardinit --seccomp unconfined | $((plain / 1000)) | — |"
echo "| hardinit (default profile) | $((default / 1000)) | $(awk -v a="$default" -v b="$plain" -v n="$N" 'BEGIN {printf "%.2f", (a-b)/n}') |"
echo "| hardinit learn | $((learn / 1000)) | $(awk -v a="$learn" -v b="$plain" -v n="$N" 'BEGIN {printf "%.2f", (a-b)/n}') |"
