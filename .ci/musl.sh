#!/usr/bin/env bash
# The musl build, as Dockerfile.example ships it: the whole test suite
# again against binaries built for x86_64-unknown-linux-musl (musl differs
# from glibc where hardinit cares: no argv for an .init_array hook, signals
# 32-34 reserved by the C library, its own allocator), and the static check.
# The target comes from rustup's distribution server; when that cannot be
# reached the run says so loudly and the glibc suite above stands alone.
set -euo pipefail
target=x86_64-unknown-linux-musl
[ "$(uname -m)" = x86_64 ] || { echo "MUSL SUITE SKIPPED: not an x86_64 machine"; exit 0; }
installed=false
for attempt in 1 2 3; do
  if rustup target list --installed | grep -qx "$target" || timeout 600 rustup target add "$target"; then
    installed=true
    break
  fi
  echo "rustup target add $target failed (attempt $attempt)"; sleep 5
done
if ! $installed; then
  echo "MUSL SUITE SKIPPED: the $target standard library could not be installed"
  exit 0
fi
cargo test --target "$target"
bash .ci/static-check.sh "$target"
