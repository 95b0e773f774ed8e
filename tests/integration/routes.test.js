'use strict';
/*
 * The routes of design.md, over real sockets: lighttpd + the three programs
 * + the dev vault, default policy (allow public-* demo-*, deny *-internal
 * admin-*). Lists and paging, one secret (latest, a version, trailing '/'),
 * ids at the gateway, 404 for missing / disabled / denied alike, HEAD, 405,
 * and the headers every answer carries.
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const S = require('./stack.js');

let stack, gw, vault, seed;

before(async () => {
	stack = await S.startStack('routes');
	({ gw, vault, seed } = stack);
});

after(async () => {
	await S.stopStack(stack);
});

const exposed = () => S.exposedSeed(seed);
const hidden = () => seed.secrets.filter((s) => !S.visibleByPolicy(s.name, 'public-* demo-*', '*-internal admin-*'));
const secret = (name) => seed.byName.get(name.toLowerCase());
// Exposed, enabled, single-version secrets with plain values, for get tests.
const plainExposed = () => exposed().filter((s) => s.enabled && s.versions.length === 1 && !s.latest.nbf && !s.latest.exp);

function assertNoVaultHost(res) {
	const host = `127.0.0.1:${vault.port}`;
	assert.ok(!res.text.includes(host), `the body never names the vault's host:port ${host}\n${S.show(res)}`);
	assert.ok(!res.text.includes(vault.url), `the body never names the vault's URL\n${S.show(res)}`);
	for (const [k, v] of Object.entries(res.headers)) assert.ok(!String(v).includes(host), `header ${k} never names the vault\n${S.show(res)}`);
}

function assertBundle(res, s, version) {
	assert.equal(res.status, 200, S.show(res));
	S.assertCommonHeaders(res);
	const b = res.json;
	assert.ok(b && typeof b === 'object', `SecretBundle is a JSON object\n${S.show(res)}`);
	assert.equal(typeof b.value, 'string', `SecretBundle.value is a string\n${S.show(res)}`);
	assert.ok(b.value === version.value, `SecretBundle.value equals the seeded value of ${s.name} version ${version.id} (values not printed)`);
	const id = S.parseId(b.id);
	assert.ok(id, `SecretBundle.id parses as scheme://host/secrets/{name}/{version}: ${b.id}`);
	assert.equal(b.id, `${gw.origin}/secrets/${s.name}/${version.id}`, `SecretBundle.id is at the gateway's origin with the version`);
	assert.ok(b.attributes && typeof b.attributes === 'object', `SecretBundle.attributes\n${S.show(res)}`);
	assert.equal(b.attributes.enabled, true, `attributes.enabled\n${S.show(res)}`);
	if (version.contentType) assert.equal(b.contentType, version.contentType, `contentType as seeded\n${S.show(res)}`);
	if (b.kid !== undefined) assert.ok(!String(b.kid).includes(String(vault.port)), `kid never points at the vault: ${b.kid}`);
	assertNoVaultHost(res);
}

/* ---------------- lists ---------------- */

test('GET /api/secrets answers 200 with a SecretListResult {value:[…], nextLink} and the common headers', async () => {
	const res = await gw.get('/api/secrets');
	assert.equal(res.status, 200, S.show(res));
	S.assertCommonHeaders(res);
	assert.ok(res.json && Array.isArray(res.json.value), `value is an array\n${S.show(res)}`);
	assert.ok('nextLink' in res.json, `nextLink key present (null on the last page)\n${S.show(res)}`);
	for (const item of res.json.value) {
		assert.equal(item.value, undefined, `a SecretItem never carries a value\n${S.show(res)}`);
		assert.ok(item.attributes && typeof item.attributes === 'object', `SecretItem.attributes\n${S.show(res)}`);
	}
	assertNoVaultHost(res);
});

