'use strict';
/*
 * CORS end to end through lighttpd, for the rules issue 4 added (README,
 * "CORS"): subdomain patterns, Private Network Access, terminate_unmatched =
 * false, several Origin headers (which lighttpd joins into one value), and
 * credentials with a pattern; plus the policies the programs refuse to start
 * with. Gateways, sharing one dev vault:
 *   default  stack.js's policy (exact origins)
 *   pat      allowed_origins https://*.example.com, http://*.example.test:8081
 *   pna      allowed_origins http://allowed.example:8081, allow_private_network
 *   noterm   the default policy with terminate_unmatched = false
 *   cred     https://app.example.com and https://*.corp.example.com with
 *            credentials, Authorization named
 * tests/unit/test_cors_table.c holds the full table; these check that the
 * gateway wires it to the wire.
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const S = require('./stack.js');

let stack, gw, vault, pat, pna, noterm, cred;

before(async () => {
	stack = await S.startStack('cors-more');
	({ gw, vault } = stack);
	pat = await stack.gateway('pat', { overrides: { cors: { allowed_origins: 'https://*.example.com, http://*.example.test:8081' } } });
	pna = await stack.gateway('pna', { overrides: { cors: { allow_private_network: 'true' } } });
	noterm = await stack.gateway('noterm', { overrides: { cors: { terminate_unmatched: 'false' } } });
	cred = await stack.gateway('cred', {
		overrides: { cors: { allowed_origins: 'https://app.example.com https://*.corp.example.com', allow_credentials: 'true', allowed_headers: 'x-ms-client-request-id, Authorization' } },
	});
});

after(async () => {
	await S.stopStack(stack);
});

const SECRET = '/api/secrets/public-greeting';
const PREFLIGHT_VARY = ['origin', 'access-control-request-method', 'access-control-request-headers'];

function preflight(g, origin, method = 'GET', extra = {}) {
	const headers = { ...extra };
	if (origin !== undefined) headers.Origin = origin;
	if (method !== undefined) headers['Access-Control-Request-Method'] = method;
	return g.request('OPTIONS', SECRET, { headers });
}

function assertVary(res, tokens) {
	const v = S.varyTokens(res);
	for (const t of tokens) assert.ok(v.includes(t), `Vary holds ${t}\n${S.show(res)}`);
}

// The answer to a refused request: 403 in Key Vault's envelope, no Access-Control-*.
function assertRefused(res) {
	S.assertError(res, 403, 'Forbidden');
	S.assertNoCors(res);
}

/* ---------------- subdomain patterns ---------------- */

for (const origin of ['https://a.example.com', 'https://a.b.example.com', 'https://xn--bcher-kva.example.com', 'http://dev.example.test:8081']) {
	test(`pattern: ${origin} matches and is echoed exactly on a 200`, async () => {
		const res = await pat.get(SECRET, { headers: { Origin: origin } });
		assert.equal(res.status, 200, S.show(res));
		S.assertCorsActual(res, origin);
		assertVary(res, ['origin']);
	});
}

for (const origin of [
	'https://example.com', // the apex is not included
	'https://evilexample.com', // the dot boundary is part of the pattern
	'https://appXexample.com', // an unescaped-dot RegExp would match this
	'https://a.example.com.evil.net', // suffix trick (Kettle 2016)
	'https://example.com.evil',
	'http://a.example.com', // scheme exact
	'https://a.example.com:8443', // port exact
	'http://dev.example.test', // the pattern's port is required
	'http://dev.example.test:8082',
	'https://A.example.com', // browsers send lower case
	'https://a.example.com/', // no trailing slash
	'null', // never allowed by a pattern
	'https://a.example.com, https://b.example.com', // several origins in one header
]) {
	test(`pattern: ${origin} is refused with 403, no Access-Control-*, no upstream call`, async () => {
		const res = await S.noUpstream(vault, () => pat.get(SECRET, { headers: { Origin: origin } }), origin);
		assertRefused(res);
		assertVary(res, ['origin']);
	});
}

test('pattern: a preflight from a matching subdomain is allowed, all Access-Control-* present', async () => {
	const res = await S.noUpstream(vault, () => preflight(pat, 'https://a.b.example.com', 'GET', { 'Access-Control-Request-Headers': 'X-MS-Client-Request-Id' }));
	assert.equal(res.status, 204, S.show(res));
	assert.equal(res.headers['access-control-allow-origin'], 'https://a.b.example.com', S.show(res));
	assert.equal(res.headers['access-control-allow-headers'], 'x-ms-client-request-id', S.show(res));
	assert.equal(res.headers['access-control-allow-methods'], 'GET, HEAD', S.show(res));
	assert.equal(res.headers['access-control-max-age'], '600', S.show(res));
	assert.equal(res.headers['access-control-allow-private-network'], undefined, S.show(res));
	assertVary(res, PREFLIGHT_VARY);
});

test('pattern: a preflight from the apex is refused with 403 and no Access-Control-*', async () => {
	const res = await preflight(pat, 'https://example.com');
	assertRefused(res);
	assertVary(res, PREFLIGHT_VARY);
});

