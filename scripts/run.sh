#!/bin/sh
# `make run`: the dev vault, then lighttpd with the gateway and the demo SPA on
# 127.0.0.1:PORT (API under /api) and the SPA again on PORT+1 as a second,
# allowed origin. Ctrl-C stops everything this script started.
set -eu

port=${1:-8080}
alt=$((port + 1))
root=$(cd "$(dirname "$0")/.." && pwd)
run="$root/run/dev"
mkdir -p "$run"
rm -f "$run/devvault.json" "$run/ready"

pids=""
cleanup() {
	trap - INT TERM EXIT
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	# The programs run in sessions of their own; they exit with lighttpd,
	# and any that did not (one still starting as lighttpd died) goes here.
	for e in /proc/[0-9]*/environ; do
		if tr '\0' '\n' <"$e" 2>/dev/null | grep -qx "KVGATE_CONFIG=$run/kvgate.ini"; then
			p=${e#/proc/}
			kill "${p%/environ}" 2>/dev/null || true
		fi
	done
	echo
	echo "kvgate: stopped"
}
trap cleanup INT TERM EXIT

# The dev vault picks a free port and says which in devvault.json.
node "$root/tests/devvault/devvault.js" --port 0 --dir "$run" >"$run/devvault.out" 2>"$run/devvault.log" &
pids="$pids $!"
i=0
until [ -s "$run/devvault.json" ] && grep -q listening "$run/devvault.out" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "kvgate: the dev vault did not start; see $run/devvault.log" >&2
		exit 1
	fi
	sleep 0.1
done
vault=$(sed -n 's/.*"url": *"\([^"]*\)".*/\1/p' "$run/devvault.json")

# The dev policy, with this run's vault URL and second origin.
sed -e "s#https://127.0.0.1:8443#$vault#g" \
    -e "s#:8081#:$alt#g" -e "s#:8080#:$port#g" \
    "$root/etc/kvgate-dev.ini" >"$run/kvgate.ini"
printf 'window.KVGATE_API = "http://127.0.0.1:%s/api";\n' "$port" >"$run/config-alt.js"

KVGATE_ROOT="$root" KVGATE_RUNDIR="$run" KVGATE_CONFIG="$run/kvgate.ini" \
KVGATE_BIND=127.0.0.1 KVGATE_PORT="$port" KVGATE_ALT_PORT="$alt" \
KVGATE_BASE_PATH=/api KVGATE_PROCS=2 \
	lighttpd -D -f "$root/etc/lighttpd/kvgate-dev.conf" &
pids="$pids $!"

i=0
until curl -fsS -o /dev/null "http://127.0.0.1:$port/api/secrets?maxresults=1" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "kvgate: the gateway did not answer; see $run/error.log" >&2
		exit 1
	fi
	sleep 0.1
done

cat <<MSG

kvgate is running (Ctrl-C stops it).

  Demo SPA:            http://127.0.0.1:$port/
  Same SPA, 2nd origin: http://127.0.0.1:$alt/   (cross-origin: the browser sends real preflights)
  API:                 http://127.0.0.1:$port/api/secrets
  Dev vault:           $vault   (policy: $run/kvgate.ini, logs: $run/error.log)

Try:
  curl -s http://127.0.0.1:$port/api/secrets?maxresults=5
  curl -s http://127.0.0.1:$port/api/secrets/public-greeting
  curl -si -X OPTIONS http://127.0.0.1:$port/api/secrets \\
       -H 'Origin: http://127.0.0.1:$alt' -H 'Access-Control-Request-Method: GET'

MSG
wait