test('walking nextLink from /api/secrets visits every exposed secret exactly once and no hidden one', async (t) => {
	const { items, pages } = await S.walk(gw, '/api/secrets');
	const names = items.map((i) => (S.parseId(i.id) || {}).name);
	assert.ok(names.every(Boolean), `every item id parses: ${items.map((i) => i.id).join(' ')}`);
	const lower = names.map((n) => n.toLowerCase());
	const dupes = lower.filter((n, i) => lower.indexOf(n) !== i);
	assert.deepEqual(dupes, [], 'no secret listed twice');
	const leaked = names.filter((n) => !S.visibleByPolicy(n, 'public-* demo-*', '*-internal admin-*'));
	assert.deepEqual(leaked, [], 'no name hidden by policy in the list');
	const want = exposed().filter((s) => s.enabled).map((s) => s.name.toLowerCase());
	const missing = want.filter((n) => !lower.includes(n));
	assert.deepEqual(missing, [], 'every exposed enabled secret is listed');
	const disabledListed = exposed().filter((s) => !s.enabled && lower.includes(s.name.toLowerCase())).map((s) => s.name);
	t.diagnostic(`${pages.length} page(s), ${names.length} item(s); disabled secrets listed: ${disabledListed.join(', ') || 'none'}`);
	for (const p of pages) assert.ok(!p.text.includes('HIDDEN'), 'no hidden value marker in any page');
});

test('list item ids are scheme://host/secrets/{name} at the gateway origin, without version, never the vault host', async () => {
	const { items, pages } = await S.walk(gw, '/api/secrets?maxresults=25');
	assert.ok(items.length > 0, 'some items');
	for (const item of items) {
		const id = S.parseId(item.id);
		assert.ok(id, `id parses as a Key Vault identifier: ${item.id}`);
		assert.equal(id.origin, gw.origin, `id at the gateway origin: ${item.id}`);
		assert.equal(id.version, null, `a /secrets list id has no version: ${item.id}`);
	}
	for (const p of pages) assertNoVaultHost(p);
});

for (const n of [1, 7, 25]) {
	test(`maxresults=${n} gives at most ${n} items per page, and the walk still reaches every exposed secret`, async () => {
		const { pages, items, links } = await S.walk(gw, `/api/secrets?maxresults=${n}`, { limit: 400 });
		for (const p of pages) assert.ok(p.json.value.length <= n, `page has ${p.json.value.length} items > maxresults=${n}`);
		const lower = items.map((i) => S.parseId(i.id).name.toLowerCase());
		const want = exposed().filter((s) => s.enabled).map((s) => s.name.toLowerCase());
		assert.deepEqual(want.filter((w) => !lower.includes(w)), [], 'every exposed enabled secret reached');
		assert.equal(new Set(lower).size, lower.length, 'no duplicates across pages');
		for (const l of links) assert.match(l, new RegExp(`[?&]maxresults=${n}(&|$)`), `nextLink keeps maxresults=${n}: ${l}`);
	});
}

test('GET /api/secrets/ (trailing slash) is the same list as /api/secrets', async () => {
	const a = await gw.get('/api/secrets?maxresults=25');
	const b = await gw.get('/api/secrets/?maxresults=25');
	assert.equal(b.status, 200, S.show(b));
	S.assertCommonHeaders(b);
	assert.deepEqual(b.json.value.map((i) => i.id), a.json.value.map((i) => i.id), 'same items');
});

test('api-version from the caller is accepted (7.6, 2025-07-01, 2016-10-01) and not forwarded upstream', async (t) => {
	for (const v of ['7.6', '2025-07-01', '2016-10-01']) {
		const d = await S.upstreamDelta(vault, () => gw.get(`/api/secrets/public-greeting?api-version=${v}`));
		assert.equal(d.r.status, 200, S.show(d.r));
		const withQuery = d.requests.filter((r) => r.kind === 'vault' && r.query);
		for (const r of withQuery) assert.match(r.query, /(^|&)api-version=7\.6(&|$)/, `the policy's api-version (7.6) goes upstream, not the caller's ${v}: ${r.query}`);
		if (!withQuery.length) t.diagnostic(`dev vault stats carry no query for api-version=${v} (or the secret was cached)`);
	}
	const l = await gw.get('/api/secrets?api-version=7.6&maxresults=3');
	assert.equal(l.status, 200, S.show(l));
});

/* ---------------- versions ---------------- */

