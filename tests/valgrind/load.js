'use strict';
/*
 * load.js: the request half of `make valgrind` (tests/valgrind/run.sh).
 *
 *   node tests/valgrind/load.js ROOT_DIR RUN_DIR REQUESTS PROCS
 *
 * Starts the dev vault and lighttpd with etc/lighttpd/kvgate.conf unchanged,
 * but with KVGATE_ROOT set to ROOT_DIR: a tree whose cgi-bin/ holds the
 * wrappers run.sh wrote, which start each program under valgrind (www/ is
 * the real one). Then sends REQUESTS requests to each program (the
 * preflight, get-secret and list-secrets routes), a mix of answers, hits and
 * misses of a short-lived cache (ttl 1 s), then a few against a failing vault; stops lighttpd with
 * SIGTERM, which retires the programs the way it always does, and waits for
 * every program (so valgrind has written its report). Prints one summary
 * line per program and fails when an answer was not what the request asks
 * for (counted as unexpected) or a program did not exit.
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const S = require('../integration/stack.js');

const [rootDir, runDir, requestsArg, procsArg] = process.argv.slice(2);
const REQUESTS = Number(requestsArg || 2000);
const PROCS = Number(procsArg || 2);
const CONCURRENCY = 4;
const H = { Origin: S.ALLOWED };

// Each program's share of the load: a request and the statuses it may get.
// The cache lives 1 s, so the secrets are fetched again and again.
function preflight(i) {
	const names = ['public-greeting', 'demo-welcome', 'admin-password', 'public-rotating'];
	const p = `/api/secrets/${names[i % names.length]}`;
	switch (i % 5) {
		case 0:
			return ['OPTIONS', p, { ...H, 'Access-Control-Request-Method': 'GET' }, [200, 204]];
		case 1:
			return ['OPTIONS', p, { ...H, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-ms-client-request-id' }, [200, 204]];
		case 2:
			return ['OPTIONS', p, { Origin: S.EVIL, 'Access-Control-Request-Method': 'GET' }, [403]];
		case 3:
			return ['OPTIONS', p, { ...H, 'Access-Control-Request-Method': 'DELETE' }, [403]];
		default:
			return ['OPTIONS', '/api/secrets', { ...H, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-not-allowed' }, [403]];
	}
}

function getSecret(i, seed) {
	const exposed = ['public-greeting', 'public-json-config', 'public-unicode', 'demo-welcome', 'demo-MixedCase', 'public-rotating', 'public-tls-cert'];
	const name = exposed[i % exposed.length];
	switch (i % 8) {
		case 0:
		case 1:
		case 2:
			return ['GET', `/api/secrets/${name}`, H, [200]];
		case 3:
			return ['HEAD', `/api/secrets/${name}`, H, [200]];
		case 4:
			return ['GET', `/api/secrets/public-greeting/${seed.byName.get('public-greeting').latest.id}`, H, [200]];
		case 5:
			return ['GET', i % 16 === 5 ? '/api/secrets/admin-password' : '/api/secrets/public-no-such-secret', H, [404]];
		case 6:
			return ['GET', '/api/secrets/not_a_name', H, [400]];
		default:
			return ['DELETE', `/api/secrets/${name}`, H, [405]];
	}
}

function listSecrets(i) {
	switch (i % 4) {
		case 0:
			return ['GET', '/api/secrets?maxresults=5', H, [200], true];
		case 1:
			return ['GET', '/api/secrets/public-rotating/versions', H, [200]];
		case 2:
			return ['GET', '/api/secrets', { Origin: S.EVIL }, [403]];
		default:
			return ['GET', '/api/secrets?maxresults=99', H, [400]];
	}
}

async function main() {
	fs.mkdirSync(runDir, { recursive: true });
	const seed = S.loadSeed();
	const vault = await S.startVault(path.join(runDir, 'vault'));
	const gwDir = path.join(runDir, 'gw');
	fs.mkdirSync(gwDir, { recursive: true });
	const pol = S.policy(vault, gwDir, { vault: { timeout_ms: '5000', deadline_ms: '20000', max_retries: '1' }, cache: { ttl: '1', stale_if_error: '0' } });
	const ini = path.join(gwDir, 'kvgate.ini');
	fs.writeFileSync(ini, pol.text);
	const port = await S.freePort();
	const env = {
		PATH: process.env.PATH,
		KVGATE_ROOT: rootDir,
		KVGATE_RUNDIR: gwDir,
		KVGATE_CONFIG: ini,
		KVGATE_BIND: '127.0.0.1',
		KVGATE_PORT: String(port),
		KVGATE_BASE_PATH: '/api',
		KVGATE_PROCS: String(PROCS),
	};
	const lighttpd = spawn('lighttpd', ['-D', '-f', path.join(S.ROOT, 'etc', 'lighttpd', 'kvgate.conf')], { cwd: gwDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
	let out = '';
	lighttpd.stdout.on('data', (d) => (out += d));
	lighttpd.stderr.on('data', (d) => (out += d));
	let failed = false;
	try {
		await S.waitFor(async () => (await S.request(port, 'GET', '/', { timeout: 1000 })).status > 0, 15000, `lighttpd on port ${port}`);
		// Each program's first answer: valgrind takes seconds to start one.
		const t0 = Date.now();
		for (const [method, p] of [['OPTIONS', '/api/secrets'], ['GET', '/api/secrets/public-greeting'], ['GET', '/api/secrets']])
			await S.request(port, method, p, { headers: { ...H, 'Access-Control-Request-Method': 'GET' }, timeout: 120000 });
		console.log(`# the programs answered their first request after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
		const kinds = [
			['preflight', preflight],
			['get-secret', (i) => getSecret(i, seed)],
			['list-secrets', listSecrets],
		];
		for (const [prog, make] of kinds) {
			const t0 = Date.now();
			const counts = {};
			const unexpected = [];
			let next = 0;
			let sent = 0;
			const one = async () => {
				while (next < REQUESTS) {
					const i = next++;
					const [method, p, headers, want, follow] = make(i);
					const res = await S.request(port, method, p, { headers, timeout: 60000 });
					sent++;
					counts[res.status] = (counts[res.status] || 0) + 1;
					if (!want.includes(res.status)) unexpected.push(`${method} ${p} -> ${res.status}${res.error ? ` (${res.error.message})` : ''}`);
					if (follow && res.status === 200 && res.json && res.json.nextLink && next < REQUESTS) {
						const u = new URL(res.json.nextLink);
						next++;
						const r2 = await S.request(port, 'GET', u.pathname + u.search, { headers, timeout: 60000 });
						sent++;
						counts[r2.status] = (counts[r2.status] || 0) + 1;
						if (r2.status !== 200) unexpected.push(`GET next page -> ${r2.status}`);
					}
				}
			};
			await Promise.all(Array.from({ length: CONCURRENCY }, one));
			console.log(`# ${prog}: ${sent} requests in ${((Date.now() - t0) / 1000).toFixed(1)} s, statuses ${JSON.stringify(counts)}, ${unexpected.length} unexpected`);
			for (const u of unexpected.slice(0, 10)) console.log(`#   unexpected: ${S.redact(u)}`);
			if (unexpected.length) failed = true;
		}
		// The error paths: a vault that fails (a 500, a reset, a cut or
		// malformed body) past the cache's ttl, with no stale answer to
		// serve instead (stale_if_error = 0): the browser gets a 502.
		const faults = {};
		for (const p of ['/api/secrets/public-greeting', '/api/secrets?maxresults=5']) {
			for (const mode of ['status', 'reset', 'truncate', 'malformed']) {
				// More faults than attempts: libcurl itself retries a request
				// whose reused connection was reset.
				await vault.fault({ target: 'vault', mode, status: 500, count: 5 });
				await S.sleep(1100);
				const res = await S.request(port, 'GET', p, { headers: H, timeout: 60000 });
				await vault.clearFaults();
				faults[res.status] = (faults[res.status] || 0) + 1;
				if (res.status !== 502) {
					console.log(`#   unexpected: GET ${p} with a ${mode} fault -> ${res.status}`);
					failed = true;
				}
			}
		}
		console.log(`# faults: 8 requests against a failing vault, statuses ${JSON.stringify(faults)}`);
		const stats = await vault.stats();
		console.log(`# upstream calls: ${stats.vault} to the vault, ${stats.token} to the token endpoint`);
	} finally {
		// lighttpd retires its programs with SIGTERM when it stops; under
		// valgrind a program then needs a few seconds to write its report.
		const kids = S.childrenOf(lighttpd.pid);
		await S.terminate(lighttpd, 10000);
		const end = Date.now() + 120000;
		while (kids.some((k) => S.alive(k.pid)) && Date.now() < end) await S.sleep(200);
		const left = kids.filter((k) => S.alive(k.pid));
		console.log(`# ${kids.length} programs stopped with SIGTERM${left.length ? `, ${left.length} did not exit` : ''}`);
		if (left.length) failed = true;
		await vault.stop();
		if (failed) console.log(S.redact(out.slice(-3000)));
	}
	process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
	console.error(S.redact(e.stack || String(e)));
	process.exitCode = 1;
});
