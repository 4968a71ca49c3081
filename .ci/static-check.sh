#!/usr/bin/env bash
# Build the release binary statically and prove it is static and small.
#   bash .ci/static-check.sh [TARGET]   (default: the glibc target, crt-static)
set -euo pipefail
target=${1:-x86_64-unknown-linux-gnu}
if [ -z "${1:-}" ]; then
  case "$(uname -m)" in aarch64) target=aarch64-unknown-linux-gnu ;; esac
fi
# musl targets link statically already; crt-static makes glibc do the same.
RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --target "$target"
bin="target/$target/release/hardinit"
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
echo "static check passed ($target)"
