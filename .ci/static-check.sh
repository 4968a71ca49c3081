#!/usr/bin/env bash
# Build the release binary statically and prove it is static and small,
# and measure the health probe's share of it.
#   bash .ci/static-check.sh [TARGET]   (default: the glibc target, crt-static)
set -euo pipefail
target=${1:-x86_64-unknown-linux-gnu}
if [ -z "${1:-}" ]; then
  case "$(uname -m)" in aarch64) target=aarch64-unknown-linux-gnu ;; esac
fi
# musl targets link statically already; crt-static makes glibc do the same.
export RUSTFLAGS='-C target-feature=+crt-static'
bin="target/$target/release/hardinit"
# First without the health probe (cargo feature "health"), to measure its
# share of the binary; the default build comes last and stays in place.
cargo build --release --target "$target" --no-default-features
cp "$bin" "$bin-no-health"
cargo build --release --target "$target"
info=$(file -L "$bin")
echo "$info"
size=$(stat -c %s "$bin")
echo "size: $size bytes"
case "$info" in
  *"statically linked"*|*"static-pie linked"*) ;;
  *) echo "FAIL: $bin is not statically linked"; exit 1 ;;
esac
if ldd "$bin" 2>&1 | grep -q '=>'; then
  echo "FAIL: ldd lists shared libraries"; exit 1
fi
"$bin" --version

# The probe's share: loaded bytes (the sections with contents that are
# mapped at run time) with and without it, and the file's bytes. The budget
# keeps it small; raise it only with a reason in the commit.
budget=${HEALTH_BUDGET:-20480}
loaded() {
  local n=0 name type addr off bytes es flags rest
  while read -r name type addr off bytes es flags rest; do
    case "$type:$flags" in
      NOBITS:*) ;;
      *:*A*) n=$((n + 16#$bytes)) ;;
    esac
  done < <(readelf -SW "$1" | sed -n 's/^ *\[ *[0-9]*\] *//p')
  echo "$n"
}
probe=$(( $(loaded "$bin") - $(loaded "$bin-no-health") ))
echo "health probe: $probe loaded bytes ($(( size - $(stat -c %s "$bin-no-health") )) file bytes); budget $budget"
if [ "$probe" -gt "$budget" ]; then
  echo "FAIL: the health probe grew past its budget of $budget bytes"; exit 1
fi
echo "static check passed ($target)"