/* ---------------- Private Network Access ---------------- */

test('PNA: an allowed preflight with Access-Control-Request-Private-Network: true gets Access-Control-Allow-Private-Network: true', async () => {
	const res = await S.noUpstream(vault, () => preflight(pna, S.ALLOWED, 'GET', { 'Access-Control-Request-Private-Network': 'true' }));
	assert.equal(res.status, 204, S.show(res));
	assert.equal(res.headers['access-control-allow-origin'], S.ALLOWED, S.show(res));
	assert.equal(res.headers['access-control-allow-private-network'], 'true', S.show(res));
	assertVary(res, [...PREFLIGHT_VARY, 'access-control-request-private-network']);
});

test('PNA: without the request header, no Access-Control-Allow-Private-Network', async () => {
	const res = await preflight(pna, S.ALLOWED);
	assert.equal(res.status, 204, S.show(res));
	assert.equal(res.headers['access-control-allow-private-network'], undefined, S.show(res));
});

test('PNA: a disallowed origin asking for the private network gets 403 and nothing', async () => {
	const res = await preflight(pna, S.EVIL, 'GET', { 'Access-Control-Request-Private-Network': 'true' });
	assertRefused(res);
	assert.equal(res.headers['access-control-allow-private-network'], undefined, S.show(res));
});

test('PNA: off (the default), the CORS verdict stands but Access-Control-Allow-Private-Network is never sent', async () => {
	const res = await preflight(gw, S.ALLOWED, 'GET', { 'Access-Control-Request-Private-Network': 'true' });
	assert.equal(res.status, 204, S.show(res));
	assert.equal(res.headers['access-control-allow-origin'], S.ALLOWED, S.show(res));
	assert.equal(res.headers['access-control-allow-private-network'], undefined, S.show(res));
});

test('PNA: an actual request never carries Access-Control-Allow-Private-Network', async () => {
	const res = await pna.get(SECRET, { headers: { Origin: S.ALLOWED, 'Access-Control-Request-Private-Network': 'true' } });
	assert.equal(res.status, 200, S.show(res));
	assert.equal(res.headers['access-control-allow-private-network'], undefined, S.show(res));
});

/* ---------------- terminate_unmatched = false ---------------- */

test('terminate_unmatched = false: a disallowed origin is served, without any Access-Control-* header', async () => {
	const res = await noterm.get(SECRET, { headers: { Origin: S.EVIL } });
	assert.equal(res.status, 200, S.show(res));
	S.assertNoCors(res);
	assert.equal(res.json && typeof res.json.value, 'string', S.show(res));
	assertVary(res, ['origin']);
});

test('terminate_unmatched = false: "null" and several origins are served without CORS headers too', async () => {
	for (const origin of ['null', `${S.ALLOWED}, ${S.EVIL}`]) {
		const res = await noterm.get(SECRET, { headers: { Origin: origin } });
		assert.equal(res.status, 200, S.show(res));
		S.assertNoCors(res);
	}
});

test('terminate_unmatched = false: an allowed origin still gets its CORS headers', async () => {
	const res = await noterm.get(SECRET, { headers: { Origin: S.ALLOWED } });
	assert.equal(res.status, 200, S.show(res));
	S.assertCorsActual(res, S.ALLOWED);
});

for (const [what, origin, method, extra] of [
	['origin', S.EVIL, 'GET', {}],
	['method', S.ALLOWED, 'DELETE', {}],
	['header', S.ALLOWED, 'GET', { 'Access-Control-Request-Headers': 'x-evil' }],
]) {
	test(`terminate_unmatched = false: a preflight refused for its ${what} gets an empty 204 without Access-Control-*`, async () => {
		const res = await S.noUpstream(vault, () => preflight(noterm, origin, method, extra));
		assert.equal(res.status, 204, S.show(res));
		assert.equal(res.body.length, 0, S.show(res));
		S.assertNoCors(res);
		assertVary(res, PREFLIGHT_VARY);
	});
}

test('terminate_unmatched = true (the default): the same preflight is a 403', async () => {
	assertRefused(await preflight(gw, S.EVIL));
});

/* ---------------- several Origin headers ---------------- */

function rawGet(g, origins, method = 'GET', extra = '') {
	const lines = [`${method} ${SECRET} HTTP/1.1`, `Host: 127.0.0.1:${g.port}`];
	for (const o of origins) lines.push(`Origin: ${o}`);
	return g.raw(`${lines.join('\r\n')}\r\n${extra}Connection: close\r\n\r\n`);
}

test('two Origin headers, both allowed: refused (the web server joins them into one list), no Access-Control-*', async () => {
	const res = await S.noUpstream(vault, () => rawGet(gw, [S.ALLOWED, S.ALLOWED]));
	assert.equal(res.status, 403, res.raw);
	assert.ok(!/^access-control-/im.test(res.raw), `no Access-Control-* header\n${res.raw}`);
});