test('GET /api/secrets/public-rotating/versions lists every seeded version, ids with version at the gateway origin', async () => {
	const s = secret('public-rotating');
	const { items, pages } = await S.walk(gw, '/api/secrets/public-rotating/versions');
	S.assertCommonHeaders(pages[0]);
	const got = items.map((i) => {
		const id = S.parseId(i.id);
		assert.ok(id, `versions item id parses: ${i.id}`);
		assert.equal(id.origin, gw.origin, `id at the gateway: ${i.id}`);
		assert.ok(id.version, `a versions list id has a version: ${i.id}`);
		assert.equal(i.value, undefined, 'a SecretItem carries no value');
		return id.version.toLowerCase();
	});
	assert.deepEqual([...got].sort(), s.versions.map((v) => v.id.toLowerCase()).sort(), 'exactly the seeded versions');
	for (const p of pages) assertNoVaultHost(p);
});

test('versions list pages with maxresults=1 and its nextLink stays on /api/secrets/{name}/versions at the gateway', async () => {
	const s = secret('public-rotating');
	const { items, links, pages } = await S.walk(gw, '/api/secrets/public-rotating/versions?maxresults=1', { limit: 50 });
	assert.equal(items.length, s.versions.length, 'every version once');
	for (const p of pages) assert.ok(p.json.value.length <= 1, 'at most one item per page');
	for (const l of links) assert.ok(new URL(l).pathname === '/api/secrets/public-rotating/versions', `nextLink path: ${l}`);
});

for (const name of ['admin-password', 'public-internal', 'ADMIN-PASSWORD', 'Public-Internal', 'public-no-such-secret-7c1d', 'internal-db-password']) {
	test(`GET /api/secrets/${name}/versions (hidden or missing) answers 404 SecretNotFound, never the versions`, async () => {
		const res = await gw.get(`/api/secrets/${name}/versions`);
		S.assertError(res, 404, 'SecretNotFound');
		assert.ok(!res.text.includes('HIDDEN'), 'no hidden value marker');
	});
}

/* ---------------- one secret ---------------- */

test('GET /api/secrets/{name} returns the latest SecretBundle with the seeded value and a gateway id, for every exposed enabled secret', async () => {
	const all = exposed().filter((s) => s.enabled);
	assert.ok(all.length >= 20, 'seed has exposed secrets');
	for (const s of all) assertBundle(await gw.get(`/api/secrets/${s.name}`), s, s.latest);
});

test('keep-alive: 30 mixed requests on one connection are each answered whole and right (framing, no mix-ups)', async () => {
	const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
	try {
		const names = plainExposed().slice(0, 10);
		for (let i = 0; i < 10; i++) {
			const s = names[i];
			const a = await gw.get(`/api/secrets/${s.name}`, { agent, headers: { Origin: S.ALLOWED } });
			assert.equal(a.status, 200, S.show(a));
			assert.ok(a.json && a.json.value === s.latest.value, `value of ${s.name} on a reused connection`);
			const b = await gw.get('/api/secrets/admin-password', { agent });
			S.assertError(b, 404, 'SecretNotFound');
			const c = await gw.get('/api/secrets?maxresults=2', { agent });
			assert.equal(c.status, 200, S.show(c));
		}
	} finally {
		agent.destroy();
	}
});

test('GET /api/secrets/{name}/ (trailing slash, as the SDKs send it) answers the same bundle', async () => {
	const s = secret('public-greeting');
	const res = await gw.get('/api/secrets/public-greeting/?api-version=7.6');
	assertBundle(res, s, s.latest);
});

test('GET /api/secrets/public-rotating answers the latest of several versions', async () => {
	const s = secret('public-rotating');
	assertBundle(await gw.get('/api/secrets/public-rotating'), s, s.latest);
});

test('GET /api/secrets/public-rotating/{version} answers each older version by its id', async () => {
	const s = secret('public-rotating');
	for (const v of s.versions) assertBundle(await gw.get(`/api/secrets/public-rotating/${v.id}`), s, v);
});

test('a version id in upper-case hex is accepted (versions are hex, case-insensitive)', async () => {
	const s = secret('public-rotating');
	const v = s.versions[0];
	const res = await gw.get(`/api/secrets/public-rotating/${v.id.toUpperCase()}`);
	assert.equal(res.status, 200, S.show(res));
	assert.ok(res.json.value === v.value, 'value of that version');
});

