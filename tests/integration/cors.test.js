'use strict';
/*
 * CORS over real sockets (Fetch standard, "CORS protocol"), against the
 * default policy and three variants sharing one dev vault:
 *   default  allowed_origins http://allowed.example:8081 https://spa.example.com,
 *            allowed_headers x-ms-client-request-id, credentials false
 *   cred     allow_credentials true, allowed_headers x-ms-client-request-id Authorization
 *   anyorg   allowed_origins *
 *   anyhdr   allowed_headers *
 * Actual requests: exact echo for allowed origins on every status, 403 with
 * no Access-Control-* for anything else. Preflights: 204 all-or-nothing,
 * Vary on every answer, no upstream call.
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const S = require('./stack.js');

let stack, gw, vault, cred, anyorg, anyhdr;

before(async () => {
	stack = await S.startStack('cors');
	({ gw, vault } = stack);
	cred = await stack.gateway('cred', { overrides: { cors: { allow_credentials: 'true', allowed_headers: 'x-ms-client-request-id, Authorization' } } });
	anyorg = await stack.gateway('anyorg', { overrides: { cors: { allowed_origins: '*' } } });
	anyhdr = await stack.gateway('anyhdr', { overrides: { cors: { allowed_headers: '*' } } });
});

after(async () => {
	await S.stopStack(stack);
});

function preflight(g, p, origin, method, reqHeaders) {
	const headers = {};
	if (origin !== undefined) headers.Origin = origin;
	if (method !== undefined) headers['Access-Control-Request-Method'] = method;
	if (reqHeaders !== undefined) headers['Access-Control-Request-Headers'] = reqHeaders;
	return g.request('OPTIONS', p, { headers });
}

// Vary on every preflight answer, allowed or not.
function assertPreflightVary(res) {
	const v = S.varyTokens(res);
	for (const t of ['origin', 'access-control-request-method', 'access-control-request-headers']) assert.ok(v.includes(t), `Vary holds ${t}\n${S.show(res)}`);
}

function assertPreflightAllowed(res, origin, { acao = origin, headers = [], credentials = false } = {}) {
	assert.equal(res.status, 204, S.show(res));
	assert.equal(res.body.length, 0, `empty body\n${S.show(res)}`);
	assert.equal(res.headers['access-control-allow-origin'], acao, `Access-Control-Allow-Origin\n${S.show(res)}`);
	const methods = (res.headers['access-control-allow-methods'] || '').split(/\s*,\s*/);
	assert.ok(methods.includes('GET'), `Access-Control-Allow-Methods holds GET\n${S.show(res)}`);
	for (const m of ['POST', 'PUT', 'DELETE', 'PATCH']) assert.ok(!methods.includes(m), `Access-Control-Allow-Methods never holds ${m}\n${S.show(res)}`);
	assert.equal(res.headers['access-control-max-age'], '600', `Access-Control-Max-Age: 600\n${S.show(res)}`);
	const ah = (res.headers['access-control-allow-headers'] || '')
		.toLowerCase()
		.split(/\s*,\s*/)
		.filter(Boolean);
	for (const h of headers) assert.ok(ah.includes(h.toLowerCase()), `Access-Control-Allow-Headers lists ${h}\n${S.show(res)}`);
	if (credentials) assert.equal(res.headers['access-control-allow-credentials'], 'true', `Access-Control-Allow-Credentials: true\n${S.show(res)}`);
	else assert.equal(res.headers['access-control-allow-credentials'], undefined, `no Access-Control-Allow-Credentials\n${S.show(res)}`);
	assert.match(res.headers['cache-control'] || '', /no-store/, `Cache-Control: no-store on a preflight too\n${S.show(res)}`);
	assert.equal(res.headers['x-content-type-options'], 'nosniff', `nosniff on a preflight too\n${S.show(res)}`);
	assertPreflightVary(res);
	return ah;
}

function assertPreflightDenied(res) {
	assert.equal(res.status, 403, S.show(res));
	S.assertNoCors(res);
	assertPreflightVary(res);
	assert.match(res.headers['cache-control'] || '', /no-store/, `Cache-Control: no-store\n${S.show(res)}`);
	assert.equal(res.headers['x-content-type-options'], 'nosniff', `nosniff\n${S.show(res)}`);
	if (res.body.length > 0) {
		assert.equal(res.headers['content-type'], 'application/json; charset=utf-8', `a non-empty 403 body is JSON\n${S.show(res)}`);
		assert.equal(res.json && res.json.error && res.json.error.code, 'Forbidden', `a non-empty 403 body is the Forbidden envelope\n${S.show(res)}`);
	}
}

