'use strict';
/*
 * Caller authentication and grants end to end (README: Security model,
 * [callers], [grant NAME] sections): the web server + the programs + the
 * dev vault, with an OpenID provider of the test's own on 127.0.0.1 whose
 * RSA and P-256 keys, JWKS and tokens are made here with node:crypto.
 *
 *   - jwt: a good token reads what its grants give; every forgery and every
 *     failed check answers 401 with WWW-Authenticate: Bearer
 *     error="invalid_token", in Key Vault's envelope, with the CORS headers,
 *     before any upstream call;
 *   - api_key and none together: anonymous callers get the anonymous grant,
 *     a key its own, a wrong key a 401 (never anonymity);
 *   - web_server: Basic authentication by the real lighttpd or Apache
 *     (etc/lighttpd/auth-basic.conf, etc/apache/auth-basic.conf), REMOTE_USER into the grants;
 *   - grants scope GETs and lists alike (lists show only granted names, and
 *     paging still walks to the end), and a denial looks like absence;
 *   - the issuer's keys are fetched once, refetched on an unknown kid at
 *     most once a minute (a key rolled in is accepted after that);
 *   - no token, key or secret value reaches any log.
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const S = require('./stack.js');
const T = require('./tokens.js');

const AUD = 'api://kvgate-test';
const GROUP = '00000000-0000-4000-8000-0000000000aa';
const HEADERS = 'x-ms-client-request-id, authorization, ocp-apim-subscription-key';

let stack, vault, ref, issuer, rsa, ec, other;
let gwJwt, gwKey, gwWeb, gwRot;
let rotStarted;
const KEYS = { 'spa-prod': crypto.randomBytes(32).toString('base64url'), partner: crypto.randomBytes(32).toString('base64url') };
const seen = []; // every token and key used, for the log check

const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');
const bearer = (t) => {
	seen.push(t);
	return { Authorization: `Bearer ${t}`, Origin: S.ALLOWED };
};

before(async () => {
	rsa = T.makeKey('rsa-1');
	ec = T.makeKey('ec-1', 'ES256');
	other = T.makeKey('rsa-1'); // same kid, another key: a forger's
	issuer = await T.startIssuer([rsa, ec]);
	stack = await S.startStack('callers', { overrides: { cors: { allowed_headers: HEADERS } } });
	({ vault } = stack);
	ref = stack.gw; // no [callers]: what [secrets] alone exposes
	const jwtCallers = {
		mode: 'jwt',
		jwt_openid_config: issuer.metadataUrl,
		jwt_issuer: issuer.issuer,
		jwt_audience: AUD,
		jwt_required_scopes: 'Secrets.Read',
		jwt_required_roles: 'Secrets.Read.All',
	};
	gwJwt = await stack.gateway('jwt', {
		procs: 2,
		overrides: {
			cors: { allowed_headers: HEADERS },
			callers: jwtCallers,
			'grant readers': { who: 'scope:Secrets.Read', allow: 'public-*', deny: 'public-maps-key' },
			'grant alice': { who: 'user:alice@example.com', allow: 'demo-*' },
			'grant apps': { who: 'role:Secrets.Read.All', allow: 'public-greeting demo-1' },
			'grant ops': { who: `group:${GROUP}`, allow: 'demo-color' },
		},
	});
	const keysFile = path.join(stack.dir, 'api-keys');
	fs.writeFileSync(keysFile, `# NAME SHA256-HEX\nspa-prod ${sha256(KEYS['spa-prod'])}\n\npartner ${sha256(KEYS.partner)}\n`, { mode: 0o644 });
	fs.chmodSync(keysFile, 0o644);
	gwKey = await stack.gateway('key', {
		overrides: {
			cors: { allowed_headers: HEADERS },
			callers: { mode: 'api_key none', api_keys_file: keysFile },
			'grant public': { who: 'anonymous', allow: 'public-greeting public-app-title' },
			'grant spa': { who: 'key:spa-prod', allow: 'public-* demo-1' },
			'grant partner': { who: 'key:partner', allow: 'demo-*' },
		},
	});
	const htpasswd = path.join(stack.dir, 'htpasswd');
	const line = (u, p) => `${u}:${execFileSync('openssl', ['passwd', '-apr1', p]).toString().trim()}\n`;
	fs.writeFileSync(htpasswd, line('alice', 'alice-password') + line('bob', 'bob-password'), { mode: 0o640 });
	gwWeb = await stack.gateway('web', {
		htpasswd,
		overrides: {
			callers: { mode: 'web_server' },
			'grant alice': { who: 'user:alice', allow: 'public-*' },
			'grant bob': { who: 'user:bob', allow: 'demo-*' },
		},
	});
	// The key-rotation gateway: one process, its first fetch made now.
	gwRot = await stack.gateway('rot', {
		overrides: { callers: jwtCallers, 'grant all': { who: 'authenticated', allow: '*' } },
	});
	const r = await gwRot.get('/api/secrets/public-greeting', { headers: bearer(token()) });
	assert.equal(r.status, 200, S.show(r));
	rotStarted = Date.now();
});

after(async () => {
	if (stack) {
		const problems = [];
		for (const gw of stack.gateways) problems.push(...S.logLeaks(gw, [...seen, ...Object.values(KEYS)]).map((p) => `${gw.dir}: ${p}`));
		await S.stopStack(stack);
		assert.deepEqual(problems, [], 'no token, key or secret value in any log');
	}
	if (issuer) await issuer.stop();
});

// A good token for the test issuer, with claims changed by extra.
function token(extra = {}, key = rsa, header = {}) {
	return T.sign(key, T.claims(issuer.issuer, AUD, { scp: 'Secrets.Read', ...extra }), header);
}

// Names a list walk shows, lower-cased and sorted.
async function listed(gw, headers, p = '/api/secrets?maxresults=25') {
	const { items } = await S.walk(gw, p, { headers });
	return items.map((i) => S.parseId(i.id).name.toLowerCase()).sort();
}

// What the reference gateway lists, narrowed by globs (allow minus deny).
async function expected(allow, deny = '') {
	const all = await listed(ref, { Origin: S.ALLOWED });
	return all.filter((n) => S.visibleByPolicy(n, allow, deny || '-'));
}

function assert401(res, { invalid, apiKey = false } = {}) {
	S.assertError(res, 401, 'Unauthorized');
	S.assertCorsActual(res, S.ALLOWED, { expose: 'x-ms-request-id WWW-Authenticate' });
	const ch = res.headers['www-authenticate'] || '';
	assert.match(ch, /^Bearer realm="kvgate"/, `a Bearer challenge\n${S.show(res)}`);
	assert.equal(/error="invalid_token"/.test(ch), invalid, `error="invalid_token" only when a token was sent\n${S.show(res)}`);
	if (apiKey) assert.match(ch, /ApiKey realm="kvgate", header="Ocp-Apim-Subscription-Key"/, `an ApiKey challenge\n${S.show(res)}`);
	assert.match(res.headers['x-ms-request-id'] || '', /^[0-9a-f-]{36}$/, 'a request id');
}

/* ---------------- jwt ---------------- */

