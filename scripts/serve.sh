#!/bin/sh
# `make serve CONFIG=file.ini PORT=n [SERVER=lighttpd|apache]`: the gateway
# alone (no dev vault), in the foreground, for a real vault or any other
# upstream, behind lighttpd (etc/lighttpd/kvgate.conf, the default) or Apache
# with mod_fcgid (etc/apache/kvgate-standalone.conf, which includes
# etc/apache/kvgate.conf). Both listen on 127.0.0.1 only. Logs, pid file and
# sockets go to run/serve-PORT/.
set -eu

config=${1:-}
port=${2:-8080}
server=${3:-lighttpd}
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$config" ]; then
	echo "usage: make serve CONFIG=path/to/kvgate.ini [PORT=8080] [SERVER=lighttpd|apache]" >&2
	exit 2
fi
case $server in
lighttpd | apache) ;;
*)
	echo "kvgate: SERVER is lighttpd or apache, not $server" >&2
	exit 2
	;;
esac
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

export KVGATE_ROOT="$root" KVGATE_RUNDIR="$run" KVGATE_CONFIG="$config" \
	KVGATE_BIND=127.0.0.1 KVGATE_PORT="$port" KVGATE_BASE_PATH="$base" \
	KVGATE_PROCS="${KVGATE_PROCS:-2}"

if [ "$server" = lighttpd ]; then
	echo "kvgate: lighttpd serving http://127.0.0.1:$port$base/ (policy $config, logs $run/error.log)"
	exec lighttpd -D -f "$root/etc/lighttpd/kvgate.conf"
fi

# Apache: the programs get the identity variables that are set (the
# configuration cannot test for them itself, see kvgate-standalone.conf).
defs=""
for v in KVGATE_LOG_LEVEL AZURE_CLIENT_ID AZURE_TENANT_ID AZURE_CLIENT_SECRET \
	AZURE_AUTHORITY_HOST AZURE_FEDERATED_TOKEN_FILE AZURE_CLIENT_CERTIFICATE_PATH \
	AZURE_CLIENT_CERTIFICATE_PASSWORD IDENTITY_ENDPOINT IDENTITY_HEADER; do
	if eval "[ -n \"\${$v+x}\" ]"; then
		defs="$defs -DKVGATE_PASS_$v"
	fi
done
if [ "$(id -u)" = 0 ]; then
	# Apache will not run its children as root: they run as www-data, which
	# must be able to read the policy and the files it names (as after
	# `make install`: group www-data, mode 0640) and reach them.
	export KVGATE_USER=${KVGATE_USER:-www-data} KVGATE_GROUP=${KVGATE_GROUP:-www-data}
	if ! su -s /bin/sh "$KVGATE_USER" -c "test -r '$config'" 2>/dev/null; then
		echo "kvgate: warning: $KVGATE_USER cannot read $config; the programs will not start" >&2
		echo "kvgate:   (chgrp $KVGATE_GROUP it and the files it names, chmod g+r, and o+x on their directories)" >&2
	fi
else
	export KVGATE_USER="#$(id -u)" KVGATE_GROUP="#$(id -g)"
fi
apache=$(command -v apache2 || command -v httpd || echo /usr/sbin/apache2)
echo "kvgate: Apache serving http://127.0.0.1:$port$base/ (policy $config, logs $run/error.log)"
# shellcheck disable=SC2086
exec "$apache" -f "$root/etc/apache/kvgate-standalone.conf" -DFOREGROUND $defs
