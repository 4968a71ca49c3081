#!/usr/bin/env bash
# Benchmark hardinit against tini (issue 2) and its mozlog output against a
# plain cat pipe and jq (issue 5), all in the same run. Prints Markdown on
# stdout; progress goes to stderr.
#
#   bench/run.sh                 # as root on Debian 12; installs what it needs
#   RUNS=300 LAT_N=300 LINES=1000000 bench/run.sh
#
# Needs: a Rust toolchain, root for apt-get and for PID 1 namespaces
# (without root the latency runs fall back to -s, subreaper mode).
set -euo pipefail

RUNS=${RUNS:-500}          # hyperfine runs per start-up command
LAT_N=${LAT_N:-600}        # SIGTERM round trips per init
ROUNDS=${ROUNDS:-10}       # start-up and latency runs interleave the inits in rounds
RSS_N=${RSS_N:-5}          # idle RSS samples per init; the median is reported
LINES=${LINES:-1000000}    # input lines for the throughput runs
REPEAT=${REPEAT:-3}        # throughput runs per case; the median is reported

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
BG=()
cleanup() {
    for p in "${BG[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "bench: $*" >&2; }

# --- tools --------------------------------------------------------------
missing=()
command -v tini >/dev/null || missing+=(tini)
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v jq >/dev/null || missing+=(jq)
command -v unshare >/dev/null || missing+=(util-linux)
if ((${#missing[@]})); then
    if [[ $(id -u) != 0 ]]; then
        echo "bench: missing ${missing[*]}; install them or run as root" >&2
        exit 1
    fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq "${missing[@]}" >&2
fi
TINI_STATIC=$(command -v tini-static || true)

# --- build: the static release binary, as shipped in images ---------------
TARGET=$(rustc -vV | sed -n 's/^host: //p')
log "building hardinit (static, release) for $TARGET"
# The target is explicit so crt-static applies to the binary, not to
# proc-macros built for the host.
(cd "$ROOT" && RUSTFLAGS='-C target-feature=+crt-static' cargo build -q --release \
    --target "$TARGET" --target-dir "$ROOT/target/bench" --bin hardinit --example bench_tool)
OUT="$ROOT/target/bench/$TARGET/release"
H="$OUT/hardinit"
B="$OUT/examples/bench_tool"

# --- the inits under test: "name|command prefix" ---------------------------
INITS=("tini|$(command -v tini)")
[[ -n $TINI_STATIC ]] && INITS+=("tini-static|$TINI_STATIC")
INITS+=(
    "hardinit raw --unconfined|$H --log-format raw --unconfined"
    # Hardened without seccomp, to show the profile's own cost separately.
    "hardinit raw hardened|$H --log-format raw --seccomp unconfined"
    "hardinit mozlog hardened|$H --log-format mozlog --seccomp unconfined"
)
# Hardened with the default seccomp profile, once the module is merged.
if "$H" --log-format raw -s -- /bin/true >/dev/null 2>&1; then
    INITS+=(
        "hardinit raw hardened+seccomp|$H --log-format raw"
        "hardinit mozlog hardened+seccomp|$H --log-format mozlog"
    )
    SECCOMP_NOTE="hardened = drop ALL caps + no-new-privs; +seccomp = the default profile"
else
    SECCOMP_NOTE="hardened = drop ALL caps + no-new-privs, --seccomp unconfined (the default profile is not built into this tree yet)"
fi
# The musl build, as Dockerfile.example ships it, when the target can be had.
MUSL=x86_64-unknown-linux-musl
if [[ $(uname -m) == x86_64 ]] &&
    { rustup target list --installed 2>/dev/null | grep -qx "$MUSL" || rustup target add "$MUSL" >&2; }; then
    log "building hardinit (release) for $MUSL"
    (cd "$ROOT" && cargo build -q --release --target "$MUSL" --target-dir "$ROOT/target/bench" --bin hardinit)
    HM="$ROOT/target/bench/$MUSL/release/hardinit"
    INITS+=(
        "hardinit musl raw --unconfined|$HM --log-format raw --unconfined"
        "hardinit musl mozlog hardened+seccomp|$HM --log-format mozlog"
    )
else
    log "no $MUSL target: the musl rows are left out"
fi
name_of() { echo "${1%%|*}"; }
cmd_of() { echo "${1#*|}"; }

# fmt EXPR [DECIMALS]: evaluate an arithmetic expression with awk.
fmt() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }

echo "# hardinit benchmark"
echo
echo "$(date -u +%Y-%m-%d) · $(nproc) cores · $(uname -sr) · $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//') · static release build · load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "$SECCOMP_NOTE. \"musl\" rows: the same code built for $MUSL (static-pie, as Dockerfile.example builds it); the others: glibc with crt-static."
echo

# --- 1. start-up overhead ----------------------------------------------------
log "start-up: hyperfine, $RUNS runs per command in $ROUNDS interleaved rounds"
hf=(hyperfine -N --warmup 10 --runs $(((RUNS + ROUNDS - 1) / ROUNDS)) -n "/bin/true" "/bin/true")
for i in "${INITS[@]}"; do
    hf+=(-n "$(name_of "$i")" "$(cmd_of "$i") -s -- /bin/true")
done
for round in $(seq "$ROUNDS"); do
    "${hf[@]}" --export-json "$WORK/startup.$round.json" >"$WORK/hyperfine.log" 2>&1 ||
        { cat "$WORK/hyperfine.log" >&2; exit 1; }
done
echo "## Start-up: \`INIT -s -- /bin/true\` (hyperfine -N, $RUNS runs each in $ROUNDS interleaved rounds)"
echo
echo "Overhead = the init's statistic minus /bin/true's. The minimum is the least"
echo "disturbed by other load on the machine."
echo
echo "| command | mean ± sd (ms) | median (ms) | min (ms) | overhead: mean / median / min (ms) |"
echo "|---|---|---|---|---|"
jq -rs 'def ms: . * 1000000 | round / 1000;
    def mean: add / length;
    def sd: mean as $m | map((. - $m) * (. - $m)) | add / (length - 1) | sqrt;
    def median: sort | .[length / 2 | floor];
    . as $all
    | [$all[0].results[].command as $c
       | [$all[].results[] | select(.command == $c) | .times[]]
       | {c: $c, mean: mean, sd: sd, median: median, min: min}] as $rows
    | $rows[0] as $b | $rows[]
    | "| \(.c) | \(.mean|ms) ± \(.sd|ms) | \(.median|ms) | \(.min|ms) | \(if .c == "/bin/true" then "—"
        else "\((.mean - $b.mean)|ms) / \((.median - $b.median)|ms) / \((.min - $b.min)|ms)" end) |"' \
    "$WORK"/startup.*.json
echo

# --- 2. RSS of the idle init ----------------------------------------------------
log "idle RSS"
echo "## RSS of the idle init (\`INIT -s -- sleep 30\`, from /proc/PID/status, median of $RSS_N by VmRSS)"
echo
echo "RssFile is mostly the binary's text, shared page cache (kernel fault-around maps"
echo "up to 64 KiB per fault); RssAnon is the init's private memory."
echo
echo "| init | VmRSS (KiB) | RssAnon (KiB) | RssFile (KiB) | VmHWM (KiB) |"
echo "|---|---|---|---|---|"
# One sample: "VmRSS RssAnon RssFile VmHWM" of the idle init.
rss_sample() {
    # shellcheck disable=SC2046
    $(cmd_of "$1") -s -- sleep 30 >/dev/null 2>&1 &
    local pid=$! kid
    BG+=("$pid")
    # Idle means the child has exec'd sleep and the init waits in poll.
    for _ in $(seq 500); do
        kid=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null | awk '{print $1}')
        [[ -n $kid && $(cat "/proc/$kid/comm" 2>/dev/null) == sleep ]] && break
        sleep 0.01
    done
    sleep 0.1
    awk '$1 == "VmRSS:" {r=$2} $1 == "RssAnon:" {a=$2} $1 == "RssFile:" {f=$2} $1 == "VmHWM:" {h=$2}
         END {print r, a, f, h}' "/proc/$pid/status"
    kill -TERM "$pid"
    wait "$pid" || true
}
# Samples alternate between the inits; the page cache (and the machine's
# reclaim) moves RssFile by tens of KiB from one start to the next.
declare -A RSS_SAMPLES=()
for _ in $(seq "$RSS_N"); do
    for k in "${!INITS[@]}"; do
        RSS_SAMPLES[$k]+="$(rss_sample "${INITS[$k]}")"$'\n'
    done
done
for k in "${!INITS[@]}"; do
    read -r rss anon file hwm < <(printf '%s' "${RSS_SAMPLES[$k]}" | sort -n | sed -n "$(((RSS_N + 1) / 2))p")
    echo "| $(name_of "${INITS[$k]}") | $rss | $anon | $file | $hwm |"
done
echo

# --- 3. SIGTERM forwarding latency ------------------------------------------
if [[ $(id -u) == 0 ]] && unshare --pid --fork --mount-proc true 2>/dev/null; then
    MODE="PID 1 of a new PID namespace (\`unshare --pid --fork --mount-proc INIT -- child\`)"
    lat_cmd() { echo "--pid1 -- unshare --pid --fork --mount-proc $1 -- $B term-child"; }
else
    MODE="not PID 1 (no root / no PID namespace): \`INIT -s -- child\`, subreaper mode"
    lat_cmd() { echo "-- $1 -s -- $B term-child"; }
fi
log "SIGTERM latency: $LAT_N round trips per init"
echo "## SIGTERM forwarding latency (about $LAT_N round trips each, in $ROUNDS interleaved rounds)"
echo
echo "From kill(INIT, SIGTERM) until the init has exited (pidfd readable); the"
echo "child prints \`ready\`, waits in sigwait and exits at once on SIGTERM. Init as $MODE."
echo
echo "| init | median (µs) | p90 (µs) | p99 (µs) | max (µs) |"
echo "|---|---|---|---|---|"
# Rounds interleave the inits so a burst of load on the machine falls on
# all of them alike.
for round in $(seq "$ROUNDS"); do
    for k in "${!INITS[@]}"; do
        # shellcheck disable=SC2046
        "$B" latency $(((LAT_N + ROUNDS - 1) / ROUNDS)) --samples \
            $(lat_cmd "$(cmd_of "${INITS[$k]}")") >>"$WORK/lat.$k"
    done
done
for k in "${!INITS[@]}"; do
    eval "$("$B" stats <"$WORK/lat.$k")"  # n= median_us= p90_us= p99_us= max_us=
    echo "| $(name_of "${INITS[$k]}") | $median_us | $p90_us | $p99_us | $max_us |"
done
echo

# --- 4. mozlog throughput ----------------------------------------------------
IN="$WORK/in.txt"
log "throughput: generating $LINES lines"
"$B" gen "$LINES" >"$IN"
IN_BYTES=$(stat -c %s "$IN")
MOZ="$H --log-format mozlog -s --"  # the defaults: drop all, no-new-privs, default profile
JQ_FILTER='{Timestamp: (now*1e9|floor), Type: "stdout", Logger: "cat", Hostname: "h", EnvVersion: "2.0", Severity: 6, Pid: 1, Fields: {msg: .}}'

# measure N SINK CMD...: the median (by wall time) of N runs, as key=value.
measure() {
    local n=$1 sink=$2
    shift 2
    for _ in $(seq "$n"); do
        "$B" measure --out "$sink" -- "$@"
    done | sort -t= -k2 -g | sed -n "$(((n + 1) / 2))p"
}

rows=()  # fields separated by ";": label sink wall lines bytes out cpu hwm own
# row LABEL SINK LINES_IN BYTES_IN OWN_NUMBERS_MEANINGFUL N CMD...
row() {
    local label=$1 sink=$2 lines=$3 bytes=$4 own=$5 n=$6
    shift 6
    log "  $label -> $sink"
    local r wall_s cpu_s user_s sys_s hwm_kb out_bytes out_lines
    r=$(measure "$n" "$sink" "$@")
    eval "$r"
    rows+=("$label;$sink;$wall_s;$lines;$bytes;$out_bytes;$cpu_s;$hwm_kb;$own")
}
row "cat FILE | cat (ceiling)" pipe "$LINES" "$IN_BYTES" no "$REPEAT" sh -c "cat '$IN' | cat"
row "cat FILE | cat (ceiling)" null "$LINES" "$IN_BYTES" no "$REPEAT" sh -c "cat '$IN' | cat"
row "hardinit mozlog -- cat FILE" pipe "$LINES" "$IN_BYTES" yes "$REPEAT" $MOZ cat "$IN"
row "hardinit mozlog -- cat FILE" null "$LINES" "$IN_BYTES" yes "$REPEAT" $MOZ cat "$IN"
row "hardinit mozlog -- cat FILE×5" pipe "$((LINES * 5))" "$((IN_BYTES * 5))" yes "$REPEAT" $MOZ cat "$IN" "$IN" "$IN" "$IN" "$IN"
row "hardinit mozlog -- cat FILE×5" null "$((LINES * 5))" "$((IN_BYTES * 5))" yes "$REPEAT" $MOZ cat "$IN" "$IN" "$IN" "$IN" "$IN"
row "jq -R -c (equivalent record)" pipe "$LINES" "$IN_BYTES" yes 1 jq -R -c "$JQ_FILTER" "$IN"

# get LABEL SINK FIELD: one field (1-based) of a row.
get() {
    local r f
    for r in "${rows[@]}"; do
        IFS=';' read -r -a f <<<"$r"
        [[ ${f[0]} == "$1" && ${f[1]} == "$2" ]] && { echo "${f[$3 - 1]}"; return; }
    done
}

echo "## mozlog throughput: $LINES lines of $((IN_BYTES / LINES)) bytes ($(fmt "$IN_BYTES/1e6" 0) MB)"
echo
echo "Sink \`pipe\`: a reader that reads 1 MiB chunks from a pipe (like a runtime's log"
echo "driver); \`null\`: stdout is /dev/null. Median of $REPEAT runs (jq: 1). CPU and peak"
echo "RSS are the measured process's own (VmHWM sampled every 2 ms; CPU from"
echo "/proc/PID/schedstat while it is a zombie, children excluded). MB = 10^6 bytes."
echo
echo "| case | sink | wall (s) | lines/s | in MB/s | out MB/s | CPU (s) | peak RSS (KiB) |"
echo "|---|---|---|---|---|---|---|---|"
for r in "${rows[@]}"; do
    IFS=';' read -r label sink wall lines bytes out cpu hwm own <<<"$r"
    # Output on /dev/null is as large as in the pipe run of the same case.
    [[ $sink == null ]] && out=$(get "$label" pipe 6)
    [[ $own == yes ]] || { cpu="—"; hwm="—"; }
    echo "| ${label//|/\\|} | $sink | $(fmt "$wall" 3) | $(fmt "$lines/$wall" 0) | $(fmt "$bytes/$wall/1e6" 0) | $(fmt "$out/$wall/1e6" 0) | $cpu | $hwm |"
done
echo

# --- targets (issue 5) ------------------------------------------------------
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b ? "met" : "**missed**") }'; }
h_wall=$(get "hardinit mozlog -- cat FILE" pipe 3)
h_out=$(get "hardinit mozlog -- cat FILE" pipe 6)
hn_wall=$(get "hardinit mozlog -- cat FILE" null 3)
c_wall=$(get "cat FILE | cat (ceiling)" pipe 3)
c_out=$(get "cat FILE | cat (ceiling)" pipe 6)
cn_wall=$(get "cat FILE | cat (ceiling)" null 3)
j_wall=$(get "jq -R -c (equivalent record)" pipe 3)
rss1=$(get "hardinit mozlog -- cat FILE" pipe 8)
rss5=$(get "hardinit mozlog -- cat FILE×5" pipe 8)
lps=$(fmt "$LINES/$h_wall" 0)
ratio=$(fmt "$j_wall/$h_wall" 1)
bw=$(fmt "($h_out/$h_wall)/($c_out/$c_wall)" 2)
bwn=$(fmt "($h_out/$hn_wall)/($IN_BYTES/$cn_wall)" 2)
echo "## Targets (issue 5)"
echo
echo "| target | measured (pipe sink) | |"
echo "|---|---|---|"
echo "| ≥ 1,000,000 lines/s | $lps lines/s | $(verdict "$lps" 1000000) |"
echo "| ≥ 10× jq | $ratio× | $(verdict "$ratio" 10) |"
echo "| output MB/s ≥ ½ of the cat pipe's | $bw× (null sink: $bwn×) | $(verdict "$bw" 0.5) |"
echo "| RSS flat in output size | 1M lines: $rss1 KiB, 5M lines: $rss5 KiB | $(awk -v a="$rss1" -v b="$rss5" 'BEGIN { print (b <= a * 1.1 + 256 ? "met" : "**missed**") }') |"
