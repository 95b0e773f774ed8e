'use strict';
/*
 * [secrets] keys end to end (README: [secrets], [origin "…"] sections):
 * lighttpd + the programs + the dev vault and its seed, one gateway per
 * policy variant. Each key is driven through real requests, every denial
 * is compared with the answer for a secret that does not exist (same
 * status, same body but for the name, same header names and values), lists
 * are checked against GETs of the same names, and [origin "…"] sections
 * are picked by the request's exact Origin (none: [secrets]).
 *
 * Seed secrets used: public-expiring (window open), public-expired,
 * public-not-yet-valid, public-disabled, demo-latest-disabled (its latest
 * version disabled), public-rotating (5 versions, tag generation=N),
 * env=dev tagged ones, admin-* (hidden by [secrets]).
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const S = require('./stack.js');

const ADMIN = 'http://admin.example:8082';
const ORIGINS = `${S.ALLOWED}, ${S.ALLOWED2}, ${ADMIN}`;
const MISSING = 'public-no-such-secret';

let stack, vault, seed;
let prod; // the new keys at their defaults, plus an admin origin section
let tags; // require_tags = env=dev; ALLOWED2: generation=5 with versions
let flags; // every default flipped; ALLOWED: allow_list back on

before(async () => {
	stack = await S.startStack('secrets-policy', {
		overrides: {
			cors: { allowed_origins: ORIGINS },
			// The production defaults: the harness sets these two for the other files.
			secrets: { allow_versions: null, serve_expired: null },
			[`origin "${ADMIN}"`]: { allow: 'public-* demo-* admin-*', deny: '*-internal', allow_versions: 'true' },
		},
	});
	({ vault, seed } = stack);
	prod = stack.gw;
	tags = await stack.gateway('tags', {
		overrides: {
			cors: { allowed_origins: ORIGINS },
			secrets: { require_tags: 'env=dev', allow_versions: 'false' },
			[`origin "${S.ALLOWED2}"`]: { require_tags: 'generation=5', allow_versions: 'true' },
		},
	});
	flags = await stack.gateway('flags', {
		overrides: {
			cors: { allowed_origins: ORIGINS },
			secrets: { allow_list: 'false', hide_disabled: 'false', serve_expired: 'true', expose_vault_url: 'true', allow_versions: 'true' },
			[`origin "${S.ALLOWED}"`]: { allow_list: 'true' },
		},
	});
});

after(async () => {
	await S.stopStack(stack);
});

const secret = (name) => seed.byName.get(name.toLowerCase());
const headersOf = (origin) => (origin ? { Origin: origin } : {});

// Header names of an answer, sorted; and the values that must not differ.
const headerNames = (res) => Object.keys(res.headers).sort();
const SAME_VALUES = ['content-type', 'cache-control', 'x-content-type-options', 'vary', 'access-control-allow-origin', 'access-control-expose-headers', 'access-control-allow-credentials'];

/*
 * res must be indistinguishable from gw's answer for a secret that does not
 * exist, asked with the same Origin: 404 SecretNotFound, the same body with
 * the name swapped, the same header names and the same header values (but
 * Date and Content-Length, which vary with time and the name's length).
 */
async function assertLikeMissing(gw, res, name, origin) {
	const ref = await gw.get(`/api/secrets/${MISSING}`, { headers: headersOf(origin) });
	S.assertError(ref, 404, 'SecretNotFound');
	S.assertError(res, 404, 'SecretNotFound');
	assert.equal(res.text.split(name).join('NAME'), ref.text.split(MISSING).join('NAME'), `the body is a missing secret's, name aside\n${S.show(res)}\n${S.show(ref)}`);
	assert.deepEqual(headerNames(res), headerNames(ref), `the same header names as for a missing secret\n${S.show(res)}\n${S.show(ref)}`);
	for (const h of SAME_VALUES) assert.equal(res.headers[h], ref.headers[h], `header ${h} as for a missing secret\n${S.show(res)}`);
	assert.ok(!res.text.includes('demo-value'), 'no value in a denial');
}

// The names a list walk shows, lower-cased.
async function listed(gw, origin, p = '/api/secrets?maxresults=25') {
	const { items } = await S.walk(gw, p, { headers: headersOf(origin) });
	return items.map((i) => S.parseId(i.id).name.toLowerCase());
}

/* ---------------- every denial looks like absence ---------------- */