/* ---------------- actual requests ---------------- */

for (const origin of [S.ALLOWED, S.ALLOWED2]) {
	test(`allowed origin ${origin} gets Access-Control-Allow-Origin echoed exactly, Expose-Headers, no credentials`, async () => {
		const res = await gw.get('/api/secrets/public-greeting', { headers: { Origin: origin } });
		assert.equal(res.status, 200, S.show(res));
		S.assertCommonHeaders(res);
		S.assertCorsActual(res, origin);
	});
}

for (const [what, f] of [
	['a list', () => gw.get('/api/secrets?maxresults=3', { headers: { Origin: S.ALLOWED } })],
	['a 404', () => gw.get('/api/secrets/admin-password', { headers: { Origin: S.ALLOWED } })],
	['a 400', () => gw.get('/api/secrets/a_b', { headers: { Origin: S.ALLOWED } })],
	['a 405', () => gw.request('PUT', '/api/secrets/public-greeting', { headers: { Origin: S.ALLOWED, 'Content-Length': '2' }, body: '{}' })],
	['a HEAD', () => gw.request('HEAD', '/api/secrets/public-greeting', { headers: { Origin: S.ALLOWED } })],
]) {
	test(`an allowed origin gets the CORS headers on ${what} too, so the SPA can read it`, async () => {
		const res = await f();
		assert.ok(res.status > 0, S.show(res));
		S.assertCorsActual(res, S.ALLOWED);
		assert.match(res.headers['cache-control'] || '', /no-store/, S.show(res));
	});
}

test('a disallowed origin gets 403 Forbidden in the envelope, with no Access-Control-* header and no upstream call', async () => {
	const res = await S.noUpstream(vault, () => gw.get('/api/secrets/public-greeting', { headers: { Origin: S.EVIL } }), 'a disallowed origin');
	S.assertError(res, 403, 'Forbidden');
	S.assertNoCors(res);
	assert.ok(!res.text.includes('demo-value'), 'no secret value in the 403');
});

test('a disallowed origin gets the same 403 for existing, missing, hidden secrets and lists: no existence oracle', async () => {
	const bodies = new Set();
	for (const p of ['/api/secrets/public-greeting', '/api/secrets/public-no-such-9z', '/api/secrets/admin-password', '/api/secrets', '/api/secrets/public-rotating/versions']) {
		const res = await gw.get(p, { headers: { Origin: S.EVIL } });
		S.assertError(res, 403, 'Forbidden');
		S.assertNoCors(res);
		bodies.add(res.text);
	}
	assert.equal(bodies.size, 1, `one 403 body for all: ${[...bodies].join(' | ')}`);
});

for (const origin of [
	'null',
	`${S.ALLOWED}/`,
	'http://allowed.example:8082',
	'http://allowed.example',
	'https://allowed.example:8081',
	'HTTP://allowed.example:8081',
	'http://ALLOWED.example:8081',
	'http://user@allowed.example:8081',
	'http://user:pw@allowed.example:8081',
	`${S.ALLOWED}/path`,
	'https://spa.example.com:443',
	'https://spa.example.com.',
	'https://spa.example.com.evil.com',
	'https://evil-spa.example.com',
	'https://spa.example.co',
	'http://spa.example.com',
	'https://sub.spa.example.com',
	'*',
	'',
	'https://spa.example.com https://evil.example',
	'https://spa.example.com,https://evil.example',
	'file://',
	'chrome-extension://abcdef',
	'http://127.0.0.1',
]) {
	test(`Origin ${JSON.stringify(origin)} (not exactly an allowed origin) gets 403 with no Access-Control-* header`, async () => {
		if (origin === '') {
			// An empty Origin header may count as no Origin at all (browsers never send
			// one); it must still never earn a CORS header.
			const res = await gw.get('/api/secrets/public-greeting', { headers: { Origin: origin } });
			assert.ok(res.status === 200 || res.status === 403, S.show(res));
			S.assertNoCors(res);
			return;
		}
		const res = await S.noUpstream(vault, () => gw.get('/api/secrets/public-greeting', { headers: { Origin: origin } }), `Origin ${origin}`);
		S.assertError(res, 403, 'Forbidden');
		S.assertNoCors(res);
	});
}

