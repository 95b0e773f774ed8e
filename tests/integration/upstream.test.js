'use strict';
/*
 * Upstream failures, injected with the dev vault's fault API, must map to
 * design.md's statuses in Key Vault's envelope, with the common headers and
 * the CORS headers for an allowed origin (an SPA must be able to read a 502):
 *   vault 5xx, bad bodies, resets       -> 502 BadGateway
 *   vault 429 / 503, vault down         -> 503 ServiceUnavailable + Retry-After
 *   no answer within timeout_ms         -> 504 GatewayTimeout, in bounded time
 *   token endpoint failing / rejected   -> 502 BadGateway
 * and after the fault is gone (or the vault or a program restarted) the next
 * request succeeds: nothing stays wedged.
 *
 * The policy here: timeout_ms 1500, max_retries 1, cache ttl 60. Secrets are
 * cached, so every test that needs the vault asks for a secret not fetched
 * before (fresh()). Token tests come first, while no program holds a token.
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const S = require('./stack.js');

const TIMEOUT_MS = 1500;
const MAX_RETRIES = 1;
// Worst case for one call: every attempt times out, plus a little backoff.
const BOUND_MS = TIMEOUT_MS * (MAX_RETRIES + 1) + 1000;

let stack, gw, vault, seed;
let pool = [];

before(async () => {
	stack = await S.startStack('upstream', { overrides: { vault: { timeout_ms: String(TIMEOUT_MS), max_retries: String(MAX_RETRIES) } } });
	({ gw, vault, seed } = stack);
	pool = S.exposedSeed(seed)
		.filter((s) => s.enabled && !s.latest.nbf && !s.latest.exp && s.name.length < 60)
		.map((s) => s.name);
});

after(async () => {
	await S.stopStack(stack);
});

// A readable secret this file has not fetched yet (so not cached).
function fresh() {
	const n = pool.shift();
	assert.ok(n, 'the seed has enough exposed secrets for the fault tests');
	return n;
}

const H = { Origin: S.ALLOWED };

// An error answer for an SPA: status, envelope, common + CORS headers, no vault host.
function assertUpstreamError(res, status, code) {
	S.assertError(res, status, code);
	S.assertCorsActual(res, S.ALLOWED);
	assert.ok(!res.text.includes(`:${vault.port}`), `the error never names the vault's host:port\n${S.show(res)}`);
	assert.ok(!res.text.includes('AKV') && !res.text.includes('Injected HTTP'), `the upstream message is not passed through verbatim\n${S.show(res)}`);
}

function assertRetryAfter(res) {
	const ra = res.headers['retry-after'];
	assert.ok(ra !== undefined, `Retry-After present\n${S.show(res)}`);
	assert.match(ra, /^\d+$/, `Retry-After is delay-seconds\n${S.show(res)}`);
	assert.ok(Number(ra) >= 1 && Number(ra) <= 3600, `Retry-After is 1..3600 s\n${S.show(res)}`);
}

function withFault(spec, fn) {
	return vault.withFault(spec, fn);
}

/* ---------------- token endpoint (first: no token cached yet) ---------------- */

test('token endpoint answering 500 gives 502 BadGateway with envelope and CORS headers, and no vault call', async () => {
	const name = fresh();
	const d = await withFault({ target: 'token', mode: 'status', status: 500 }, () => S.upstreamDelta(vault, () => gw.get(`/api/secrets/${name}`, { headers: H })));
	assertUpstreamError(d.r, 502, 'BadGateway');
	assert.ok(d.token >= 1, `the token endpoint was asked (${d.token})`);
	assert.equal(d.vault, 0, 'no vault call without a token');
	assert.ok(d.r.ms < BOUND_MS, `answered in ${d.r.ms} ms`);
});

