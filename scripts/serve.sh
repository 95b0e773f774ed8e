#!/bin/sh
# `make serve CONFIG=file.ini PORT=n`: lighttpd with the gateway only (no dev
# vault), in the foreground, for a real vault or any other upstream.
set -eu

config=${1:-}
port=${2:-8080}
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$config" ]; then
	echo "usage: make serve CONFIG=path/to/kvgate.ini [PORT=8080]" >&2
	exit 2
fi
if [ ! -r "$config" ]; then
	echo "kvgate: cannot read $config" >&2
	exit 2
fi
config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
run="$root/run/serve-$port"
mkdir -p "$run"
base=$(sh "$root/scripts/ini-get.sh" "$config" gateway base_path /api)

# Check the policy before starting anything: the program refuses to start on
# a bad file, and says why, one line per problem.
KVGATE_CONFIG="$config" "$root/cgi-bin/get-secret.fcgi" --check

echo "kvgate: serving http://127.0.0.1:$port$base/ (policy $config, logs $run/error.log)"
exec env KVGATE_ROOT="$root" KVGATE_RUNDIR="$run" KVGATE_CONFIG="$config" \
	KVGATE_BIND=127.0.0.1 KVGATE_PORT="$port" KVGATE_BASE_PATH="$base" \
	KVGATE_PROCS="${KVGATE_PROCS:-2}" \
	lighttpd -D -f "$root/etc/lighttpd/kvgate.conf"