test('jwt: no credential answers 401 with a bare Bearer challenge and the CORS headers, before any upstream call', async () => {
	const res = await S.noUpstream(vault, () => gwJwt.get('/api/secrets/public-greeting', { headers: { Origin: S.ALLOWED } }));
	assert401(res, { invalid: false });
	assert.equal(res.json.error.innererror.code, 'MissingCredential');
	const list = await gwJwt.get('/api/secrets', { headers: { Origin: S.ALLOWED } });
	assert401(list, { invalid: false });
});

test('jwt: an RS256 token with the scope reads a granted secret; the value matches the vault', async () => {
	const res = await gwJwt.get('/api/secrets/public-greeting', { headers: bearer(token()) });
	assert.equal(res.status, 200, S.show(res));
	const want = await ref.get('/api/secrets/public-greeting');
	assert.equal(res.json.value, want.json.value, 'the same value as without [callers]');
	S.assertCorsActual(res, S.ALLOWED, { expose: 'x-ms-request-id WWW-Authenticate' });
});

test('jwt: an ES256 token works the same', async () => {
	const res = await gwJwt.get('/api/secrets/public-greeting', { headers: bearer(token({}, ec)) });
	assert.equal(res.status, 200, S.show(res));
});

test('jwt: grants scope GET: outside the grant (or its deny) looks exactly like a missing secret', async () => {
	const t = token();
	for (const name of ['demo-1', 'public-maps-key']) {
		const res = await gwJwt.get(`/api/secrets/${name}`, { headers: bearer(t) });
		const miss = await gwJwt.get('/api/secrets/public-no-such-secret', { headers: bearer(t) });
		S.assertError(res, 404, 'SecretNotFound');
		assert.equal(res.text.split(name).join('N'), miss.text.split('public-no-such-secret').join('N'), `the body of a missing secret\n${S.show(res)}`);
	}
});

