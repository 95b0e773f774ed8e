// Tests for the kvgate local dev vault (devvault.js).
//
// Run: node --test --test-reporter=tap tests/devvault/
//
// Each test starts from a real dev vault child process on a free port, talks
// HTTPS to it with the generated CA (TLS verification stays on), and checks the
// answers against the real Key Vault material in ../shared/kv-reference/
// (recordings of real exchanges). Tests are flat top-level test() calls because
// the project's runner counts top-level TAP lines.
//
// Secret values are never printed: comparisons of values go through
// sameValue(), whose failure message names the secret only.

'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');

const DEVVAULT = path.join(__dirname, 'devvault.js');
const SEED = path.join(__dirname, 'seed.json');
// The repository's parent holds shared/kv-reference (see design.md).
const REF_DIR = path.join(__dirname, '../../../shared/kv-reference');
const API = '7.6';

// ---------------------------------------------------------------------------
// Reference material

function ref(rel) {
  const file = path.join(REF_DIR, rel);
  if (!fs.existsSync(file)) {
    throw new Error(`kv-reference file missing: ${file} — these tests need the repository's parent to hold shared/kv-reference/`);
  }
  return fs.readFileSync(file, 'utf8');
}

function refJson(rel) {
  return JSON.parse(ref(rel));
}

const PY_CRUD = 'recordings/py_test_secrets_client.pyTestSecretClienttest_secret_crud_operations[7.6].json';
const PY_VERSIONS = 'recordings/py_test_secrets_client.pyTestSecretClienttest_list_versions[7.6].json';
const JS_NOT_FOUND = 'recordings/js_recording_can_get_a_secret_non_existing.json';
const JS_DISABLED = 'recordings/js_recording_cant_get_a_disabled_secret.json';
const CPP_LIST = 'recordings/cpp_KeyVaultSecretClientTest.TestGetPropertiesOfSecret.json';

// Entries of a test-proxy recording (js/py format).
function entries(rel) {
  return refJson(rel).Entries;
}

// Responses of an old cpp recording, with BODY parsed.
function cppResponses(rel) {
  return refJson(rel).networkCallRecords.map((r) => ({
    method: r.Method,
    url: r.Url,
    status: Number(r.Response.STATUS_CODE),
    body: r.Response.BODY ? JSON.parse(r.Response.BODY) : null,
  }));
}

function header(entry, name) {
  const k = Object.keys(entry.ResponseHeaders).find((h) => h.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : entry.ResponseHeaders[k];
}

// ---------------------------------------------------------------------------
// The dev vault under test

const started = [];

function tmpDir(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `kvgate-devvault-${tag}-`));
}

// Starts a dev vault and resolves once it printed its ready line.
function startVault(dir, extraArgs = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [DEVVAULT, '--port', '0', '--dir', dir, ...extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`dev vault did not start within 30 s; stderr:\n${err}`));
    }, 30000);
    proc.stderr.on('data', (d) => {
      err += d;
      if (err.length > 200000) err = err.slice(-100000);
    });
    proc.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      const line = out.slice(0, nl);
      const m = /^devvault: listening on (https:\/\/127\.0\.0\.1:(\d+))$/.exec(line);
      if (!m) {
        proc.kill('SIGKILL');
        reject(new Error(`unexpected ready line ${JSON.stringify(line)}`));
        return;
      }
      const info = JSON.parse(fs.readFileSync(path.join(dir, 'devvault.json'), 'utf8'));
      const v = {
        proc,
        dir,
        line,
        out: () => out,
        url: m[1],
        port: Number(m[2]),
        info,
        ca: fs.readFileSync(path.join(dir, 'ca.pem')),
        clientSecret: fs.readFileSync(path.join(dir, 'client-secret'), 'utf8').trim(),
        identityHeader: fs.readFileSync(path.join(dir, 'identity-header'), 'utf8').trim(),
        stderr: () => err,
        exited: new Promise((res) => proc.once('exit', (code, signal) => res({ code, signal }))),
        token: null,
      };
      started.push(v);
      resolve(v);
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dev vault exited with ${code} before it was ready; stderr:\n${err}`));
    });
  });
}

async function stopVault(v) {
  if (v.proc.exitCode === null && v.proc.signalCode === null) v.proc.kill('SIGTERM');
  return v.exited;
}

// Should the test process end without running after() (an uncaught error),
// do not leave dev vaults behind.
process.on('exit', () => {
  for (const v of started) if (v.proc.exitCode === null && v.proc.signalCode === null) v.proc.kill('SIGKILL');
});

after(async () => {
  await Promise.all(started.map(stopVault));
  for (const v of started) fs.rmSync(v.dir, { recursive: true, force: true });
});

let mainVault = null;
function vault() {
  if (!mainVault) mainVault = startVault(tmpDir('main'));
  return mainVault;
}

// ---------------------------------------------------------------------------
// HTTP

// One request. Resolves { status, headers, text, json, raw }; rejects on any
// transport error (reset, truncation, timeout).
function request(v, method, target, opts = {}) {
  const url = target.startsWith('https://') ? target : v.url + target;
  return new Promise((resolve, reject) => {
    const headers = { ...(opts.headers || {}) };
    // Node sends a DELETE body without framing unless told its length.
    if (opts.body !== undefined) headers['Content-Length'] = Buffer.byteLength(opts.body);
    const req = https.request(url, {
      method,
      ca: v.ca,
      headers,
      agent: opts.agent,
      servername: opts.servername,
      timeout: opts.timeout,
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('aborted', () => reject(new Error('response aborted')));
      res.on('error', reject);
      res.on('end', () => {
        if (!res.complete) {
          reject(new Error('response incomplete'));
          return;
        }
        const raw = Buffer.concat(chunks);
        const text = raw.toString('utf8');
        let json;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json, raw });
      });
    });
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

// Asserts the status; shows the body only for error answers (they hold no
// secret values).
function expectStatus(res, status, what = '') {
  if (res.status !== status) {
    const body = res.status >= 400 ? ` body=${res.text.slice(0, 500)}` : '';
    assert.fail(`${what} expected HTTP ${status}, got ${res.status}${body}`);
  }
}

function sameValue(actual, expected, what) {
  assert.ok(actual === expected, `${what}: value differs from the seed (values are not printed)`);
}

function form(obj) {
  return new URLSearchParams(obj).toString();
}

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

function tokenRequest(v, fields, tenant) {
  return request(v, 'POST', `/${tenant || v.info.tenant_id}/oauth2/v2.0/token`, { headers: FORM, body: form(fields) });
}

function secretGrant(v, extra = {}) {
  return {
    client_id: v.info.client_id,
    scope: 'https://vault.azure.net/.default',
    grant_type: 'client_credentials',
    client_secret: v.clientSecret,
    ...extra,
  };
}

async function token(v) {
  if (!v.token) {
    const res = await tokenRequest(v, secretGrant(v));
    expectStatus(res, 200, 'token');
    v.token = res.json.access_token;
  }
  return v.token;
}

async function get(v, target, opts = {}) {
  const headers = { Authorization: `Bearer ${await token(v)}`, ...(opts.headers || {}) };
  return request(v, opts.method || 'GET', target, { ...opts, headers });
}

async function control(v, method, p, body) {
  const res = await request(v, method, `/_devvault/${p}`, {
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expectStatus(res, 200, `control ${method} ${p}`);
  return res.json;
}

// Follows nextLink from `first` to the end; returns the pages.
async function walk(v, first, opts = {}) {
  const pages = [];
  let next = first;
  for (let i = 0; next !== null; i++) {
    assert.ok(i < (opts.maxPages || 200), 'nextLink walk does not end');
    const res = await get(v, next, { agent: opts.agent });
    expectStatus(res, 200, `page ${i}`);
    assert.ok(Object.hasOwn(res.json, 'nextLink'), 'every page carries the nextLink key');
    pages.push(res.json);
    next = res.json.nextLink;
  }
  return pages;
}

function seed() {
  return JSON.parse(fs.readFileSync(SEED, 'utf8')).secrets;
}

function latestOf(s) {
  return s.versions.reduce((a, b) => (b.created >= a.created ? b : a));
}

function fakeJwt(header, claims) {
  const b = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b(header)}.${b(claims)}.${Buffer.from('not-a-real-signature').toString('base64url')}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// Start-up

test('start-up: one ready line, devvault.json, certificates and credential files', async () => {
  const v = await vault();
  assert.match(v.line, /^devvault: listening on https:\/\/127\.0\.0\.1:\d+$/);
  await sleep(100);
  assert.equal(v.out(), v.line + '\n', 'stdout holds exactly the ready line');
  assert.deepEqual(Object.keys(v.info).slice(0, 5), ['url', 'tenant_id', 'client_id', 'port', 'pid']);
  assert.equal(v.info.url, v.url);
  assert.equal(v.info.port, v.port);
  assert.equal(v.info.pid, v.proc.pid);
  assert.equal(v.info.tenant_id, '00000000-0000-4000-8000-00000000a11e');
  assert.equal(v.info.client_id, '00000000-0000-4000-8000-0000000c11e7');
  for (const f of ['ca.pem', 'ca.key', 'vault.pem', 'vault.key', 'client-secret', 'identity-header']) {
    assert.ok(fs.existsSync(path.join(v.dir, f)), `${f} exists`);
  }
  for (const f of ['ca.key', 'vault.key', 'client-secret', 'identity-header']) {
    assert.equal(fs.statSync(path.join(v.dir, f)).mode & 0o077, 0, `${f} is private (0600)`);
  }
  assert.equal(v.clientSecret.length, 40);
  const cert = new (require('node:crypto').X509Certificate)(fs.readFileSync(path.join(v.dir, 'vault.pem')));
  assert.match(cert.subjectAltName, /IP Address:127\.0\.0\.1/);
  assert.match(cert.subjectAltName, /DNS:localhost/);
  assert.match(cert.subjectAltName, /IP Address:0:0:0:0:0:0:0:1|IP Address:::1/);
  const days = (Date.parse(cert.validTo) - Date.now()) / 86400000;
  assert.ok(days > 28 && days <= 30.01, `certificate valid about 30 days (${days.toFixed(1)})`);
});

test('TLS: the server certificate verifies against ca.pem, for 127.0.0.1 and for localhost', async () => {
  const v = await vault();
  const a = await request(v, 'GET', '/secrets?api-version=7.6');
  expectStatus(a, 401);
  const b = await request(v, 'GET', `https://localhost:${v.port}/secrets?api-version=7.6`, { headers: { Host: `localhost:${v.port}` } }).catch(
    (e) => e,
  );
  // localhost may resolve to ::1 first, where nothing listens; what matters is
  // that a name check against "localhost" passes, so force the address.
  if (b instanceof Error) {
    const c = await request(v, 'GET', '/secrets?api-version=7.6', { servername: 'localhost' });
    expectStatus(c, 401);
  } else {
    expectStatus(b, 401);
  }
  // And a client without the CA must fail: verification is real.
  await assert.rejects(
    new Promise((resolve, reject) => {
      https.get(`${v.url}/secrets?api-version=7.6`, (res) => resolve(res.statusCode)).on('error', reject);
    }),
    /self[- ]signed|unable to (get|verify)|certificate/i,
  );
});

