'use strict';
/*
 * The gateway when the vault misbehaves (issue 3, "Resilience" and
 * "Rejected token"), end to end through lighttpd with the dev vault's fault
 * API. Each test asserts what the browser sees (status, Key Vault's envelope
 * with its innererror code, the common and CORS headers, Retry-After), how
 * many upstream calls were made (vault and token, from /_devvault/stats),
 * and the time taken, which stays within [vault] deadline_ms:
 *   throttled every other call  -> every request still served (retries)
 *   hang                        -> 504 DeadlineExceeded by deadline_ms
 *   429, Retry-After too far    -> 503 VaultThrottled + Retry-After, at once
 *   429 storm                   -> backoff, then 503 VaultThrottled by the deadline
 *   5xx bursts, dropped conns   -> retried, 200
 *   malformed / oversized body  -> 502 VaultMalformedAnswer / VaultAnswerTooLarge
 *   token endpoint failing      -> 502 IdentityUnavailable (IdentityRejected)
 *   token no longer accepted    -> one refresh, then 502 VaultRejectedToken
 *   challenge, foreign resource -> 502 ChallengeRejected, no token fetched
 *   nextLink to another host    -> 502 ForeignNextLink
 *
 * Policy: timeout_ms 1000, max_retries 3, deadline_ms 3000, no cache (so
 * every request reaches the vault).
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const S = require('./stack.js');

const TIMEOUT_MS = 1000;
const DEADLINE_MS = 3000;
const MAX_RETRIES = 3;
// What lighttpd, the FastCGI hop and a loaded machine may add.
const SLACK_MS = 700;
const H = { Origin: S.ALLOWED };
const SECRET = '/api/secrets/public-greeting';
const LIST = '/api/secrets?maxresults=5';

let stack, gw, vault;

before(async () => {
	stack = await S.startStack('resilience', {
		overrides: {
			vault: { timeout_ms: String(TIMEOUT_MS), max_retries: String(MAX_RETRIES), deadline_ms: String(DEADLINE_MS) },
			cache: { ttl: '0' },
		},
	});
	({ gw, vault } = stack);
});

after(async () => {
	await S.stopStack(stack);
});

// An upstream error as an SPA reads it: status, envelope with code and
// innererror, the common headers, the CORS headers, nothing of the vault's.
function assertUpstream(res, status, code, inner) {
	S.assertError(res, status, code);
	S.assertCorsActual(res, S.ALLOWED);
	assert.ok(res.json.error.innererror && typeof res.json.error.innererror === 'object', `innererror present\n${S.show(res)}`);
	assert.equal(res.json.error.innererror.code, inner, `innererror.code\n${S.show(res)}`);
	assert.ok(!res.text.includes(`:${vault.port}`), `the error never names the vault's host:port\n${S.show(res)}`);
}

function retryAfter(res) {
	const ra = res.headers['retry-after'];
	assert.match(ra || '', /^\d+$/, `Retry-After is delay-seconds\n${S.show(res)}`);
	return Number(ra);
}

// Run fn with the faults in spec queued; counts upstream calls. The faults
// are cleared afterwards whatever happens.
function withFault(spec, fn) {
	return vault.withFault(spec, () => S.upstreamDelta(vault, fn));
}

/* ---------------- token endpoint (first: no program holds a token yet) ---------------- */

test('token endpoint failing (500): 502 IdentityUnavailable after retries, no vault call, within the deadline', async () => {
	const d = await withFault({ target: 'token', mode: 'status', status: 500 }, () => gw.get(SECRET, { headers: H }));
	assertUpstream(d.r, 502, 'BadGateway', 'IdentityUnavailable');
	assert.ok(d.token >= 1 && d.token <= MAX_RETRIES + 1, `token calls 1..${MAX_RETRIES + 1} (${d.token})`);
	assert.equal(d.vault, 0, 'no vault call without a token');
	assert.ok(d.r.ms < DEADLINE_MS + SLACK_MS, `answered in ${d.r.ms} ms`);
});

