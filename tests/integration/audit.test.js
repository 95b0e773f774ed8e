'use strict';
/*
 * The audit log end to end (README: [audit]): one JSON line per request on
 * the programs' stderr (the web server's error log), whatever the answer,
 * with the fields README lists; its request_id is the x-ms-request-id the
 * answer carries (exposed to cross-origin SPAs); hostile header values stay
 * inside their JSON string; [audit] enabled = false turns it off; no line
 * ever holds a key, a token or a secret value.
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const S = require('./stack.js');

const KEY = crypto.randomBytes(32).toString('base64url');
let stack, gw, quiet, dflt;

before(async () => {
	stack = await S.startStack('audit', { overrides: { cors: { allowed_headers: 'x-ms-client-request-id ocp-apim-subscription-key' } } });
	const keys = path.join(stack.dir, 'api-keys');
	fs.writeFileSync(keys, `spa-prod ${crypto.createHash('sha256').update(KEY).digest('hex')}\n`, { mode: 0o600 });
	const callers = {
		cors: { allowed_headers: 'x-ms-client-request-id ocp-apim-subscription-key' },
		callers: { mode: 'api_key none', api_keys_file: keys },
		'grant public': { who: 'anonymous', allow: 'public-greeting' },
		'grant spa': { who: 'key:spa-prod', allow: 'public-* demo-*' },
	};
	gw = await stack.gateway('on', { overrides: { ...callers, audit: { preflights: 'true' } } });
	dflt = await stack.gateway('preflights-default', { overrides: callers });
	quiet = await stack.gateway('off', { overrides: { ...callers, audit: { enabled: 'false' } } });
});

after(async () => {
	if (!stack) return;
	const problems = [...S.logLeaks(gw, [KEY]), ...S.logLeaks(quiet, [KEY])];
	await S.stopStack(stack);
	assert.deepEqual(problems, [], 'no key or secret value in the logs');
});

// Every audit record a gateway wrote so far, parsed.
function records(g) {
	const out = [];
	for (const line of (g.output() + '\n' + g.log('error.log')).split('\n')) {
		const i = line.indexOf('{"audit":"kvgate"');
		if (i < 0) continue;
		out.push(JSON.parse(line.slice(i)));
	}
	return out;
}

// The record of the answer res (by its x-ms-request-id).
async function recordOf(g, res) {
	const id = res.headers['x-ms-request-id'];
	assert.match(id || '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, `a UUID v4 request id\n${S.show(res)}`);
	return S.waitFor(() => records(g).find((r) => r.request_id === id), 5000, `the audit line of ${id}`);
}

const spa = { 'Ocp-Apim-Subscription-Key': KEY, Origin: S.ALLOWED, 'x-ms-client-request-id': 'client-req-1' };

test('a granted GET: every field, and the request id exposed to the SPA', async () => {
	const t0 = Date.now();
	const res = await gw.get('/api/secrets/public-greeting', { headers: spa });
	assert.equal(res.status, 200, S.show(res));
	const ex = (res.headers['access-control-expose-headers'] || '').toLowerCase();
	assert.ok(ex.includes('x-ms-request-id') && ex.includes('www-authenticate') && ex.includes('retry-after'), `exposed\n${S.show(res)}`);
	const r = await recordOf(gw, res);
	const keys = ['audit', 'time', 'request_id', 'program', 'pid', 'method', 'route', 'secret', 'version', 'caller', 'caller_name', 'auth', 'grants', 'client', 'origin', 'decision', 'status', 'cache', 'upstream_ms', 'duration_ms', 'items', 'client_request_id', 'reason'];
	assert.deepEqual(Object.keys(r), keys, 'the fields, in order');
	assert.ok(Math.abs(Date.parse(r.time) - t0) < 10000 && /Z$/.test(r.time), `time is now, UTC: ${r.time}`);
	assert.equal(r.program, 'get-secret');
	assert.equal(typeof r.pid, 'number');
	assert.equal(r.method, 'GET');
	assert.equal(r.route, 'get');
	assert.equal(r.secret, 'public-greeting');
	assert.equal(r.version, null);
	assert.equal(r.caller, 'key:spa-prod');
	assert.equal(r.caller_name, 'spa-prod');
	assert.equal(r.auth, 'api_key');
	assert.equal(r.grants, 1);
	assert.equal(r.client, '127.0.0.1');
	assert.equal(r.origin, S.ALLOWED);
	assert.equal(r.decision, 'allow');
	assert.equal(r.status, 200);
	assert.equal(r.cache, 'miss');
	assert.ok(r.upstream_ms >= 0 && r.duration_ms >= r.upstream_ms, 'upstream and total time');
	assert.equal(r.items, null);
	assert.equal(r.client_request_id, 'client-req-1');
	assert.equal(r.reason, null);
	// Again: from the cache, no upstream time.
	const again = await recordOf(gw, await gw.get('/api/secrets/public-greeting', { headers: spa }));
	assert.equal(again.cache, 'hit');
	assert.equal(again.upstream_ms, 0);
	assert.notEqual(again.request_id, r.request_id, 'a new id per request');
});

test('by default an allowed preflight gets no audit line, a refused one does', async () => {
	const before = dflt.output().length + dflt.log('error.log').length;
	const ok = await dflt.request('OPTIONS', '/api/secrets', { headers: { Origin: S.ALLOWED, 'Access-Control-Request-Method': 'GET' } });
	assert.equal(ok.status, 204);
	const refused = await dflt.request('OPTIONS', '/api/secrets', { headers: { Origin: S.EVIL, 'Access-Control-Request-Method': 'GET' } });
	assert.equal(refused.status, 403);
	await S.waitFor(() => (dflt.output() + dflt.log('error.log')).includes(refused.headers['x-ms-request-id']), 3000, 'the refused preflight\'s audit line');
	await S.sleep(200);
	const text = dflt.output() + dflt.log('error.log');
	assert.ok(!text.includes(ok.headers['x-ms-request-id']), 'no line for the allowed preflight');
	assert.ok(before >= 0);
});

test('decisions: deny (policy or grant), not_found, unauthenticated, bad_request, preflight, forbidden_origin', async () => {
	const cases = [
		[() => gw.get('/api/secrets/demo-1'), { decision: 'deny', status: 404, caller: 'anonymous', auth: 'none', grants: 1 }],
		[() => gw.get('/api/secrets/admin-password', { headers: spa }), { decision: 'deny', status: 404 }],
		[() => gw.get('/api/secrets/public-no-such-secret', { headers: spa }), { decision: 'not_found', status: 404 }],
		[() => gw.get('/api/secrets/public-greeting', { headers: { 'Ocp-Apim-Subscription-Key': 'not-the-key' } }), { decision: 'unauthenticated', status: 401, caller: null, reason: 'unknown API key' }],
		[() => gw.get('/api/secrets/bad_name', { headers: spa }), { decision: 'bad_request', status: 400, route: null }],
		[() => gw.request('OPTIONS', '/api/secrets', { headers: { Origin: S.ALLOWED, 'Access-Control-Request-Method': 'GET' } }), { decision: 'preflight', status: 204, route: 'options' }],
		[() => gw.get('/api/secrets/public-greeting', { headers: { Origin: S.EVIL } }), { decision: 'forbidden_origin', status: 403, origin: S.EVIL }],
	];
	for (const [send, want] of cases) {
		const res = await send();
		const r = await recordOf(gw, res);
		for (const [k, v] of Object.entries(want)) assert.deepEqual(r[k], v, `${k} of ${JSON.stringify(want)}\n${JSON.stringify(r)}`);
		assert.equal(r.status, res.status);
	}
});

test('a list: route, items answered, program', async () => {
	const res = await gw.get('/api/secrets?maxresults=5', { headers: spa });
	assert.equal(res.status, 200, S.show(res));
	const r = await recordOf(gw, res);
	assert.equal(r.program, 'list-secrets');
	assert.equal(r.route, 'list');
	assert.equal(r.secret, null);
	assert.equal(r.items, res.json.value.length);
	const v = await recordOf(gw, await gw.get('/api/secrets/public-rotating/versions', { headers: spa }));
	assert.equal(v.route, 'versions');
	assert.equal(v.secret, 'public-rotating');
});

test('one line per request, each valid JSON on one line', async () => {
	const before = records(gw).length;
	for (let i = 0; i < 5; i++) await gw.get('/api/secrets/public-greeting');
	await S.waitFor(() => records(gw).length >= before + 5, 5000, 'five more lines');
	await S.sleep(200);
	assert.equal(records(gw).length, before + 5, 'exactly five');
});

test('hostile header values stay inside their JSON strings', async () => {
	// Quotes and a backslash (the web servers refuse control bytes in
	// headers themselves; tests/unit/test_audit.c covers those).
	const evil = 'x"}\\{"audit":"forged';
	const res = await gw.raw(`GET /api/secrets/public-greeting HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nx-ms-client-request-id: ${evil}\r\nConnection: close\r\n\r\n`);
	const r = await recordOf(gw, res);
	assert.equal(r.secret, 'public-greeting');
	assert.ok(typeof r.client_request_id === 'string' && r.client_request_id.startsWith('x"}'), `kept as a string: ${JSON.stringify(r.client_request_id)}`);
	assert.ok(!records(gw).some((x) => x.audit === 'forged'), 'no forged record');
});

test('[audit] enabled = false: no audit line; the request id header stays', async () => {
	const res = await quiet.get('/api/secrets/public-greeting');
	assert.equal(res.status, 200, S.show(res));
	assert.match(res.headers['x-ms-request-id'] || '', /^[0-9a-f-]{36}$/);
	await S.sleep(300);
	assert.equal(records(quiet).length, 0);
});

test('no audit line holds the key, and none names a value', async () => {
	const text = JSON.stringify(records(gw));
	assert.ok(!text.includes(KEY), 'no key');
	assert.ok(!/"value"/.test(text), 'no value field');
});