test('token endpoint answering 401 invalid_client gives 502 BadGateway (list route)', async () => {
	const body = { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.', error_codes: [7000215] };
	const d = await withFault({ target: 'token', mode: 'status', status: 401, body }, () => S.upstreamDelta(vault, () => gw.get('/api/secrets?maxresults=5', { headers: H })));
	assertUpstreamError(d.r, 502, 'BadGateway');
	assert.ok(!d.r.text.includes('AADSTS'), 'the identity error is not passed through');
	assert.equal(d.vault, 0, 'no vault call without a token');
});

test('token endpoint hanging gives 504 GatewayTimeout (or 502) within the timeout bound', async () => {
	const name = fresh();
	const t0 = Date.now();
	const res = await withFault({ target: 'token', mode: 'hang' }, () => gw.get(`/api/secrets/${name}`, { headers: H }));
	const ms = Date.now() - t0;
	assert.ok(res.status === 504 || res.status === 502, S.show(res));
	assertUpstreamError(res, res.status, res.status === 504 ? 'GatewayTimeout' : 'BadGateway');
	assert.ok(ms < BOUND_MS, `answered in ${ms} ms < ${BOUND_MS} ms`);
});

test('after the token faults are cleared, both routes answer 200 again', async () => {
	const name = fresh();
	const a = await gw.get(`/api/secrets/${name}`, { headers: H });
	assert.equal(a.status, 200, S.show(a));
	const b = await gw.get('/api/secrets?maxresults=5', { headers: H });
	assert.equal(b.status, 200, S.show(b));
});

test('the token is cached: ten more requests make no token call', async () => {
	const names = [fresh(), fresh(), fresh(), fresh(), fresh()];
	const d = await S.upstreamDelta(vault, async () => {
		for (const n of names) {
			await gw.get(`/api/secrets/${n}`);
			await gw.get('/api/secrets?maxresults=3');
		}
	});
	assert.equal(d.token, 0, 'no token request while the token is valid');
});

test('a secret is cached for [cache] ttl: a second GET of the same secret makes no vault call', async () => {
	const name = fresh();
	const a = await gw.get(`/api/secrets/${name}`);
	assert.equal(a.status, 200, S.show(a));
	const d = await S.upstreamDelta(vault, () => gw.get(`/api/secrets/${name}`));
	assert.equal(d.r.status, 200, S.show(d.r));
	assert.ok(d.r.json.value === a.json.value, 'same value from the cache');
	assert.equal(d.vault, 0, 'served from the cache');
});

/* ---------------- vault errors ---------------- */

test('vault answering 500 gives 502 BadGateway (get) with envelope and CORS headers', async () => {
	const name = fresh();
	const res = await withFault({ target: 'vault', mode: 'status', status: 500 }, () => gw.get(`/api/secrets/${name}`, { headers: H }));
	assertUpstreamError(res, 502, 'BadGateway');
});

test('vault answering 500 gives 502 BadGateway (list and versions)', async () => {
	const res = await withFault({ target: 'vault', mode: 'status', status: 500 }, () => gw.get('/api/secrets?maxresults=4', { headers: H }));
	assertUpstreamError(res, 502, 'BadGateway');
	const v = await withFault({ target: 'vault', mode: 'status', status: 500 }, () => gw.get('/api/secrets/public-rotating/versions', { headers: H }));
	assertUpstreamError(v, 502, 'BadGateway');
});

test('vault answering 429 with Retry-After gives 503 ServiceUnavailable with Retry-After', async () => {
	const name = fresh();
	const t0 = Date.now();
	const res = await withFault({ target: 'vault', mode: 'status', status: 429, retryAfter: '2' }, () => gw.get(`/api/secrets/${name}`, { headers: H }));
	assertUpstreamError(res, 503, 'ServiceUnavailable');
	assertRetryAfter(res);
	assert.ok(Date.now() - t0 < 10000, 'answered within 10 s');
});

test('vault answering 429 without Retry-After (as a real capture did) still gives 503 with a Retry-After', async () => {
	const res = await withFault({ target: 'vault', mode: 'status', status: 429 }, () => gw.get('/api/secrets?maxresults=2', { headers: H }));
	assertUpstreamError(res, 503, 'ServiceUnavailable');
	assertRetryAfter(res);
});

test('vault answering 503 gives 503 ServiceUnavailable with Retry-After', async () => {
	const name = fresh();
	const res = await withFault({ target: 'vault', mode: 'status', status: 503, retryAfter: '3' }, () => gw.get(`/api/secrets/${name}`, { headers: H }));
	assertUpstreamError(res, 503, 'ServiceUnavailable');
	assertRetryAfter(res);
});

test('a single 503 from the vault is retried (max_retries=1) and the caller gets 200', async () => {
	const name = fresh();
	const d = await withFault({ target: 'vault', mode: 'status', status: 503, retryAfter: '1', count: 1 }, () => S.upstreamDelta(vault, () => gw.get(`/api/secrets/${name}`, { headers: H })));
	assert.equal(d.r.status, 200, S.show(d.r));
	assert.equal(d.vault, 2, 'one failed call and one retry');
});

test('vault answering 403 ForbiddenByRbac (the identity lacks access) gives 502, not 404 or 403', async () => {
	const name = fresh();
	const res = await withFault({ target: 'vault', mode: 'status', status: 403 }, () => gw.get(`/api/secrets/${name}`, { headers: H }));
	assertUpstreamError(res, 502, 'BadGateway');
});

test('vault hanging gives 504 GatewayTimeout within timeout_ms * attempts + 1 s', async () => {
	const name = fresh();
	const t0 = Date.now();
	const res = await withFault({ target: 'vault', mode: 'hang' }, () => gw.get(`/api/secrets/${name}`, { headers: H }));
	const ms = Date.now() - t0;
	assertUpstreamError(res, 504, 'GatewayTimeout');
	assert.ok(ms >= TIMEOUT_MS - 100, `waited for the timeout (${ms} ms)`);
	assert.ok(ms < BOUND_MS, `answered in ${ms} ms < ${BOUND_MS} ms`);
});

test('vault answering slower than timeout_ms gives 504 GatewayTimeout', async () => {
	const res = await withFault({ target: 'vault', mode: 'slow', delayMs: TIMEOUT_MS * 2 }, () => gw.get('/api/secrets?maxresults=13', { headers: H }));
	assertUpstreamError(res, 504, 'GatewayTimeout');
	assert.ok(res.ms < BOUND_MS + TIMEOUT_MS, `answered in ${res.ms} ms`);
});

test('vault answering slowly but within timeout_ms is served (200)', async () => {
	const name = fresh();
	const res = await withFault({ target: 'vault', mode: 'slow', delayMs: 300 }, () => gw.get(`/api/secrets/${name}`, { headers: H }));
	assert.equal(res.status, 200, S.show(res));
});

test('vault resetting the connection gives 502 BadGateway or 503 ServiceUnavailable, with envelope and CORS', async () => {
	const name = fresh();
	const res = await withFault({ target: 'vault', mode: 'reset' }, () => gw.get(`/api/secrets/${name}`, { headers: H }));
	assert.ok(res.status === 502 || res.status === 503, S.show(res));
	assertUpstreamError(res, res.status, res.status === 502 ? 'BadGateway' : 'ServiceUnavailable');
});

test('vault truncating its answer (Content-Length not met) gives 502 BadGateway', async () => {
	const name = fresh();
	const res = await withFault({ target: 'vault', mode: 'truncate' }, () => gw.get(`/api/secrets/${name}`, { headers: H }));
	assertUpstreamError(res, 502, 'BadGateway');
});

test('vault answering malformed JSON gives 502 BadGateway (get and list)', async () => {
	const name = fresh();
	const res = await withFault({ target: 'vault', mode: 'malformed' }, () => gw.get(`/api/secrets/${name}`, { headers: H }));
	assertUpstreamError(res, 502, 'BadGateway');
	const l = await withFault({ target: 'vault', mode: 'malformed' }, () => gw.get('/api/secrets?maxresults=6', { headers: H }));
	assertUpstreamError(l, 502, 'BadGateway');
});

test('vault answering an oversized body (1 MiB, over the cap) gives 502 BadGateway without buffering it whole', async () => {
	const name = fresh();
	const res = await withFault({ target: 'vault', mode: 'oversize' }, () => gw.get(`/api/secrets/${name}`, { headers: H }));
	assertUpstreamError(res, 502, 'BadGateway');
	const big = await withFault({ target: 'vault', mode: 'oversize', bytes: 8 * 1024 * 1024 }, () => gw.get('/api/secrets?maxresults=7', { headers: H }));
	assertUpstreamError(big, 502, 'BadGateway');
});

test('vault answering 200 with a JSON body that is not a SecretBundle gives 502 BadGateway', async () => {
	const name = fresh();
	for (const body of [{ nope: 1 }, [], { value: 5, id: 7 }, { id: 'https://evil.example/secrets/x/0123456789abcdef0123456789abcdef', value: 'x' }]) {
		const res = await withFault({ target: 'vault', mode: 'status', status: 200, body }, () => gw.get(`/api/secrets/${name}`, { headers: H }));
		assert.ok(res.status === 502 || (res.status === 200 && S.parseId(res.json.id) && S.parseId(res.json.id).origin === gw.origin), S.show(res));
		if (res.status === 502) assertUpstreamError(res, 502, 'BadGateway');
	}
});

test('a list page whose items name hidden secrets is still filtered (the vault cannot widen the policy)', async () => {
	const body = {
		value: [
			{ id: `${vault.url}/secrets/admin-password`, attributes: { enabled: true } },
			{ id: `${vault.url}/secrets/public-greeting`, attributes: { enabled: true } },
			{ id: 'not an id', attributes: { enabled: true } },
		],
		nextLink: null,
	};
	const res = await withFault({ target: 'vault', mode: 'status', status: 200, body, path: '^/secrets\\?' }, () => gw.get('/api/secrets?maxresults=9', { headers: H }));
	assert.equal(res.status, 200, S.show(res));
	const names = res.json.value.map((i) => (S.parseId(i.id) || {}).name);
	assert.deepEqual(names, ['public-greeting'], 'only the exposed item, id rewritten');
});

test('an upstream nextLink pointing away from the vault is not followed nor exposed', async () => {
	const body = { value: [], nextLink: 'https://evil.example/secrets?api-version=7.6&$skiptoken=abc' };
	const d = await withFault({ target: 'vault', mode: 'status', status: 200, body, path: '^/secrets\\?' }, () =>
		S.upstreamDelta(vault, () => gw.get('/api/secrets?maxresults=8', { headers: H })),
	);
	assert.ok(!d.r.text.includes('evil.example'), `never exposed\n${S.show(d.r)}`);
	if (d.r.status === 200 && d.r.json.nextLink) {
		const u = new URL(d.r.json.nextLink);
		const next = await gw.get(u.pathname + u.search, { headers: H });
		assertUpstreamError(next, next.status, next.json && next.json.error ? next.json.error.code : 'BadGateway');
		assert.ok(next.status === 400 || next.status === 502, `a foreign nextLink is refused\n${S.show(next)}`);
	} else if (d.r.status !== 200) {
		assert.equal(d.r.status, 502, S.show(d.r));
	}
});

test('vault rejecting the token (401) makes the gateway fetch a new token and retry once, then answer 502', async () => {
	const name = fresh();
	const d = await withFault({ target: 'vault', mode: 'reject-token' }, () => S.upstreamDelta(vault, () => gw.get(`/api/secrets/${name}`, { headers: H })));
	assertUpstreamError(d.r, 502, 'BadGateway');
	const calls = d.requests.filter((r) => r.kind === 'vault').length;
	assert.equal(calls, 2, `exactly one retry after the 401 (vault calls: ${calls})`);
	assert.ok(d.token >= 1, `a fresh token was fetched (${d.token})`);
});

test('a single token rejection is healed: fresh token, retry, 200', async () => {
	const name = fresh();
	const d = await withFault({ target: 'vault', mode: 'reject-token', count: 1 }, () => S.upstreamDelta(vault, () => gw.get(`/api/secrets/${name}`, { headers: H })));
	assert.equal(d.r.status, 200, S.show(d.r));
	assert.equal(d.token, 1, 'one fresh token');
	assert.equal(d.vault, 2, 'one 401 and one retry');
});

test('a fault on the second list page gives 502 mid-walk, and the same nextLink works once the fault is gone', async () => {
	const first = await gw.get('/api/secrets?maxresults=5', { headers: H });
	assert.equal(first.status, 200, S.show(first));
	assert.ok(first.json.nextLink, 'a second page exists');
	const u = new URL(first.json.nextLink);
	const bad = await withFault({ target: 'vault', mode: 'status', status: 500 }, () => gw.get(u.pathname + u.search, { headers: H }));
	assertUpstreamError(bad, 502, 'BadGateway');
	const good = await gw.get(u.pathname + u.search, { headers: H });
	assert.equal(good.status, 200, S.show(good));
});

test('after all faults are cleared, every route answers 200 with the common headers', async () => {
	await vault.clearFaults();
	for (const p of [`/api/secrets/${fresh()}`, '/api/secrets?maxresults=10', '/api/secrets/public-rotating/versions']) {
		const res = await gw.get(p, { headers: H });
		assert.equal(res.status, 200, S.show(res));
		S.assertCommonHeaders(res);
		S.assertCorsActual(res, S.ALLOWED);
	}
});

/* ---------------- restarts ---------------- */

test('vault down (process stopped) gives 503 ServiceUnavailable with Retry-After (or 502), quickly', async () => {
	await vault.stop();
	try {
		const name = fresh();
		const res = await gw.get(`/api/secrets/${name}`, { headers: H });
		assert.ok(res.status === 503 || res.status === 502, S.show(res));
		assertUpstreamError(res, res.status, res.status === 503 ? 'ServiceUnavailable' : 'BadGateway');
		if (res.status === 503) assertRetryAfter(res);
		assert.ok(res.ms < BOUND_MS, `answered in ${res.ms} ms`);
		const l = await gw.get('/api/secrets?maxresults=11', { headers: H });
		assert.ok(l.status === 503 || l.status === 502, S.show(l));
	} finally {
		// Restart on the same port with the same CA and client secret.
		const v2 = await S.startVault(vault.dir, vault.port, vault.args);
		stack.vault = vault = v2;
		gw.vault = v2;
	}
});

test('after the vault restarts (new process, old connections and tokens gone) the next requests succeed: nothing wedged', async () => {
	const name = fresh();
	const a = await gw.get(`/api/secrets/${name}`, { headers: H });
	assert.equal(a.status, 200, `first request after the restart\n${S.show(a)}`);
	const b = await gw.get('/api/secrets?maxresults=12', { headers: H });
	assert.equal(b.status, 200, `first list after the restart\n${S.show(b)}`);
});

test('a kvgate program killed with SIGKILL is replaced by lighttpd and requests succeed again', async (t) => {
	const victim = gw.programs().find((p) => p.cmd.includes('get-secret.fcgi'));
	assert.ok(victim, `get-secret.fcgi runs under lighttpd: ${JSON.stringify(gw.programs())}`);
	process.kill(victim.pid, 'SIGKILL');
	await S.sleep(200);
	const statuses = [];
	let ok = null;
	for (let i = 0; i < 5 && !ok; i++) {
		const res = await gw.get(`/api/secrets/${pool[0]}`, { headers: H });
		statuses.push(res.status);
		if (res.status === 200) ok = res;
		else await S.sleep(300);
	}
	t.diagnostic(`statuses after SIGKILL: ${statuses.join(' ')}`);
	assert.ok(ok, `a 200 within 5 tries after the program died: ${statuses.join(' ')}`);
	assert.ok(
		gw.programs().some((p) => p.cmd.includes('get-secret.fcgi') && p.pid !== victim.pid),
		'a new get-secret.fcgi runs',
	);
});

/* ---------------- end ---------------- */

test('SIGTERM to lighttpd leaves no kvgate program running', async () => {
	const r = await gw.stop();
	assert.deepEqual(r.leftover, [], 'no program left running');
});

test('logs hold no secret value, client secret or token after all the faults', async () => {
	assert.deepEqual(S.logLeaks(gw), [], 'logs leak');
	for (const text of [gw.log('error.log'), gw.output()]) assert.ok(!text.includes('HIDDEN'), 'no hidden value');
});

test('upstream failures are logged, one line each naming the program, so an operator can see them', async (t) => {
	const log = gw.log('error.log') + gw.output();
	const lines = log.split('\n').filter((l) => /^kvgate\[(get-secret|list-secrets) \d+\]: (error|warn)/.test(l));
	assert.ok(lines.length >= 10, `at least one error/warn line per injected failure (${lines.length})`);
	t.diagnostic(`${lines.length} error/warn lines from the programs; error.log holds ${gw.log('error.log').split('\n').filter((l) => l.startsWith('kvgate[')).length} of them`);
});