test('defaults: each denial answers exactly like a missing secret (no Origin and an allowed Origin)', async () => {
	const rot = secret('public-rotating');
	const old = rot.versions[0].id;
	const denials = [
		['admin-password', '/api/secrets/admin-password', 'hidden by deny'],
		['public-disabled', '/api/secrets/public-disabled', 'disabled'],
		['public-expired', '/api/secrets/public-expired', 'exp passed (serve_expired = false)'],
		['public-not-yet-valid', '/api/secrets/public-not-yet-valid', 'nbf ahead (serve_expired = false)'],
		['public-rotating', `/api/secrets/public-rotating/${old}`, 'a version (allow_versions = false)'],
		['public-rotating', '/api/secrets/public-rotating/versions', 'the versions list (allow_versions = false)'],
		['demo-latest-disabled', '/api/secrets/demo-latest-disabled', 'latest version disabled'],
	];
	for (const origin of [null, S.ALLOWED]) {
		for (const [name, p, why] of denials) {
			const res = await prod.get(p, { headers: headersOf(origin) });
			await assertLikeMissing(prod, res, name, origin).catch((e) => {
				e.message = `${why} (${p}, Origin ${origin}): ${e.message}`;
				throw e;
			});
		}
	}
});

test('defaults: versions are refused before any call to the vault; the latest version is served', async () => {
	const rot = secret('public-rotating');
	await S.noUpstream(vault, () => prod.get(`/api/secrets/public-rotating/${rot.versions[0].id}`), 'a version with allow_versions = false');
	await S.noUpstream(vault, () => prod.get('/api/secrets/public-rotating/versions'), 'versions with allow_versions = false');
	const res = await prod.get('/api/secrets/public-rotating');
	assert.equal(res.status, 200, S.show(res));
	assert.ok(res.json.value === rot.latest.value, 'the latest value');
	assert.equal(res.json.id, `${prod.origin}/secrets/public-rotating/${rot.latest.id}`, 'the id at the gateway, with its version');
});

test('defaults: a secret inside its nbf/exp window is served; one outside is not', async () => {
	const ok = await prod.get('/api/secrets/public-expiring');
	assert.equal(ok.status, 200, S.show(ok));
	assert.ok(ok.json.value === secret('public-expiring').latest.value, 'its value');
	S.assertError(await prod.get('/api/secrets/public-expired'), 404, 'SecretNotFound');
});

test('defaults: the list shows exactly the names a GET serves, and nothing hidden, disabled or out of its window', async () => {
	const names = await listed(prod, null);
	assert.equal(new Set(names).size, names.length, 'no duplicates');
	for (const n of ['public-expired', 'public-not-yet-valid', 'public-disabled', 'demo-latest-disabled', 'admin-password'])
		assert.ok(!names.includes(n), `${n} is not listed`);
	assert.ok(names.includes('public-expiring') && names.includes('public-greeting'), 'servable ones are listed');
	// Every name the policy's globs expose: listed if and only if a GET serves it.
	for (const s of S.exposedSeed(seed)) {
		const res = await prod.get(`/api/secrets/${s.name}`);
		const served = res.status === 200;
		if (!served) S.assertError(res, 404, 'SecretNotFound');
		assert.equal(names.includes(s.name.toLowerCase()), served, `${s.name}: listed (${names.includes(s.name.toLowerCase())}) as served (${res.status})`);
	}
});

/* ---------------- per-origin sections ---------------- */

test('[origin]: the admin origin reads admin-* and versions; the public origin and no Origin do not', async () => {
	const admin = await prod.get('/api/secrets/admin-password', { headers: { Origin: ADMIN } });
	assert.equal(admin.status, 200, S.show(admin));
	assert.ok(admin.json.value === secret('admin-password').latest.value, 'the admin value');
	S.assertCorsActual(admin, ADMIN);
	for (const origin of [null, S.ALLOWED, S.ALLOWED2])
		await assertLikeMissing(prod, await prod.get('/api/secrets/admin-password', { headers: headersOf(origin) }), 'admin-password', origin);
	const vers = await prod.get('/api/secrets/public-rotating/versions', { headers: { Origin: ADMIN } });
	assert.equal(vers.status, 200, S.show(vers));
	assert.equal(vers.json.value.length, secret('public-rotating').versions.length, 'every version, for the admin origin');
	const old = await prod.get(`/api/secrets/public-rotating/${secret('public-rotating').versions[0].id}`, { headers: { Origin: ADMIN } });
	assert.equal(old.status, 200, S.show(old));
	// Keys the section leaves out come from [secrets]: serve_expired is still false.
	S.assertError(await prod.get('/api/secrets/public-expired', { headers: { Origin: ADMIN } }), 404, 'SecretNotFound');
});