// ---------------------------------------------------------------------------
// Authentication: the 401 challenge

test('vault 401 without a token matches the recorded challenge: body, length and WWW-Authenticate', async () => {
  const v = await vault();
  const rec = entries(JS_NOT_FOUND).find((e) => e.StatusCode === 401);
  const pyRec = entries(PY_CRUD).find((e) => e.StatusCode === 401);
  const res = await request(v, 'GET', `/secrets/public-greeting/?api-version=${API}`);
  expectStatus(res, 401);
  assert.deepEqual(res.json, rec.ResponseBody);
  assert.deepEqual(res.json, pyRec.ResponseBody);
  assert.equal(res.headers['content-length'], header(pyRec, 'Content-Length'), 'same byte length as the real body');
  assert.equal(res.text, JSON.stringify(rec.ResponseBody), 'compact JSON like the service');

  const www = res.headers['www-authenticate'];
  const shape = (s) => s.replace(/authorization="[^"]*"/, 'authorization="AUTHORITY"');
  assert.equal(shape(www), shape(header(pyRec, 'WWW-Authenticate')), 'same challenge format as the 7.6 recording');
  assert.equal(shape(www), shape(header(rec, 'WWW-Authenticate')), 'same challenge format as the js recording');
  assert.equal(www, `Bearer authorization="${v.url}/${v.info.tenant_id}", resource="https://vault.azure.net"`);

  // Following the challenge leads to this server's token endpoint.
  const authority = /authorization="([^"]+)"/.exec(www)[1];
  const t = await request(v, 'POST', `${authority}/oauth2/v2.0/token`, { headers: FORM, body: form(secretGrant(v)) });
  expectStatus(t, 200, 'token from the challenge authority');
});

test('vault 401 for garbage, unknown and wrong-scheme tokens: challenge with other AKV messages', async () => {
  const v = await vault();
  const cases = [
    ['Bearer not-a-jwt', /IDX12741/],
    [`Bearer ${fakeJwt({ alg: 'RS256', typ: 'JWT' }, { aud: 'https://vault.azure.net' })}`, /^AKV10046: /],
    ['Basic dXNlcjpwYXNz', /^AKV10000: /],
    ['Bearer', /^AKV10000: /],
  ];
  for (const [auth, msg] of cases) {
    const res = await request(v, 'GET', `/secrets/public-greeting?api-version=${API}`, { headers: { Authorization: auth } });
    expectStatus(res, 401, auth.slice(0, 12));
    assert.equal(res.json.error.code, 'Unauthorized');
    assert.match(res.json.error.message, msg);
    assert.match(res.headers['www-authenticate'], /^Bearer authorization="https:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]{36}", resource="https:\/\/vault\.azure\.net"$/);
  }
});

// ---------------------------------------------------------------------------
// Token endpoints

test('token endpoint: client secret grant answers in the shape the reference gives', async () => {
  const v = await vault();
  // kv-reference/README.md quotes Entra's answer: take the key order from it.
  const quoted = /\{"token_type"[^}]*\}/.exec(ref('README.md'));
  assert.ok(quoted, 'README.md quotes the token answer');
  const keys = [...quoted[0].matchAll(/"(\w+)":/g)].map((m) => m[1]);
  const res = await tokenRequest(v, secretGrant(v));
  expectStatus(res, 200);
  assert.deepEqual(Object.keys(res.json), keys);
  assert.equal(res.json.token_type, 'Bearer');
  assert.equal(res.json.expires_in, 3599);
  assert.equal(res.json.ext_expires_in, 3599);
  assert.equal(typeof res.json.access_token, 'string');
  assert.equal(res.json.access_token.split('.').length, 3, 'JWT-looking access token');
  assert.match(res.headers['content-type'], /^application\/json; charset=utf-8$/);
  assert.match(res.headers['cache-control'], /no-store/);
  // Tokens are distinct and each one works on the vault.
  const res2 = await tokenRequest(v, secretGrant(v));
  assert.ok(res2.json.access_token !== res.json.access_token, 'every grant issues a new token (tokens not printed)');
  const g = await request(v, 'GET', `/secrets/demo-alpha?api-version=${API}`, { headers: { Authorization: `Bearer ${res2.json.access_token}` } });
  expectStatus(g, 200);
  // A trailing newline in the client-secret file is tolerated.
  fs.writeFileSync(path.join(v.dir, 'client-secret'), v.clientSecret + '\n', { mode: 0o600 });
  expectStatus(await tokenRequest(v, secretGrant(v)), 200, 'secret file with newline');
  fs.writeFileSync(path.join(v.dir, 'client-secret'), v.clientSecret, { mode: 0o600 });
});

// Pins down: MSAL (under @azure/identity's ClientSecretCredential, which the
// "node + SDK" row of `make bench` runs) resolves the authority through this
// document first; without it every token request failed with
// endpoints_resolution_error before reaching the token endpoint.
test('token endpoint: the tenant OpenID discovery document names the dev vault\'s token endpoint; counted apart from token fetches', async () => {
  const v = await vault();
  await control(v, 'POST', 'stats/reset');
  const res = await request(v, 'GET', `/${v.info.tenant_id}/v2.0/.well-known/openid-configuration`);
  expectStatus(res, 200);
  assert.match(res.headers['content-type'], /^application\/json; charset=utf-8$/);
  // The keys MSAL requires (isOpenIdConfigResponse) and where they point.
  for (const k of ['authorization_endpoint', 'token_endpoint', 'issuer', 'jwks_uri']) assert.equal(typeof res.json[k], 'string', k);
  assert.equal(res.json.token_endpoint, `${v.url}/${v.info.tenant_id}/oauth2/v2.0/token`);
  assert.equal(res.json.issuer, `${v.url}/${v.info.tenant_id}/v2.0`);
  const wrong = await request(v, 'GET', '/not-our-tenant/v2.0/.well-known/openid-configuration');
  expectStatus(wrong, 400, 'unknown tenant');
  assert.equal(wrong.json.error, 'invalid_tenant');
  assert.deepEqual(wrong.json.error_codes, [90002]);
  const s = await control(v, 'GET', 'stats');
  assert.deepEqual([s.discovery, s.token, s.vault], [2, 0, 0]);
});

