'use strict';
/*
 * identity.test.js: every [identity] method end to end, through lighttpd
 * (etc/lighttpd/kvgate.conf) to the dev vault: client_secret,
 * client_certificate, workload_identity, managed_identity (App Service via
 * IDENTITY_ENDPOINT/IDENTITY_HEADER, IMDS via managed_identity_endpoint,
 * user-assigned), and method = auto picking each one.
 *
 * Each test asserts what the browser sees, how many token requests the dev
 * vault counted for that method (one per process per token lifetime: the
 * get-secret program runs as one process here, and the secret cache is off
 * so every browser request reaches the vault with the cached token), and
 * that no log holds the client secret, the certificate's key, the
 * federated token, the identity header or an access token.
 *
 * Pins down: the wire protocol of each method against a stand-in that
 * checks it (signature against the registered certificate, the exact
 * federated token, X-IDENTITY-HEADER, Metadata: true), DefaultAzureCredential's
 * order and INI-over-environment precedence, refresh ahead with short
 * tokens, and IMDS retries.
 */
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const S = require('./stack.js');

const N = 20; // browser requests per method
let dir;
let vault;
let shortVault;
const gateways = [];

after(async () => {
	for (const gw of gateways) await S.stopGateway(gw);
	if (vault) await vault.stop();
	if (shortVault) await shortVault.stop();
	S.removeDir(dir);
});

/* The dev vault, started once for the file; its credential files are
 * registered as secrets for redaction and leak checks. */
async function theVault() {
	if (vault) return vault;
	dir = S.tmpDir('identity');
	vault = await S.startVault(path.join(dir, 'vault'));
	vault.info = JSON.parse(fs.readFileSync(path.join(vault.dir, 'devvault.json'), 'utf8'));
	credentials(vault);
	return vault;
}

/* What must never appear in a log, from the vault's files: the federated
 * token, the identity header, and every line of the certificate's key. */
function credentials(v) {
	const fed = fs.readFileSync(v.info.federated_token_file, 'utf8').trim();
	const hdr = fs.readFileSync(v.info.identity_header_file, 'utf8').trim();
	const pem = fs.readFileSync(v.info.client_certificate_file, 'utf8');
	const key = pem.slice(pem.indexOf('-----BEGIN PRIVATE KEY-----'));
	const keyLines = key.split('\n').filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l));
	for (const s of [fed, hdr, ...keyLines]) S.addSecret(s);
	return [fed, hdr, ...keyLines];
}

/* Identity keys for a method: the stack's defaults (client_secret) minus
 * the secret file (required keys stay, empty), plus keys. */
function identity(keys) {
	return { identity: { client_secret_file: '', ...keys }, cache: { ttl: '0' } };
}

async function gateway(name, o = {}) {
	const v = o.vault || (await theVault());
	const gw = await S.startGateway(v, path.join(dir, `gw-${name}`), { procs: 1, ...o, overrides: o.overrides });
	gateways.push(gw);
	return gw;
}

/* N GETs of one secret; every one must be 200 with the secret's value
 * shape. Returns the token requests per method the dev vault counted. */
async function run(gw, v, n = N) {
	const before = (await v.stats()).tokenMethods;
	for (let i = 0; i < n; i++) {
		const res = await gw.get('/api/secrets/demo-alpha', { headers: { Origin: S.ALLOWED } });
		assert.equal(res.status, 200, `request ${i + 1}\n${S.show(res)}\n${S.redact(gw.output()).slice(-2000)}`);
		assert.ok(res.json && typeof res.json.value === 'string', `a SecretBundle\n${S.show(res)}`);
		S.assertCommonHeaders(res);
	}
	const after = (await v.stats()).tokenMethods;
	return Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - (before[k] || 0)]));
}

/* Only `method` moved, by `count`. */
function onlyMethod(delta, method, count, what) {
	const moved = Object.entries(delta).filter(([, c]) => c !== 0);
	assert.deepEqual(moved, [[method, count]], `${what}: token requests by method ${JSON.stringify(delta)}`);
}

function clean(gw, extra = []) {
	const leaks = S.logLeaks(gw, [...credentials(gw.vault), ...extra]);
	assert.deepEqual(leaks, [], `logs are clean\n${S.redact(gw.output()).slice(-2000)}`);
}

/* The start-up line the identity logs. */
function chose(gw, re) {
	const out = gw.output();
	assert.match(out, re, `identity start-up line\n${S.redact(out).slice(-2000)}`);
}