test("the gateway's own origin (http://127.0.0.1:PORT) is allowed and echoed", async () => {
	const res = await gw.get('/api/secrets/public-greeting', { headers: { Origin: gw.origin } });
	assert.equal(res.status, 200, S.show(res));
	S.assertCorsActual(res, gw.origin);
});

test("another gateway's port on the same host is not the gateway's own origin: 403", async () => {
	const res = await gw.get('/api/secrets/public-greeting', { headers: { Origin: `http://127.0.0.1:${gw.port + 1}` } });
	S.assertError(res, 403, 'Forbidden');
	S.assertNoCors(res);
});

test('no Origin header: served (200) with Vary: Origin and no Access-Control-* header', async () => {
	const res = await gw.get('/api/secrets/public-greeting');
	assert.equal(res.status, 200, S.show(res));
	S.assertCommonHeaders(res);
	S.assertNoCors(res);
});

/* ---------------- preflights ---------------- */

test('allowed preflight: 204, empty body, exact ACAO, Allow-Methods with GET, Max-Age 600, Vary on all three request headers', async () => {
	const res = await preflight(gw, '/api/secrets/public-greeting', S.ALLOWED, 'GET');
	assertPreflightAllowed(res, S.ALLOWED);
	const res2 = await preflight(gw, '/api/secrets', S.ALLOWED2, 'GET');
	assertPreflightAllowed(res2, S.ALLOWED2);
});

test('allowed preflight with Access-Control-Request-Headers x-ms-client-request-id lists it in Allow-Headers', async () => {
	const res = await preflight(gw, '/api/secrets/public-greeting', S.ALLOWED, 'GET', 'x-ms-client-request-id');
	assertPreflightAllowed(res, S.ALLOWED, { headers: ['x-ms-client-request-id'] });
});

test('preflight header names compare ignoring case: X-MS-Client-Request-Id is allowed', async () => {
	const res = await preflight(gw, '/api/secrets', S.ALLOWED, 'GET', 'X-MS-Client-Request-Id');
	assertPreflightAllowed(res, S.ALLOWED, { headers: ['x-ms-client-request-id'] });
});

test('preflight header list tolerates spaces and empty elements ("x-ms-client-request-id, ,")', async () => {
	for (const h of ['x-ms-client-request-id, ,', ' x-ms-client-request-id ', ',x-ms-client-request-id', '']) {
		const res = await preflight(gw, '/api/secrets', S.ALLOWED, 'GET', h);
		assertPreflightAllowed(res, S.ALLOWED, { headers: h.trim() ? ['x-ms-client-request-id'] : [] });
	}
});

test('preflight for HEAD (configured) is allowed', async () => {
	const res = await preflight(gw, '/api/secrets/public-greeting', S.ALLOWED, 'HEAD');
	assertPreflightAllowed(res, S.ALLOWED);
});

test('preflight from a disallowed origin: 403, no Access-Control-* header, Vary still set', async () => {
	for (const o of [S.EVIL, 'null', `${S.ALLOWED}/`, 'https://spa.example.com:8443']) assertPreflightDenied(await preflight(gw, '/api/secrets', o, 'GET'));
});

for (const m of ['POST', 'get', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'CONNECT', 'G ET']) {
	test(`preflight asking for method ${JSON.stringify(m)} (not allowed; methods are case-sensitive) gets 403, nothing reflected`, async () => {
		const res = await preflight(gw, '/api/secrets', S.ALLOWED, m);
		assertPreflightDenied(res);
	});
}

for (const [what, h] of [
	['x-evil', 'x-evil'],
	['authorization when not named', 'authorization'],
	['Authorization when not named', 'Authorization'],
	['one bad among good ones', 'x-ms-client-request-id, x-evil'],
	['a good one after a bad one', 'x-evil,x-ms-client-request-id'],
	['cookie', 'cookie'],
	['a header name with a bad character', 'x-ms-client-request-id;x'],
	['a prefix of an allowed header', 'x-ms-client'],
	['an allowed header with a suffix', 'x-ms-client-request-id-x'],
]) {
	test(`preflight requesting ${what} (${h}) gets 403 and the header is not reflected`, async () => {
		const res = await preflight(gw, '/api/secrets/public-greeting', S.ALLOWED, 'GET', h);
		assertPreflightDenied(res);
		const all = JSON.stringify(res.headers).toLowerCase();
		assert.ok(!all.includes('x-evil') && !all.includes('"cookie'), `not reflected\n${S.show(res)}`);
	});
}