test('token endpoint: errors in Entra shape with Entra statuses', async () => {
  const v = await vault();
  const keys = ['error', 'error_description', 'error_codes', 'timestamp', 'trace_id', 'correlation_id'];
  const cases = [
    ['bad secret', secretGrant(v, { client_secret: 'wrong' }), undefined, 401, 'invalid_client', 7000215],
    ['unknown tenant', secretGrant(v), '11111111-2222-4333-8444-555555555555', 400, 'invalid_request', 90002],
    ['bad grant', secretGrant(v, { grant_type: 'password' }), undefined, 400, 'unsupported_grant_type', 70003],
    ['scope without .default', secretGrant(v, { scope: 'https://vault.azure.net/secrets' }), undefined, 400, 'invalid_scope', 1002012],
    ['missing grant_type', { client_id: v.info.client_id }, undefined, 400, 'invalid_request', 900144],
    ['unknown client', secretGrant(v, { client_id: '99999999-2222-4333-8444-555555555555' }), undefined, 400, 'unauthorized_client', 700016],
    ['no credential', { client_id: v.info.client_id, scope: 'https://vault.azure.net/.default', grant_type: 'client_credentials' }, undefined, 401, 'invalid_client', 7000218],
  ];
  for (const [what, fields, tenant, status, error, code] of cases) {
    const res = await tokenRequest(v, fields, tenant);
    expectStatus(res, status, what);
    assert.deepEqual(Object.keys(res.json).slice(0, keys.length), keys, `${what}: key order`);
    assert.equal(res.json.error, error, what);
    assert.deepEqual(res.json.error_codes, [code], what);
    assert.match(res.json.error_description, new RegExp(`^AADSTS${code}: `), what);
    assert.ok(res.json.error_description.includes(`Trace ID: ${res.json.trace_id}`), `${what}: trace id repeated`);
    assert.ok(res.json.error_description.includes(`Correlation ID: ${res.json.correlation_id}`), `${what}: correlation id repeated`);
    assert.match(res.json.timestamp, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
    assert.ok(!res.text.includes(v.clientSecret), `${what}: the client secret is not echoed`);
  }
  const g = await request(v, 'GET', `/${v.info.tenant_id}/oauth2/v2.0/token`);
  expectStatus(g, 400, 'GET on the token endpoint');
  assert.deepEqual(g.json.error_codes, [900561]);
});

// A client assertion signed with the dev vault's registered certificate
// (D/client-cert.pem), like kvgate's: header x5t#S256 (and x5t) of the
// certificate, RS256. `header`/`claims` override the defaults; `key` signs.
function certJwt(v, { header = {}, claims = {}, key } = {}) {
  const crypto = require('node:crypto');
  const pem = fs.readFileSync(path.join(v.dir, 'client-cert.pem'));
  const cert = new crypto.X509Certificate(pem);
  const now = Math.floor(Date.now() / 1000);
  const h = {
    alg: 'RS256',
    typ: 'JWT',
    x5t: crypto.createHash('sha1').update(cert.raw).digest('base64url'),
    'x5t#S256': crypto.createHash('sha256').update(cert.raw).digest('base64url'),
    ...header,
  };
  const c = {
    aud: `${v.url}/${v.info.tenant_id}/oauth2/v2.0/token`,
    iss: v.info.client_id,
    sub: v.info.client_id,
    jti: crypto.randomUUID(),
    nbf: now,
    iat: now,
    exp: now + 600,
    ...claims,
  };
  const b = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b(h)}.${b(c)}`;
  const sig = crypto.sign('sha256', Buffer.from(input), key || crypto.createPrivateKey(pem));
  return `${input}.${sig.toString('base64url')}`;
}

function assertionGrant(v, jwt) {
  return {
    client_id: v.info.client_id,
    scope: 'https://vault.azure.net/.default',
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: jwt,
  };
}

test('start-up: client-cert.pem (certificate + RSA key, 0600) and federated-token are made and named in devvault.json', async () => {
  const crypto = require('node:crypto');
  const v = await vault();
  const pem = fs.readFileSync(v.info.client_certificate_file, 'utf8');
  assert.equal(v.info.client_certificate_file, path.join(v.dir, 'client-cert.pem'));
  assert.match(pem, /-----BEGIN CERTIFICATE-----/);
  assert.match(pem, /-----BEGIN PRIVATE KEY-----/);
  assert.equal(fs.statSync(v.info.client_certificate_file).mode & 0o077, 0, 'client-cert.pem is private');
  const cert = new crypto.X509Certificate(pem);
  assert.equal(crypto.createPrivateKey(pem).asymmetricKeyType, 'rsa');
  assert.equal(v.info.client_certificate_x5t_s256, crypto.createHash('sha256').update(cert.raw).digest('base64url'));
  const fed = fs.readFileSync(v.info.federated_token_file, 'utf8').trim();
  assert.equal(fs.statSync(v.info.federated_token_file).mode & 0o077, 0, 'federated-token is private');
  const claims = JSON.parse(Buffer.from(fed.split('.')[1], 'base64url').toString('utf8'));
  assert.deepEqual(claims.aud, ['api://AzureADTokenExchange']);
  assert.equal(claims.sub, 'system:serviceaccount:default:kvgate');
  assert.ok(claims.exp > Date.now() / 1000 + 86400, 'valid for days');
  assert.equal(v.info.user_assigned_client_id, '00000000-0000-4000-8000-0000000a55e1');
});

test('token endpoint: a certificate assertion signed with the registered certificate is accepted and recorded', async () => {
  const v = await vault();
  await control(v, 'POST', 'stats/reset');
  const res = await tokenRequest(v, assertionGrant(v, certJwt(v)));
  expectStatus(res, 200, 'certificate assertion');
  assert.equal(res.json.token_type, 'Bearer');
  expectStatus(await get(v, `/secrets/demo-alpha?api-version=${API}`, { headers: { Authorization: `Bearer ${res.json.access_token}` } }), 200);
  // x5t alone (no x5t#S256) is accepted as Entra does.
  expectStatus(await tokenRequest(v, assertionGrant(v, certJwt(v, { header: { 'x5t#S256': undefined } }))), 200, 'x5t only');
  const stats = await control(v, 'GET', 'stats');
  assert.deepEqual(stats.assertions.map((a) => a.kind), ['certificate', 'certificate']);
  assert.equal(stats.assertions[0]['x5t#S256'], v.info.client_certificate_x5t_s256);
  assert.equal(stats.tokenMethods.client_certificate, 2);
});

test('token endpoint: certificate assertions with a bad signature, unknown thumbprint, wrong claims or expired are refused in Entra shape', async () => {
  const crypto = require('node:crypto');
  const v = await vault();
  const now = Math.floor(Date.now() / 1000);
  const otherKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const good = certJwt(v);
  const tampered = good.slice(0, good.lastIndexOf('.') + 1) + Buffer.from('x'.repeat(256)).toString('base64url');
  const bad = [
    ['two parts', 'abc.def', 400, 50027],
    ['signed by another key', certJwt(v, { key: otherKey }), 401, 700027],
    ['signature replaced', tampered, 401, 700027],
    ['unknown x5t#S256', certJwt(v, { header: { 'x5t#S256': 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } }), 401, 700027],
    ['no thumbprint', certJwt(v, { header: { 'x5t#S256': undefined, x5t: undefined } }), 401, 700027],
    ['alg HS256', certJwt(v, { header: { alg: 'HS256' } }), 401, 700027],
    ['iss is not the client', certJwt(v, { claims: { iss: 'someone' } }), 401, 700021],
    ['sub is not the client', certJwt(v, { claims: { sub: 'someone' } }), 401, 700021],
    ['wrong audience', certJwt(v, { claims: { aud: 'https://example.test/' } }), 401, 50027],
    ['expired', certJwt(v, { claims: { nbf: now - 7200, iat: now - 7200, exp: now - 3600 } }), 401, 700024],
  ];
  for (const [what, jwt, status, code] of bad) {
    const res = await tokenRequest(v, assertionGrant(v, jwt));
    expectStatus(res, status, what);
    assert.deepEqual(res.json.error_codes, [code], what);
    assert.match(res.json.error_description, new RegExp(`^AADSTS${code}: `), what);
  }
});

test('token endpoint: workload identity accepts exactly D/federated-token, follows rotations of the file and by POST /_devvault/federated-token', async () => {
  const v = await vault();
  await control(v, 'POST', 'stats/reset');
  const file = v.info.federated_token_file;
  const first = fs.readFileSync(file, 'utf8').trim();
  const ok1 = await tokenRequest(v, assertionGrant(v, first));
  expectStatus(ok1, 200, 'the federated token');
  expectStatus(await get(v, `/secrets/demo-alpha?api-version=${API}`, { headers: { Authorization: `Bearer ${ok1.json.access_token}` } }), 200);
  // Any other token with the federated audience is refused.
  const now = Math.floor(Date.now() / 1000);
  const forged = fakeJwt({ alg: 'RS256', kid: 'k8s' }, { aud: ['api://AzureADTokenExchange'], iss: 'https://oidc.example.test/x', sub: 'system:serviceaccount:web:kvgate', exp: now + 600 });
  const no = await tokenRequest(v, assertionGrant(v, forged));
  expectStatus(no, 400, 'forged federated token');
  assert.deepEqual(no.json.error_codes, [70021]);
  // Rotation by POST: the new file content works; the old one still works
  // (Kubernetes tokens stay valid until they expire) unless revoked.
  await control(v, 'POST', 'federated-token', {});
  const second = fs.readFileSync(file, 'utf8').trim();
  assert.notEqual(second, first, 'the file was rewritten');
  expectStatus(await tokenRequest(v, assertionGrant(v, second)), 200, 'rotated token');
  expectStatus(await tokenRequest(v, assertionGrant(v, first)), 200, 'previous token, not revoked');
  await control(v, 'POST', 'federated-token', { revoke: true });
  const third = fs.readFileSync(file, 'utf8').trim();
  expectStatus(await tokenRequest(v, assertionGrant(v, second)), 400, 'revoked token');
  expectStatus(await tokenRequest(v, assertionGrant(v, third)), 200, 'newest token');
  // Rotation by rewriting the file: the dev vault reads it on every request.
  const outside = fakeJwt({ alg: 'RS256', kid: 'rotated' }, { aud: ['api://AzureADTokenExchange'], iss: 'https://oidc.devvault.local/x/', sub: 'system:serviceaccount:default:kvgate', exp: now + 3600 });
  fs.writeFileSync(file, outside + '\n');
  expectStatus(await tokenRequest(v, assertionGrant(v, outside)), 200, 'token written to the file');
  const stats = await control(v, 'GET', 'stats');
  assert.equal(stats.tokenMethods.workload_identity, 7);
  assert.ok(stats.assertions.every((a) => a.kind === 'federated'));
  assert.ok(!v.stderr().includes(first) && !v.stderr().includes(third), 'federated tokens are not logged');
});

test('managed identity: App Service endpoint needs X-IDENTITY-HEADER and answers expires_on as a string', async () => {
  const v = await vault();
  const q = '/msi/token?resource=https://vault.azure.net&api-version=2019-08-01';
  expectStatus(await request(v, 'GET', q), 401, 'no header');
  expectStatus(await request(v, 'GET', q, { headers: { 'X-IDENTITY-HEADER': 'wrong' } }), 401, 'wrong header');
  const res = await request(v, 'GET', q, { headers: { 'X-IDENTITY-HEADER': v.identityHeader } });
  expectStatus(res, 200);
  assert.deepEqual(Object.keys(res.json), ['access_token', 'expires_on', 'resource', 'token_type', 'client_id']);
  assert.match(res.json.expires_on, /^\d+$/);
  assert.ok(Math.abs(Number(res.json.expires_on) - (Date.now() / 1000 + 3599)) < 10);
  assert.equal(res.json.resource, 'https://vault.azure.net');
  assert.equal(res.json.client_id, v.info.client_id);
  expectStatus(await get(v, `/secrets/demo-alpha?api-version=${API}`, { headers: { Authorization: `Bearer ${res.json.access_token}` } }), 200);
  const uai = await request(v, 'GET', `${q}&client_id=${v.info.client_id}`, { headers: { 'X-IDENTITY-HEADER': v.identityHeader } });
  expectStatus(uai, 200, 'matching client_id');
  const other = await request(v, 'GET', `${q}&client_id=99999999-2222-4333-8444-555555555555`, { headers: { 'X-IDENTITY-HEADER': v.identityHeader } });
  expectStatus(other, 400, 'unknown client_id');
});

test('managed identity: a user-assigned client_id gets its own tokens on both endpoints; stats count token requests per method', async () => {
  const v = await vault();
  await control(v, 'POST', 'stats/reset');
  const uid = v.info.user_assigned_client_id;
  const app = '/msi/token?resource=https://vault.azure.net&api-version=2019-08-01';
  const imds = '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net';
  const appTok = await request(v, 'GET', `${app}&client_id=${uid}`, { headers: { 'X-IDENTITY-HEADER': v.identityHeader } });
  expectStatus(appTok, 200, 'App Service, user-assigned');
  assert.equal(appTok.json.client_id, uid);
  const imdsTok = await request(v, 'GET', `${imds}&client_id=${uid}`, { headers: { Metadata: 'true' } });
  expectStatus(imdsTok, 200, 'IMDS, user-assigned');
  assert.equal(imdsTok.json.client_id, uid);
  const sys = await request(v, 'GET', imds, { headers: { Metadata: 'true' } });
  assert.equal(sys.json.client_id, v.info.client_id);
  const appid = (t) => JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString('utf8')).appid;
  assert.equal(appid(imdsTok.json.access_token), uid, 'user-assigned token names its identity');
  assert.equal(appid(sys.json.access_token), v.info.client_id, 'system-assigned token names the system identity');
  expectStatus(await get(v, `/secrets/demo-alpha?api-version=${API}`, { headers: { Authorization: `Bearer ${imdsTok.json.access_token}` } }), 200, 'user-assigned token works at the vault');
  expectStatus(await request(v, 'GET', `${imds}&client_id=99999999-2222-4333-8444-555555555555`, { headers: { Metadata: 'true' } }), 400, 'unknown identity');
  await tokenRequest(v, secretGrant(v));
  const s = await control(v, 'GET', 'stats');
  assert.deepEqual(s.tokenMethods, { client_secret: 1, client_certificate: 0, workload_identity: 0, app_service: 1, imds: 3, other: 0 });
  assert.equal(s.token, 5);
});

test('managed identity: IMDS needs Metadata: true, answers numbers as strings; a token for another audience fails at the vault', async () => {
  const v = await vault();
  const q = '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net';
  const no = await request(v, 'GET', q);
  expectStatus(no, 400, 'no Metadata header');
  assert.equal(no.json.error, 'invalid_request');
  const res = await request(v, 'GET', q, { headers: { Metadata: 'true' } });
  expectStatus(res, 200);
  for (const k of ['expires_in', 'expires_on', 'ext_expires_in', 'not_before']) {
    assert.equal(typeof res.json[k], 'string', `${k} is a string`);
    assert.match(res.json[k], /^\d+$/, k);
  }
  assert.equal(res.json.token_type, 'Bearer');
  assert.equal(res.json.resource, 'https://vault.azure.net');
  expectStatus(await get(v, `/secrets/demo-alpha?api-version=${API}`, { headers: { Authorization: `Bearer ${res.json.access_token}` } }), 200);

  const slash = await request(v, 'GET', `${q}/`, { headers: { Metadata: 'true' } });
  expectStatus(slash, 200, 'token for https://vault.azure.net/');
  const refused = await get(v, `/secrets/demo-alpha?api-version=${API}`, { headers: { Authorization: `Bearer ${slash.json.access_token}` } });
  expectStatus(refused, 401, 'audience with a trailing slash');
  assert.match(refused.json.error.message, /^AKV10022: Invalid audience/);
});

// ---------------------------------------------------------------------------
// Get

test('get latest: SecretBundle keys and order equal the 7.6 recording (value, contentType, id, attributes{…}, tags)', async () => {
  const v = await vault();
  const rec = entries(PY_CRUD).find((e) => e.RequestMethod === 'GET' && e.StatusCode === 200 && e.ResponseBody.tags);
  assert.ok(rec, 'the recording has a GET with tags, contentType, nbf and exp');
  const res = await get(v, `/secrets/public-expiring/?api-version=${API}`);
  expectStatus(res, 200);
  assert.deepEqual(Object.keys(res.json), Object.keys(rec.ResponseBody));
  assert.deepEqual(Object.keys(res.json.attributes), Object.keys(rec.ResponseBody.attributes));
  for (const k of Object.keys(rec.ResponseBody.attributes)) {
    assert.equal(typeof res.json.attributes[k], typeof rec.ResponseBody.attributes[k], `attributes.${k} type`);
  }
  // A secret without contentType/tags/nbf/exp has the shorter recorded shape.
  const plain = entries(PY_CRUD).find((e) => e.RequestMethod === 'PUT' && e.StatusCode === 200 && !e.ResponseBody.tags);
  const res2 = await get(v, `/secrets/demo-alpha?api-version=${API}`);
  assert.deepEqual(Object.keys(res2.json), Object.keys(plain.ResponseBody));
  assert.deepEqual(Object.keys(res2.json.attributes), Object.keys(plain.ResponseBody.attributes));
  // Ids parse as Key Vault identifiers with a 32-hex version.
  assert.match(res.json.id, new RegExp(`^${v.url.replace(/\./g, '\\.')}/secrets/public-expiring/[0-9a-f]{32}$`));
  const s = seed().find((x) => x.name === 'public-expiring');
  sameValue(res.json.value, latestOf(s).value, 'public-expiring');
  assert.equal(res.json.attributes.nbf, latestOf(s).nbf);
  assert.equal(res.json.attributes.exp, latestOf(s).exp);
});

test('get: trailing slash, explicit version, HEAD, and case-insensitive names that keep the stored casing', async () => {
  const v = await vault();
  const a = await get(v, `/secrets/public-greeting?api-version=${API}`);
  const b = await get(v, `/secrets/public-greeting/?api-version=${API}`);
  expectStatus(a, 200);
  expectStatus(b, 200);
  assert.ok(a.text === b.text, 'with and without trailing slash answer the same');
  const version = a.json.id.split('/').pop();
  const c = await get(v, `/secrets/public-greeting/${version}?api-version=${API}`);
  expectStatus(c, 200);
  assert.ok(c.text === a.text, 'explicit version answers the same');
  const d = await get(v, `/secrets/public-greeting/${version.toUpperCase()}?api-version=${API}`);
  expectStatus(d, 200, 'upper-case version');

  const m = await get(v, `/secrets/DEMO-mixedcase?api-version=${API}`);
  expectStatus(m, 200);
  assert.match(m.json.id, /\/secrets\/demo-MixedCase\/[0-9a-f]{32}$/, 'id uses the stored casing');
  const u = await get(v, `/secrets/PUBLIC-GREETING/?api-version=${API}`);
  expectStatus(u, 200);
  assert.equal(u.json.id, a.json.id);

  const h = await get(v, `/secrets/public-greeting?api-version=${API}`, { method: 'HEAD' });
  expectStatus(h, 200, 'HEAD');
  assert.equal(h.raw.length, 0);
  assert.equal(h.headers['content-length'], String(a.raw.length));

  // The longest legal name (127 characters) works.
  const long = seed().find((x) => x.name.length === 127);
  assert.ok(long, 'the seed has a 127-character name');
  expectStatus(await get(v, `/secrets/${long.name}?api-version=${API}`), 200, '127-char name');
});

test('get: a certificate-backed secret has contentType application/x-pkcs12, managed, tags {} and kid', async () => {
  const v = await vault();
  const cppCert = cppResponses(CPP_LIST)
    .filter((r) => r.method === 'GET')
    .flatMap((r) => r.body.value)
    .find((it) => it.managed === true);
  const res = await get(v, `/secrets/public-tls-cert?api-version=${API}`);
  expectStatus(res, 200);
  // The recorded SecretItem of a certificate-backed secret, plus the bundle's
  // value in front and kid at the end.
  assert.deepEqual(Object.keys(res.json), ['value', ...Object.keys(cppCert), 'kid']);
  assert.equal(res.json.contentType, 'application/x-pkcs12');
  assert.equal(res.json.managed, true);
  assert.deepEqual(res.json.tags, {});
  const version = res.json.id.split('/').pop();
  assert.equal(res.json.kid, `${v.url}/keys/public-tls-cert/${version}`);
  assert.ok(Number.isInteger(res.json.attributes.nbf) && Number.isInteger(res.json.attributes.exp));
});

test('get: values come back byte-exact (non-ASCII, control characters, JSON document, markup)', async () => {
  const v = await vault();
  const s = Object.fromEntries(seed().map((x) => [x.name, x]));
  const uni = await get(v, `/secrets/public-unicode?api-version=${API}`);
  expectStatus(uni, 200);
  const expected = latestOf(s['public-unicode']).value;
  assert.ok(/[^\x00-\x7f]/.test(expected) && /[\t\n\u0001\u001f]/.test(expected), 'the seed value has non-ASCII and control characters');
  sameValue(uni.json.value, expected, 'public-unicode');
  assert.ok(uni.raw.includes(Buffer.from('päßwörd ✓ 秘密')), 'non-ASCII travels as raw UTF-8');
  assert.ok(uni.text.includes('\\u0001') && uni.text.includes('\\u001f') && uni.text.includes('\\t'), 'control characters are JSON-escaped');

  const js = await get(v, `/secrets/public-json-config?api-version=${API}`);
  expectStatus(js, 200);
  assert.equal(js.json.contentType, 'application/json');
  assert.equal(typeof js.json.value, 'string', 'a JSON document is still a string value');
  assert.doesNotThrow(() => JSON.parse(js.json.value), 'the value parses as JSON');
  sameValue(js.json.value, latestOf(s['public-json-config']).value, 'public-json-config');

  for (const name of ['public-markup', 'demo-quote', 'demo-space-value']) {
    const r = await get(v, `/secrets/${name}?api-version=${API}`);
    expectStatus(r, 200, name);
    sameValue(r.json.value, latestOf(s[name]).value, name);
  }
});

test('get: 404 SecretNotFound has the recorded envelope and message', async () => {
  const v = await vault();
  const rec = entries(JS_NOT_FOUND).find((e) => e.StatusCode === 404);
  const recName = /\/secrets\/([^/?]+)/.exec(rec.RequestUri)[1];
  const res = await get(v, `/secrets/no-such-secret/?api-version=${API}`);
  expectStatus(res, 404);
  assert.deepEqual(Object.keys(res.json), Object.keys(rec.ResponseBody));
  assert.deepEqual(Object.keys(res.json.error), Object.keys(rec.ResponseBody.error));
  assert.equal(res.json.error.code, 'SecretNotFound');
  assert.equal(res.json.error.message, rec.ResponseBody.error.message.replace(recName, 'no-such-secret'));
  // Same length arithmetic as the real answer.
  assert.equal(Number(res.headers['content-length']), Number(header(rec, 'Content-Length')) - recName.length + 'no-such-secret'.length);
  const missingVersion = await get(v, `/secrets/public-greeting/0123456789abcdef0123456789abcdef?api-version=${API}`);
  expectStatus(missingVersion, 404, 'unknown version');
  assert.equal(missingVersion.json.error.code, 'SecretNotFound');
});

test('get: a disabled secret answers the recorded 403 Forbidden/SecretDisabled; older enabled versions stay readable', async () => {
  const v = await vault();
  const rec = entries(JS_DISABLED).find((e) => e.StatusCode === 403);
  const res = await get(v, `/secrets/public-disabled/?api-version=${API}`);
  expectStatus(res, 403);
  assert.deepEqual(res.json, rec.ResponseBody);
  assert.equal(res.headers['content-length'], header(rec, 'Content-Length'));

  const s = seed().find((x) => x.name === 'demo-latest-disabled');
  const latest = latestOf(s);
  const older = s.versions.find((x) => x !== latest);
  assert.equal(latest.enabled, false);
  expectStatus(await get(v, `/secrets/demo-latest-disabled?api-version=${API}`), 403, 'latest disabled');
  expectStatus(await get(v, `/secrets/demo-latest-disabled/${latest.version}?api-version=${API}`), 403, 'disabled version');
  const ok = await get(v, `/secrets/demo-latest-disabled/${older.version}?api-version=${API}`);
  expectStatus(ok, 200, 'older enabled version');
  sameValue(ok.json.value, older.value, 'demo-latest-disabled older');
});

test('response headers are those of the recorded Key Vault answers', async () => {
  const v = await vault();
  const rec = entries(PY_CRUD).find((e) => e.RequestMethod === 'GET' && e.StatusCode === 200);
  // Per-vault or per-deployment headers that a dev vault cannot have.
  const skip = new Set(['date', 'content-length', 'x-ms-keyvault-rbac-assignment-id', 'x-ms-keyvault-rbac-cache']);
  for (const target of [`/secrets/public-greeting?api-version=${API}`, `/secrets?api-version=${API}`, `/secrets/nope?api-version=${API}`]) {
    const res = await get(v, target, { headers: { 'x-ms-client-request-id': 'e84e1f94-69e0-4934-b889-a93c00e101ae' } });
    for (const name of Object.keys(rec.ResponseHeaders)) {
      if (skip.has(name.toLowerCase())) continue;
      assert.ok(res.headers[name.toLowerCase()] !== undefined, `${target}: header ${name} present`);
    }
    for (const name of ['Cache-Control', 'Content-Type', 'Expires', 'Pragma', 'Strict-Transport-Security', 'X-Content-Type-Options']) {
      assert.equal(res.headers[name.toLowerCase()], header(rec, name), `${target}: ${name}`);
    }
    assert.match(res.headers['x-ms-request-id'], /^[0-9a-f-]{36}$/);
    assert.equal(res.headers['x-ms-client-request-id'], 'e84e1f94-69e0-4934-b889-a93c00e101ae', 'client request id echoed (js recording)');
    assert.equal(res.headers['content-length'], String(res.raw.length));
  }
});

// ---------------------------------------------------------------------------
// Lists

test('list: SecretItem keys and order equal the cpp recording; ids carry no version; disabled secrets listed', async () => {
  const v = await vault();
  const recItems = cppResponses(CPP_LIST).filter((r) => r.method === 'GET').flatMap((r) => r.body.value);
  const recPlain = recItems.find((it) => Object.keys(it).length === 2);
  const recCert = recItems.find((it) => it.managed === true);
  const pages = await walk(v, `/secrets?api-version=${API}`);
  const items = pages.flatMap((p) => p.value);
  const byName = Object.fromEntries(items.map((it) => [it.id.split('/').pop(), it]));
  assert.deepEqual(Object.keys(byName['demo-alpha']), Object.keys(recPlain));
  assert.deepEqual(Object.keys(byName['demo-alpha'].attributes), Object.keys(recPlain.attributes));
  assert.deepEqual(Object.keys(byName['public-tls-cert']), Object.keys(recCert));
  assert.deepEqual(Object.keys(byName['public-tls-cert'].attributes), Object.keys(recCert.attributes));
  for (const it of items) {
    assert.ok(!('value' in it), 'no value in a list');
    assert.ok(!('kid' in it), 'no kid in a list');
    assert.match(it.id, new RegExp(`^${v.url.replace(/\./g, '\\.')}/secrets/[0-9A-Za-z-]+$`), 'id without version');
  }
  assert.equal(byName['public-disabled'].attributes.enabled, false, 'a disabled secret is listed, enabled:false');
  assert.deepEqual(byName['public-tagged'].tags, seed().find((x) => x.name === 'public-tagged').versions[0].tags);
  // The item reflects the latest version.
  const rot = latestOf(seed().find((x) => x.name === 'public-rotating'));
  assert.equal(byName['public-rotating'].attributes.created, rot.created);
  // Order: names compared case-insensitively, as in the recording.
  const recNames = recItems.map((it) => it.id.split('/').pop());
  const ci = (a, b) => (a.toUpperCase() < b.toUpperCase() ? -1 : a.toUpperCase() > b.toUpperCase() ? 1 : 0);
  assert.deepEqual([...recNames].sort(ci), recNames, 'the recording is in case-insensitive order');
  const names = items.map((it) => it.id.split('/').pop());
  assert.deepEqual([...names].sort(ci), names, 'the dev vault lists in the same order');
});

test('list: nextLink looks like the recorded ones and walking it visits every secret exactly once', async () => {
  const v = await vault();
  const all = seed().map((x) => x.name);
  assert.ok(all.length >= 60);

  // Recorded shapes: cpp (no maxresults asked) and py (maxresults=6).
  const cppLinks = cppResponses(CPP_LIST).filter((r) => r.method === 'GET').map((r) => r.body.nextLink);
  assert.equal(cppLinks[cppLinks.length - 1], null, 'recorded last page has nextLink null');
  const cppLink = new URL(cppLinks[0]);
  const pyLink = new URL(entries(PY_VERSIONS).find((e) => e.RequestMethod === 'GET').ResponseBody.nextLink);
  assert.ok(/:443\//.test(cppLinks[0]), 'recorded nextLink has an explicit port');
  const recToken = JSON.parse(Buffer.from(cppLink.searchParams.get('$skiptoken'), 'base64').toString('utf8'));

  const checkLink = (link, recUrl, what) => {
    assert.match(link, new RegExp(`^https://127\\.0\\.0\\.1:${v.port}/`), `${what}: explicit host and port`);
    const u = new URL(link);
    assert.deepEqual([...u.searchParams.keys()], [...recUrl.searchParams.keys()], `${what}: query parameters in recorded order`);
    assert.equal(u.searchParams.get('api-version'), API, `${what}: caller's api-version`);
    const tok = JSON.parse(Buffer.from(u.searchParams.get('$skiptoken'), 'base64').toString('utf8'));
    assert.deepEqual(Object.keys(tok), Object.keys(recToken), `${what}: $skiptoken decodes like the recorded one`);
    assert.match(tok.NextMarker, /^2!\d+!/);
    assert.equal(tok.TargetLocation, recToken.TargetLocation);
  };

  for (const [first, recUrl, what] of [
    [`/secrets?api-version=${API}`, cppLink, 'default page'],
    [`/secrets?api-version=${API}&maxresults=7`, pyLink, 'maxresults=7'],
    [`/secrets?api-version=${API}&maxresults=1`, pyLink, 'maxresults=1'],
  ]) {
    const pages = await walk(v, first);
    assert.ok(pages.length >= 2, `${what}: more than one page`);
    assert.equal(pages[pages.length - 1].nextLink, null, `${what}: null on the last page`);
    for (const p of pages.slice(0, -1)) checkLink(p.nextLink, recUrl, what);
    const names = pages.flatMap((p) => p.value.map((it) => it.id.split('/').pop()));
    assert.equal(new Set(names).size, names.length, `${what}: no secret twice`);
    assert.deepEqual([...names].sort(), [...all].sort(), `${what}: every secret once`);
  }
});

