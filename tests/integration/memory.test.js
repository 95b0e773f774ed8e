'use strict';
/*
 * Memory of the running programs (issue 6, "RSS per process <= 4 MB"), per
 * server (KVGATE_TEST_SERVER). libcurl (with the thirty-odd libraries
 * Debian's build pulls in) and libcrypto add some 7 MB to the VmRSS of every
 * process that maps them. So the programs hand their upstream calls to one
 * kvgate-fetch per policy (lib/fetch.h), and load libcrypto with dlopen()
 * only when a request needs it (lib/lazy/). These tests pin that down: a
 * preflight process never maps either; a get-secret process that has had
 * the vault called for it maps neither, the helper maps libcurl; nor does a
 * list-secrets process that seals and opens paging tokens (lib/aead.c); the helper
 * is as locked down as the programs and carries none of their environment;
 * it leaves once the web server has stopped; with [vault] fetcher = false a
 * program calls (and maps libcurl) itself; and no program exports a libcurl
 * or libcrypto symbol, which a library it loads could otherwise bind to
 * (libssl calling our EVP_ shims instead of its own libcrypto).
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const S = require('./stack.js');

let stack, gw;
const H = { Origin: S.ALLOWED };
const LIBS = /\/lib(curl|crypto|ssl)[^/\s]*\.so/;

before(async () => {
	stack = await S.startStack('memory', { procs: 2 });
	({ gw } = stack);
});

after(async () => {
	await S.stopStack(stack);
});

function pidsOf(program) {
	return gw
		.programs()
		.filter((p) => p.cmd.includes(`${program}.fcgi`))
		.map((p) => p.pid);
}

// The libcurl/libcrypto/libssl files pid maps ([] when none).
function heavyLibs(pid) {
	const maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
	const found = new Set();
	for (const line of maps.split('\n')) {
		const m = LIBS.exec(line);
		if (m) found.add(path.basename(line.slice(line.indexOf('/'))));
	}
	return [...found];
}

// VmRSS and PSS of pid in kB (for the log: the numbers the issue is about).
function memory(pid) {
	const kb = (text, key) => Number((new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text) || [])[1]);
	return {
		rss: kb(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS'),
		pss: kb(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss'),
	};
}

async function preflights(n) {
	for (let i = 0; i < n; i++) {
		const res = await gw.request('OPTIONS', '/api/secrets/public-greeting', {
			headers: { ...H, 'Access-Control-Request-Method': 'GET' },
		});
		assert.equal(res.status, 204, S.show(res));
	}
}

test('a preflight process maps neither libcurl nor libcrypto after answering preflights', async (t) => {
	await preflights(20);
	const pids = pidsOf('preflight');
	assert.ok(pids.length >= 1, 'a preflight process runs');
	for (const pid of pids) {
		assert.deepEqual(heavyLibs(pid), [], `preflight ${pid} maps none of libcurl, libcrypto, libssl`);
		const m = memory(pid);
		t.diagnostic(`preflight ${pid}: VmRSS ${m.rss} kB, PSS ${m.pss} kB`);
	}
});

test('after requests that needed the vault, get-secret maps neither library: kvgate-fetch made the calls', async (t) => {
	// Unknown to the cache (and not cached negatively): the vault is asked.
	for (const name of ['public-greeting', 'public-app-title'])
		assert.equal((await gw.get(`/api/secrets/${name}`, { headers: H })).status, 200);
	const fetchers = S.fetcherOf(gw);
	assert.equal(fetchers.length, 1, `one kvgate-fetch serves this gateway (${fetchers})`);
	assert.ok(heavyLibs(fetchers[0]).some((l) => l.startsWith('libcurl')), `kvgate-fetch ${fetchers[0]} maps libcurl`);
	const f = memory(fetchers[0]);
	t.diagnostic(`kvgate-fetch ${fetchers[0]}: VmRSS ${f.rss} kB, PSS ${f.pss} kB`);
	const pids = pidsOf('get-secret');
	assert.ok(pids.length >= 1, 'a get-secret process runs');
	for (const pid of pids) {
		assert.deepEqual(heavyLibs(pid), [], `get-secret ${pid} maps none of libcurl, libcrypto, libssl`);
		const m = memory(pid);
		t.diagnostic(`get-secret ${pid}: VmRSS ${m.rss} kB, PSS ${m.pss} kB`);
	}
	await preflights(5);
	for (const pid of pidsOf('preflight'))
		assert.deepEqual(heavyLibs(pid), [], `preflight ${pid} still maps none of libcurl, libcrypto, libssl`);
});

test('list-secrets that has made and followed paging tokens maps neither library (ChaCha20-Poly1305 is our own)', async () => {
	const first = await gw.get('/api/secrets?maxresults=2', { headers: H });
	assert.equal(first.status, 200, S.show(first));
	assert.ok(first.json.nextLink, 'a nextLink to follow');
	const next = new URL(first.json.nextLink);
	const second = await gw.get(next.pathname + next.search, { headers: H });
	assert.equal(second.status, 200, S.show(second));
	const pids = pidsOf('list-secrets');
	assert.ok(pids.length >= 1, 'a list-secrets process runs');
	for (const pid of pids) assert.deepEqual(heavyLibs(pid), [], `list-secrets ${pid} maps none of libcurl, libcrypto, libssl`);
});

test('kvgate-fetch is locked down like the programs, and carries none of their environment', (t) => {
	const [pid] = S.fetcherOf(gw);
	assert.ok(pid, 'kvgate-fetch runs');
	assert.match(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'), /^Max core file size\s+0\s+0\s/m, 'no core dumps');
	assert.equal(fs.statSync(`/proc/${pid}/mem`).uid, 0, 'not dumpable: /proc/PID/mem belongs to root');
	let env;
	try {
		env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
	} catch (e) {
		t.skip(`its environment cannot be read by uid ${process.getuid()} (${e.code})`);
		return;
	}
	const names = env.map((e) => e.slice(0, e.indexOf('=')));
	assert.ok(names.includes('GNUTLS_NO_IMPLICIT_INIT'), 'GnuTLS is not set up for nothing');
	for (const n of names) assert.ok(!/^(KVGATE_CONFIG|AZURE_|IDENTITY_|HTTP_)/.test(n), `${n} is not passed to the helper`);
	t.diagnostic(`kvgate-fetch environment: ${names.join(' ')}`);
});

test('with [vault] fetcher = false a program makes its calls, and maps libcurl, itself', async () => {
	const g = await stack.gateway('infetch', { procs: 1, overrides: { vault: { fetcher: 'false' }, cache: { ttl: '0' } } });
	try {
		const res = await g.get('/api/secrets/public-greeting', { headers: H });
		assert.equal(res.status, 200, S.show(res));
		const pids = g.programs().filter((p) => p.cmd.includes('get-secret.fcgi')).map((p) => p.pid);
		assert.ok(pids.some((pid) => heavyLibs(pid).some((l) => l.startsWith('libcurl'))), 'get-secret maps libcurl');
		assert.deepEqual(S.fetcherOf(g), [], 'no kvgate-fetch for this gateway');
	} finally {
		await S.stopGateway(g);
	}
});

test('kvgate-fetch leaves once the web server and its programs have stopped', async () => {
	const g = await stack.gateway('leaves', { procs: 1, overrides: { cache: { ttl: '0' } } });
	assert.equal((await g.get('/api/secrets/public-greeting', { headers: H })).status, 200);
	const [pid] = S.fetcherOf(g);
	assert.ok(pid, 'kvgate-fetch started for this gateway');
	const stopped = await S.stopGateway(g);
	assert.deepEqual(stopped.leftover, [], 'no program left');
	// It leaves 5 s (FETCHD_IDLE_MS) after its last program disconnected.
	await S.waitFor(() => !S.alive(pid), 5000 + 3000, 'kvgate-fetch to leave');
});

test('no program exports a libcurl or libcrypto symbol', () => {
	for (const prog of ['preflight.fcgi', 'get-secret.fcgi', 'list-secrets.fcgi', 'kvgate-check']) {
		const file = path.join(S.ROOT, 'cgi-bin', prog);
		const out = execFileSync('nm', ['-D', '--defined-only', file], { encoding: 'utf8' });
		const bad = out
			.split('\n')
			.map((l) => l.trim().split(/\s+/).pop())
			.filter((name) => /^(curl_|EVP_|CRYPTO_|OSSL_|ERR_|BIO_|BN_|PEM_|X509_|RAND_|ECDSA_|i2d_|lazy_)/.test(name || ''));
		assert.deepEqual(bad, [], `${prog} exports none of the shims`);
	}
});