test('an over-long Access-Control-Request-Headers (> 4096 bytes) is refused with 403 and not reflected', async () => {
	const h = Array.from({ length: 200 }, (_, i) => `x-ms-client-request-id`).join(', ') + ', x-long-tail';
	assert.ok(h.length > 4096);
	const res = await preflight(gw, '/api/secrets', S.ALLOWED, 'GET', h);
	assert.ok(res.status === 403 || res.status === 400 || res.status === 431, S.show(res));
	S.assertNoCors(res);
});

test('preflights make no upstream call, allowed or not', async () => {
	await S.noUpstream(
		vault,
		async () => {
			await preflight(gw, '/api/secrets/public-greeting', S.ALLOWED, 'GET', 'x-ms-client-request-id');
			await preflight(gw, '/api/secrets', S.ALLOWED, 'GET');
			await preflight(gw, '/api/secrets/admin-password', S.EVIL, 'GET');
			await preflight(gw, '/api/secrets/public-rotating/versions', S.ALLOWED, 'POST');
		},
		'a preflight',
	);
});

test('a preflight answer is the same for existing, hidden and missing secrets (no existence oracle)', async () => {
	const seen = new Set();
	for (const p of ['/api/secrets/public-greeting', '/api/secrets/admin-password', '/api/secrets/public-nope-1']) {
		const res = await preflight(gw, p, S.ALLOWED, 'GET');
		assertPreflightAllowed(res, S.ALLOWED);
		seen.add(JSON.stringify(Object.entries(res.headers).filter(([k]) => k !== 'date' && k !== 'x-ms-request-id')));
	}
	assert.equal(seen.size, 1, 'same headers for all three');
});

test("a preflight from the gateway's own origin is allowed", async () => {
	const res = await preflight(gw, '/api/secrets', gw.origin, 'GET');
	assertPreflightAllowed(res, gw.origin);
});

test('OPTIONS without Origin or without Access-Control-Request-Method is not a CORS preflight: no Access-Control-Allow-*', async () => {
	for (const [o, m] of [
		[undefined, undefined],
		[undefined, 'GET'],
		[S.EVIL, undefined],
		[S.ALLOWED, ''],
	]) {
		const res = await preflight(gw, '/api/secrets', o, m);
		assert.ok(res.status > 0 && res.status < 500, S.show(res));
		assert.equal(res.headers['access-control-allow-methods'], undefined, `no Allow-Methods for a non-preflight\n${S.show(res)}`);
		assert.equal(res.headers['access-control-allow-headers'], undefined, `no Allow-Headers for a non-preflight\n${S.show(res)}`);
		if (o === S.EVIL) S.assertNoCors(res);
		assert.ok(S.varyTokens(res).includes('origin'), `Vary: Origin\n${S.show(res)}`);
	}
});

/* ---------------- credentials variant ---------------- */

test('allow_credentials=true: actual request gets Access-Control-Allow-Credentials: true and the exact origin, never *', async () => {
	const res = await cred.get('/api/secrets/public-greeting', { headers: { Origin: S.ALLOWED } });
	assert.equal(res.status, 200, S.show(res));
	S.assertCorsActual(res, S.ALLOWED, { credentials: true });
	const res404 = await cred.get('/api/secrets/admin-password', { headers: { Origin: S.ALLOWED2 } });
	S.assertError(res404, 404, 'SecretNotFound');
	S.assertCorsActual(res404, S.ALLOWED2, { credentials: true });
});

test('allow_credentials=true: preflight gets Allow-Credentials: true and the exact origin, never *', async () => {
	const res = await preflight(cred, '/api/secrets', S.ALLOWED, 'GET', 'x-ms-client-request-id');
	assertPreflightAllowed(res, S.ALLOWED, { credentials: true, headers: ['x-ms-client-request-id'] });
});