test('jwt: grants scope lists: only granted names, every page walked', async () => {
	const t = token();
	assert.deepEqual(await listed(gwJwt, bearer(t)), await expected('public-*', 'public-maps-key'), 'scope:Secrets.Read lists public-* but public-maps-key');
	// Small pages: the filter runs per page, nextLink still walks to the end.
	const { items, pages } = await S.walk(gwJwt, '/api/secrets?maxresults=3', { headers: bearer(t) });
	assert.ok(pages.length > 3, `several pages (${pages.length})`);
	assert.deepEqual(items.map((i) => S.parseId(i.id).name.toLowerCase()).sort(), await expected('public-*', 'public-maps-key'));
});

test('jwt: the union of grants: user, role and group claims each add their names', async () => {
	// alice (preferred_username) holds readers (scp) and alice.
	const alice = token({ preferred_username: 'Alice@Example.com' });
	assert.deepEqual(await listed(gwJwt, bearer(alice)), await expected('public-* demo-*', 'public-maps-key'));
	assert.equal((await gwJwt.get('/api/secrets/demo-1', { headers: bearer(alice) })).status, 200);
	// An application token: roles, no scp: grant apps only.
	const app = T.sign(rsa, T.claims(issuer.issuer, AUD, { roles: ['Secrets.Read.All'] }));
	assert.deepEqual(await listed(gwJwt, bearer(app)), ['demo-1', 'public-greeting']);
	assert.equal((await gwJwt.get('/api/secrets/public-app-title', { headers: bearer(app) })).status, 404);
	// A group member with the role.
	const ops = T.sign(rsa, T.claims(issuer.issuer, AUD, { roles: ['Secrets.Read.All'], groups: [GROUP] }));
	assert.deepEqual(await listed(gwJwt, bearer(ops)), ['demo-1', 'demo-color', 'public-greeting']);
});

test('jwt: a token without the required scope or role is refused', async () => {
	const res = await S.noUpstream(vault, () => gwJwt.get('/api/secrets/public-greeting', { headers: bearer(token({ scp: 'Other.Scope' })) }));
	assert401(res, { invalid: true });
});

