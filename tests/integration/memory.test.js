'use strict';
/*
 * Memory of the running programs (issue 6, "RSS per process <= 4 MB"), per
 * server (KVGATE_TEST_SERVER). libcurl (with the thirty-odd libraries
 * Debian's build pulls in) and libcrypto add some 7 MB to the VmRSS of every
 * process that maps them, so the programs load them with dlopen() only when
 * a request needs them (lib/lazy/). These tests pin that down: a preflight
 * process never maps either, even after answering preflights; a get-secret
 * process maps libcurl once a request has needed the vault, while the
 * preflight processes still map neither; and no program exports a libcurl
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

test('after a request that needed the vault a get-secret process maps libcurl; preflights still map nothing', async (t) => {
	// Unknown to the cache (and not cached negatively): the vault is asked.
	const res = await gw.get('/api/secrets/public-greeting', { headers: H });
	assert.equal(res.status, 200, S.show(res));
	const pids = pidsOf('get-secret');
	const withCurl = pids.filter((pid) => heavyLibs(pid).some((l) => l.startsWith('libcurl')));
	assert.ok(withCurl.length >= 1, `a get-secret process maps libcurl (${pids.map((p) => `${p}: ${heavyLibs(p).join(' ') || '-'}`).join('; ')})`);
	for (const pid of pids) {
		const m = memory(pid);
		t.diagnostic(`get-secret ${pid} (${withCurl.includes(pid) ? 'has called the vault' : 'has not called the vault'}): VmRSS ${m.rss} kB, PSS ${m.pss} kB`);
	}

	await preflights(5);
	for (const pid of pidsOf('preflight'))
		assert.deepEqual(heavyLibs(pid), [], `preflight ${pid} still maps none of libcurl, libcrypto, libssl`);
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
