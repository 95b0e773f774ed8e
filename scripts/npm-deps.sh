#!/bin/sh
# What the browser and SDK tests (tests/browser, tests/sdk) need, only when it
# is missing. Called by `scripts/deps.sh --test` (so by `make test`).
#
# - npm packages, pinned exactly by tests/package-lock.json: `npm ci` in tests/
#   runs only when tests/node_modules is missing or the lock (or package.json)
#   changed since the last install; a stamp in node_modules records which.
# - Debian's chromium, only when /usr/bin/chromium is missing. No browser is
#   ever downloaded: playwright-core has no install script, and
#   PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 makes sure of it.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
tests="$root/tests"
stamp="$tests/node_modules/.kvgate-npm-stamp"

sudo=""
if [ "$(id -u)" != 0 ]; then
	sudo="sudo"
fi

apt_install() {
	if [ -n "$sudo" ] && ! command -v sudo >/dev/null 2>&1; then
		echo "npm-deps: missing packages: $*; run as root or install sudo" >&2
		exit 1
	fi
	# A fresh machine may have no package lists yet.
	if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"; then
		$sudo apt-get update -q
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
	fi
}

# Debian's chromium (the browser the tests drive through playwright-core).
if [ ! -x /usr/bin/chromium ]; then
	echo "npm-deps: installing chromium"
	apt_install chromium
fi

# npm itself: Debian ships it as its own package (NodeSource's nodejs has it).
if ! command -v npm >/dev/null 2>&1; then
	echo "npm-deps: installing npm"
	apt_install npm
fi

# What the installed tree was made from: the lock and the manifest.
want=$(cat "$tests/package.json" "$tests/package-lock.json" | sha256sum | cut -d' ' -f1)
have=""
[ -f "$stamp" ] && have=$(cat "$stamp")
if [ ! -d "$tests/node_modules" ] || [ "$have" != "$want" ]; then
	echo "npm-deps: npm ci in tests/"
	(cd "$tests" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
	echo "$want" >"$stamp"
fi