test('[origin]: lists follow the origin, through every page, with the same cache', async () => {
	const adminNames = await listed(prod, ADMIN, '/api/secrets?maxresults=7');
	const publicNames = await listed(prod, S.ALLOWED, '/api/secrets?maxresults=7');
	const none = await listed(prod, null);
	const admins = seed.secrets.filter((s) => /^admin-/i.test(s.name)).map((s) => s.name.toLowerCase());
	assert.ok(admins.length > 0);
	for (const a of admins) assert.ok(adminNames.includes(a), `${a} listed for the admin origin`);
	assert.deepEqual(publicNames.filter((n) => n.startsWith('admin-')), [], 'no admin-* for the public origin');
	assert.deepEqual([...publicNames].sort(), [...none].sort(), 'the public origin and no Origin see the same list');
	assert.deepEqual(adminNames.filter((n) => !admins.includes(n)).sort(), [...none].sort(), 'admin sees the public list plus admin-*');
	// A secret the admin origin fetched (now cached) is still refused to the others.
	S.assertError(await prod.get('/api/secrets/admin-api-key', { headers: { Origin: ADMIN } }).then(() => prod.get('/api/secrets/admin-api-key')), 404, 'SecretNotFound');
});

/* ---------------- require_tags ---------------- */

test('require_tags = env=dev: only secrets tagged env=dev are served or listed; the others look missing', async () => {
	const tagged = S.exposedSeed(seed)
		.filter((s) => s.enabled && s.raw.versions.at(-1).tags && s.raw.versions.at(-1).tags.env === 'dev')
		.map((s) => s.name.toLowerCase())
		.sort();
	assert.ok(tagged.length >= 2, `the seed has env=dev secrets: ${tagged}`);
	const names = await listed(tags, null, '/api/secrets?maxresults=5');
	assert.deepEqual([...names].sort(), tagged, 'the list holds exactly the env=dev secrets (pages filtered as they stream)');
	for (const n of tagged) assert.equal((await tags.get(`/api/secrets/${n}`)).status, 200, `${n} is served`);
	await assertLikeMissing(tags, await tags.get('/api/secrets/public-greeting'), 'public-greeting', null);
	await assertLikeMissing(tags, await tags.get('/api/secrets/public-maps-key', { headers: { Origin: S.ALLOWED } }), 'public-maps-key', S.ALLOWED);
});

test('require_tags per version: generation=5 serves public-rotating\'s latest version only, in GETs and in its versions list', async () => {
	const rot = secret('public-rotating');
	const h = { headers: { Origin: S.ALLOWED2 } };
	const latest = await tags.get('/api/secrets/public-rotating', h);
	assert.equal(latest.status, 200, S.show(latest));
	const vers = await tags.get('/api/secrets/public-rotating/versions', h);
	assert.equal(vers.status, 200, S.show(vers));
	assert.deepEqual(
		vers.json.value.map((i) => S.parseId(i.id).version),
		[rot.latest.id],
		'only the version tagged generation=5 is listed',
	);
	await assertLikeMissing(tags, await tags.get(`/api/secrets/public-rotating/${rot.versions[0].id}`, h), 'public-rotating', S.ALLOWED2);
	// The same names without the override: env=dev, no versions.
	await assertLikeMissing(tags, await tags.get('/api/secrets/public-rotating'), 'public-rotating', null);
	await assertLikeMissing(tags, await tags.get('/api/secrets/public-rotating/versions'), 'public-rotating', null);
});

/* ---------------- allow_list, hide_disabled, serve_expired, expose_vault_url ---------------- */

test('allow_list = false: the list of an empty vault, without asking the vault; names still readable', async () => {
	const normal = await flags.get('/api/secrets', { headers: { Origin: S.ALLOWED } });
	assert.equal(normal.status, 200, S.show(normal));
	const res = await S.noUpstream(vault, () => flags.get('/api/secrets'), 'a list with allow_list = false');
	assert.equal(res.status, 200, S.show(res));
	S.assertCommonHeaders(res);
	assert.equal(res.text, '{"value":[],"nextLink":null}', 'an empty SecretListResult');
	const names = (r) => headerNames(r).filter((n) => !n.startsWith('access-control-'));
	assert.deepEqual(names(res), names(normal), 'the header names of a normal list');
	const paged = await flags.get('/api/secrets?maxresults=3&api-version=7.6');
	assert.equal(paged.text, '{"value":[],"nextLink":null}', 'with maxresults too');
	const one = await flags.get('/api/secrets/public-greeting');
	assert.equal(one.status, 200, S.show(one));
});

