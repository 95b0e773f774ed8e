'use strict';
/*
 * The cache (issue 6), end to end through the real web server with four
 * processes per program sharing one cache, against the dev vault:
 *
 *   concurrent misses in several processes  -> one vault read (collapsed)
 *   Cache-Status                            -> miss, then hit with its ttl; only on 200s
 *   a missing secret                        -> remembered for negative_ttl
 *   the vault failing past ttl              -> the stale answer (stale_if_error),
 *                                              said in Cache-Status and the log
 *   a refusal past ttl                      -> never stale
 *   refresh ahead                           -> the last part of ttl refreshes after
 *                                              answering; the next ttl continues
 *   list pages                              -> cached once, filtered per origin after
 *   the shared segment                      -> mode 0600, gone when the server stops
 *
 * Policy: [cache] ttl 4, negative_ttl 3, stale_if_error 60; [origin] for
 * ALLOWED2 narrows the secrets to demo-*.
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const S = require('./stack.js');

const TTL = 4;
const NEGATIVE_TTL = 3;
const H = { Origin: S.ALLOWED };
const PROCS = 4;

let stack, gw, vault, seed, segmentsBefore;

// Names of the shared segments in /dev/shm (any user's: Apache may run the
// programs as another user).
function segments() {
	try {
		return fs.readdirSync('/dev/shm').filter((n) => /^kvgate-\d+-[0-9a-f]{16}$/.test(n));
	} catch {
		return [];
	}
}

before(async () => {
	segmentsBefore = new Set(segments());
	stack = await S.startStack('cache', {
		procs: PROCS,
		overrides: {
			cache: { ttl: String(TTL), negative_ttl: String(NEGATIVE_TTL), stale_if_error: '60', shared: 'true' },
			[`origin "${S.ALLOWED2}"`]: { allow: 'demo-*' },
		},
	});
	({ gw, vault, seed } = stack);
});

after(async () => {
	await S.stopStack(stack);
});

// Seeded, enabled, plain secrets the default policy exposes: each test takes
// its own, so that none sees another's cache entries.
let pool;
function fresh() {
	if (!pool) pool = S.exposedSeed(seed).filter((s) => s.enabled && !s.latest.nbf && !s.latest.exp && s.name.startsWith('public-'));
	const s = pool.shift();
	assert.ok(s, 'the seed has enough exposed secrets');
	return s;
}

// Vault reads of one secret's latest version among a stats delta's requests.
function readsOf(requests, name) {
	return requests.filter((r) => r.kind === 'vault' && r.path.toLowerCase() === `/secrets/${name.toLowerCase()}`).length;
}

function withFault(spec, fn) {
	return vault.withFault(spec, fn);
}

test('concurrent misses in several processes make one vault read; the others wait for it', async () => {
	const s = fresh();
	const p = `/api/secrets/${s.name}`;
	// The vault answers slowly, so every request arrives while the first
	// fetch is under way; each request on its own connection, so the web
	// server spreads them over the processes.
	const d = await withFault({ target: 'vault', mode: 'slow', delayMs: 700, path: `^/secrets/${s.name}$` }, () =>
		S.upstreamDelta(vault, () => Promise.all(Array.from({ length: 12 }, () => gw.get(p, { headers: H })))),
	);
	for (const res of d.r) {
		assert.equal(res.status, 200, S.show(res));
		assert.ok(res.json.value === s.latest.value, 'the value');
	}
	assert.equal(readsOf(d.requests, s.name), 1, 'one vault read for 12 concurrent requests');
	const statuses = d.r.map((r) => r.headers['cache-status']);
	assert.equal(statuses.filter((c) => c === 'kvgate; fwd=miss; stored').length, 1, `one fetch stored: ${statuses.join(' | ')}`);
	// lighttpd starts every process up front and spreads the requests;
	// mod_fcgid starts processes as load builds, so under Apache the
	// requests may all queue for one process (hits, not collapsed).
	if (gw.server !== 'apache' && S.SERVER !== 'apache') {
		assert.ok(
			statuses.filter((c) => /^kvgate; hit; ttl=\d+; collapsed$/.test(c)).length >= 1,
			`requests in other processes waited for it (collapsed): ${statuses.join(' | ')}`,
		);
	}
});

test('Cache-Status says miss, then hit with the ttl left; errors carry none', async () => {
	const s = fresh();
	const first = await gw.get(`/api/secrets/${s.name}`, { headers: H });
	assert.equal(first.status, 200, S.show(first));
	assert.equal(first.headers['cache-status'], 'kvgate; fwd=miss; stored');
	const d = await S.upstreamDelta(vault, () => gw.get(`/api/secrets/${s.name}`, { headers: H }));
	assert.equal(d.r.status, 200, S.show(d.r));
	assert.match(d.r.headers['cache-status'], /^kvgate; hit; ttl=[0-4]$/);
	assert.equal(d.vault, 0, 'a hit makes no vault call');
	assert.equal(d.r.headers['cache-control'], 'no-store', 'still never cacheable by the browser');
	for (const p of ['/api/secrets/admin-password', '/api/secrets/public-no-such-secret-here']) {
		const res = await gw.get(p, { headers: H });
		assert.equal(res.status, 404, S.show(res));
		assert.equal(res.headers['cache-status'], undefined, `a 404 (${p}) says nothing about the cache: denied and missing look alike`);
	}
});

test('a missing secret is remembered for negative_ttl, then found once created', async () => {
	const name = `public-cache-late-${process.pid}`;
	const p = `/api/secrets/${name}`;
	const a = await S.upstreamDelta(vault, () => gw.get(p, { headers: H }));
	assert.equal(a.r.status, 404, S.show(a.r));
	assert.equal(readsOf(a.requests, name), 1, 'the first miss asks the vault');
	const value = `late-value-${process.pid}-${Date.now()}`;
	S.addSecret(value);
	const created = Date.now();
	await vault.control('POST', '/_devvault/secrets', { name, value });
	const b = await S.upstreamDelta(vault, () => gw.get(p, { headers: H }));
	assert.equal(b.r.status, 404, 'within negative_ttl the gateway still answers 404');
	assert.equal(readsOf(b.requests, name), 0, 'without asking the vault');
	await S.sleep(Math.max(0, NEGATIVE_TTL * 1000 + 300 - (Date.now() - created)));
	const c = await gw.get(p, { headers: H });
	assert.equal(c.status, 200, S.show(c));
	assert.ok(c.json.value === value, 'the new secret once negative_ttl is over');
});

test('past ttl, a vault that fails is answered from the stale entry (stale_if_error), and says so', async () => {
	const s = fresh();
	const p = `/api/secrets/${s.name}`;
	const other = fresh();
	assert.equal((await gw.get(p, { headers: H })).status, 200);
	await S.sleep(TTL * 1000 + 300);
	const logBefore = gw.output().length + gw.log('error.log').length;
	const d = await withFault({ target: 'vault', mode: 'status', status: 503 }, () =>
		S.upstreamDelta(vault, async () => [await gw.get(p, { headers: H }), await gw.get(`/api/secrets/${other.name}`, { headers: H })]),
	);
	const [stale, none] = d.r;
	assert.equal(stale.status, 200, S.show(stale));
	assert.ok(stale.json.value === s.latest.value, 'the last good value');
	assert.match(stale.headers['cache-status'], /^kvgate; hit; ttl=-\d+; fwd=stale; detail=stale-if-error$/);
	S.assertCorsActual(stale, S.ALLOWED);
	assert.ok(readsOf(d.requests, s.name) >= 1, 'the vault was asked first');
	assert.equal(none.status, 503, `a secret never cached gets the error\n${S.show(none)}`);
	S.assertCorsActual(none, S.ALLOWED);
	await S.waitFor(() => (gw.output() + gw.log('error.log')).includes('stale_if_error'), 3000, 'the stale-answer log line');
	const logged = (gw.output() + gw.log('error.log')).slice(logBefore > 0 ? 0 : 0);
	assert.ok(/served secret \S+ from the cache \d+ s past its ttl \(stale_if_error\)/.test(logged), 'the log names what was served stale');
	// Once the vault is back, the next request refreshes it.
	const back = await gw.get(p, { headers: H });
	assert.equal(back.status, 200);
	assert.equal(back.headers['cache-status'], 'kvgate; fwd=stale; stored', 'fetched again once the vault answers');
});

test('past ttl, a refusal from the vault is never answered stale', async () => {
	const s = fresh();
	const p = `/api/secrets/${s.name}`;
	assert.equal((await gw.get(p, { headers: H })).status, 200);
	await S.sleep(TTL * 1000 + 300);
	const body = { error: { code: 'Forbidden', message: 'The user, group or application does not have secrets get permission.' } };
	const res = await withFault({ target: 'vault', mode: 'status', status: 403, body }, () => gw.get(p, { headers: H }));
	assert.notEqual(res.status, 200, `access revoked: no stale value\n${S.show(res)}`);
	assert.equal(res.headers['cache-status'], undefined);
	S.assertCorsActual(res, S.ALLOWED);
});

test('refresh ahead: a hit in the last part of ttl refreshes after answering, and the new ttl continues the old', async () => {
	const s = fresh();
	const p = `/api/secrets/${s.name}`;
	const t0 = Date.now();
	const first = await gw.get(p, { headers: H });
	assert.equal(first.headers['cache-status'], 'kvgate; fwd=miss; stored');
	// The last tenth of a 4 s ttl: from 3.6 s.
	await S.sleep(Math.max(0, 3750 - (Date.now() - t0)));
	const d = await S.upstreamDelta(vault, async () => {
		const r = await gw.get(p, { headers: H });
		await S.sleep(400); // the refresh runs once the answer is written
		return r;
	});
	assert.equal(d.r.status, 200);
	assert.match(d.r.headers['cache-status'], /^kvgate; hit; ttl=0$/, 'answered from the cache');
	assert.equal(readsOf(d.requests, s.name), 1, 'and refreshed from the vault after answering');
	// Past the first answer's ttl: the refreshed one serves, its ttl
	// running from the old expiry (about 4 s after it).
	await S.sleep(Math.max(0, 4500 - (Date.now() - t0)));
	const e = await S.upstreamDelta(vault, () => gw.get(p, { headers: H }));
	assert.equal(e.r.status, 200);
	assert.match(e.r.headers['cache-status'], /^kvgate; hit; ttl=[23]$/, 'a hit past the first ttl, no wait');
	assert.equal(readsOf(e.requests, s.name), 0, 'no vault read');
});

test('list pages are cached once and filtered after the cache, per origin', async () => {
	const p = '/api/secrets?maxresults=25';
	const a = await S.upstreamDelta(vault, () => gw.get(p, { headers: H }));
	assert.equal(a.r.status, 200, S.show(a.r));
	const b = await S.upstreamDelta(vault, () => gw.get(p, { headers: { Origin: S.ALLOWED2 } }));
	assert.equal(b.r.status, 200, S.show(b.r));
	assert.equal(b.vault, 0, 'the second origin gets the cached page');
	assert.match(b.r.headers['cache-status'], /^kvgate; hit; ttl=\d+$/);
	const names = (r) => r.json.value.map((i) => S.parseId(i.id).name);
	assert.ok(names(a.r).length > 0, 'the first origin sees a page');
	assert.deepEqual(names(b.r), names(a.r).filter((n) => n.startsWith('demo-')), 'the second origin sees only the demo-* of the same cached page');
	// The next page, through the sealed nextLink, is cached too.
	if (a.r.json.nextLink) {
		const next = new URL(a.r.json.nextLink);
		const n1 = await S.upstreamDelta(vault, () => gw.get(next.pathname + next.search, { headers: H }));
		assert.equal(n1.r.status, 200, S.show(n1.r));
		const n2 = await S.upstreamDelta(vault, () => gw.get(next.pathname + next.search, { headers: H }));
		assert.equal(n2.vault, 0, 'the second page is cached too');
	}
});

test('a rotated secret is served once its cached answer expires, in every process; a narrower origin still gets 404', async () => {
	const name = `public-cache-rotated-${process.pid}`;
	const p = `/api/secrets/${name}`;
	const v1 = `rotated-one-${process.pid}-${Date.now()}`;
	const v2 = `rotated-two-${process.pid}-${Date.now()}`;
	S.addSecret(v1);
	S.addSecret(v2);
	await vault.control('POST', '/_devvault/secrets', { name, value: v1 });
	const t0 = Date.now();
	// Several rounds over the processes: each keeps its shaped copy.
	for (let i = 0; i < 8; i++) {
		const r = await gw.get(p, { headers: H });
		assert.equal(r.status, 200, S.show(r));
		assert.ok(r.json.value === v1, 'the first value');
	}
	const other = await gw.get(p, { headers: { Origin: S.ALLOWED2 } });
	assert.equal(other.status, 404, 'the origin whose rules hide it gets 404, cache or not');
	await vault.control('POST', '/_devvault/secrets', { name, value: v2 });
	await S.sleep(Math.max(0, TTL * 1000 + 300 - (Date.now() - t0)));
	for (let i = 0; i < 8; i++) {
		const r = await gw.get(p, { headers: H });
		assert.equal(r.status, 200, S.show(r));
		assert.ok(r.json.value === v2, `the new value after ttl (request ${i + 1})`);
	}
});

test('the shared segment is private to the user (0600), holds no name of the vault, and is gone once the server stops', async () => {
	const mine = segments().filter((n) => !segmentsBefore.has(n));
	assert.ok(mine.length >= 1, `a segment in /dev/shm while serving (${mine.join(', ')})`);
	for (const n of mine) {
		const st = fs.statSync(`/dev/shm/${n}`);
		assert.equal(st.mode & 0o777, 0o600, `${n} has mode 0600`);
	}
	await S.stopGateway(gw);
	await S.waitFor(() => segments().filter((n) => mine.includes(n)).length === 0, 3000, 'the segment to be removed');
	assert.deepEqual(
		segments().filter((n) => mine.includes(n)),
		[],
		'the last process out removed it',
	);
	assert.deepEqual(S.logLeaks(gw), [], 'no secret value, token or client secret in the logs');
});