test('a well-formed version that does not exist answers 404 SecretNotFound', async () => {
	const res = await gw.get('/api/secrets/public-rotating/0123456789abcdef0123456789abcdef');
	S.assertError(res, 404, 'SecretNotFound');
});

test('public-json-config keeps contentType application/json and its value verbatim', async () => {
	const s = secret('public-json-config');
	assertBundle(await gw.get('/api/secrets/public-json-config'), s, s.latest);
});

test('public-unicode: non-ASCII and control characters survive exactly, as valid JSON', async () => {
	const s = secret('public-unicode');
	const res = await gw.get('/api/secrets/public-unicode');
	assertBundle(res, s, s.latest);
	assert.ok(!/[\x00-\x1f]/.test(res.text), 'control characters are escaped in the JSON text');
	assert.ok(Buffer.from(res.text, 'utf8').equals(res.body), 'the body is valid UTF-8');
});

test('the 127-character seeded name (the maximum) is served', async () => {
	const s = seed.secrets.find((x) => x.name.length === 127);
	assert.ok(s, 'seed has a 127-character name');
	assertBundle(await gw.get(`/api/secrets/${s.name}`), s, s.latest);
});

test('names are case-insensitive like Key Vault: GET /api/secrets/PUBLIC-GREETING and demo-mixedcase are served', async () => {
	for (const [asked, name] of [['PUBLIC-GREETING', 'public-greeting'], ['demo-mixedcase', 'demo-MixedCase']]) {
		const res = await gw.get(`/api/secrets/${asked}`);
		assert.equal(res.status, 200, S.show(res));
		assert.ok(res.json.value === secret(name).latest.value, `value of ${name}`);
		const id = S.parseId(res.json.id);
		assert.ok(id && id.origin === gw.origin, `id at the gateway: ${res.json.id}`);
	}
});

for (const name of ['ADMIN-PASSWORD', 'Admin-Api-Key', 'PUBLIC-INTERNAL', 'Demo-Internal', 'INTERNAL-DB-PASSWORD']) {
	test(`deny holds ignoring case: GET /api/secrets/${name} answers 404, never the hidden value`, async () => {
		const res = await gw.get(`/api/secrets/${name}`);
		S.assertError(res, 404, 'SecretNotFound');
		assert.ok(!res.text.includes('HIDDEN'), 'no hidden value in the body');
	});
}

test('every hidden seeded secret answers 404 SecretNotFound and never its value', async () => {
	for (const s of hidden()) {
		const res = await gw.get(`/api/secrets/${s.name}`);
		S.assertError(res, 404, 'SecretNotFound');
		assert.ok(!s.versions.some((v) => res.text.includes(v.value)), `no value of ${s.name} in the body`);
		const v = await gw.get(`/api/secrets/${s.name}/${s.latest.id}`);
		S.assertError(v, 404, 'SecretNotFound');
	}
});

test('missing, disabled and denied secrets answer alike: 404 SecretNotFound, same header names, same body shape and message', async () => {
	const cases = {
		missing: 'public-no-such-secret-41ab',
		disabled: 'public-disabled',
		'latest disabled': 'demo-latest-disabled',
		'denied by deny': 'public-internal',
		'denied by deny (admin)': 'admin-password',
		'not allowed': 'db-password',
	};
	const got = {};
	for (const [what, name] of Object.entries(cases)) {
		for (const origin of [undefined, S.ALLOWED]) {
			const res = await gw.get(`/api/secrets/${name}`, { headers: origin ? { Origin: origin } : {} });
			S.assertError(res, 404, 'SecretNotFound');
			const key = `${what}${origin ? ' (CORS)' : ''}`;
			got[key] = {
				headers: Object.keys(res.headers).filter((h) => h !== 'date' && h !== 'content-length').sort().join(' '),
				body: JSON.stringify(res.json, (k, v) => (typeof v === 'string' ? v.split(name).join('{name}') : v)),
				keys: JSON.stringify(Object.keys(res.json)) + JSON.stringify(Object.keys(res.json.error)),
			};
		}
	}
	for (const suffix of ['', ' (CORS)']) {
		const ref = got[`missing${suffix}`];
		for (const [k, v] of Object.entries(got)) {
			if (!k.endsWith(suffix) || (suffix === '' && k.endsWith(' (CORS)'))) continue;
			assert.equal(v.headers, ref.headers, `header names of "${k}" differ from "missing"`);
			assert.equal(v.keys, ref.keys, `body shape of "${k}" differs from "missing"`);
			assert.equal(v.body, ref.body, `body of "${k}" (name replaced) differs from "missing": a caller could tell them apart`);
		}
	}
});