const FORGERIES = [
	['a forged signature (another key, same kid)', () => token({}, other)],
	['an expired token (past the 300 s skew)', () => token({ exp: Math.floor(Date.now() / 1000) - 400 })],
	['a token not valid yet (nbf past the skew)', () => token({ nbf: Math.floor(Date.now() / 1000) + 900 })],
	['a wrong issuer', () => token({ iss: 'https://login.microsoftonline.com/evil/v2.0' })],
	['a wrong audience', () => token({ aud: 'api://someone-else' })],
	['no exp at all', () => token({ exp: undefined })],
	['alg none', () => T.unsigned(T.claims(issuer.issuer, AUD, { scp: 'Secrets.Read' }), 'rsa-1')],
	['alg none in capitals', () => T.unsigned(T.claims(issuer.issuer, AUD, { scp: 'Secrets.Read' }), 'rsa-1').replace(/^[^.]+/, T.b64u(JSON.stringify({ alg: 'NONE', kid: 'rsa-1' })))],
	['HS256 keyed with the public key', () => T.hs256WithPublicKey(rsa, T.claims(issuer.issuer, AUD, { scp: 'Secrets.Read' }))],
	['an RSA kid with ES256', () => token({}, ec, { kid: 'rsa-1' })],
	['an unknown kid', () => token({}, T.makeKey('nobody-knows'))],
	['a payload changed after signing', () => {
		const [h, , s] = token().split('.');
		return `${h}.${T.b64u(JSON.stringify(T.claims(issuer.issuer, AUD, { scp: 'Secrets.Read', oid: 'someone-else' })))}.${s}`;
	}],
	['a malformed token (two parts)', () => 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0'],
	['a malformed token (not base64url)', () => 'a*b.c*d.e*f'],
	['an empty token', () => ''],
];

for (const [what, make] of FORGERIES) {
	test(`jwt: ${what} answers 401 invalid_token, before any upstream call`, async () => {
		const t = make();
		const res = await S.noUpstream(vault, () => gwJwt.get('/api/secrets/public-greeting', { headers: bearer(t) }));
		assert401(res, { invalid: true });
		assert.ok(!res.text.includes(t.slice(0, 20)) || t.length < 20, 'the token is not echoed');
	});
}

test('jwt: an oversized token (20 KB) is refused before any upstream call, by the web server (its header limit) or by kvgate', async () => {
	const t = token({ pad: 'x'.repeat(20000) });
	const res = await S.noUpstream(vault, () => gwJwt.get('/api/secrets/public-greeting', { headers: bearer(t) }));
	// lighttpd answers 431 and Apache 400 for a header over 8 KB; kvgate's
	// own cap (16 KB, jwt.h) is pinned by tests/unit/test_jwt.c.
	assert.ok([401, 431, 400].includes(res.status), `refused\n${S.show(res)}`);
	if (res.status === 401) assert401(res, { invalid: true });
});

test('jwt: an expired token says so in innererror (the SPA refreshes it)', async () => {
	const res = await gwJwt.get('/api/secrets/public-greeting', { headers: bearer(token({ exp: Math.floor(Date.now() / 1000) - 400 })) });
	assert401(res, { invalid: true });
	assert.equal(res.json.error.innererror.code, 'TokenExpired');
});

test('jwt: a token inside the clock skew is accepted (exp 100 s ago, skew 300 s)', async () => {
	const res = await gwJwt.get('/api/secrets/public-greeting', { headers: bearer(token({ exp: Math.floor(Date.now() / 1000) - 100 })) });
	assert.equal(res.status, 200, S.show(res));
});

test('jwt: a Basic or other Authorization scheme is no credential (401 without invalid_token)', async () => {
	const res = await gwJwt.get('/api/secrets/public-greeting', { headers: { Authorization: 'Basic YWxpY2U6eA==', Origin: S.ALLOWED } });
	assert401(res, { invalid: false });
});

test('jwt: preflights need no credential and allow the Authorization header', async () => {
	const res = await gwJwt.request('OPTIONS', '/api/secrets/public-greeting', {
		headers: { Origin: S.ALLOWED, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
	});
	assert.equal(res.status, 204, S.show(res));
	assert.match(res.headers['access-control-allow-headers'] || '', /authorization/);
});

test('jwt: the issuer metadata and keys were fetched at most a few times (once per process, plus refetches)', async () => {
	// 2 processes of each of get-secret and list-secrets, plus at most one
	// refetch each for the unknown kids above (a minute apart at least).
	assert.ok(issuer.counts.jwks >= 1 && issuer.counts.jwks <= 8 + 1, `JWKS fetched ${issuer.counts.jwks} times`);
	assert.equal(issuer.counts.metadata, issuer.counts.jwks, 'each fetch reads the metadata first');
});

/* ---------------- api_key and none ---------------- */

test('api_key + none: anonymous callers get the anonymous grant only (get and list)', async () => {
	assert.deepEqual(await listed(gwKey, { Origin: S.ALLOWED }), ['public-app-title', 'public-greeting']);
	assert.equal((await gwKey.get('/api/secrets/public-greeting')).status, 200);
	S.assertError(await gwKey.get('/api/secrets/demo-1'), 404, 'SecretNotFound');
});

test('api_key + none: each key reads its own grant', async () => {
	const spa = { 'Ocp-Apim-Subscription-Key': KEYS['spa-prod'], Origin: S.ALLOWED };
	const partner = { 'Ocp-Apim-Subscription-Key': KEYS.partner, Origin: S.ALLOWED };
	assert.deepEqual(await listed(gwKey, spa), await expected('public-* demo-1'));
	assert.deepEqual(await listed(gwKey, partner), await expected('demo-*'));
	assert.equal((await gwKey.get('/api/secrets/demo-1', { headers: spa })).status, 200);
	S.assertError(await gwKey.get('/api/secrets/public-greeting', { headers: partner }), 404, 'SecretNotFound');
});

test('api_key + none: a wrong key is a 401 (with both challenges), never anonymity', async () => {
	for (const k of ['wrong', KEYS['spa-prod'] + 'x', KEYS['spa-prod'].toUpperCase(), 'k'.repeat(600)]) {
		seen.push(k);
		const res = await S.noUpstream(vault, () => gwKey.get('/api/secrets/public-greeting', { headers: { 'Ocp-Apim-Subscription-Key': k, Origin: S.ALLOWED } }));
		assert401(res, { invalid: false, apiKey: true });
		assert.equal(res.json.error.innererror.code, 'InvalidApiKey');
	}
});

test('api_key: a keys file others can read is warned about at start', async () => {
	await S.waitFor(() => /api_keys_file: .*readable by every user/.test(gwKey.output() + gwKey.log('error.log')), 5000, 'the warning');
});

test('api_key: the key is compared by its SHA-256: the file never holds it', () => {
	const text = fs.readFileSync(path.join(stack.dir, 'api-keys'), 'utf8');
	assert.ok(!text.includes(KEYS['spa-prod']) && text.includes(sha256(KEYS['spa-prod'])));
});

test('api_key: revoking a key (the file edited, the INI touched) refuses it within two seconds', async () => {
	const keysFile = path.join(stack.dir, 'api-keys');
	const spa = { 'Ocp-Apim-Subscription-Key': KEYS['spa-prod'], Origin: S.ALLOWED };
	assert.equal((await gwKey.get('/api/secrets/demo-1', { headers: spa })).status, 200);
	const tmp = `${keysFile}.new`;
	fs.writeFileSync(tmp, `partner ${sha256(KEYS.partner)}\n`, { mode: 0o644 });
	fs.chmodSync(tmp, 0o644); // readable by Apache's www-data when the tests run as root
	fs.renameSync(tmp, keysFile);
	const now = new Date();
	fs.utimesSync(gwKey.ini, now, new Date(now.getTime() + 1000));
	const res = await S.waitFor(async () => {
		const r = await gwKey.get('/api/secrets/demo-1', { headers: spa });
		return r.status === 401 ? r : null;
	}, 5000, 'the revoked key to be refused');
	assert401(res, { invalid: false, apiKey: true });
	assert.equal((await gwKey.get('/api/secrets/demo-1', { headers: { 'Ocp-Apim-Subscription-Key': KEYS.partner } })).status, 200, 'the other key still works');
});

/* ---------------- web_server ---------------- */

const basic = (u, p) => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

test(`web_server: Basic authentication by ${S.SERVER}: REMOTE_USER picks the grant (get and list)`, async () => {
	assert.deepEqual(await listed(gwWeb, basic('alice', 'alice-password')), await expected('public-*'));
	assert.deepEqual(await listed(gwWeb, basic('bob', 'bob-password')), await expected('demo-*'));
	assert.equal((await gwWeb.get('/api/secrets/public-greeting', { headers: basic('alice', 'alice-password') })).status, 200);
	S.assertError(await gwWeb.get('/api/secrets/public-greeting', { headers: basic('bob', 'bob-password') }), 404, 'SecretNotFound');
});

test(`web_server: ${S.SERVER} refuses a bad password itself; the programs never see it`, async () => {
	const before = (await vault.stats()).vault;
	const res = await gwWeb.get('/api/secrets/public-greeting', { headers: basic('alice', 'wrong') });
	assert.equal(res.status, 401, S.show(res));
	assert.match(res.headers['www-authenticate'] || '', /^Basic/i, 'the web server asks for Basic credentials');
	const none = await gwWeb.get('/api/secrets/public-greeting');
	assert.equal(none.status, 401);
	assert.equal((await vault.stats()).vault, before, 'no upstream call');
});

test('web_server: preflights pass without credentials', async () => {
	const res = await gwWeb.request('OPTIONS', '/api/secrets', { headers: { Origin: S.ALLOWED, 'Access-Control-Request-Method': 'GET' } });
	assert.equal(res.status, 204, S.show(res));
	assert.equal(res.headers['access-control-allow-origin'], S.ALLOWED);
});

test('web_server: a REMOTE_USER header sent by a client is not a login', async () => {
	const res = await gwWeb.get('/api/secrets/public-greeting', { headers: { 'Remote-User': 'alice', 'X-Remote-User': 'alice' } });
	assert.equal(res.status, 401, S.show(res));
});

/* ---------------- key rotation ---------------- */

test('jwt: a key rolled in is used once the minute since the last fetch is over, and not before', async () => {
	const rolled = T.makeKey('rsa-2');
	issuer.setKeys([rsa, ec, rolled]);
	const t = token({}, rolled);
	const fetched = issuer.counts.jwks;
	// Within the minute: the unknown kid is refused, and no refetch is made.
	if (Date.now() - rotStarted < 50000) {
		const early = await gwRot.get('/api/secrets/public-greeting', { headers: bearer(t) });
		assert401(early, { invalid: true });
		assert.equal(issuer.counts.jwks, fetched, 'no refetch within a minute of the last');
	}
	await S.sleep(Math.max(0, rotStarted + 61000 - Date.now()));
	const res = await gwRot.get('/api/secrets/public-greeting', { headers: bearer(t) });
	assert.equal(res.status, 200, S.show(res));
	assert.equal(issuer.counts.jwks, fetched + 1, 'one refetch');
	// And the next unknown kid right after: refused, no new fetch.
	const again = await gwRot.get('/api/secrets/public-greeting', { headers: bearer(token({}, T.makeKey('rsa-3'))) });
	assert401(again, { invalid: true });
	assert.equal(issuer.counts.jwks, fetched + 1, 'at most once a minute');
});