test('list: pages never exceed maxresults or --page-size, and may be short while more follow', async () => {
  const v = await vault();
  const pages = await walk(v, `/secrets?api-version=${API}&maxresults=10`);
  for (const p of pages) assert.ok(p.value.length <= 10);
  assert.ok(pages.some((p) => p.nextLink !== null && p.value.length < 10), 'a short page with more following (like the recording)');
  const def = await walk(v, `/secrets?api-version=${API}`);
  for (const p of def) assert.ok(p.value.length <= 25);

  const small = await startVault(tmpDir('pagesize'), ['--page-size', '4']);
  try {
    const sp = await walk(small, `/secrets?api-version=${API}&maxresults=25`);
    for (const p of sp) assert.ok(p.value.length <= 4, '--page-size caps the page');
    assert.equal(sp.flatMap((p) => p.value).length, seed().length);
    const vp = await walk(small, `/secrets/public-rotating/versions?api-version=${API}`);
    for (const p of vp) assert.ok(p.value.length <= 4);
    assert.equal(vp.flatMap((p) => p.value).length, seed().find((x) => x.name === 'public-rotating').versions.length);
  } finally {
    await stopVault(small);
  }
});

// A seed of n secrets in shuffled order with mixed-case names, so that the
// listing order is the dev vault's doing, not the seed's.
function bigSeed(file, n) {
  const secrets = [];
  for (let i = 0; i < n; i++) {
    const num = String(i).padStart(5, '0');
    const name = i % 3 === 0 ? `Big-${num}` : i % 3 === 1 ? `big-${num}-x` : `BIG-${num}-Y`;
    secrets.push({ name, versions: [{ version: i.toString(16).padStart(32, 'c'), value: `demo-value-big-${i}`, created: 1717000000 + i }] });
  }
  for (let i = secrets.length - 1; i > 0; i--) {
    const j = (i * 7919 + 13) % (i + 1);
    [secrets[i], secrets[j]] = [secrets[j], secrets[i]];
  }
  fs.writeFileSync(file, JSON.stringify({ secrets }));
  return secrets.map((s) => s.name);
}