test('a disabled secret stays 404 by its version id too, and an enabled older version of demo-latest-disabled is served', async () => {
	const d = secret('public-disabled');
	S.assertError(await gw.get(`/api/secrets/public-disabled/${d.latest.id}`), 404, 'SecretNotFound');
	const s = secret('demo-latest-disabled');
	const old = s.versions.find((v) => v.enabled);
	const dis = s.versions.find((v) => !v.enabled);
	S.assertError(await gw.get(`/api/secrets/demo-latest-disabled/${dis.id}`), 404, 'SecretNotFound');
	assertBundle(await gw.get(`/api/secrets/demo-latest-disabled/${old.id}`), s, old);
});

/* ---------------- forged paging tokens ---------------- */

function token(url) {
	return Buffer.from(url).toString('base64url');
}

for (const [what, url] of [
	['another host', 'https://evil.example/secrets?api-version=7.6&$skiptoken=x'],
	['the vault with another port', () => `https://127.0.0.1:1/secrets?api-version=7.6`],
	['a hidden secret of the vault (get)', () => `${vault.url}/secrets/admin-password?api-version=7.6`],
	['the versions of a hidden secret', () => `${vault.url}/secrets/admin-password/versions?api-version=7.6`],
	['plain http to the vault host', () => `http://127.0.0.1:${vault.port}/secrets?api-version=7.6`],
]) {
	test(`a forged $skiptoken pointing at ${what} is refused with 400 and never reaches the vault`, async () => {
		const u = typeof url === 'function' ? url() : url;
		const res = await S.noUpstream(vault, () => gw.get(`/api/secrets?api-version=7.6&$skiptoken=${token(u)}`), 'a forged paging token');
		S.assertError(res, 400, 'BadParameter');
		assert.ok(!res.text.includes('HIDDEN'), 'no hidden value');
	});
}

/*
 * The gateway sends its Bearer token to whatever URL a paging token names, so
 * a forged token must never make it connect anywhere but the vault. A trap
 * listener on another local port counts connection attempts.
 */
test('forged $skiptokens naming another port, userinfo tricks or dot segments never make the gateway connect elsewhere', async () => {
	let hits = 0;
	const trap = net.createServer((s) => {
		hits++;
		s.destroy();
	});
	await new Promise((r) => trap.listen(0, '127.0.0.1', r));
	const tp = trap.address().port;
	const vp = vault.port;
	try {
		const forged = [
			[`/api/secrets`, `https://127.0.0.1:${tp}/secrets?api-version=7.6`],
			[`/api/secrets`, `https://localhost:${tp}/secrets?api-version=7.6`],
			[`/api/secrets`, `https://127.0.0.1:${vp}@127.0.0.1:${tp}/secrets?api-version=7.6`],
			[`/api/secrets`, `https://127.0.0.1:${tp}#@127.0.0.1:${vp}/secrets?api-version=7.6`],
			[`/api/secrets`, `https://127.0.0.1:${tp}\@127.0.0.1:${vp}/secrets?api-version=7.6`],
			[`/api/secrets`, `https://127.0.0.1:${vp}/secrets/../secrets/admin-password?api-version=7.6`],
			[`/api/secrets`, `https://127.0.0.1:${vp}/secrets/%2e%2e/secrets/admin-password?api-version=7.6`],
			[`/api/secrets`, `https://127.0.0.1:${vp}//secrets/admin-password/versions?api-version=7.6`],
			[`/api/secrets/public-rotating/versions`, `https://127.0.0.1:${vp}/secrets/admin-password/versions?api-version=7.6`],
			[`/api/secrets/public-rotating/versions`, `https://127.0.0.1:${vp}/secrets/ADMIN-PASSWORD/versions?api-version=7.6`],
			[`/api/secrets/public-rotating/versions`, `https://127.0.0.1:${vp}/secrets?api-version=7.6`],
		];
		for (const [route, url] of forged) {
			const res = await S.noUpstream(vault, () => gw.get(`${route}?api-version=7.6&$skiptoken=${token(url)}`), `a paging token for ${url}`);
			assert.equal(res.status, 400, `a forged token (${url}) on ${route} is refused\n${S.show(res)}`);
			assert.ok(!res.text.includes('HIDDEN'), 'no hidden value');
		}
		assert.equal(hits, 0, 'the gateway never connected to the trap port');
	} finally {
		trap.close();
	}
});