test('two Origin headers, allowed then evil: refused, the allowed one is never echoed', async () => {
	const res = await rawGet(gw, [S.ALLOWED, S.EVIL]);
	assert.equal(res.status, 403, res.raw);
	assert.ok(!/^access-control-/im.test(res.raw), res.raw);
});

test('two Origin headers matching a pattern: refused', async () => {
	const res = await rawGet(pat, ['https://a.example.com', 'https://b.example.com']);
	assert.equal(res.status, 403, res.raw);
	assert.ok(!/^access-control-/im.test(res.raw), res.raw);
});

test('two Origin headers on a preflight: refused', async () => {
	const res = await rawGet(gw, [S.ALLOWED, S.ALLOWED], 'OPTIONS', 'Access-Control-Request-Method: GET\r\n');
	assert.equal(res.status, 403, res.raw);
	assert.ok(!/^access-control-/im.test(res.raw), res.raw);
});

test('two Origin headers with terminate_unmatched = false: served without Access-Control-*', async () => {
	const res = await rawGet(noterm, [S.ALLOWED, S.ALLOWED]);
	assert.equal(res.status, 200, res.raw);
	assert.ok(!/^access-control-/im.test(res.raw), res.raw);
});

test('one Origin header holding two origins: refused', async () => {
	assertRefused(await gw.get(SECRET, { headers: { Origin: `${S.ALLOWED} ${S.ALLOWED2}` } }));
	assertRefused(await gw.get(SECRET, { headers: { Origin: `${S.ALLOWED},${S.ALLOWED}` } }));
});

/* ---------------- credentials ---------------- */

for (const origin of ['https://app.example.com', 'https://x.corp.example.com']) {
	test(`credentials: ${origin} is echoed (never *) with Access-Control-Allow-Credentials: true`, async () => {
		const res = await cred.get(SECRET, { headers: { Origin: origin } });
		assert.equal(res.status, 200, S.show(res));
		S.assertCorsActual(res, origin, { credentials: true });
	});
}

test('credentials: a preflight asking for Authorization (named in the policy) is allowed', async () => {
	const res = await preflight(cred, 'https://x.corp.example.com', 'GET', { 'Access-Control-Request-Headers': 'authorization,x-ms-client-request-id' });
	assert.equal(res.status, 204, S.show(res));
	assert.equal(res.headers['access-control-allow-origin'], 'https://x.corp.example.com', S.show(res));
	assert.equal(res.headers['access-control-allow-credentials'], 'true', S.show(res));
	assert.equal(res.headers['access-control-allow-headers'], 'authorization, x-ms-client-request-id', S.show(res));
});

for (const origin of ['https://corp.example.com', 'https://evilcorp.example.com', 'https://x.corp.example.com.evil.net', 'null']) {
	test(`credentials: ${origin} is refused`, async () => {
		assertRefused(await cred.get(SECRET, { headers: { Origin: origin } }));
	});
}

/* ---------------- policies the programs refuse ---------------- */

// Run preflight.fcgi --check on a policy with overrides; returns { code, stderr }.
function check(name, overrides) {
	const d = path.join(stack.dir, `check-${name}`);
	fs.mkdirSync(d, { recursive: true });
	const ini = path.join(d, 'kvgate.ini');
	fs.writeFileSync(ini, S.policy(vault, d, overrides).text);
	const r = spawnSync(path.join(S.ROOT, 'cgi-bin', 'preflight.fcgi'), ['--check'], {
		env: { PATH: process.env.PATH, KVGATE_CONFIG: ini },
		stdio: ['ignore', 'pipe', 'pipe'],
		timeout: 15000,
	});
	return { code: r.status, stderr: (r.stderr || '').toString('utf8'), ini };
}

for (const [what, cors, want] of [
	['a pattern on a shared hosting domain with credentials', { allowed_origins: 'https://*.azurewebsites.net', allow_credentials: 'true' }, '[cors] allowed_origins: "https://*.azurewebsites.net" matches nearly everything'],
	['a pattern on one label', { allowed_origins: 'https://*.com' }, '[cors] allowed_origins: "https://*.com" matches nearly everything'],
	['allow_private_network with *', { allowed_origins: '*', allow_private_network: 'true' }, '[cors] allow_private_network: cannot be true with allowed_origins = *'],
	['a partial-label wildcard', { allowed_origins: 'https://app-*.example.com' }, '[cors] allowed_origins: "https://app-*.example.com" is not a pattern'],
]) {
	test(`the programs refuse to start with ${what}, naming the key`, () => {
		const r = check(what.replace(/\W+/g, '-'), { cors });
		assert.equal(r.code, 1, r.stderr);
		assert.ok(r.stderr.includes(`${r.ini}: ${want}`), r.stderr);
	});
}

test('the programs start with a broad pattern without credentials (narrower than *)', () => {
	const r = check('broad-ok', { cors: { allowed_origins: 'https://*.azurestaticapps.net' } });
	assert.equal(r.code, 0, r.stderr);
});