const ciOrder = (a, b) => (a.toUpperCase() < b.toUpperCase() ? -1 : a.toUpperCase() > b.toUpperCase() ? 1 : 0);
const nameOf = (it) => it.id.split('/').pop();

// Pins down: listing a big vault sorted every secret and built every item on
// every page (about 4 ms of CPU per page at 10,000 secrets, so `make bench`
// measured the dev vault instead of the gateway's paging); and that the
// sorted index it now keeps is refreshed when a secret is added.
test('list: a 10,000-secret vault pages in order, resumes at any $skiptoken, costs about what a small one does, and shows added secrets', async () => {
  const dir = tmpDir('big');
  const names = bigSeed(path.join(dir, 'seed-big.json'), 10000);
  const big = await startVault(dir, ['--seed', path.join(dir, 'seed-big.json')]);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const pages = await walk(big, `/secrets?api-version=${API}`, { maxPages: 1000, agent });
    assert.equal(pages.length, 401, 'one short first page of 24, then 399 full pages and the last one');
    assert.equal(pages[0].value.length, 24);
    for (const p of pages.slice(1, -1)) assert.equal(p.value.length, 25);
    const listed = pages.flatMap((p) => p.value.map(nameOf));
    assert.deepEqual(listed, [...names].sort(ciOrder), 'every secret once, in case-insensitive order');

    // A nextLink from deep in the walk resumes right after its page.
    const mid = await get(big, pages[300].nextLink, { agent });
    expectStatus(mid, 200, 'page 301 by its nextLink');
    assert.deepEqual(mid.json.value.map(nameOf), pages[301].value.map(nameOf));
    const small = await walk(big, pages[399].nextLink.replace(/$/, '&maxresults=3'), { agent });
    assert.deepEqual(small.flatMap((p) => p.value.map(nameOf)), listed.slice(-pages[400].value.length), 'the last page by its nextLink');

    // Cost: the median first page and a page near the end of the big vault
    // against the first page of the 62-secret seed vault, on keep-alive
    // connections. Loose bounds: the old sort-per-page took 10 ms and more.
    const v = await vault();
    const smallAgent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const median = async (vv, target, ag) => {
      const ms = [];
      for (let i = 0; i < 31; i++) {
        const t0 = process.hrtime.bigint();
        expectStatus(await get(vv, target, { agent: ag }), 200, target);
        ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      return ms.sort((a, b) => a - b)[15];
    };
    try {
      await median(v, `/secrets?api-version=${API}`, smallAgent);
      const base = await median(v, `/secrets?api-version=${API}`, smallAgent);
      const first = await median(big, `/secrets?api-version=${API}`, agent);
      const late = await median(big, new URL(pages[390].nextLink).pathname + new URL(pages[390].nextLink).search, agent);
      const bound = 3 * base + 2;
      assert.ok(first < bound && late < bound,
        `pages of the 10,000-secret vault cost ${first.toFixed(2)} ms (first) and ${late.toFixed(2)} ms (late), the 62-secret vault's ${base.toFixed(2)} ms (bound ${bound.toFixed(2)} ms)`);
    } finally {
      smallAgent.destroy();
    }

    // A secret added at runtime lands in its place; a new version of a
    // listed secret changes its item.
    await control(big, 'POST', 'secrets', { name: 'big-05000-a', value: 'demo-value-added' });
    const target = names.find((n) => n.toUpperCase() === 'BIG-00003');
    assert.ok(target);
    await control(big, 'POST', 'secrets', { name: target, value: 'demo-value-newer', contentType: 'text/x-newer' });
    const again = (await walk(big, `/secrets?api-version=${API}`, { maxPages: 1000, agent })).flatMap((p) => p.value);
    const againNames = again.map(nameOf);
    assert.equal(againNames.length, 10001);
    assert.deepEqual(againNames, [...names, 'big-05000-a'].sort(ciOrder), 'the added secret in case-insensitive order');
    assert.equal(again.find((it) => nameOf(it) === target).contentType, 'text/x-newer', 'the item shows the new latest version');
  } finally {
    agent.destroy();
    await stopVault(big);
  }
});

