'use strict';
/*
 * Policy variants that change URLs: a different base_path (/kv/v1) with
 * public_url set (ids and nextLink use public_url + base_path, never the
 * request's host nor the vault's), and two processes per program
 * (KVGATE_PROCS=2, as `make run` uses). The Azure SDK's SecretClient uses
 * {public_url}{base_path} as its vault URL, so its request shapes are replayed
 * here: GET {base}/secrets/{name}/?api-version=7.6 and list paging.
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const S = require('./stack.js');

const PUBLIC = 'https://gw.example.com';
let stack, gw, vault, seed, pub;

before(async () => {
	stack = await S.startStack('variants', { procs: 2, overrides: { gateway: { base_path: '/kv/v1' } } });
	({ gw, vault, seed } = stack);
	pub = await stack.gateway('public', { overrides: { gateway: { base_path: '/kv/v1', public_url: PUBLIC } } });
});

after(async () => {
	await S.stopStack(stack);
});

test('base_path /kv/v1: GET /kv/v1/secrets/{name} is served with the id at the request origin', async () => {
	const s = seed.byName.get('public-greeting');
	const res = await gw.get('/kv/v1/secrets/public-greeting/?api-version=7.6');
	assert.equal(res.status, 200, S.show(res));
	S.assertCommonHeaders(res);
	assert.ok(res.json.value === s.latest.value, 'seeded value');
	assert.equal(res.json.id, `${gw.origin}/secrets/public-greeting/${s.latest.id}`);
});

test('base_path /kv/v1: the list walk follows nextLink under /kv/v1 and reaches every exposed secret once', async () => {
	const { items, links } = await S.walk(gw, '/kv/v1/secrets?api-version=7.6&maxresults=9');
	for (const l of links) assert.ok(l.startsWith(`${gw.origin}/kv/v1/secrets?`), `nextLink under the base path: ${l}`);
	const names = items.map((i) => S.parseId(i.id).name.toLowerCase());
	const want = S.exposedSeed(seed)
		.filter((s) => s.enabled)
		.map((s) => s.name.toLowerCase());
	assert.deepEqual(want.filter((w) => !names.includes(w)), [], 'every exposed enabled secret');
	assert.equal(new Set(names).size, names.length, 'no duplicates');
});

test('base_path /kv/v1: errors, 405 and preflights work under the new base', async () => {
	S.assertError(await gw.get('/kv/v1/secrets/admin-password'), 404, 'SecretNotFound');
	S.assertError(await gw.get('/kv/v1/secrets/a_b'), 400, 'BadParameter');
	S.assertError(await gw.request('DELETE', '/kv/v1/secrets/public-greeting'), 405, 'MethodNotAllowed');
	const p = await gw.request('OPTIONS', '/kv/v1/secrets', { headers: { Origin: S.ALLOWED, 'Access-Control-Request-Method': 'GET' } });
	assert.equal(p.status, 204, S.show(p));
	assert.equal(p.headers['access-control-allow-origin'], S.ALLOWED);
});

test('base_path /kv/v1: /api/secrets is not the API any more (no secret, no JSON list)', async () => {
	const res = await S.noUpstream(vault, () => gw.get('/api/secrets/public-greeting'), '/api under /kv/v1');
	assert.notEqual(res.status, 200, S.show(res));
	assert.ok(!res.text.includes('demo-value'), 'no secret');
});

test('base_path /kv/v1: a path that only starts like the base (/kv/v10/secrets) is not the API', async () => {
	const res = await S.noUpstream(vault, () => gw.get('/kv/v10/secrets/public-greeting'), '/kv/v10');
	assert.notEqual(res.status, 200, S.show(res));
	assert.ok(!res.text.includes('demo-value'), 'no secret');
});

test('public_url set: ids use public_url, not the Host the request came with nor the vault', async () => {
	const s = seed.byName.get('public-rotating');
	const res = await pub.get('/kv/v1/secrets/public-rotating', { headers: { Host: 'attacker.example' } });
	assert.equal(res.status, 200, S.show(res));
	assert.equal(res.json.id, `${PUBLIC}/secrets/public-rotating/${s.latest.id}`);
	assert.ok(!res.text.includes('attacker.example') && !res.text.includes(`:${vault.port}`), S.show(res));
});

test('public_url set: nextLink is {public_url}{base_path}/secrets?… and its path works on the gateway', async () => {
	const first = await pub.get('/kv/v1/secrets?maxresults=5', { headers: { Host: 'attacker.example' } });
	assert.equal(first.status, 200, S.show(first));
	const link = first.json.nextLink;
	assert.ok(link && link.startsWith(`${PUBLIC}/kv/v1/secrets?`), `nextLink at public_url: ${link}`);
	assert.ok(!link.includes('attacker.example'), 'never the request Host');
	const { items } = await S.walk(pub, '/kv/v1/secrets?maxresults=5', { origin: PUBLIC });
	for (const i of items) assert.equal(S.parseId(i.id).origin, PUBLIC, `item id at public_url: ${i.id}`);
});

test('public_url set: versions ids use public_url too', async () => {
	const res = await pub.get('/kv/v1/secrets/public-rotating/versions');
	assert.equal(res.status, 200, S.show(res));
	for (const i of res.json.value) assert.ok(i.id.startsWith(`${PUBLIC}/secrets/public-rotating/`), i.id);
});

test("public_url set: it is the gateway's own origin for CORS (allowed and echoed)", async () => {
	const res = await pub.get('/kv/v1/secrets/public-greeting', { headers: { Origin: PUBLIC } });
	assert.equal(res.status, 200, S.show(res));
	S.assertCorsActual(res, PUBLIC);
});

test('public_url set: a Host header cannot make itself the own origin (Origin = Host origin is refused)', async () => {
	const res = await pub.get('/kv/v1/secrets/public-greeting', { headers: { Host: 'attacker.example', Origin: 'http://attacker.example' } });
	S.assertError(res, 403, 'Forbidden');
	S.assertNoCors(res);
});

test('KVGATE_PROCS=2: concurrent requests are all answered correctly', async () => {
	const names = S.exposedSeed(seed)
		.filter((s) => s.enabled && !s.latest.nbf && !s.latest.exp)
		.slice(0, 12);
	const results = await Promise.all(names.map((s) => gw.get(`/kv/v1/secrets/${s.name}`, { headers: { Origin: S.ALLOWED } })));
	results.forEach((res, i) => {
		assert.equal(res.status, 200, S.show(res));
		assert.ok(res.json.value === names[i].latest.value, `value of ${names[i].name}`);
		S.assertCorsActual(res, S.ALLOWED);
	});
	const lists = await Promise.all(Array.from({ length: 6 }, () => gw.get('/kv/v1/secrets?maxresults=4')));
	for (const l of lists) assert.equal(l.status, 200, S.show(l));
	const progs = gw.programs().map((p) => p.cmd);
	assert.ok(progs.filter((c) => c.includes('get-secret.fcgi')).length === 2, `two get-secret processes: ${progs.join(' | ')}`);
});

test('SIGTERM to lighttpd leaves none of the (2 per program) kvgate processes running', async () => {
	for (const g of stack.gateways) {
		const r = await g.stop();
		assert.deepEqual(r.leftover, [], `nothing left for ${g.dir}`);
	}
});

test('logs hold no secret value, client secret or token', async () => {
	for (const g of stack.gateways) assert.deepEqual(S.logLeaks(g), [], g.dir);
});
