#!/usr/bin/env bash
# Packages the tests use: util-linux (unshare, setpriv), busybox-static and
# tini (tini-mode comparisons), python3-jsonschema (mozlog schema checks), jq
# (benchmarks), file and readelf (static-link and size checks).
set -euo pipefail
need=()
command -v unshare >/dev/null || need+=(util-linux)
command -v setpriv >/dev/null || need+=(util-linux)
command -v busybox >/dev/null || need+=(busybox-static)
command -v tini >/dev/null || need+=(tini)
command -v jq >/dev/null || need+=(jq)
command -v file >/dev/null || need+=(file)
command -v readelf >/dev/null || need+=(binutils)
python3 -c 'import jsonschema' 2>/dev/null || need+=(python3-jsonschema)
if [ "${#need[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The python3 on PATH may not be Debian's; make sure it has jsonschema too.
if ! python3 -c 'import jsonschema' 2>/dev/null; then
  python3 -m pip install -q jsonschema
fi