test('client_secret: 20 requests, one token request, clean logs', async () => {
	const v = await theVault();
	const gw = await gateway('secret', { overrides: { cache: { ttl: '0' } } });
	onlyMethod(await run(gw, v), 'client_secret', 1, 'client_secret');
	chose(gw, /identity: client_secret/);
	clean(gw);
});

test('client_certificate: a JWT signed with client_certificate_file is accepted; one token request; the key never logged', async () => {
	const v = await theVault();
	const gw = await gateway('cert', { overrides: identity({ method: 'client_certificate', client_certificate_file: v.info.client_certificate_file }) });
	onlyMethod(await run(gw, v), 'client_certificate', 1, 'client_certificate');
	const a = (await v.stats()).assertions.filter((x) => x.kind === 'certificate').pop();
	assert.equal(a['x5t#S256'], v.info.client_certificate_x5t_s256, 'x5t#S256 of the registered certificate');
	assert.equal(a.alg, 'RS256');
	chose(gw, /identity: client_certificate/);
	clean(gw);
});

test('workload_identity: federated_token_file is the assertion; one token request; the token never logged', async () => {
	const v = await theVault();
	const gw = await gateway('workload', { overrides: identity({ method: 'workload_identity', federated_token_file: v.info.federated_token_file }) });
	onlyMethod(await run(gw, v), 'workload_identity', 1, 'workload_identity');
	chose(gw, /identity: workload_identity/);
	clean(gw);
});

test('managed_identity, App Service: IDENTITY_ENDPOINT + IDENTITY_HEADER from the environment; one token request', async () => {
	const v = await theVault();
	const env = { IDENTITY_ENDPOINT: v.info.msi_endpoint, IDENTITY_HEADER: fs.readFileSync(v.info.identity_header_file, 'utf8').trim() };
	const gw = await gateway('appservice', { overrides: identity({ method: 'managed_identity', tenant_id: '', client_id: '' }), env });
	onlyMethod(await run(gw, v), 'app_service', 1, 'App Service');
	chose(gw, /identity: managed_identity \(App Service\)/);
	clean(gw);
});

test('managed_identity, App Service with a wrong IDENTITY_HEADER: the browser sees 502 BadGateway with CORS headers', async () => {
	const v = await theVault();
	const env = { IDENTITY_ENDPOINT: v.info.msi_endpoint, IDENTITY_HEADER: 'not-the-header' };
	const gw = await gateway('appservice-bad', { overrides: identity({ method: 'managed_identity', tenant_id: '', client_id: '' }), env });
	const d = await S.upstreamDelta(v, () => gw.get('/api/secrets/demo-alpha', { headers: { Origin: S.ALLOWED } }));
	S.assertError(d.r, 502, 'BadGateway');
	S.assertCorsActual(d.r, S.ALLOWED);
	assert.equal(d.vault, 0, 'no vault call without a token');
	assert.ok(d.token >= 1 && d.token <= 2, `token requests: ${d.token}`);
	clean(gw);
});

test('managed_identity, IMDS protocol via managed_identity_endpoint; user-assigned client_id; IMDS 503s are retried', async () => {
	const v = await theVault();
	const gw = await gateway('imds', { overrides: identity({ method: 'managed_identity', tenant_id: '', client_id: '', managed_identity_endpoint: v.info.imds_endpoint }) });
	await v.fault({ target: 'token', path: '^/metadata/', mode: 'status', status: 503, count: 2 });
	const before = (await v.stats()).token;
	const delta = await run(gw, v);
	const total = (await v.stats()).token - before;
	await v.clearFaults();
	// The faulted answers never reach the handler that counts by method.
	onlyMethod(delta, 'imds', 1, 'IMDS token');
	assert.equal(total, 3, 'two 503s retried within the request, then the token');
	chose(gw, /identity: managed_identity \(IMDS, managed_identity_endpoint\)/);
	clean(gw);

	const uai = await gateway('imds-user', { overrides: identity({ method: 'managed_identity', tenant_id: '', client_id: v.info.user_assigned_client_id, managed_identity_endpoint: v.info.imds_endpoint }) });
	onlyMethod(await run(uai, v, 5), 'imds', 1, 'user-assigned IMDS');
	const last = (await v.stats()).requests.filter((r) => r.kind === 'token').pop();
	assert.equal(last.path, '/metadata/identity/oauth2/token');
	chose(uai, /managed_identity \(IMDS, managed_identity_endpoint, user-assigned\)/);
	clean(uai);
});