test('token endpoint refusing the credential (401 invalid_client): 502 IdentityRejected, not retried', async () => {
	const body = { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.', error_codes: [7000215] };
	const d = await withFault({ target: 'token', mode: 'status', status: 401, body }, () => gw.get(LIST, { headers: H }));
	assertUpstream(d.r, 502, 'BadGateway', 'IdentityRejected');
	assert.ok(!d.r.text.includes('AADSTS'), 'the identity error is not passed through');
	assert.equal(d.token, 1, 'a refusal is not retried');
	assert.equal(d.vault, 0);
});

test('with the token endpoint back, both routes answer 200 with one token fetch for the host (shared by the programs)', async () => {
	const d = await withFault(null, async () => [await gw.get(SECRET, { headers: H }), await gw.get(LIST, { headers: H })]);
	for (const r of d.r) assert.equal(r.status, 200, S.show(r));
	assert.equal(d.token, 1, 'one token, fetched by one program and shared with the other');
	assert.equal(d.vault, 2);
});

/* ---------------- throttling ---------------- */

test('a vault that throttles every other call (429, no Retry-After) still serves every request: 20 GETs, all 200', async () => {
	const d = await withFault({ target: 'vault', mode: 'status', status: 429, every: 2 }, async () => {
		const out = [];
		for (let i = 0; i < 20; i++) out.push(await gw.get(i % 2 ? LIST : SECRET, { headers: H }));
		return out;
	});
	const statuses = d.r.map((r) => r.status);
	assert.deepEqual(statuses, Array(20).fill(200), `every request served: ${statuses.join(' ')}`);
	assert.equal(d.vault, 40, 'each request: one 429, one retry');
	assert.equal(d.token, 0, 'no token fetch');
	for (const r of d.r) assert.ok(r.ms < DEADLINE_MS, `each within the deadline (${r.ms} ms)`);
});

test('429 with retry-after-ms honoured: the retry waits for it, then 200', async () => {
	const t0 = Date.now();
	const d = await withFault({ target: 'vault', mode: 'status', status: 429, count: 1, headers: { 'retry-after-ms': '400', 'Retry-After': '20' } }, () => gw.get(SECRET, { headers: H }));
	const ms = Date.now() - t0;
	assert.equal(d.r.status, 200, S.show(d.r));
	assert.equal(d.vault, 2);
	assert.ok(ms >= 380 && ms < 2000, `waited the 400 ms asked for (not 20 s): ${ms} ms`);
});

test('429 with Retry-After beyond the deadline: 503 VaultThrottled with that Retry-After, at once, one vault call', async () => {
	const d = await withFault({ target: 'vault', mode: 'status', status: 429, retryAfter: '30' }, () => gw.get(SECRET, { headers: H }));
	assertUpstream(d.r, 503, 'ServiceUnavailable', 'VaultThrottled');
	assert.equal(retryAfter(d.r), 30, 'the vault\'s Retry-After passed on');
	assert.equal(d.vault, 1, 'no retry that could not fit');
	assert.ok(d.r.ms < 800, `answered at once (${d.r.ms} ms)`);
});

test('429 with Retry-After as an HTTP-date a minute away: 503 VaultThrottled, Retry-After about 60, at once', async () => {
	const date = new Date(Date.now() + 60000).toUTCString();
	const d = await withFault({ target: 'vault', mode: 'status', status: 429, retryAfter: date }, () => gw.get(LIST, { headers: H }));
	assertUpstream(d.r, 503, 'ServiceUnavailable', 'VaultThrottled');
	const ra = retryAfter(d.r);
	assert.ok(ra >= 58 && ra <= 61, `Retry-After ${ra}`);
	assert.equal(d.vault, 1);
	assert.ok(d.r.ms < 800, `answered at once (${d.r.ms} ms)`);
});

test('429 storm without Retry-After: backs off (max_retries), then 503 VaultThrottled with Retry-After, by the deadline', async () => {
	const d = await withFault({ target: 'vault', mode: 'status', status: 429 }, () => gw.get(SECRET, { headers: H }));
	assertUpstream(d.r, 503, 'ServiceUnavailable', 'VaultThrottled');
	assert.ok(retryAfter(d.r) >= 1);
	assert.ok(d.vault >= 2 && d.vault <= MAX_RETRIES + 1, `retried, at most max_retries times (${d.vault} vault calls)`);
	assert.ok(d.r.ms < DEADLINE_MS + SLACK_MS, `answered in ${d.r.ms} ms`);
});

test('429 storm with max_retries 10 and deadline_ms 1500: the deadline, not the retries, ends it: 503 by 1.5 s', async () => {
	const g = await stack.gateway('storm', { overrides: { vault: { timeout_ms: '1000', max_retries: '10', deadline_ms: '1500' }, cache: { ttl: '0' } } });
	try {
		assert.equal((await g.get(SECRET, { headers: H })).status, 200, 'warm-up');
		const d = await withFault({ target: 'vault', mode: 'status', status: 429 }, () => g.get(SECRET, { headers: H }));
		assertUpstream(d.r, 503, 'ServiceUnavailable', 'VaultThrottled');
		assert.ok(retryAfter(d.r) >= 1);
		assert.ok(d.vault >= 2 && d.vault <= 11, `${d.vault} vault calls`);
		assert.ok(d.r.ms < 1500 + SLACK_MS, `answered by the deadline (${d.r.ms} ms)`);
	} finally {
		await S.stopGateway(g);
	}
});

test('503 from the vault every time: 503 VaultUnreachable with Retry-After', async () => {
	const d = await withFault({ target: 'vault', mode: 'status', status: 503, retryAfter: '1' }, () => gw.get(SECRET, { headers: H }));
	assertUpstream(d.r, 503, 'ServiceUnavailable', 'VaultUnreachable');
	assert.ok(retryAfter(d.r) >= 1);
	assert.ok(d.vault >= 2 && d.vault <= MAX_RETRIES + 1, `${d.vault} vault calls`);
	assert.ok(d.r.ms < DEADLINE_MS + SLACK_MS, `answered in ${d.r.ms} ms`);
});

/* ---------------- failures recovered by retries ---------------- */

test('a burst of 500, 502, 503 is recovered by retries: 200 after four vault calls', async () => {
	const spec = [
		{ target: 'vault', mode: 'status', status: 500, count: 1 },
		{ target: 'vault', mode: 'status', status: 502, count: 1 },
		{ target: 'vault', mode: 'status', status: 503, count: 1 },
	];
	const d = await withFault(spec, () => gw.get(LIST, { headers: H }));
	assert.equal(d.r.status, 200, S.show(d.r));
	assert.equal(d.vault, 4);
	assert.ok(d.r.ms < DEADLINE_MS, `${d.r.ms} ms`);
});

test('a 501 (not transient) is not retried: 502 VaultFailed after one call', async () => {
	const d = await withFault({ target: 'vault', mode: 'status', status: 501 }, () => gw.get(SECRET, { headers: H }));
	assertUpstream(d.r, 502, 'BadGateway', 'VaultFailed');
	assert.equal(d.vault, 1);
});

test('dropped connections are retried: two resets, then 200', async () => {
	const d = await withFault({ target: 'vault', mode: 'reset', count: 2 }, () => gw.get(SECRET, { headers: H }));
	assert.equal(d.r.status, 200, S.show(d.r));
	assert.equal(d.vault, 3);
});

test('a connection dropped every time: 502 VaultConnectionLost after max_retries', async () => {
	const d = await withFault({ target: 'vault', mode: 'reset' }, () => gw.get(LIST, { headers: H }));
	assertUpstream(d.r, 502, 'BadGateway', 'VaultConnectionLost');
	// libcurl itself resends once when a reused keep-alive connection dies
	// before any answer, so the first attempt may reach the vault twice.
	assert.ok(d.vault >= MAX_RETRIES + 1 && d.vault <= MAX_RETRIES + 2, `${d.vault} vault calls`);
	assert.ok(d.r.ms < DEADLINE_MS + SLACK_MS, `${d.r.ms} ms`);
});

/* ---------------- deadline ---------------- */

test('a vault that hangs: 504 DeadlineExceeded by deadline_ms, attempts of timeout_ms each', async () => {
	const d = await withFault({ target: 'vault', mode: 'hang' }, () => gw.get(SECRET, { headers: H }));
	assertUpstream(d.r, 504, 'GatewayTimeout', 'DeadlineExceeded');
	assert.ok(d.r.ms >= TIMEOUT_MS * 2 - 100, `waited at least two attempts (${d.r.ms} ms)`);
	assert.ok(d.r.ms < DEADLINE_MS + SLACK_MS, `answered by the deadline (${d.r.ms} ms < ${DEADLINE_MS + SLACK_MS})`);
	assert.ok(d.vault >= 2 && d.vault <= 3, `${d.vault} vault calls`);
});

test('a slow vault (latency below timeout_ms) is served', async () => {
	const d = await withFault({ target: 'vault', mode: 'slow', delayMs: 400 }, () => gw.get(LIST, { headers: H }));
	assert.equal(d.r.status, 200, S.show(d.r));
	assert.equal(d.vault, 1);
});

/* ---------------- bad answers ---------------- */

test('malformed JSON: 502 VaultMalformedAnswer, not retried', async () => {
	const d = await withFault({ target: 'vault', mode: 'malformed' }, () => gw.get(SECRET, { headers: H }));
	assertUpstream(d.r, 502, 'BadGateway', 'VaultMalformedAnswer');
	assert.equal(d.vault, 1);
});

test('oversized body: 502 VaultAnswerTooLarge, not retried', async () => {
	const d = await withFault({ target: 'vault', mode: 'oversize', bytes: 4 * 1024 * 1024 }, () => gw.get(LIST, { headers: H }));
	assertUpstream(d.r, 502, 'BadGateway', 'VaultAnswerTooLarge');
	assert.equal(d.vault, 1);
});

test('a nextLink to another host: 502 ForeignNextLink when the page is shaped, never exposed', async () => {
	const body = { value: [], nextLink: 'https://evil.example/secrets?api-version=7.6&$skiptoken=abc' };
	const d = await withFault({ target: 'vault', mode: 'status', status: 200, body, path: '^/secrets\\?' }, () => gw.get(LIST, { headers: H }));
	assertUpstream(d.r, 502, 'BadGateway', 'ForeignNextLink');
	assert.ok(!d.r.text.includes('evil.example'));
	assert.equal(d.vault, 1);
});

/* ---------------- rejected tokens and challenges ---------------- */

test('a vault that stops accepting the token: one fresh token, one retry, then 502 VaultRejectedToken', async () => {
	const d = await withFault({ target: 'vault', mode: 'reject-token' }, () => gw.get(SECRET, { headers: H }));
	assertUpstream(d.r, 502, 'BadGateway', 'VaultRejectedToken');
	assert.equal(d.token, 1, 'one refresh');
	assert.equal(d.vault, 2, 'one retry');
});

test('one rejection is healed: fresh token, retry, 200', async () => {
	const d = await withFault({ target: 'vault', mode: 'reject-token', count: 1 }, () => gw.get(LIST, { headers: H }));
	assert.equal(d.r.status, 200, S.show(d.r));
	assert.equal(d.token, 1);
	assert.equal(d.vault, 2);
});

test('verify_challenge_resource on: a challenge whose resource is not the vault gets 502 ChallengeRejected, no token fetched', async () => {
	const g = await stack.gateway('verify', { overrides: { vault: { timeout_ms: '1000', max_retries: '3', deadline_ms: '3000', verify_challenge_resource: 'true' }, cache: { ttl: '0' } } });
	try {
		assert.equal((await g.get(SECRET, { headers: H })).status, 200, 'warm-up');
		const headers = { 'WWW-Authenticate': `Bearer authorization="https://login.microsoftonline.com/${vault.tenantId}", resource="https://evil.example"` };
		const d = await withFault({ target: 'vault', mode: 'status', status: 401, headers }, () => g.get(SECRET, { headers: H }));
		assertUpstream(d.r, 502, 'BadGateway', 'ChallengeRejected');
		assert.equal(d.token, 0, 'no token fetched for the challenge');
		assert.equal(d.vault, 1, 'no retry');
		// The dev vault's own challenge names https://vault.azure.net, not
		// 127.0.0.1: refused the same way with verification on.
		const d2 = await withFault({ target: 'vault', mode: 'reject-token' }, () => g.get(SECRET, { headers: H }));
		assertUpstream(d2.r, 502, 'BadGateway', 'ChallengeRejected');
		assert.equal(d2.token, 0);
		const log = g.log('error.log') + g.output();
		assert.match(log, /ChallengeRejected.*resource https:\/\/evil\.example does not name the vault's host 127\.0\.0\.1/, 'the log says why');
	} finally {
		await S.stopGateway(g);
	}
});

/* ---------------- after everything ---------------- */

test('with the faults gone every route answers 200 again: nothing wedged', async () => {
	await vault.clearFaults();
	for (const p of [SECRET, LIST, '/api/secrets/public-rotating/versions']) {
		const res = await gw.get(p, { headers: H });
		assert.equal(res.status, 200, S.show(res));
		S.assertCorsActual(res, S.ALLOWED);
	}
});

test('each upstream failure left one log line naming its innererror, and no secret or token', async () => {
	const log = gw.log('error.log') + gw.output();
	for (const inner of ['IdentityUnavailable', 'IdentityRejected', 'VaultThrottled', 'VaultUnreachable', 'VaultFailed', 'VaultConnectionLost', 'DeadlineExceeded', 'VaultMalformedAnswer', 'VaultAnswerTooLarge', 'ForeignNextLink', 'VaultRejectedToken'])
		assert.match(log, new RegExp(`vault call failed: ${inner}: `), `a log line for ${inner}`);
	assert.deepEqual(S.logLeaks(gw), [], 'logs leak');
});