test('allow_credentials=true: a disallowed origin still gets 403 and no Access-Control-Allow-Credentials', async () => {
	const res = await cred.get('/api/secrets/public-greeting', { headers: { Origin: S.EVIL } });
	S.assertError(res, 403, 'Forbidden');
	S.assertNoCors(res);
	assertPreflightDenied(await preflight(cred, '/api/secrets', S.EVIL, 'GET'));
});

test('Authorization named in allowed_headers is allowed in a preflight (any case), alone or with others', async () => {
	for (const h of ['authorization', 'Authorization', 'x-ms-client-request-id, authorization']) {
		const res = await preflight(cred, '/api/secrets', S.ALLOWED, 'GET', h);
		assertPreflightAllowed(res, S.ALLOWED, { credentials: true, headers: h.split(/\s*,\s*/) });
	}
});

/* ---------------- allowed_origins = * ---------------- */

test('allowed_origins=* without credentials: any origin gets Access-Control-Allow-Origin: * on actual requests', async () => {
	for (const o of ['https://random.example', S.ALLOWED]) {
		const res = await anyorg.get('/api/secrets/public-greeting', { headers: { Origin: o } });
		assert.equal(res.status, 200, S.show(res));
		S.assertCorsActual(res, o, { acao: '*' });
	}
	const e = await anyorg.get('/api/secrets/admin-password', { headers: { Origin: 'https://random.example' } });
	S.assertError(e, 404, 'SecretNotFound');
	S.assertCorsActual(e, 'https://random.example', { acao: '*' });
});

test('allowed_origins=*: preflight from any origin gets 204 with Access-Control-Allow-Origin: * and no credentials', async () => {
	const res = await preflight(anyorg, '/api/secrets', 'https://random.example', 'GET', 'x-ms-client-request-id');
	assertPreflightAllowed(res, 'https://random.example', { acao: '*', headers: ['x-ms-client-request-id'] });
});

test('allowed_origins=*: a malformed Origin is still refused, never answered with *', async () => {
	for (const o of ['http://user@x.example', 'https://x.example/']) {
		const res = await anyorg.get('/api/secrets/public-greeting', { headers: { Origin: o } });
		assert.notEqual(res.headers['access-control-allow-origin'], o, `never echoes a malformed origin\n${S.show(res)}`);
		if (res.status === 200) assert.ok(['*', undefined].includes(res.headers['access-control-allow-origin']), S.show(res));
	}
});

/* ---------------- allowed_headers = * ---------------- */

test('allowed_headers=*: any requested header is allowed and listed (x-anything, X-Other)', async () => {
	const res = await preflight(anyhdr, '/api/secrets', S.ALLOWED, 'GET', 'x-anything, X-Other');
	const ah = assertPreflightAllowed(res, S.ALLOWED);
	assert.ok(ah.includes('*') || (ah.includes('x-anything') && ah.includes('x-other')), `Allow-Headers covers the requested headers\n${S.show(res)}`);
});

for (const h of ['authorization', 'Authorization', 'x-anything, authorization', 'AUTHORIZATION,x-ms-client-request-id']) {
	test(`allowed_headers=* never covers Authorization: preflight requesting "${h}" gets 403`, async () => {
		const res = await preflight(anyhdr, '/api/secrets', S.ALLOWED, 'GET', h);
		assertPreflightDenied(res);
	});
}

/* ---------------- end ---------------- */

test('SIGTERM to each lighttpd leaves no kvgate program running', async () => {
	for (const g of stack.gateways) {
		const r = await g.stop();
		assert.deepEqual(r.leftover, [], `no program left running for ${g.dir}`);
	}
});

// After the stop: lighttpd buffers its access log until it exits.
test('the access log records preflights as OPTIONS lines (204 and 403), without header values', async () => {
	const log = gw.log('access.log');
	assert.match(log, /"OPTIONS \/api\/secrets[^"]* HTTP\/1\.1" 204 /, 'a 204 OPTIONS line');
	assert.match(log, /"OPTIONS \/api\/secrets[^"]* HTTP\/1\.1" 403 /, 'a 403 OPTIONS line');
	assert.ok(!log.includes('allowed.example'), 'no Origin value in the access log');
});

test('logs of all four gateways hold no secret value, client secret or token', async () => {
	for (const g of stack.gateways) assert.deepEqual(S.logLeaks(g), [], `logs of ${g.dir}`);
});