test('auto picks each method in DefaultAzureCredential order and logs why; INI keys win over AZURE_* variables', async () => {
	const v = await theVault();
	const hdr = fs.readFileSync(v.info.identity_header_file, 'utf8').trim();
	const noIds = { tenant_id: '', client_id: '' };
	const ids = { AZURE_TENANT_ID: v.tenantId, AZURE_CLIENT_ID: v.clientId };
	const cases = [
		['ini-secret', identity({ method: 'auto', client_secret_file: v.secretFile }), {}, 'client_secret', /method = auto chose client_secret: \[identity\] client_secret_file is set/],
		['env-secret', identity({ method: 'auto', ...noIds }), { ...ids, AZURE_CLIENT_SECRET: fs.readFileSync(v.secretFile, 'utf8').trim() }, 'client_secret', /auto chose client_secret: AZURE_CLIENT_SECRET is set/],
		['env-cert', identity({ method: 'auto', ...noIds }), { ...ids, AZURE_CLIENT_CERTIFICATE_PATH: v.info.client_certificate_file }, 'client_certificate', /auto chose client_certificate: AZURE_CLIENT_CERTIFICATE_PATH is set/],
		// Everything from the environment, AZURE_AUTHORITY_HOST with a trailing '/'.
		['env-workload', identity({ method: 'auto', ...noIds, authority_host: 'https://login.microsoftonline.com' }), { ...ids, AZURE_FEDERATED_TOKEN_FILE: v.info.federated_token_file, AZURE_AUTHORITY_HOST: `${v.url}/` }, 'workload_identity', /auto chose workload_identity: AZURE_FEDERATED_TOKEN_FILE is set/],
		['env-appservice', identity({ method: 'auto', ...noIds }), { IDENTITY_ENDPOINT: v.info.msi_endpoint, IDENTITY_HEADER: hdr }, 'app_service', /auto chose managed_identity \(App Service\): IDENTITY_ENDPOINT and IDENTITY_HEADER are set/],
		['ini-imds', identity({ method: 'auto', ...noIds, managed_identity_endpoint: v.info.imds_endpoint }), {}, 'imds', /auto chose managed_identity \(IMDS, managed_identity_endpoint\): \[identity\] managed_identity_endpoint is set/],
		// INI federated_token_file wins over a (wrong) AZURE_CLIENT_SECRET.
		['ini-over-env', identity({ method: 'auto', federated_token_file: v.info.federated_token_file }), { AZURE_CLIENT_SECRET: 'not-the-secret-0123456789' }, 'workload_identity', /auto chose workload_identity: \[identity\] federated_token_file is set/],
	];
	for (const [name, overrides, env, method, line] of cases) {
		const gw = await gateway(`auto-${name}`, { overrides, env });
		onlyMethod(await run(gw, v, 5), method, 1, `auto (${name})`);
		chose(gw, line);
		const lines = [...gw.output().matchAll(/kvgate\[([a-z-]+ \d+)\]: info: identity: method = auto chose/g)].map((m) => m[1]);
		assert.ok(lines.length >= 1 && new Set(lines).size === lines.length, `${name}: logged once per process: ${lines}`);
		clean(gw, ['not-the-secret-0123456789']);
		await S.stopGateway(gw);
	}
});

test('short tokens: with --token-lifetime 4 the token is refreshed ahead (half-life) and every request succeeds', async () => {
	await theVault();
	shortVault = await S.startVault(path.join(dir, 'vault-short'), 0, ['--token-lifetime', '4']);
	shortVault.info = JSON.parse(fs.readFileSync(path.join(shortVault.dir, 'devvault.json'), 'utf8'));
	credentials(shortVault);
	const gw = await gateway('short', { vault: shortVault, overrides: identity({ method: 'client_certificate', client_certificate_file: shortVault.info.client_certificate_file }) });
	const before = (await shortVault.stats()).tokenMethods.client_certificate;
	const t0 = Date.now();
	let n = 0;
	while (Date.now() - t0 < 5000) {
		const res = await gw.get('/api/secrets/demo-alpha');
		assert.equal(res.status, 200, `request ${++n}\n${S.show(res)}`);
		await S.sleep(100);
	}
	const calls = (await shortVault.stats()).tokenMethods.client_certificate - before;
	const stats = await shortVault.stats();
	const challenged = stats.requests.filter((r) => r.kind === 'vault' && r.status === 401).length;
	// 5 s of 4 s tokens refreshed every 2 s: 3 token requests (2-4 with timing).
	assert.ok(calls >= 2 && calls <= 4, `token requests in 5 s: ${calls}`);
	assert.equal(challenged, 0, 'no request ever reached the vault with an expired token');
	clean(gw);
});