test('a $skiptoken that is not base64url, or decodes to junk, answers 400 BadParameter without an upstream call', async () => {
	for (const t of ['!!!!', 'AAAA', token('\u0001\u0002garbage')]) {
		const res = await S.noUpstream(vault, () => gw.get(`/api/secrets?$skiptoken=${encodeURIComponent(t)}`), `$skiptoken=${t}`);
		S.assertError(res, 400, 'BadParameter');
	}
});

test('a paging token from /api/secrets replayed on /api/secrets/{name}/versions is refused, not followed', async () => {
	const first = await gw.get('/api/secrets?maxresults=1');
	assert.equal(first.status, 200, S.show(first));
	assert.ok(first.json.nextLink, 'first page has a nextLink');
	const u = new URL(first.json.nextLink);
	const res = await gw.get(`/api/secrets/public-rotating/versions${u.search}`);
	assert.ok(res.status === 400 || res.status === 404, `status 400 or 404, not a page of another list\n${S.show(res)}`);
	S.assertCommonHeaders(res);
});

/* ---------------- HEAD ---------------- */

for (const [what, p] of [
	['the list', '/api/secrets?maxresults=5'],
	['one secret', '/api/secrets/public-greeting'],
	['versions', '/api/secrets/public-rotating/versions'],
	['a 404', '/api/secrets/admin-password'],
	['a 400', '/api/secrets/bad_name'],
]) {
	test(`HEAD on ${what} answers the status and headers of GET with no body`, async () => {
		const g = await gw.get(p, { headers: { Origin: S.ALLOWED } });
		const h = await gw.request('HEAD', p, { headers: { Origin: S.ALLOWED } });
		assert.equal(h.status, g.status, `HEAD status equals GET status\nGET: ${S.show(g)}\nHEAD: ${S.show(h)}`);
		assert.equal(h.body.length, 0, `HEAD has no body\n${S.show(h)}`);
		const names = (r) =>
			Object.keys(r.headers)
				.filter((k) => !['date', 'content-length', 'transfer-encoding', 'connection'].includes(k))
				.sort();
		assert.deepEqual(names(h), names(g), 'same header names as GET');
		for (const k of ['content-type', 'cache-control', 'x-content-type-options', 'vary', 'access-control-allow-origin', 'access-control-expose-headers', 'allow'])
			assert.equal(h.headers[k], g.headers[k], `${k} equals GET's`);
	});
}

/* ---------------- methods ---------------- */

for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
	for (const p of ['/api/secrets', '/api/secrets/public-greeting', '/api/secrets/public-rotating/versions', '/api/secrets/admin-password']) {
		test(`${method} ${p} answers 405 MethodNotAllowed with Allow: GET, HEAD, OPTIONS and no upstream call`, async () => {
			const body = method === 'DELETE' ? undefined : '{"value":"x"}';
			const headers = body ? { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } : {};
			const res = await S.noUpstream(vault, () => gw.request(method, p, { headers, body }), `${method} ${p}`);
			S.assertError(res, 405, 'MethodNotAllowed');
			const allow = (res.headers.allow || '').split(/\s*,\s*/).map((m) => m.toUpperCase());
			for (const m of ['GET', 'HEAD', 'OPTIONS']) assert.ok(allow.includes(m), `Allow lists ${m}\n${S.show(res)}`);
			for (const m of ['POST', 'PUT', 'DELETE', 'PATCH']) assert.ok(!allow.includes(m), `Allow does not list ${m}`);
		});
	}
}