test('versions: ids carry versions, listed in version-id order; paging walks them once; latest is the newest', async () => {
  const v = await vault();
  const rec = entries(PY_VERSIONS).filter((e) => e.RequestMethod === 'GET');
  const recItem = rec[0].ResponseBody.value[0];
  const recIds = rec.flatMap((e) => e.ResponseBody.value.map((it) => it.id.split('/').pop()));
  assert.deepEqual([...recIds].sort(), recIds, 'the recording lists versions in version-id order');
  assert.equal(rec[rec.length - 1].ResponseBody.nextLink, null);

  const s = seed().find((x) => x.name === 'public-rotating');
  assert.ok(s.versions.length >= 4);
  const pages = await walk(v, `/secrets/public-rotating/versions?api-version=${API}&maxresults=2`);
  assert.ok(pages.length >= 2);
  for (const p of pages.slice(0, -1)) {
    const u = new URL(p.nextLink);
    assert.equal(u.pathname, '/secrets/public-rotating/versions');
    assert.deepEqual([...u.searchParams.keys()], [...new URL(rec[0].ResponseBody.nextLink).searchParams.keys()]);
    assert.equal(u.searchParams.get('maxresults'), '2');
  }
  const items = pages.flatMap((p) => p.value);
  const ids = items.map((it) => it.id.split('/').pop());
  assert.deepEqual([...ids].sort(), s.versions.map((x) => x.version).sort(), 'every version exactly once');
  assert.deepEqual([...ids].sort(), ids, 'version-id order');
  for (const it of items) assert.match(it.id, /\/secrets\/public-rotating\/[0-9a-f]{32}$/);

  const plain = await walk(v, `/secrets/demo-latest-disabled/versions?api-version=${API}`);
  const pItem = plain[0].value[0];
  assert.deepEqual(Object.keys(pItem), Object.keys(recItem), 'item keys as recorded');
  assert.deepEqual(Object.keys(pItem.attributes), Object.keys(recItem.attributes), 'attribute keys as recorded');
  assert.ok(plain[0].value.some((it) => it.attributes.enabled === false), 'disabled versions listed');

  const latest = await get(v, `/secrets/public-rotating?api-version=${API}`);
  expectStatus(latest, 200);
  const newest = latestOf(s);
  assert.equal(latest.json.id.split('/').pop(), newest.version, 'latest is the newest by created time');
  assert.ok(s.versions.every((x) => x === newest || x.created < newest.created));
  sameValue(latest.json.value, newest.value, 'public-rotating latest');
  for (const ver of s.versions) {
    const r = await get(v, `/secrets/public-rotating/${ver.version}?api-version=${API}`);
    expectStatus(r, 200, ver.version);
    sameValue(r.json.value, ver.value, `public-rotating/${ver.version}`);
    assert.equal(r.json.attributes.created, ver.created);
  }

  const none = await get(v, `/secrets/no-such-secret/versions?api-version=${API}`);
  expectStatus(none, 200, 'versions of a missing secret');
  assert.deepEqual(none.json, { value: [], nextLink: null });
});

test('bad requests: missing or unknown api-version, bad maxresults, bad $skiptoken, bad name give 400 BadParameter', async () => {
  const v = await vault();
  const first = await get(v, `/secrets?api-version=${API}&maxresults=3`);
  const goodVersionsLink = (await get(v, `/secrets/public-rotating/versions?api-version=${API}&maxresults=1`)).json.nextLink;
  const cases = [
    '/secrets/public-greeting',
    '/secrets?maxresults=5',
    '/secrets/public-greeting?api-version=banana',
    `/secrets?api-version=${API}&maxresults=0`,
    `/secrets?api-version=${API}&maxresults=26`,
    `/secrets?api-version=${API}&maxresults=abc`,
    `/secrets?api-version=${API}&$skiptoken=bm90LWEtdG9rZW4`,
    `/secrets?api-version=${API}&$skiptoken=!!!`,
    // A token from a versions listing is not a /secrets token, and vice versa.
    `/secrets?api-version=${API}&$skiptoken=${new URL(goodVersionsLink).searchParams.get('$skiptoken')}`,
    `/secrets/public-greeting/versions?api-version=${API}&$skiptoken=${new URL(first.json.nextLink).searchParams.get('$skiptoken')}`,
    `/secrets/bad_name?api-version=${API}`,
  ];
  for (const target of cases) {
    const res = await get(v, target);
    expectStatus(res, 400, target);
    assert.equal(res.json.error.code, 'BadParameter', target);
    assert.equal(typeof res.json.error.message, 'string');
    assert.ok(res.json.error.message.length > 10, `${target}: a real message`);
  }
  // Every Key Vault api-version form is accepted.
  for (const av of ['7.3', '7.4-preview.1', '2016-10-01', '2025-07-01', '2026-01-01-preview']) {
    expectStatus(await get(v, `/secrets/demo-alpha?api-version=${av}`), 200, av);
  }
});

test('write methods are refused like a read-only identity (403 ForbiddenByPolicy); other methods 405', async () => {
  const v = await vault();
  for (const method of ['PUT', 'DELETE', 'PATCH']) {
    const res = await get(v, `/secrets/public-greeting?api-version=${API}`, { method, headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expectStatus(res, 403, method);
    assert.equal(res.json.error.code, 'Forbidden');
    assert.equal(res.json.error.innererror.code, 'ForbiddenByPolicy');
  }
  const o = await get(v, `/secrets?api-version=${API}`, { method: 'OPTIONS' });
  expectStatus(o, 405, 'OPTIONS');
  assert.equal(o.json.error.code, 'MethodNotAllowed');
  assert.equal(o.headers.allow, 'GET');
  const unknown = await get(v, `/keys/whatever?api-version=${API}`);
  expectStatus(unknown, 404, 'unknown vault path');
  assert.ok(unknown.json.error && typeof unknown.json.error.code === 'string', 'unknown path answers in the envelope');
  // Without a token the challenge comes first, whatever the path.
  expectStatus(await request(v, 'GET', '/keys/whatever?api-version=7.6'), 401);
});

// ---------------------------------------------------------------------------
// Connections

test('keep-alive: many requests on one connection (stats.connections counts TLS connections)', async () => {
  const v = await vault();
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: v.ca });
  try {
    const tok = await token(v);
    await request(v, 'POST', '/_devvault/stats/reset', { agent });
    for (let i = 0; i < 5; i++) {
      expectStatus(await request(v, 'GET', `/secrets/demo-alpha?api-version=${API}`, { agent, headers: { Authorization: `Bearer ${tok}` } }), 200);
    }
    await sleep(50);
    const stats = (await request(v, 'GET', '/_devvault/stats', { agent })).json;
    assert.equal(stats.connections, 0, 'the reset happened on the already-open connection');
    assert.equal(stats.vault, 5);
    const ag2 = new https.Agent({ keepAlive: true, maxSockets: 1, ca: v.ca });
    for (let i = 0; i < 3; i++) await request(v, 'GET', `/secrets/demo-alpha?api-version=${API}`, { agent: ag2, headers: { Authorization: `Bearer ${tok}` } });
    ag2.destroy();
    const stats2 = (await request(v, 'GET', '/_devvault/stats', { agent })).json;
    assert.equal(stats2.connections, 1, 'three keep-alive requests opened exactly one new connection');
  } finally {
    agent.destroy();
  }
});

