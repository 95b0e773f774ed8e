'use strict';
/*
 * No answer of the gateway may be kept by a browser or a shared cache
 * (issue 8, "Responses are never cacheable"): every kind of answer the
 * programs give, through the real web server, carries Cache-Control:
 * no-store and nothing that would allow or invite caching (public,
 * max-age, s-maxage, immutable, Expires, ETag, Last-Modified). Pins down a
 * web server or a code path adding a validator or a lifetime to one kind of
 * answer: one test per kind, so a failure names it.
 *
 * Kinds: a secret (fetched, then from the gateway's cache), HEAD, one
 * version, the list and its next page, a secret's versions, an allowed and
 * a refused preflight, 400, 403, 404 (missing and denied), 405, and the
 * upstream failures 502, 503 and 504 (dev vault faults, no cache).
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const S = require('./stack.js');

const H = { Origin: S.ALLOWED };
let stack, gw, faulty, vault, seed;

before(async () => {
	stack = await S.startStack('nocache');
	({ gw, vault, seed } = stack);
	faulty = await stack.gateway('faulty', {
		overrides: { vault: { timeout_ms: '1000', max_retries: '0', deadline_ms: '1500' }, cache: { ttl: '0' } },
	});
});

after(async () => {
	await S.stopStack(stack);
});

function assertNeverCacheable(res, what) {
	assert.ok(res.status > 0, `${what}: an HTTP answer\n${S.show(res)}`);
	const cc = (res.headers['cache-control'] || '').toLowerCase();
	const directives = cc.split(',').map((d) => d.trim());
	assert.ok(directives.includes('no-store'), `${what}: Cache-Control: no-store\n${S.show(res)}`);
	for (const d of directives) {
		assert.ok(!/^(public|immutable|max-age=[1-9]\d*|s-maxage=\d+|stale-while-revalidate=\d+|stale-if-error=\d+)$/.test(d), `${what}: no Cache-Control ${d}\n${S.show(res)}`);
	}
	for (const h of ['expires', 'etag', 'last-modified'])
		assert.equal(res.headers[h], undefined, `${what}: no ${h} header\n${S.show(res)}`);
	S.assertCommonHeaders(res, { emptyOk: true });
}

const cases = [
	['200 a secret, fetched', () => gw.get('/api/secrets/public-greeting', { headers: H }), 200],
	[
		'200 a secret, from the cache',
		async () => {
			const res = await gw.get('/api/secrets/public-greeting', { headers: H });
			assert.match(res.headers['cache-status'] || '', /\bhit\b/, `served from the gateway's cache\n${S.show(res)}`);
			return res;
		},
		200,
	],
	['200 HEAD of a secret', () => gw.request('HEAD', '/api/secrets/public-greeting', { headers: H }), 200],
	['200 one version', () => gw.get(`/api/secrets/public-greeting/${seed.byName.get('public-greeting').latest.id}`, { headers: H }), 200],
	['200 the list', () => gw.get('/api/secrets?maxresults=2', { headers: H }), 200],
	[
		'200 the next page of the list',
		async () => {
			const first = await gw.get('/api/secrets?maxresults=2', { headers: H });
			const u = new URL(first.json.nextLink);
			return gw.get(u.pathname + u.search, { headers: H });
		},
		200,
	],
	['200 the versions of a secret', () => gw.get('/api/secrets/public-rotating/versions', { headers: H }), 200],
	['preflight, allowed', () => gw.request('OPTIONS', '/api/secrets/public-greeting', { headers: { ...H, 'Access-Control-Request-Method': 'GET' } }), null],
	['preflight, refused', () => gw.request('OPTIONS', '/api/secrets/public-greeting', { headers: { Origin: S.EVIL, 'Access-Control-Request-Method': 'GET' } }), null],
	['400 a bad name', () => gw.get('/api/secrets/not_a_name', { headers: H }), 400],
	['403 an origin not allowed', () => gw.get('/api/secrets/public-greeting', { headers: { Origin: S.EVIL } }), 403],
	['404 a missing secret', () => gw.get('/api/secrets/public-no-such-secret', { headers: H }), 404],
	['404 a secret the policy denies', () => gw.get('/api/secrets/admin-nocache-probe', { headers: H }), 404],
	['405 a method not allowed', () => gw.request('DELETE', '/api/secrets/public-greeting', { headers: H }), 405],
	['502 the vault failing', () => withFault({ target: 'vault', mode: 'status', status: 500 }, () => faulty.get('/api/secrets/public-greeting', { headers: H })), 502],
	['503 the vault throttling', () => withFault({ target: 'vault', mode: 'status', status: 429, retryAfter: '30' }, () => faulty.get('/api/secrets/public-greeting', { headers: H })), 503],
	['504 the vault hanging', () => withFault({ target: 'vault', mode: 'hang' }, () => faulty.get('/api/secrets/public-greeting', { headers: H })), 504],
];

function withFault(spec, fn) {
	return vault.withFault(spec, fn);
}

for (const [what, send, status] of cases) {
	test(`never cacheable: ${what}`, async () => {
		const res = await send();
		if (status !== null) assert.equal(res.status, status, `${what}: status\n${S.show(res)}`);
		assertNeverCacheable(res, what);
	});
}
