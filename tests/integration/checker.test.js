'use strict';
/*
 * checker.test.js: cgi-bin/kvgate-check, the `nginx -t` of kvgate. Pins
 * down: a good policy exits 0 and is described in words; a bad one exits 1
 * with every problem named by section and key; risky but legal choices are
 * warned about; no network call is made (the vault here does not exist).
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const S = require('./stack.js');

const CHECK = path.join(S.ROOT, 'cgi-bin', 'kvgate-check');
let dir;

before(() => {
	dir = S.tmpDir('checker');
	fs.writeFileSync(path.join(dir, 'client-secret'), 'not-a-real-secret-for-the-checker\n');
	fs.writeFileSync(path.join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
});

after(() => S.removeDir(dir));

// Write a policy with overrides (stack.js's defaults, a vault that does not
// exist) and run the checker on it.
function check(name, overrides, args) {
	const ini = path.join(dir, `${name}.ini`);
	const vault = {
		url: 'https://127.0.0.1:9',
		caFile: path.join(dir, 'ca.pem'),
		secretFile: path.join(dir, 'client-secret'),
		tenantId: '00000000-0000-4000-8000-00000000a11e',
		clientId: '00000000-0000-4000-8000-0000000c11e7',
	};
	fs.writeFileSync(ini, S.policy(vault, dir, overrides).text);
	const r = spawnSync(CHECK, args || [ini], { encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 10000 });
	return { ...r, ini, out: r.stdout + r.stderr };
}

test('a good policy exits 0 and is described: origins, secrets, identity', () => {
	const r = check('good', {});
	assert.equal(r.status, 0, r.out);
	assert.match(r.stdout, /policy OK/);
	assert.match(r.stdout, /CORS origins\s+http:\/\/allowed\.example:8081, https:\/\/spa\.example\.com/);
	assert.match(r.stdout, /secrets shown\s+public-\*, demo-\*/);
	assert.match(r.stdout, /except\s+\*-internal, admin-\*/);
	assert.match(r.stdout, /identity\s+client_secret/);
	assert.ok(!r.out.includes('not-a-real-secret'), 'the client secret is never printed');
});

test('a bad policy exits 1 with one line per problem naming section and key', () => {
	const r = check('bad', { cors: { max_age: '12abc', allow_credentials: 'yolo' }, cache: { ttl: null } });
	assert.equal(r.status, 1, r.out);
	assert.match(r.stdout, /\[cors\] max_age: /);
	assert.match(r.stdout, /\[cors\] allow_credentials: /);
	assert.match(r.stdout, /\[cache\] ttl: missing/);
	assert.match(r.stdout, /3 problems: the programs will refuse to start/);
});

test('allow = * with no deny is warned about, and still exits 0', () => {
	const r = check('wide', { secrets: { allow: '*', deny: '' } });
	assert.equal(r.status, 0, r.out);
	assert.match(r.stdout, /warning: \[secrets\] allow = \* with no deny/);
});

test('allowed_origins = * is warned about', () => {
	const r = check('star', { cors: { allowed_origins: '*' } });
	assert.equal(r.status, 0, r.out);
	assert.match(r.stdout, /warning: \[cors\] allowed_origins = \*/);
});

test('client_secret without a secret is a problem the checker reports, naming the key', () => {
	const r = check('noid', { identity: { method: 'client_secret', client_secret_file: '' } });
	// The policy itself refuses client_secret without a secret; the
	// checker reports it as a problem.
	assert.equal(r.status, 1, r.out);
	assert.match(r.stdout, /\[identity\] client_secret_file/);
});