// ---------------------------------------------------------------------------
// Faults

test('faults: status 429 with Retry-After applies `count` times, in Key Vault shape, then the vault recovers', async () => {
  const v = await vault();
  await control(v, 'DELETE', 'faults');
  const made = await control(v, 'POST', 'faults', { target: 'vault', mode: 'status', status: 429, retryAfter: '5', count: 2 });
  assert.equal(made.faults.length, 1);
  for (let i = 0; i < 2; i++) {
    const res = await get(v, `/secrets/demo-alpha?api-version=${API}`);
    expectStatus(res, 429, `throttled ${i}`);
    assert.equal(res.headers['retry-after'], '5');
    assert.equal(res.json.error.code, 'Throttled');
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
  }
  expectStatus(await get(v, `/secrets/demo-alpha?api-version=${API}`), 200, 'after the fault is used up');
  assert.deepEqual((await control(v, 'GET', 'faults')).faults, []);

  // 503 without Retry-After, custom body, on the token side too.
  await control(v, 'POST', 'faults', [
    { target: 'token', mode: 'status', status: 503, count: 1 },
    { target: 'vault', mode: 'status', status: 500, body: { error: { code: 'Custom', message: 'injected' } }, count: 1 },
  ]);
  const t = await tokenRequest(v, secretGrant(v));
  expectStatus(t, 503, 'token 503');
  assert.ok(t.json.error && Array.isArray(t.json.error_codes), 'Entra-shaped error');
  const b = await get(v, `/secrets/demo-alpha?api-version=${API}`);
  expectStatus(b, 500);
  assert.deepEqual(b.json, { error: { code: 'Custom', message: 'injected' } });
  expectStatus(await tokenRequest(v, secretGrant(v)), 200);
});

test('faults: reset, truncate, malformed and oversize break the answer the way they say', async () => {
  const v = await vault();
  await control(v, 'DELETE', 'faults');
  await get(v, `/secrets/demo-alpha?api-version=${API}`); // token cached before faults
  await control(v, 'POST', 'faults', { mode: 'reset', count: 1 });
  await assert.rejects(get(v, `/secrets/demo-alpha?api-version=${API}`), /ECONNRESET|socket hang up|aborted/i, 'reset');

  await control(v, 'POST', 'faults', { mode: 'truncate', count: 1 });
  await assert.rejects(get(v, `/secrets/demo-alpha?api-version=${API}`), /aborted|incomplete|ECONNRESET|socket hang up/i, 'truncate');

  await control(v, 'POST', 'faults', { mode: 'malformed', count: 1 });
  const m = await get(v, `/secrets/demo-alpha?api-version=${API}`);
  expectStatus(m, 200, 'malformed');
  assert.equal(m.headers['content-length'], String(m.raw.length), 'a complete answer');
  assert.throws(() => JSON.parse(m.text), 'whose JSON does not parse');

  await control(v, 'POST', 'faults', { mode: 'oversize', count: 1, bytes: 200000 });
  const o = await get(v, `/secrets/demo-alpha?api-version=${API}`);
  expectStatus(o, 200, 'oversize');
  assert.ok(o.raw.length > 200000);
  assert.ok(o.json && o.json.value.length === 200000, 'still valid JSON, with a huge value');

  expectStatus(await get(v, `/secrets/demo-alpha?api-version=${API}`), 200, 'normal again');
});

test('faults: hang never answers, slow answers late (or dribbles), both only where path matches', async () => {
  const v = await vault();
  await control(v, 'DELETE', 'faults');
  await token(v);
  await control(v, 'POST', 'faults', { mode: 'hang', path: '^/secrets/demo-beta', count: 1 });
  expectStatus(await get(v, `/secrets/demo-alpha?api-version=${API}`), 200, 'path does not match');
  await assert.rejects(get(v, `/secrets/demo-beta?api-version=${API}`, { timeout: 400 }), /client timeout/);

  await control(v, 'POST', 'faults', { mode: 'slow', delayMs: 600, count: 1 });
  let t0 = Date.now();
  expectStatus(await get(v, `/secrets/demo-alpha?api-version=${API}`), 200, 'slow');
  assert.ok(Date.now() - t0 >= 550, 'answered after the delay');

  await control(v, 'POST', 'faults', { mode: 'slow', delayMs: 0, chunkBytes: 64, intervalMs: 30, count: 1 });
  t0 = Date.now();
  const d = await get(v, `/secrets/public-greeting?api-version=${API}`);
  expectStatus(d, 200, 'dribble');
  assert.ok(d.json && d.json.id, 'a dribbled answer is complete');
  assert.ok(Date.now() - t0 >= 90, 'and took several intervals');
});

test('faults: reject-token answers the 401 challenge to a valid token; DELETE clears all faults', async () => {
  const v = await vault();
  await control(v, 'DELETE', 'faults');
  await token(v);
  await control(v, 'POST', 'faults', { mode: 'reject-token', count: 1 });
  const r = await get(v, `/secrets/demo-alpha?api-version=${API}`);
  expectStatus(r, 401);
  assert.equal(r.json.error.code, 'Unauthorized');
  assert.notEqual(r.json.error.message, 'AKV10000: Request is missing a Bearer or PoP token.');
  assert.match(r.headers['www-authenticate'], /^Bearer authorization="/);
  expectStatus(await get(v, `/secrets/demo-alpha?api-version=${API}`), 200, 'same token works afterwards');

  await control(v, 'POST', 'faults', [{ mode: 'status', status: 502 }, { target: 'any', mode: 'status', status: 500 }]);
  expectStatus(await get(v, `/secrets/demo-alpha?api-version=${API}`), 502, 'first matching fault wins');
  expectStatus(await tokenRequest(v, secretGrant(v)), 500, "'any' hits the token side");
  await control(v, 'DELETE', 'faults');
  expectStatus(await get(v, `/secrets/demo-alpha?api-version=${API}`), 200, 'cleared');

  const bad = await request(v, 'POST', '/_devvault/faults', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ mode: 'explode' }) });
  expectStatus(bad, 400, 'unknown mode');
  const bad2 = await request(v, 'POST', '/_devvault/faults', { body: JSON.stringify({ mode: 'status', path: '(' }) });
  expectStatus(bad2, 400, 'bad regex');
});

test('faults: `every: 2` throttles every other matching request (429 without Retry-After, retry-after-ms and an HTTP-date via headers)', async () => {
  const v = await vault();
  await control(v, 'DELETE', 'faults');
  await token(v);
  const date = new Date(Date.now() + 60000).toUTCString();
  await control(v, 'POST', 'faults', { mode: 'status', status: 429, every: 2, count: 3, path: '^/secrets/demo-alpha', headers: { 'retry-after-ms': '50', 'Retry-After': date } });
  const statuses = [];
  for (let i = 0; i < 8; i++) {
    const res = await get(v, `/secrets/demo-alpha?api-version=${API}`);
    statuses.push(res.status);
    if (res.status === 429) {
      assert.equal(res.json.error.code, 'Throttled');
      assert.equal(res.headers['retry-after-ms'], '50');
      assert.equal(res.headers['retry-after'], date);
    }
  }
  assert.deepEqual(statuses, [429, 200, 429, 200, 429, 200, 200, 200], 'odd requests throttled, `count` uses only faulted ones');
  expectStatus(await get(v, `/secrets/demo-beta?api-version=${API}`), 200, 'a path that does not match is not counted');
  await control(v, 'POST', 'faults', { mode: 'status', status: 429, every: 3 });
  const more = [];
  for (let i = 0; i < 6; i++) more.push((await get(v, `/secrets/demo-alpha?api-version=${API}`)).status);
  assert.deepEqual(more, [429, 200, 200, 429, 200, 200], 'every: 3');
  const plain = (await control(v, 'GET', 'faults')).faults[0];
  assert.equal(plain.every, 3);
  await control(v, 'DELETE', 'faults');
  const r429 = await control(v, 'POST', 'faults', { mode: 'status', status: 429, count: 1 });
  assert.equal(r429.faults.length, 1);
  const t = await get(v, `/secrets/demo-alpha?api-version=${API}`);
  expectStatus(t, 429);
  assert.equal(t.headers['retry-after'], undefined, 'no Retry-After unless asked for');
  for (const every of [0, 1.5, 'x', 1001]) {
    const bad = await request(v, 'POST', '/_devvault/faults', { body: JSON.stringify({ mode: 'status', every }) });
    expectStatus(bad, 400, `every ${every}`);
  }
});

// ---------------------------------------------------------------------------
// Control API

test('stats: counts vault and token requests, keeps the request log, resets', async () => {
  const v = await vault();
  await control(v, 'DELETE', 'faults');
  await control(v, 'POST', 'stats/reset');
  await tokenRequest(v, secretGrant(v));
  await get(v, `/secrets/demo-gamma?api-version=${API}`);
  await get(v, `/secrets/nope?api-version=${API}`);
  const s = await control(v, 'GET', 'stats');
  assert.equal(s.token, 1);
  assert.equal(s.vault, 2);
  assert.deepEqual(s.requests.map((r) => [r.method, r.path, r.status]), [
    ['POST', `/${v.info.tenant_id}/oauth2/v2.0/token`, 200],
    ['GET', '/secrets/demo-gamma', 200],
    ['GET', '/secrets/nope', 404],
  ]);
  assert.ok(!JSON.stringify(s).includes(v.clientSecret), 'no client secret in stats');
  const r = await control(v, 'POST', 'stats/reset');
  assert.deepEqual([r.token, r.vault, r.requests.length], [0, 0, 0]);
  // The log never shows values, tokens or the client secret.
  const log = v.stderr();
  assert.ok(!log.includes(v.clientSecret), 'client secret not logged');
  assert.ok(!log.includes(await token(v)), 'token not logged');
  for (const x of seed()) for (const ver of x.versions) {
    if (ver.value.length >= 8) assert.ok(!log.includes(ver.value), `value of ${x.name} not logged (not printed)`);
  }
  assert.match(log, /devvault: vault GET \/secrets\/demo-gamma\?api-version=7\.6 -> 200/);
});