test('405 from an allowed origin carries the CORS headers too', async () => {
	const res = await gw.request('DELETE', '/api/secrets/public-greeting', { headers: { Origin: S.ALLOWED } });
	S.assertError(res, 405, 'MethodNotAllowed');
	S.assertCorsActual(res, S.ALLOWED);
});

/* ---------------- headers on everything ---------------- */

test('Content-Type, Cache-Control: no-store, nosniff and Vary: Origin on 200, 400, 403, 404 and 405 alike', async () => {
	const cases = [
		[200, () => gw.get('/api/secrets/public-greeting')],
		[200, () => gw.get('/api/secrets?maxresults=2')],
		[400, () => gw.get('/api/secrets/a_b')],
		[403, () => gw.get('/api/secrets', { headers: { Origin: S.EVIL } })],
		[404, () => gw.get('/api/secrets/admin-password')],
		[405, () => gw.request('POST', '/api/secrets', { body: '', headers: { 'Content-Length': '0' } })],
	];
	for (const [status, f] of cases) {
		const res = await f();
		assert.equal(res.status, status, S.show(res));
		S.assertCommonHeaders(res);
	}
});

test('answers never name the vault, nor hold Set-Cookie or Server version details', async () => {
	for (const p of ['/api/secrets/public-greeting', '/api/secrets?maxresults=25', '/api/secrets/admin-password', '/api/secrets/a_b']) {
		const res = await gw.get(p);
		assertNoVaultHost(res);
		assert.equal(res.headers['set-cookie'], undefined, 'no Set-Cookie');
	}
});

test('the vault connection is reused across requests (keep-alive): 20 requests open at most one new TLS connection per program', async () => {
	// Warm both programs up so each holds its connection.
	await gw.get('/api/secrets/public-rotating/versions');
	await gw.get('/api/secrets/public-greeting');
	const before = await vault.stats();
	const names = plainExposed().slice(0, 10);
	// Each list page asks for another size: a page the cache does not hold.
	for (const [i, s] of names.entries()) {
		await gw.get(`/api/secrets/${s.name}`);
		await gw.get(`/api/secrets/public-rotating/versions?maxresults=${i + 3}`);
	}
	const after = await vault.stats();
	const conns = after.connections - before.connections;
	assert.ok(after.vault - before.vault >= 10, 'the list calls reached the vault');
	assert.ok(conns <= 2, `new TLS connections to the vault: ${conns} for ${after.vault - before.vault} calls (each program should reuse its handle)`);
});

/* ---------------- end ---------------- */

test(`SIGTERM to ${S.SERVER} ends it and every kvgate program it started; none is left running`, async (t) => {
	// lighttpd starts every program with itself; mod_fcgid starts each on its
	// first request, so make sure each route was used.
	if (gw.server === 'apache') {
		await gw.request('OPTIONS', '/api/secrets', { headers: { Origin: S.ALLOWED, 'Access-Control-Request-Method': 'GET' } });
		await gw.get('/api/secrets?maxresults=1');
		await gw.get('/api/secrets/public-greeting');
	}
	const progs = gw.programs().map((p) => p.cmd);
	for (const p of S.PROGRAMS) assert.ok(progs.some((c) => c.includes(`${p}.fcgi`)), `${gw.server} runs ${p}.fcgi: ${progs.join(' | ')}`);
	const r = await gw.stop();
	assert.deepEqual(r.leftover, [], `no kvgate program left running after ${gw.server} exited`);
	t.diagnostic(`${gw.server} exit: ${JSON.stringify({ code: r.code, signal: r.signal })}`);
});

// After the stop: lighttpd buffers its access log until it exits.
test('error.log, access.log and lighttpd stderr hold no secret value, client secret or token after the whole file', async () => {
	const leaks = S.logLeaks(gw);
	assert.deepEqual(leaks, [], 'logs leak');
	for (const text of [gw.log('error.log'), gw.log('access.log'), gw.output()]) assert.ok(!text.includes('HIDDEN'), 'no hidden value marker in logs');
	assert.match(gw.log('access.log'), /"GET \/api\/secrets\/public-greeting HTTP\/1\.1" 200 /, 'the access log was written (checked after lighttpd flushed it)');
});