test('no file and no KVGATE_CONFIG exits 1 saying so; a flag is a usage error', () => {
	let r = spawnSync(CHECK, [], { encoding: 'utf8', env: { PATH: process.env.PATH } });
	assert.equal(r.status, 1);
	assert.match(r.stdout, /KVGATE_CONFIG is not set/);
	r = spawnSync(CHECK, ['--bogus'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
	assert.equal(r.status, 2);
	assert.match(r.stderr, /usage: kvgate-check/);
});

test('make check-config CONFIG= runs the checker', () => {
	const ini = check('viamake', {}).ini;
	const r = spawnSync('make', ['--no-print-directory', 'check-config', `CONFIG=${ini}`], { cwd: S.ROOT, encoding: 'utf8' });
	assert.equal(r.status, 0, r.stdout + r.stderr);
	assert.match(r.stdout, /policy OK/);
});

test('a pattern that matches nearly everything is warned about, and the CORS mode is described', () => {
	const r = check('broad', { cors: { allowed_origins: 'https://*.azurewebsites.net', terminate_unmatched: 'false' } });
	assert.equal(r.status, 0, r.out);
	assert.match(r.stdout, /warning: \[cors\] allowed_origins: https:\/\/\*\.azurewebsites\.net matches nearly everything/);
	assert.match(r.stdout, /other origins\s+served without CORS headers/);
	assert.match(r.stdout, /private network\s+not answered/);
});

/* ---------------- [callers] (issue 7) ---------------- */

test('[callers], grants, limits and audit are described; the key file is read', () => {
	const keys = path.join(dir, 'api-keys');
	fs.writeFileSync(keys, `spa ${'a'.repeat(64)}\n`, { mode: 0o600 });
	fs.chmodSync(keys, 0o600);
	const r = check('callers', {
		cors: { allowed_headers: 'authorization ocp-apim-subscription-key' },
		callers: { mode: 'api_key none', api_keys_file: keys },
		'grant spa': { who: 'key:spa', allow: 'public-*' },
		limits: { requests_per_minute: '60' },
	});
	assert.equal(r.status, 0, r.out);
	assert.match(r.stdout, /callers\s+api_key, none/);
	assert.match(r.stdout, /grant\s+spa\n\s+to\s+key:spa\n\s+names\s+public-\*/);
	assert.match(r.stdout, /limit\s+60 requests a minute per caller/);
	assert.match(r.stdout, /audit log\s+one JSON line per request/);
	assert.ok(!/warning: \[callers\]|lacks/.test(r.stdout), r.out);
});

test('a credential header the CORS preflight would refuse, no grant at all, and a world-readable key file are warned about', () => {
	fs.writeFileSync(path.join(dir, 'jwks.json'), '{"keys":[]}');
	const keys = path.join(dir, 'api-keys-open');
	fs.writeFileSync(keys, `spa ${'b'.repeat(64)}\n`);
	fs.chmodSync(keys, 0o644);
	const r = check('callers-warn', {
		cors: { allowed_headers: 'x-ms-client-request-id' },
		callers: { mode: 'jwt api_key', api_keys_file: keys, jwt_jwks_file: path.join(dir, 'jwks.json'), jwt_issuer: 'https://i.example/', jwt_audience: 'api://x' },
	});
	// An empty JWKS is a problem: the programs would refuse to start.
	assert.equal(r.status, 1, r.out);
	assert.match(r.stdout, /\[callers\] jwt_jwks_file: .*unusable key set/);
	const ok = check('callers-warn2', {
		cors: { allowed_headers: 'x-ms-client-request-id' },
		callers: { mode: 'api_key', api_keys_file: keys },
	});
	assert.equal(ok.status, 0, ok.out);
	assert.match(ok.stdout, /warning: \[callers\] mode is set but there is no \[grant NAME\] section/);
	assert.match(ok.stdout, /warning: \[cors\] allowed_headers lacks Ocp-Apim-Subscription-Key/);
	assert.match(ok.stdout, /warning: \[callers\] api_keys_file: .* readable by every user/);
});

test('a bad keys file line exits 1 naming the file and the line', () => {
	const keys = path.join(dir, 'api-keys-bad');
	fs.writeFileSync(keys, 'spa not-a-hash\n', { mode: 0o600 });
	const r = check('callers-bad', { callers: { mode: 'api_key', api_keys_file: keys } });
	assert.equal(r.status, 1, r.out);
	assert.match(r.stdout, /\[callers\] api_keys_file: .*api-keys-bad line 1 is not NAME SHA256-HEX/);
});