test('hide_disabled = false: disabled secrets and versions are listed (enabled: false), and a GET still answers like a missing one', async () => {
	const { items } = await S.walk(flags, '/api/secrets?maxresults=25', { origin: flags.origin, headers: { Origin: S.ALLOWED } });
	const byName = new Map(items.map((i) => [S.parseId(i.id).name.toLowerCase(), i]));
	for (const n of ['public-disabled', 'demo-latest-disabled']) {
		assert.ok(byName.has(n), `${n} is listed`);
		assert.equal(byName.get(n).attributes.enabled, false, `${n} shows enabled: false`);
		await assertLikeMissing(flags, await flags.get(`/api/secrets/${n}`, { headers: { Origin: S.ALLOWED } }), n, S.ALLOWED);
	}
	const vers = await flags.get('/api/secrets/demo-latest-disabled/versions');
	assert.equal(vers.status, 200, S.show(vers));
	assert.deepEqual(vers.json.value.map((i) => i.attributes.enabled).sort(), [false, true], 'both versions, the disabled one included');
	// The defaults hide them, in the versions list too.
	const hidden = await prod.get('/api/secrets/demo-latest-disabled/versions', { headers: { Origin: ADMIN } });
	assert.equal(hidden.status, 200, S.show(hidden));
	assert.deepEqual(hidden.json.value.map((i) => i.attributes.enabled), [true], 'only the enabled version by default');
});

test('serve_expired = true: expired and not-yet-valid secrets are served and listed', async () => {
	for (const n of ['public-expired', 'public-not-yet-valid']) {
		const res = await flags.get(`/api/secrets/${n}`);
		assert.equal(res.status, 200, S.show(res));
		assert.ok(res.json.value === secret(n).latest.value, `${n}'s value`);
	}
	const names = await listed(flags, S.ALLOWED);
	assert.ok(names.includes('public-expired') && names.includes('public-not-yet-valid'), 'listed');
});

test('expose_vault_url = true: ids keep the vault\'s host; nextLinks still point at the gateway', async () => {
	const s = secret('public-greeting');
	const res = await flags.get('/api/secrets/public-greeting');
	assert.equal(res.status, 200, S.show(res));
	assert.equal(res.json.id, `${vault.url}/secrets/public-greeting/${s.latest.id}`, 'the vault\'s own id');
	const { items, links } = await S.walk(flags, '/api/secrets?maxresults=4', { headers: { Origin: S.ALLOWED } });
	assert.ok(links.length > 0, 'several pages');
	for (const l of links) assert.ok(l.startsWith(`${flags.origin}/api/secrets?`), `nextLink at the gateway: ${l}`);
	for (const i of items) assert.ok(i.id.startsWith(`${vault.url}/secrets/`), `item id at the vault: ${i.id}`);
	// The default keeps the vault's host out.
	const def = await prod.get('/api/secrets/public-greeting');
	assert.ok(!def.text.includes(vault.url) && def.json.id.startsWith(prod.origin), 'default: id at the gateway');
});

/* ---------------- the clock ---------------- */

test('a cached secret that expires while cached is no longer served (judged at answer time, from the cache)', async () => {
	const exp = Math.floor(Date.now() / 1000) + 3;
	const add = await vault.control('POST', '/_devvault/secrets', { name: 'public-short-lived', value: 'demo-value-short-lived-x1', exp });
	assert.equal(add.status, 200, 'the dev vault added the secret');
	S.addSecret('demo-value-short-lived-x1');
	const first = await prod.get('/api/secrets/public-short-lived');
	assert.equal(first.status, 200, S.show(first));
	const cached = await S.noUpstream(vault, () => prod.get('/api/secrets/public-short-lived'), 'a cached read');
	assert.equal(cached.status, 200, S.show(cached));
	while (Date.now() / 1000 < exp + 1) await S.sleep(250);
	const late = await S.noUpstream(vault, () => prod.get('/api/secrets/public-short-lived'), 'the cached, now expired read');
	await assertLikeMissing(prod, late, 'public-short-lived', null);
});

test('no secret value in any gateway log', () => {
	for (const gw of [prod, tags, flags]) assert.deepEqual(S.logLeaks(gw), [], `${gw.dir}`);
});
