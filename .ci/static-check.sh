#!/usr/bin/env bash
# Build the release binary statically (glibc, crt-static) and prove it is
# static and small.
set -euo pipefail
target=x86_64-unknown-linux-gnu
case "$(uname -m)" in aarch64) target=aarch64-unknown-linux-gnu ;; esac
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
echo "static check passed"
