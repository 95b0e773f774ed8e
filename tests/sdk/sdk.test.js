'use strict';
/*
 * The official Azure SDK against the gateway: @azure/keyvault-secrets'
 * SecretClient, pinned by tests/package-lock.json, pointed at
 * `${origin}/api` (public_url + base_path) of a real lighttpd + kvgate stack
 * (tests/integration/stack.js) in front of the dev vault. The calls are the
 * SDK's own, unchanged; only client options are set:
 *
 * - disableChallengeResourceVerification: true, as the issue says (the
 *   gateway's host is not *.vault.azure.net).
 * - allowInsecureConnection: true. The SDK's HTTP client
 *   (@typespec/ts-http-runtime) refuses plain http ("Cannot connect to http://…
 *   while allowInsecureConnection is false"), and the test stack is plain http
 *   on 127.0.0.1. Behind TLS (the production set-up) the option is not needed.
 * - The credential is @azure/identity's ClientSecretCredential (wrapped to
 *   count calls). The gateway does not authenticate callers yet: the Key Vault
 *   challenge policy sends the first request without a token and, as no 401
 *   challenge ever comes, never asks for one. So no bearer token travels over
 *   plain http (the pipeline's "Bearer token authentication is not permitted
 *   for non-TLS protected (non-https) URLs" never applies), and the last test
 *   checks getToken was never called.
 *
 * Secret values are compared quietly and never printed.
 *
 * Run alone: node --test tests/sdk/sdk.test.js (after scripts/npm-deps.sh).
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const S = require('../integration/stack.js');

const { SecretClient } = require('@azure/keyvault-secrets');
const { ClientSecretCredential } = require('@azure/identity');

const ALLOW = 'public-* demo-*';
const DENY = '*-internal admin-*';

let stack;
let client;
let tokenCalls = 0;

before(async () => {
	stack = await S.startStack('sdk', { overrides: { secrets: { allow: ALLOW, deny: DENY } } });
	const v = stack.vault;
	const real = new ClientSecretCredential(v.tenantId, v.clientId, require('node:fs').readFileSync(v.secretFile, 'utf8').trim(), {
		authorityHost: v.url,
		disableInstanceDiscovery: true,
	});
	const credential = {
		getToken: (scopes, options) => {
			tokenCalls++;
			return real.getToken(scopes, options);
		},
	};
	client = new SecretClient(`${stack.gw.origin}${stack.gw.base}`, credential, {
		disableChallengeResourceVerification: true,
		allowInsecureConnection: true,
		retryOptions: { maxRetries: 0 },
	});
});

after(async () => {
	if (stack) {
		const leaks = S.logLeaks(stack.gw);
		await stack.stop();
		assert.deepEqual(leaks, [], 'the gateway logs hold no secret');
	}
});

// What a failed SDK call says, without any value.
function why(e) {
	return S.redact(`${e && e.name}: statusCode=${e && e.statusCode} code=${e && e.code} ${e && e.message}`);
}

async function sdk(what, fn) {
	try {
		return await fn();
	} catch (e) {
		assert.fail(`${what} threw ${why(e)}`);
	}
}

function seedSecret(name) {
	const s = stack.seed.byName.get(name.toLowerCase());
	assert.ok(s, `seed has ${name}`);
	return s;
}

// What a list shows: names the policy exposes whose latest version is
// enabled (README: lists leave out disabled secrets and versions).
function exposedNames() {
	return S.exposedSeed(stack.seed, ALLOW, DENY)
		.filter((s) => s.enabled)
		.map((s) => s.name)
		.sort();
}

// The SDK (its URL template expansion in @typespec/ts-http-runtime) sends
// the query name percent-encoded: ?api%2Dversion=2025-07-01. That is the same
// URL as ?api-version=…, and Key Vault takes it; the gateway must too.
test('the gateway accepts the query name as the SDK encodes it (api%2Dversion)', async () => {
	for (const p of ['/secrets/public-greeting/?api%2Dversion=2025-07-01', '/secrets?api%2Dversion=2025-07-01&maxresults=5', '/secrets/public-rotating/versions?api%2dversion=7.6']) {
		const res = await stack.gw.get(stack.gw.base + p);
		assert.equal(res.status, 200, S.show(res));
	}
});

test('getSecret(name) returns the latest version of an allowed secret', async () => {
	const seed = seedSecret('public-greeting');
	const s = await sdk('getSecret(public-greeting)', () => client.getSecret('public-greeting'));
	assert.equal(s.name, 'public-greeting');
	assert.ok(s.value === seed.latest.value, 'value equals the seed (not printed)');
	assert.equal(s.properties.version, seed.latest.id);
	assert.equal(s.properties.enabled, true);
	assert.equal(s.properties.contentType, seed.latest.contentType);
	assert.ok(S.parseId(s.properties.id), `id parses as a Key Vault identifier: ${s.properties.id}`);
	assert.ok(!s.properties.id.includes(`:${stack.vault.port}`), `id does not reveal the vault: ${s.properties.id}`);
	assert.ok(s.properties.createdOn instanceof Date, 'createdOn is a Date');
});

test('getSecret(name, {version}) returns that older version', async () => {
	const seed = seedSecret('public-rotating');
	assert.ok(seed.versions.length >= 3, 'the seed has several versions');
	const old = seed.versions[1];
	const s = await sdk('getSecret(public-rotating, {version})', () => client.getSecret('public-rotating', { version: old.id }));
	assert.equal(s.name, 'public-rotating');
	assert.equal(s.properties.version, old.id);
	assert.ok(s.value === old.value, 'value equals the seed for that version (not printed)');
	assert.ok(s.value !== seed.latest.value, 'and differs from the latest (not printed)');
});

test('listPropertiesOfSecrets() walks several pages and lists exactly the policy-visible secrets', async () => {
	const want = exposedNames();
	const names = [];
	let pages = 0;
	await sdk('listPropertiesOfSecrets().byPage({maxPageSize: 5})', async () => {
		for await (const page of client.listPropertiesOfSecrets().byPage({ maxPageSize: 5 })) {
			pages++;
			assert.ok(page.length <= 5, `page ${pages} has at most 5 items (has ${page.length})`);
			for (const p of page) names.push(p.name);
			assert.ok(pages < 200, 'the paging ends');
		}
	});
	assert.ok(pages > 1, `more than one page (got ${pages})`);
	assert.deepEqual([...names].sort(), want, 'the names are the seeded secrets the policy exposes, each once');
});

test('listPropertiesOfSecrets() with the default page size gives the same names', async () => {
	const names = [];
	await sdk('listPropertiesOfSecrets()', async () => {
		for await (const p of client.listPropertiesOfSecrets()) {
			names.push(p.name);
			assert.ok(p.vaultUrl && p.id, 'each item has an id and a vaultUrl');
		}
	});
	assert.deepEqual(names.sort(), exposedNames());
});

test('listPropertiesOfSecretVersions(name) lists every enabled version of the secret', async () => {
	const seed = seedSecret('public-rotating');
	const versions = [];
	await sdk('listPropertiesOfSecretVersions(public-rotating)', async () => {
		for await (const p of client.listPropertiesOfSecretVersions('public-rotating')) {
			assert.equal(p.name, 'public-rotating');
			versions.push(p.version);
		}
	});
	assert.deepEqual(versions.sort(), seed.versions.map((v) => v.id).sort());
	// demo-latest-disabled: its older, enabled version only.
	const d = seedSecret('demo-latest-disabled');
	const dv = [];
	await sdk('listPropertiesOfSecretVersions(demo-latest-disabled)', async () => {
		for await (const p of client.listPropertiesOfSecretVersions('demo-latest-disabled')) dv.push(p.version);
	});
	assert.deepEqual(dv.sort(), d.versions.filter((v) => v.enabled).map((v) => v.id).sort());
});

test('listPropertiesOfSecretVersions(name) over pages of 2', async () => {
	const seed = seedSecret('public-rotating');
	const versions = [];
	let pages = 0;
	await sdk('listPropertiesOfSecretVersions(public-rotating).byPage({maxPageSize: 2})', async () => {
		for await (const page of client.listPropertiesOfSecretVersions('public-rotating').byPage({ maxPageSize: 2 })) {
			pages++;
			for (const p of page) versions.push(p.version);
			assert.ok(pages < 50, 'the paging ends');
		}
	});
	assert.ok(pages > 1, `more than one page (got ${pages})`);
	assert.deepEqual(versions.sort(), seed.versions.map((v) => v.id).sort());
});

async function assertNotFound(name) {
	let err = null;
	let got;
	try {
		got = await client.getSecret(name);
	} catch (e) {
		err = e;
	}
	assert.ok(err, `getSecret(${name}) must throw (it returned a secret named ${got && got.name})`);
	assert.equal(err.name, 'RestError', why(err));
	assert.equal(err.statusCode, 404, why(err));
	assert.equal(err.code, 'SecretNotFound', why(err));
}

test('a secret denied by policy gives RestError 404 SecretNotFound', async () => {
	assert.ok(seedSecret('admin-password'), 'admin-password is seeded');
	assert.ok(!S.visibleByPolicy('admin-password', ALLOW, DENY), 'and denied');
	await assertNotFound('admin-password');
	await assertNotFound('public-internal');
});

test('a missing secret gives RestError 404 SecretNotFound', async () => {
	assert.ok(!stack.seed.byName.has('public-no-such-secret'));
	await assertNotFound('public-no-such-secret');
});

test('the SDK never asked for a token (the gateway does not challenge callers)', () => {
	assert.equal(tokenCalls, 0);
});