// Pins down what `make bench` reads: vault reads of one secret per name
// (its "hot secret" row), and TLS connections that carried vault or token
// traffic, not counting the connections of control calls.
test('stats: reads per secret name (any version, any outcome, not lists) and connectionsUsed', async () => {
  const v = await vault();
  await control(v, 'DELETE', 'faults');
  await token(v); // on a connection of its own, before the reset
  await control(v, 'POST', 'stats/reset');
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const version = seed().find((x) => x.name === 'public-rotating').versions[0].version;
    await get(v, `/secrets/public-rotating?api-version=${API}`, { agent });
    await get(v, `/secrets/PUBLIC-Rotating/?api-version=${API}`, { agent });
    await get(v, `/secrets/public-rotating/${version}?api-version=${API}`, { agent, method: 'HEAD' });
    await get(v, `/secrets/public-rotating/versions?api-version=${API}`, { agent });
    await get(v, `/secrets?api-version=${API}`, { agent });
    await get(v, `/secrets/no-such-secret?api-version=${API}`, { agent });
    await control(v, 'POST', 'faults', { mode: 'status', status: 429, path: 'demo-alpha', count: 1 });
    expectStatus(await get(v, `/secrets/demo-alpha?api-version=${API}`, { agent }), 429, 'faulted read');
    // On a connection of its own: counted in connections, not connectionsUsed.
    const s = (await request(v, 'GET', '/_devvault/stats', { agent: false })).json;
    assert.deepEqual({ ...s.reads }, { 'public-rotating': 3, 'no-such-secret': 1, 'demo-alpha': 1 });
    assert.equal(s.readsOtherNames, 0);
    assert.equal(s.vault, 7);
    assert.equal(s.connectionsUsed, 1, 'seven vault requests on one keep-alive connection; control calls not counted');
    assert.equal(s.connectionsVault, 1, 'and it carried vault requests');
    assert.ok(s.connections >= 2, 'connections counts the control call\'s connection too');
    const r = await control(v, 'POST', 'stats/reset');
    assert.deepEqual([r.connectionsUsed, r.connectionsVault, Object.keys(r.reads).length], [0, 0, 0]);
  } finally {
    agent.destroy();
  }
});

test('control: POST /_devvault/secrets adds a version that becomes the latest and shows in the lists', async () => {
  const v = await vault();
  const before = await get(v, `/secrets/public-greeting?api-version=${API}`);
  const added = await control(v, 'POST', 'secrets', { name: 'public-greeting', value: 'demo-value-added-at-runtime', tags: { added: 'yes' } });
  assert.match(added.id, /\/secrets\/public-greeting\/[0-9a-f]{32}$/);
  const after1 = await get(v, `/secrets/public-greeting?api-version=${API}`);
  expectStatus(after1, 200);
  assert.equal(after1.json.id, added.id, 'the new version is the latest');
  sameValue(after1.json.value, 'demo-value-added-at-runtime', 'added');
  expectStatus(await get(v, new URL(before.json.id).pathname + `?api-version=${API}`), 200, 'the old version remains');
  const vers = await walk(v, `/secrets/public-greeting/versions?api-version=${API}`);
  assert.equal(vers.flatMap((p) => p.value).length, 2);

  const created = await control(v, 'POST', 'secrets', { name: 'demo-runtime-new', value: 'demo-value-runtime-new', enabled: false });
  assert.equal(created.attributes.enabled, false);
  expectStatus(await get(v, `/secrets/demo-runtime-new?api-version=${API}`), 403, 'runtime disabled secret');
  const names = (await walk(v, `/secrets?api-version=${API}`)).flatMap((p) => p.value.map((it) => it.id.split('/').pop()));
  assert.ok(names.includes('demo-runtime-new'));
  const bad = await request(v, 'POST', '/_devvault/secrets', { body: JSON.stringify({ name: 'bad_name', value: 'x' }) });
  expectStatus(bad, 400, 'bad name');
  const big = await request(v, 'POST', '/_devvault/secrets', { body: JSON.stringify({ name: 'demo-big', value: 'x'.repeat(26 * 1024) }) });
  expectStatus(big, 400, 'over 25 KB');
});

test('control: tokens/expire makes the vault answer 401 (expired) with the challenge until a new token is fetched', async () => {
  const v = await vault();
  const old = await token(v);
  await control(v, 'POST', 'tokens/expire');
  const r = await request(v, 'GET', `/secrets/demo-alpha?api-version=${API}`, { headers: { Authorization: `Bearer ${old}` } });
  expectStatus(r, 401);
  assert.match(r.json.error.message, /expired/);
  assert.ok(r.headers['www-authenticate']);
  v.token = null;
  expectStatus(await get(v, `/secrets/demo-alpha?api-version=${API}`), 200, 'fresh token');
});

test('control paths never collide with vault or token routes', async () => {
  const v = await vault();
  const idx = await request(v, 'GET', '/_devvault');
  expectStatus(idx, 200);
  assert.ok(Array.isArray(idx.json.endpoints));
  expectStatus(await request(v, 'GET', '/_devvault/nope'), 404, 'unknown control path');
  // A control request does not count as vault traffic.
  await control(v, 'POST', 'stats/reset');
  await request(v, 'GET', '/_devvault/stats');
  const s = await control(v, 'GET', 'stats');
  assert.equal(s.vault + s.token, 0);
});

// ---------------------------------------------------------------------------
// Lifetime, restart, CLI, seed

test('token lifetime: --token-lifetime 1 expires tokens; SIGTERM exits 0; a restart reuses certificates and credentials', async () => {
  const dir = tmpDir('lifetime');
  const v = await startVault(dir, ['--token-lifetime', '1']);
  const t = await tokenRequest(v, secretGrant(v));
  expectStatus(t, 200);
  assert.equal(t.json.expires_in, 1);
  await sleep(2100);
  const r = await request(v, 'GET', `/secrets/demo-alpha?api-version=${API}`, { headers: { Authorization: `Bearer ${t.json.access_token}` } });
  expectStatus(r, 401, 'expired token');
  assert.match(r.json.error.message, /IDX10223|expired/);
  assert.match(r.headers['www-authenticate'], /^Bearer authorization="/);

  const files = ['ca.pem', 'ca.key', 'vault.pem', 'vault.key', 'client-secret', 'identity-header', 'client-cert.pem', 'federated-token'];
  const before = Object.fromEntries(files.map((f) => [f, fs.readFileSync(path.join(dir, f))]));
  const exit = await stopVault(v);
  assert.deepEqual(exit, { code: 0, signal: null }, 'SIGTERM exits cleanly with 0');

  const w = await startVault(dir);
  for (const f of files) assert.ok(before[f].equals(fs.readFileSync(path.join(dir, f))), `${f} reused`);
  expectStatus(await tokenRequest(w, secretGrant(w)), 200, 'same client secret works');
  w.proc.kill('SIGINT');
  assert.deepEqual(await w.exited, { code: 0, signal: null }, 'SIGINT exits cleanly with 0');
});

test('CLI: bad arguments fail with a message and a non-zero exit', () => {
  const dir = tmpDir('cli');
  const cases = [
    [['--dir', dir], /--port/],
    [['--port', '0'], /--dir/],
    [['--port', 'abc', '--dir', dir], /--port/],
    [['--port', '70000', '--dir', dir], /--port/],
    [['--port', '0', '--dir', dir, '--page-size', '26'], /--page-size/],
    [['--port', '0', '--dir', dir, '--bogus'], /bogus/],
    [['--port', '0', '--dir', dir, '--seed', path.join(dir, 'missing.json')], /missing\.json/],
  ];
  for (const [args, msg] of cases) {
    const r = spawnSync(process.execPath, [DEVVAULT, ...args], { encoding: 'utf8', timeout: 20000 });
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, msg, args.join(' '));
    assert.equal(r.stdout, '', 'no ready line');
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('seed: at least 60 secrets with the names, versions and edge cases tests rely on', () => {
  const s = seed();
  const by = Object.fromEntries(s.map((x) => [x.name, x]));
  assert.ok(s.length >= 60, `${s.length} secrets`);
  const exposed = (n) => /^(public|demo)-/.test(n) && !/-internal$/.test(n) && !/^admin-/.test(n);
  assert.ok(s.filter((x) => exposed(x.name)).length >= 40, 'about 40 exposed names');
  assert.ok(s.filter((x) => !exposed(x.name)).length >= 15, 'about 15 hidden names');
  for (const n of ['public-internal', 'demo-internal', 'admin-password', 'public-disabled', 'public-rotating', 'public-json-config', 'public-unicode', 'public-tls-cert', 'public-expiring']) {
    assert.ok(by[n], `${n} exists`);
  }
  for (const x of s) {
    if (!exposed(x.name)) for (const ver of x.versions) assert.ok(ver.value.includes('HIDDEN'), `hidden ${x.name} values contain HIDDEN`);
    else for (const ver of x.versions) assert.ok(!ver.value.includes('HIDDEN'), `exposed ${x.name} values lack HIDDEN`);
    for (const ver of x.versions) assert.match(ver.version, /^[0-9a-f]{32}$/);
  }
  assert.equal(latestOf(by['public-disabled']).enabled, false);
  const rot = by['public-rotating'].versions;
  assert.ok(rot.length >= 4);
  assert.equal(new Set(rot.map((x) => x.created)).size, rot.length, 'distinct created times');
  assert.equal(by['public-tls-cert'].versions[0].managed, true);
  assert.equal(by['public-json-config'].versions[0].contentType, 'application/json');
  assert.ok(by['public-expiring'].versions[0].nbf && by['public-expiring'].versions[0].exp);
});
