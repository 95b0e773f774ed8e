#!/usr/bin/env node
// kvgate local dev vault: a stand-in for Azure Key Vault's secrets REST API and
// the Entra ID token endpoints (client credentials, App Service and IMDS managed
// identity), over HTTPS with a locally generated CA.
//
// It exists so that `make run` works without an Azure subscription and so that
// the integration tests can drive kvgate against something that answers exactly
// like the real service: same bodies, field order, status codes, headers, paging
// and 401 challenge. The wire format it copies is recorded in
// ../shared/kv-reference/ (recordings of real exchanges and the REST spec);
// where the reference is silent, the choice is marked "approximation" below.
//
// Node.js built-ins only. Usage:
//   node devvault.js --port P --dir D [--seed FILE] [--token-lifetime SECONDS]
//                    [--page-size N]
// See README.md next to this file for the control API (/_devvault/...).

'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const https = require('node:https');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

// Fixed fake identities. Callers read them from devvault.json, never from here.
const TENANT_ID = '00000000-0000-4000-8000-00000000a11e';
const CLIENT_ID = '00000000-0000-4000-8000-0000000c11e7';
// The service principal's object id, used as `oid`/`sub` in issued tokens.
const OBJECT_ID = '00000000-0000-4000-8000-0000000b1ec7';

// Key Vault's resource identifier and its first-party application id; a token
// is accepted by the vault only if its audience is one of these (AKV10022).
const VAULT_RESOURCE = 'https://vault.azure.net';
const VAULT_APP_ID = 'cfa8b339-82a2-471a-a3c9-0fc0be7a4093';
const VAULT_SCOPE = VAULT_RESOURCE + '/.default';
const FEDERATED_AUDIENCE = 'api://AzureADTokenExchange';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
// A second, user-assigned managed identity: asking for it by client_id gets
// tokens for this application id instead of the system-assigned CLIENT_ID.
const USER_ASSIGNED_CLIENT_ID = '00000000-0000-4000-8000-0000000a55e1';
// The issuer and subject of the federated token D/federated-token holds, as
// an AKS cluster's OIDC issuer would write them.
const FEDERATED_ISSUER = 'https://oidc.devvault.local/00000000-0000-4000-8000-00000000a11e/';
const FEDERATED_SUBJECT = 'system:serviceaccount:default:kvgate';
const FEDERATED_DAYS = 7;

// Values copied from the 7.6 recordings (response headers, attributes) and from
// a default vault (soft delete on, 90 days, purge protection off).
const SERVICE_VERSION = '1.9.2455.1';
const RECOVERY_LEVEL = 'Recoverable+Purgeable';
const RECOVERABLE_DAYS = 90;
const LATEST_API_VERSION = '2025-07-01';

// Caps. Every buffer filled from the network has one.
const MAX_REQUEST_BODY = 64 * 1024; // token forms, control JSON, added secrets
const MAX_SECRET_VALUE = 25 * 1024; // Key Vault's documented 25 KB limit
const MAX_TOKENS = 10000; // remembered access tokens
const STATS_REQUESTS = 200; // request log entries kept by /_devvault/stats
const STATS_ASSERTIONS = 50; // client assertions kept by /_devvault/stats
const STATS_READ_NAMES = 10000; // secret names counted one by one in stats.reads
const MAX_FAULTS = 100;
const DEFAULT_PAGE = 25; // Key Vault's default and maximum maxresults

// Certificates are regenerated when they expire within this margin, so a
// long-lived run/ directory never serves an expired certificate.
const CERT_DAYS = 30;
const CERT_RENEW_MARGIN_MS = 24 * 3600 * 1000;

const NAME_RE = /^[0-9A-Za-z-]{1,127}$/; // Key Vault object name rule
// A tenant's OpenID Connect discovery document (v2.0 endpoints).
const DISCOVERY_RE = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/;
const VERSION_RE = /^[0-9A-Fa-f]{32}$/;
// Key Vault api-versions look like 7.6, 7.4-preview.1, 2016-10-01, 2025-07-01
// or 2026-01-01-preview.
const API_VERSION_RE = /^(?:\d+\.\d+(?:-preview(?:\.\d+)?)?|\d{4}-\d{2}-\d{2}(?:-preview(?:\.\d+)?)?)$/;

// Error messages copied verbatim from the recordings (js/py).
const MSG_NO_TOKEN = 'AKV10000: Request is missing a Bearer or PoP token.';
const MSG_DISABLED = 'Operation get is not allowed on a disabled secret.';
const MSG_THROTTLED =
  'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached';

function notFoundMessage(what) {
  return (
    `A secret with (name/id) ${what} was not found in this key vault. If you recently deleted ` +
    'this secret you may be able to recover it using the correct recovery command. For help ' +
    'resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182'
  );
}

// ---------------------------------------------------------------------------
// Command line

const USAGE =
  'usage: node devvault.js --port P --dir D [--seed FILE] [--token-lifetime SECONDS] [--page-size N]';

function fatal(msg) {
  process.stderr.write(`devvault: ${msg}\n`);
  process.exit(2);
}

// Parses an integer option strictly ("12abc" and "" are errors) within bounds.
function intOption(name, text, min, max) {
  if (text === undefined || !/^\d+$/.test(text)) fatal(`${name} needs an integer, got '${text ?? ''}'\n${USAGE}`);
  const n = Number(text);
  if (n < min || n > max) fatal(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function parseArgs(argv) {
  const opts = {
    port: undefined,
    dir: undefined,
    seed: path.join(__dirname, 'seed.json'),
    tokenLifetime: 3599,
    pageSize: DEFAULT_PAGE,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fatal(`${arg} needs a value\n${USAGE}`);
      return argv[++i];
    };
    switch (arg) {
      case '--port': opts.port = intOption(arg, value(), 0, 65535); break;
      case '--dir': opts.dir = path.resolve(value()); break;
      case '--seed': opts.seed = path.resolve(value()); break;
      case '--token-lifetime': opts.tokenLifetime = intOption(arg, value(), 0, 7 * 86400); break;
      case '--page-size': opts.pageSize = intOption(arg, value(), 1, DEFAULT_PAGE); break;
      case '-h':
      case '--help':
        process.stdout.write(USAGE + '\n');
        process.exit(0);
        break;
      default:
        fatal(`unknown argument '${arg}'\n${USAGE}`);
    }
  }
  if (opts.port === undefined) fatal(`--port is required\n${USAGE}`);
  if (opts.dir === undefined) fatal(`--dir is required\n${USAGE}`);
  return opts;
}

// ---------------------------------------------------------------------------
// Files in the state directory

// Writes through a temporary name and renames, so a concurrent reader never
// sees half a file.
function writeFileAtomic(file, data, mode) {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, data, { mode });
  fs.renameSync(tmp, file);
}

// Creates `file` holding a fresh random secret unless it exists. The secret
// alphabet is what Entra uses for client secrets ([A-Za-z0-9~._-]).
function ensureRandomFile(file, length) {
  if (fs.existsSync(file)) return;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-';
  const bytes = crypto.randomBytes(length);
  let s = '';
  for (const b of bytes) s += alphabet[b % alphabet.length];
  try {
    fs.writeFileSync(file, s, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if (e.code !== 'EEXIST') throw e; // another instance won the race: keep its file
  }
}

// Reads a credential file fresh on every use, so tests can rotate it.
function readCredential(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

// Runs `fn` while holding D/.devvault.lock, so two instances started at once on
// a fresh directory do not generate two CAs and mix their certificates.
function withDirLock(dir, fn) {
  const lock = path.join(dir, '.devvault.lock');
  const deadline = Date.now() + 60000;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let stale = false;
      try {
        stale = Date.now() - fs.statSync(lock).mtimeMs > 60000;
      } catch {
        continue; // removed meanwhile: retry at once
      }
      if (stale) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

// ---------------------------------------------------------------------------
// Certificates (generated with the openssl CLI, reused while valid)

function certUsable(certFile, keyFile, issuer) {
  try {
    if (!fs.existsSync(keyFile)) return false;
    const cert = new crypto.X509Certificate(fs.readFileSync(certFile));
    if (Date.parse(cert.validTo) - Date.now() < CERT_RENEW_MARGIN_MS) return false;
    if (issuer && !cert.checkIssued(issuer)) return false;
    if (issuer && !cert.verify(issuer.publicKey)) return false;
    return cert;
  } catch {
    return false;
  }
}

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

// Makes sure D holds a CA (ca.pem, ca.key) and a server certificate signed by it
// (vault.pem, vault.key) for 127.0.0.1, ::1 and localhost. A custom openssl
// config keeps the extensions exact whatever the system openssl.cnf says.
function ensureCertificates(dir) {
  const f = (n) => path.join(dir, n);
  let ca = certUsable(f('ca.pem'), f('ca.key'), null);
  const vault = ca && certUsable(f('vault.pem'), f('vault.key'), ca);
  if (ca && vault) return;

  const cnf = f(`.openssl.${process.pid}.cnf`);
  fs.writeFileSync(
    cnf,
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      'CN = kvgate devvault local CA',
      '[srv_dn]',
      'CN = localhost',
      '[v3_ca]',
      'basicConstraints = critical,CA:TRUE',
      'keyUsage = critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier = hash',
      '[v3_srv]',
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage = serverAuth',
      'subjectAltName = IP:127.0.0.1,IP:::1,DNS:localhost',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid,issuer',
      '',
    ].join('\n'),
  );
  const tmp = (n) => `.${n}.${process.pid}.tmp`;
  try {
    if (!ca) {
      openssl(['req', '-x509', '-config', cnf, '-extensions', 'v3_ca', '-newkey', 'rsa:2048', '-nodes',
        '-sha256', '-days', String(CERT_DAYS), '-keyout', tmp('ca.key'), '-out', tmp('ca.pem')], dir);
    }
    openssl(['req', '-new', '-config', cnf, '-subj', '/CN=localhost', '-newkey', 'rsa:2048', '-nodes',
      '-keyout', tmp('vault.key'), '-out', tmp('vault.csr')], dir);
    openssl(['x509', '-req', '-in', tmp('vault.csr'),
      '-CA', ca ? 'ca.pem' : tmp('ca.pem'), '-CAkey', ca ? 'ca.key' : tmp('ca.key'),
      '-set_serial', '0x' + crypto.randomBytes(12).toString('hex'), '-sha256', '-days', String(CERT_DAYS),
      '-extfile', cnf, '-extensions', 'v3_srv', '-out', tmp('vault.pem')], dir);
    for (const n of ca ? ['vault.key', 'vault.pem'] : ['ca.key', 'ca.pem', 'vault.key', 'vault.pem']) {
      if (n.endsWith('.key')) fs.chmodSync(f(tmp(n)), 0o600);
      fs.renameSync(f(tmp(n)), f(n));
    }
  } catch (e) {
    const detail = e.stderr ? String(e.stderr).trim() : e.message;
    throw new Error(`openssl failed: ${detail}`);
  } finally {
    for (const n of ['ca.key', 'ca.pem', 'vault.key', 'vault.csr', 'vault.pem']) fs.rmSync(f(tmp(n)), { force: true });
    fs.rmSync(cnf, { force: true });
  }
}

// Makes sure D/client-cert.pem holds a self-signed certificate and its RSA key
// (the app registration's certificate credential), regenerated a day before
// it expires. Its thumbprints are what the token endpoint accepts.
function ensureClientCertificate(dir) {
  const file = path.join(dir, 'client-cert.pem');
  try {
    const pem = fs.readFileSync(file, 'utf8');
    const cert = new crypto.X509Certificate(pem);
    crypto.createPrivateKey(pem);
    if (Date.parse(cert.validTo) - Date.now() >= CERT_RENEW_MARGIN_MS) return;
  } catch {
    /* missing or unusable: make a new one */
  }
  const tmp = (n) => `.${n}.${process.pid}.tmp`;
  try {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', String(CERT_DAYS),
      '-subj', '/CN=kvgate devvault client', '-keyout', tmp('client.key'), '-out', tmp('client.crt')], dir);
    const pem = fs.readFileSync(path.join(dir, tmp('client.crt')), 'utf8') + fs.readFileSync(path.join(dir, tmp('client.key')), 'utf8');
    writeFileAtomic(file, pem, 0o600);
  } catch (e) {
    const detail = e.stderr ? String(e.stderr).trim() : e.message;
    throw new Error(`openssl failed: ${detail}`);
  } finally {
    for (const n of ['client.key', 'client.crt']) fs.rmSync(path.join(dir, tmp(n)), { force: true });
  }
}

// The registered certificate credential: the certificate in `file` and its
// SHA-1 and SHA-256 thumbprints, base64url (the x5t and x5t#S256 headers).
function loadClientCertificate(file) {
  const cert = new crypto.X509Certificate(fs.readFileSync(file));
  return {
    cert,
    x5t: crypto.createHash('sha1').update(cert.raw).digest('base64url'),
    x5tS256: crypto.createHash('sha256').update(cert.raw).digest('base64url'),
  };
}

// A projected service-account token as Kubernetes writes it for workload
// identity: a JWT (signature random: only the dev vault checks it, by value).
function makeFederatedToken() {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const header = { alg: 'RS256', kid: crypto.randomBytes(8).toString('hex') };
  const claims = {
    aud: [FEDERATED_AUDIENCE],
    exp: now + FEDERATED_DAYS * 86400,
    iat: now,
    iss: FEDERATED_ISSUER,
    nbf: now,
    sub: FEDERATED_SUBJECT,
    jti: crypto.randomUUID(),
  };
  return `${b64(header)}.${b64(claims)}.${crypto.randomBytes(256).toString('base64url')}`;
}

// Makes sure D/federated-token holds a federated token valid for another day
// at least.
function ensureFederatedToken(dir) {
  const file = path.join(dir, 'federated-token');
  try {
    const claims = JSON.parse(Buffer.from(fs.readFileSync(file, 'utf8').trim().split('.')[1], 'base64url').toString('utf8'));
    if (claims.exp * 1000 - Date.now() >= CERT_RENEW_MARGIN_MS) return;
  } catch {
    /* missing or not ours: write one */
  }
  writeFileAtomic(file, makeFederatedToken(), 0o600);
}

// ---------------------------------------------------------------------------
// The secret store

// One secret: its stored casing and its versions. `latest` is the version with
// the newest `created` time (seed order breaks ties), like Key Vault's "current
// version".
class Secret {
  constructor(name) {
    this.name = name;
    this.versions = new Map(); // lowercase version -> version record
    this.latest = null;
  }

  add(v) {
    this.versions.set(v.version, v);
    if (!this.latest || v.created >= this.latest.created) this.latest = v;
  }
}

class Store {
  constructor() {
    this.secrets = new Map(); // lowercase name -> Secret
    // The listing index: [{ key: 'secret/<NAME>', secret }] sorted by key,
    // built on the first list after a new secret appears and reused until
    // the next one, so that a page of a 10,000-secret vault costs a binary
    // search and the page's items, not a sort of the whole vault.
    this.index = null;
  }

  get(name) {
    return this.secrets.get(name.toLowerCase()) || null;
  }

  // Adds one version, creating the secret if needed. Returns the record.
  // A new version of a known secret leaves the index valid: it holds the
  // Secret, whose `latest` the list reads when it builds a page.
  addVersion(name, v) {
    let s = this.get(name);
    if (!s) {
      s = new Secret(name);
      this.secrets.set(name.toLowerCase(), s);
      this.index = null;
    }
    if (s.versions.has(v.version)) throw new Error(`duplicate version ${v.version} of ${name}`);
    s.add(v);
    return v;
  }

  // Secrets in Key Vault's listing order: names compared upper-cased (the
  // cpp recording's 168 names are in exactly this order), each with its
  // marker key. The array is shared: callers must not change it.
  sorted() {
    if (!this.index) {
      this.index = [...this.secrets.values()]
        .map((secret) => ({ key: `secret/${secret.name.toUpperCase()}`, secret }))
        .sort((a, b) => cmp(a.key, b.key));
    }
    return this.index;
  }
}

function cmp(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

const VERSION_KEYS = new Set(['version', 'value', 'contentType', 'tags', 'enabled', 'nbf', 'exp', 'managed', 'created', 'updated']);

// Validates one version description (from the seed or the control API) and
// returns the normalised record. Throws with a message naming the problem.
function makeVersion(where, src, now) {
  if (typeof src !== 'object' || src === null || Array.isArray(src)) throw new Error(`${where}: must be an object`);
  for (const k of Object.keys(src)) if (!VERSION_KEYS.has(k)) throw new Error(`${where}: unknown key '${k}'`);
  const version = src.version === undefined ? crypto.randomBytes(16).toString('hex') : src.version;
  if (typeof version !== 'string' || !/^[0-9a-f]{32}$/.test(version)) {
    throw new Error(`${where}: version must be 32 lowercase hex digits`);
  }
  if (typeof src.value !== 'string') throw new Error(`${where}: value must be a string`);
  if (Buffer.byteLength(src.value) > MAX_SECRET_VALUE) throw new Error(`${where}: value exceeds ${MAX_SECRET_VALUE} bytes`);
  if (src.contentType !== undefined && typeof src.contentType !== 'string') throw new Error(`${where}: contentType must be a string`);
  if (src.tags !== undefined) {
    if (typeof src.tags !== 'object' || src.tags === null || Array.isArray(src.tags)) throw new Error(`${where}: tags must be an object`);
    for (const [k, val] of Object.entries(src.tags)) if (typeof val !== 'string') throw new Error(`${where}: tag '${k}' must be a string`);
  }
  for (const k of ['enabled', 'managed']) {
    if (src[k] !== undefined && typeof src[k] !== 'boolean') throw new Error(`${where}: ${k} must be a boolean`);
  }
  for (const k of ['nbf', 'exp', 'created', 'updated']) {
    if (src[k] !== undefined && !(Number.isInteger(src[k]) && src[k] >= 0)) throw new Error(`${where}: ${k} must be Unix seconds`);
  }
  const created = src.created ?? now;
  const updated = src.updated ?? created;
  if (updated < created) throw new Error(`${where}: updated is before created`);
  return {
    version,
    value: src.value,
    contentType: src.contentType,
    tags: src.tags,
    enabled: src.enabled ?? true,
    nbf: src.nbf,
    exp: src.exp,
    managed: src.managed === true,
    created,
    updated,
  };
}

function loadSeed(file) {
  let doc;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${e.message}`);
  }
  if (!doc || !Array.isArray(doc.secrets)) throw new Error(`${file}: expected {"secrets": [...]}`);
  for (const k of Object.keys(doc)) if (k !== 'secrets' && k !== '_comment') throw new Error(`${file}: unknown key '${k}'`);
  const store = new Store();
  doc.secrets.forEach((s, i) => {
    const where = `${file}: secrets[${i}]`;
    if (!s || typeof s.name !== 'string' || !NAME_RE.test(s.name)) throw new Error(`${where}: name must match [0-9A-Za-z-]{1,127}`);
    for (const k of Object.keys(s)) if (k !== 'name' && k !== 'versions') throw new Error(`${where} (${s.name}): unknown key '${k}'`);
    if (store.get(s.name)) throw new Error(`${where}: duplicate name ${s.name} (names are case-insensitive)`);
    if (!Array.isArray(s.versions) || s.versions.length === 0) throw new Error(`${where} (${s.name}): versions must be a non-empty list`);
    s.versions.forEach((v, j) => {
      const vwhere = `${where} (${s.name}) versions[${j}]`;
      if (v && v.version === undefined) throw new Error(`${vwhere}: seed versions must be fixed`);
      if (v && v.created === undefined) throw new Error(`${vwhere}: seed versions need 'created'`);
      try {
        store.addVersion(s.name, makeVersion(vwhere, v, 0));
      } catch (e) {
        throw new Error(e.message.startsWith(vwhere) ? e.message : `${vwhere}: ${e.message}`);
      }
    });
  });
  return store;
}

// ---------------------------------------------------------------------------
// Key Vault bodies. Field order follows the recordings: SecretBundle is
// value, contentType, id, managed, attributes, tags, kid (py 7.6 crud recording
// for value..tags; cpp list recording puts `managed` right after `id`); the
// SecretItem of a list is the same without value and kid.

function attributes(v) {
  const a = { enabled: v.enabled };
  if (v.nbf !== undefined) a.nbf = v.nbf;
  if (v.exp !== undefined) a.exp = v.exp;
  a.created = v.created;
  a.updated = v.updated;
  a.recoveryLevel = RECOVERY_LEVEL;
  a.recoverableDays = RECOVERABLE_DAYS;
  return a;
}

function secretBundle(base, s, v) {
  const b = { value: v.value };
  if (v.contentType !== undefined) b.contentType = v.contentType;
  b.id = `${base}/secrets/${s.name}/${v.version}`;
  if (v.managed) b.managed = true;
  b.attributes = attributes(v);
  if (v.tags !== undefined) b.tags = v.tags;
  // A certificate-backed secret names the key backing the certificate: same
  // name and version under /keys.
  if (v.managed) b.kid = `${base}/keys/${s.name}/${v.version}`;
  return b;
}

function secretItem(base, s, v, withVersion) {
  const it = {};
  if (v.contentType !== undefined) it.contentType = v.contentType;
  it.id = withVersion ? `${base}/secrets/${s.name}/${v.version}` : `${base}/secrets/${s.name}`;
  if (v.managed) it.managed = true;
  it.attributes = attributes(v);
  if (v.tags !== undefined) it.tags = v.tags;
  return it;
}

// ---------------------------------------------------------------------------
// Paging. A $skiptoken is built like the real one (decoded from the cpp
// recording and the spec examples): base64 of
//   {"NextMarker":"2!<len>!<base64 of '<len6>!<key>!000028!9999-12-31T23:59:59.9999999Z!', '=' as '-'>","TargetLocation":0}
// with the outer '=' padding dropped. <key> is secret/<NAME> for /secrets and
// secret/<NAME>/<VERSION> for /versions, upper-cased, and names the first item
// of the next page.

const MARKER_TIME = '9999-12-31T23:59:59.9999999Z';

function encodeSkipToken(key) {
  const pad6 = (n) => String(n).padStart(6, '0');
  const inner = `${pad6(key.length)}!${key}!${pad6(MARKER_TIME.length)}!${MARKER_TIME}!`;
  const innerB64 = Buffer.from(inner).toString('base64').replace(/=/g, '-');
  const outer = JSON.stringify({ NextMarker: `2!${innerB64.length}!${innerB64}`, TargetLocation: 0 });
  return Buffer.from(outer).toString('base64').replace(/=+$/, '');
}

// Returns the marker key, or null when the token is not one of ours.
function decodeSkipToken(token) {
  // A client that decodes '+' as a space in the query would corrupt the
  // token; undo that rather than fail, since the real token can hold '+'.
  const t = token.replace(/ /g, '+');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return null;
  let obj;
  try {
    obj = JSON.parse(Buffer.from(t, 'base64').toString('utf8'));
  } catch {
    return null;
  }
  if (!obj || typeof obj.NextMarker !== 'string' || obj.TargetLocation !== 0) return null;
  const m = /^2!(\d+)!([A-Za-z0-9+/]+-{0,2})$/.exec(obj.NextMarker);
  if (!m || Number(m[1]) !== m[2].length) return null;
  const inner = Buffer.from(m[2].replace(/-/g, '='), 'base64').toString('utf8');
  const im = /^(\d{6})!([^!]+)!(\d{6})!([^!]+)!$/.exec(inner);
  if (!im || Number(im[1]) !== im[2].length || Number(im[3]) !== im[4].length) return null;
  return im[2];
}

// The index of the first entry of `entries` (sorted by key) whose key is >=
// key: a binary search, so resuming at a $skiptoken costs O(log n).
function lowerBound(entries, key) {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid].key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// One page of `entries` ([{key, ...}] sorted by key) starting at the first
// entry whose key is >= startKey; `item(entry)` makes the page's items, so
// only those are built. `shortFirst` makes the first page one item short
// although more follow, as the real service does (the cpp recording's first
// page of GET /secrets holds 24 items).
function page(entries, startKey, limit, shortFirst, item) {
  const i = startKey === null ? 0 : lowerBound(entries, startKey);
  const n = shortFirst && i === 0 && limit > 1 && entries.length > limit - 1 ? limit - 1 : limit;
  const items = entries.slice(i, i + n).map(item);
  const next = i + n < entries.length ? entries[i + n].key : null;
  return { items, next };
}

// ---------------------------------------------------------------------------
// Tokens

class TokenStore {
  // file: where every issued token is appended, one per line (D/issued-tokens),
  // so that a test run can search its logs for them afterwards.
  constructor(lifetime, file) {
    this.lifetime = lifetime;
    this.file = file;
    this.tokens = new Map(); // token -> { exp, aud }
  }

  // Issues an access token that looks like Entra's (a JWT with the usual
  // claims; the signature is random, which also makes every token unique).
  issue(aud, appid) {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.lifetime;
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const header = { typ: 'JWT', alg: 'RS256', x5t: 'ZGV2dmF1bHQ', kid: 'ZGV2dmF1bHQ' };
    const payload = {
      aud,
      iss: `https://sts.windows.net/${TENANT_ID}/`,
      iat: now,
      nbf: now,
      exp,
      appid,
      appidacr: '1',
      idp: `https://sts.windows.net/${TENANT_ID}/`,
      oid: OBJECT_ID,
      sub: OBJECT_ID,
      tid: TENANT_ID,
      uti: crypto.randomBytes(16).toString('base64url'),
      ver: '1.0',
    };
    const token = `${b64(header)}.${b64(payload)}.${crypto.randomBytes(64).toString('base64url')}`;
    if (this.tokens.size >= MAX_TOKENS) this.prune(now);
    this.tokens.set(token, { exp, aud });
    if (this.file) fs.appendFileSync(this.file, `${token}\n`, { mode: 0o600 });
    return { token, exp, now };
  }

  // Forgets tokens long past expiry; if still full, the oldest ones.
  prune(now) {
    for (const [t, rec] of this.tokens) if (rec.exp < now - 3600) this.tokens.delete(t);
    for (const t of this.tokens.keys()) {
      if (this.tokens.size < MAX_TOKENS) break;
      this.tokens.delete(t);
    }
  }

  expireAll() {
    const past = Math.floor(Date.now() / 1000) - 1;
    for (const rec of this.tokens.values()) rec.exp = Math.min(rec.exp, past);
  }

  // Checks an Authorization header. Returns null when the token is good, else
  // the message Key Vault would put in its 401 body.
  check(header) {
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header || '');
    if (!m) return MSG_NO_TOKEN;
    const token = m[1];
    const parts = token.split('.');
    // Approximations: Key Vault validates tokens with IdentityModel, whose
    // messages are quoted here; the exact wording varies with its version.
    if (parts.length !== 3 && parts.length !== 5) {
      return 'Error validating token: IDX12741: JWT must have three segments (JWS) or five segments (JWE).';
    }
    const rec = this.tokens.get(token);
    if (!rec) {
      return `AKV10046: Unable to resolve the key used for signature validation. EncodedJwtHeader: '${parts[0].slice(0, 200)}'.`;
    }
    if (rec.aud !== VAULT_RESOURCE && rec.aud !== VAULT_APP_ID) {
      return `AKV10022: Invalid audience. Expected ${VAULT_RESOURCE}, found: ${rec.aud}.`;
    }
    if (rec.exp <= Math.floor(Date.now() / 1000)) return expiredMessage(rec.exp);
    return null;
  }
}

function expiredMessage(exp) {
  const t = (s) => new Date(s * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return (
    `Error validating token: IDX10223: Lifetime validation failed. The token is expired. ` +
    `ValidTo (UTC): '${t(exp)}', Current time (UTC): '${t(Math.floor(Date.now() / 1000))}'.`
  );
}

// ---------------------------------------------------------------------------
// Responses. A handler returns { status, headers, body } (body a Buffer); the
// delivery step (which may apply a fault) writes it.

function uuid() {
  return crypto.randomUUID();
}

function reply(status, headers, obj) {
  const body = obj === undefined ? Buffer.alloc(0) : Buffer.from(typeof obj === 'string' ? obj : JSON.stringify(obj));
  return { status, headers: { ...headers, 'Content-Length': String(body.length) }, body, json: obj };
}

// Headers every Key Vault answer carries (see the recordings).
function kvHeaders(ctx) {
  const h = {
    'Cache-Control': 'no-cache',
    Pragma: 'no-cache',
    'Content-Type': 'application/json; charset=utf-8',
    Expires: '-1',
    'x-ms-keyvault-region': 'devvault',
    'x-ms-request-id': uuid(),
    'x-ms-keyvault-service-version': SERVICE_VERSION,
    'x-ms-keyvault-network-info': 'conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;',
    'X-Content-Type-Options': 'nosniff',
    'Strict-Transport-Security': 'max-age=31536000;includeSubDomains',
  };
  // Echoed like the service does (js recordings).
  const cid = ctx.headers['x-ms-client-request-id'];
  if (typeof cid === 'string' && /^[\x21-\x7e]{1,256}$/.test(cid)) h['x-ms-client-request-id'] = cid;
  return h;
}

function kvOk(ctx, obj) {
  return reply(200, kvHeaders(ctx), obj);
}

function kvError(ctx, status, code, message, inner, extraHeaders) {
  const error = { code, message };
  if (inner) error.innererror = { code: inner };
  return reply(status, { ...kvHeaders(ctx), ...extraHeaders }, { error });
}

// The 401 challenge. The authority is the dev vault itself, so a client that
// follows the challenge finds the token endpoint here.
function kvChallenge(ctx, message) {
  return kvError(ctx, 401, 'Unauthorized', message, null, {
    'WWW-Authenticate': `Bearer authorization="${ctx.base}/${TENANT_ID}", resource="${VAULT_RESOURCE}"`,
  });
}

function entraHeaders() {
  return {
    'Cache-Control': 'no-store, no-cache',
    Pragma: 'no-cache',
    'Content-Type': 'application/json; charset=utf-8',
    Expires: '-1',
    'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
    'X-Content-Type-Options': 'nosniff',
    'x-ms-request-id': uuid(),
    'x-ms-ests-server': 'devvault',
  };
}

// Entra's error shape: the AADSTS code leads the description, which ends with
// the trace and correlation ids and the timestamp that are repeated as fields.
function entraError(status, error, code, text) {
  const ts = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const trace = uuid();
  const corr = uuid();
  return reply(status, entraHeaders(), {
    error,
    error_description: `AADSTS${code}: ${text} Trace ID: ${trace} Correlation ID: ${corr} Timestamp: ${ts}`,
    error_codes: [code],
    timestamp: ts,
    trace_id: trace,
    correlation_id: corr,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  });
}

// ---------------------------------------------------------------------------
// Request context

// Splits the query string without turning '+' into a space (a $skiptoken may
// hold '+'); names are matched case-insensitively like ASP.NET does, and the
// first occurrence of a name wins.
function parseQuery(raw) {
  const q = new Map();
  if (!raw) return q;
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    let dk;
    let dv;
    try {
      dk = decodeURIComponent(k).toLowerCase();
      dv = decodeURIComponent(v);
    } catch {
      return null;
    }
    if (!q.has(dk)) q.set(dk, dv);
  }
  return q;
}

// Reads the request body up to MAX_REQUEST_BODY; resolves null when over.
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let over = false;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_REQUEST_BODY) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------------------
// The dev vault

class DevVault {
  constructor(opts, store) {
    this.opts = opts;
    this.store = store;
    this.tokens = new TokenStore(opts.tokenLifetime, path.join(opts.dir, 'issued-tokens'));
    this.faults = [];
    this.faultSeq = 0;
    this.port = 0;
    this.canonical = '';
    this.resetStats();
    this.files = {
      ca: path.join(opts.dir, 'ca.pem'),
      clientSecret: path.join(opts.dir, 'client-secret'),
      identityHeader: path.join(opts.dir, 'identity-header'),
      clientCert: path.join(opts.dir, 'client-cert.pem'),
      federatedToken: path.join(opts.dir, 'federated-token'),
    };
    this.clientCert = null; // the registered certificate credential (start())
    // Federated tokens replaced by POST /_devvault/federated-token that stay
    // valid (as rotated Kubernetes tokens do until they expire).
    this.previousFederated = new Set();
    this.pending = new Set(); // timers of delayed or slow answers
  }

  resetStats() {
    // tokenMethods: token requests that reached the identity handlers, by
    // credential kind. discovery: OpenID configuration requests (not counted
    // in token). connections counts every TLS connection (control calls'
    // too); connectionsUsed those that carried at least one vault or
    // identity request, so a client's connection reuse can be checked while
    // the control API is being polled; connectionsVault those that carried
    // at least one vault request. reads: requests for one secret (GET or
    // HEAD of /secrets/{name}[/{version}], any outcome, faulted ones
    // included) by lower-cased name, for the first STATS_READ_NAMES names;
    // reads of further names are summed in readsOtherNames.
    this.stats = {
      token: 0,
      vault: 0,
      discovery: 0,
      connections: 0,
      connectionsUsed: 0,
      connectionsVault: 0,
      reads: Object.create(null),
      readsOtherNames: 0,
      requests: [],
      assertions: [],
      tokenMethods: { client_secret: 0, client_certificate: 0, workload_identity: 0, app_service: 0, imds: 0, other: 0 },
    };
    this.readNames = 0; // keys in stats.reads
  }

  // The scheme://host:port the client used, when it is one of ours; ids and
  // links are built from it. Anything else gets the canonical 127.0.0.1 URL.
  baseFor(req) {
    const host = (req.headers.host || '').toLowerCase();
    if (host === `127.0.0.1:${this.port}` || host === `localhost:${this.port}`) return `https://${host}`;
    return this.canonical;
  }

  // Which side of the server a path belongs to: the control API, the identity
  // endpoints (OpenID discovery included), or (everything else) the vault.
  classify(pathname) {
    if (pathname === '/_devvault' || pathname.startsWith('/_devvault/')) return 'control';
    if (/^\/[^/]+\/oauth2\//.test(pathname) || DISCOVERY_RE.test(pathname)) return 'token';
    if (pathname === '/msi/token' || pathname === '/metadata/identity/oauth2/token') return 'token';
    return 'vault';
  }

  async onRequest(req, res) {
    const started = Date.now();
    const rawUrl = req.url || '/';
    const qpos = rawUrl.indexOf('?');
    // Real Key Vault tolerates a doubled leading slash (https://vault//secrets/x).
    const pathname = (qpos < 0 ? rawUrl : rawUrl.slice(0, qpos)).replace(/^\/+/, '/');
    const rawQuery = qpos < 0 ? '' : rawUrl.slice(qpos + 1);
    const kind = this.classify(pathname);
    let body;
    try {
      body = await readBody(req);
    } catch {
      return; // client went away mid-body
    }
    const ctx = {
      method: req.method,
      pathname,
      rawQuery,
      query: parseQuery(rawQuery),
      headers: req.headers,
      body,
      base: this.baseFor(req),
      kind,
    };

    if (kind === 'control') {
      const r = this.safeHandle(ctx, () => this.handleControl(ctx));
      this.write(res, r);
      this.log(ctx, r.status, started, null);
      return;
    }

    // OpenID discovery is identity-side traffic but no token fetch.
    if (kind === 'token' && DISCOVERY_RE.test(pathname)) this.stats.discovery++;
    else this.stats[kind]++;
    if (!req.socket.devvaultUsed) {
      req.socket.devvaultUsed = true;
      this.stats.connectionsUsed++;
    }
    if (kind === 'vault' && !req.socket.devvaultVault) {
      req.socket.devvaultVault = true;
      this.stats.connectionsVault++;
    }
    if (kind === 'vault') this.countRead(ctx);
    const fault = this.takeFault(kind, rawUrl);
    let response = null;
    if (!fault || !['status', 'hang', 'reset', 'reject-token'].includes(fault.mode)) {
      response = this.safeHandle(ctx, () => (kind === 'token' ? this.handleToken(ctx) : this.handleVault(ctx)));
    }
    const status = await this.deliver(req, res, ctx, response, fault);
    this.record(ctx, status, fault);
    this.log(ctx, status, started, fault);
  }

  safeHandle(ctx, fn) {
    if (ctx.body === null) {
      return ctx.kind === 'token'
        ? entraError(413, 'invalid_request', 90011, `The request body exceeds ${MAX_REQUEST_BODY} bytes.`)
        : kvError(ctx, 413, 'RequestEntityTooLarge', `The request body exceeds ${MAX_REQUEST_BODY} bytes.`);
    }
    try {
      return fn();
    } catch (e) {
      process.stderr.write(`devvault: internal error: ${e.stack || e}\n`);
      return kvError(ctx, 500, 'InternalServerError', 'The dev vault hit an internal error; see its log.');
    }
  }

  // Counts a request for one secret in stats.reads (see resetStats()).
  countRead(ctx) {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return;
    const m = /^\/secrets\/([^/]+)(?:\/([^/]*))?\/?$/.exec(ctx.pathname);
    if (!m || m[2] === 'versions') return;
    let name;
    try {
      name = decodeURIComponent(m[1]).toLowerCase();
    } catch {
      return;
    }
    if (!NAME_RE.test(name)) return;
    const reads = this.stats.reads;
    if (reads[name] !== undefined) {
      reads[name]++;
    } else if (this.readNames < STATS_READ_NAMES) {
      reads[name] = 1;
      this.readNames++;
    } else {
      this.stats.readsOtherNames++;
    }
  }

  write(res, r) {
    for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) res.setHeader(k, v);
    res.writeHead(r.status);
    res.end(r.body);
  }

  record(ctx, status, fault) {
    const entry = { method: ctx.method, path: ctx.pathname, status };
    if (ctx.kind === 'vault' && ctx.rawQuery) entry.query = ctx.rawQuery;
    entry.kind = ctx.kind;
    if (fault) entry.fault = fault.mode;
    this.stats.requests.push(entry);
    if (this.stats.requests.length > STATS_REQUESTS) this.stats.requests.shift();
  }

  // One line per request on stderr. Token-side queries are left out and no
  // body is ever logged, so no secret value, client secret or token appears.
  log(ctx, status, started, fault) {
    const target = ctx.kind === 'vault' && ctx.rawQuery ? `${ctx.pathname}?${ctx.rawQuery}` : ctx.pathname;
    const f = fault ? ` fault=${fault.mode}` : '';
    process.stderr.write(`devvault: ${ctx.kind} ${ctx.method} ${target} -> ${status || '-'} ${Date.now() - started}ms${f}\n`);
  }

  // -------------------------------------------------------------------------
  // Vault routes

  handleVault(ctx) {
    const authError = this.tokens.check(ctx.headers.authorization);
    if (authError) return kvChallenge(ctx, authError);

    if (ctx.query === null) return kvError(ctx, 400, 'BadParameter', 'The request URI contains an invalid query string.');
    const apiVersion = ctx.query.get('api-version');
    // Approximations: the reference holds no capture of these two answers.
    if (apiVersion === undefined || apiVersion === '') {
      return kvError(ctx, 400, 'BadParameter', 'The api-version query parameter is missing. Specify ?api-version= in the request URI.');
    }
    if (!API_VERSION_RE.test(apiVersion)) {
      return kvError(ctx, 400, 'BadParameter',
        `The specified version (${apiVersion}) is not recognized. Consider using the latest supported version (${LATEST_API_VERSION}).`);
    }

    // '/secrets/x/' means the latest version of x: drop one trailing slash.
    const segs = ctx.pathname.split('/').slice(1);
    if (segs.length > 1 && segs[segs.length - 1] === '') segs.pop();
    let decoded;
    try {
      decoded = segs.map(decodeURIComponent);
    } catch {
      return kvError(ctx, 400, 'BadParameter', 'The request URI contains an invalid path.');
    }
    if (decoded[0] !== 'secrets' || decoded.length > 3) {
      // Approximation: an unknown vault path.
      return kvError(ctx, 404, 'NotFound', `The requested resource '${ctx.pathname}' was not found.`);
    }

    const method = ctx.method === 'HEAD' ? 'GET' : ctx.method;
    if (method !== 'GET') return this.vaultWrite(ctx, method, decoded);

    if (decoded.length === 1) return this.listSecrets(ctx, apiVersion);
    const name = decoded[1];
    if (!NAME_RE.test(name)) return kvError(ctx, 400, 'BadParameter', `The request URI contains an invalid name: ${name}`);
    if (decoded.length === 3 && decoded[2] === 'versions') return this.listVersions(ctx, apiVersion, name);
    return this.getSecret(ctx, name, decoded.length === 3 ? decoded[2] : '');
  }

  // The dev identity may only get and list (like the "Key Vault Secrets User"
  // role); write operations that exist in the REST API are refused the way a
  // vault refuses a caller without the permission, other methods get 405.
  vaultWrite(ctx, method, segs) {
    const op = { PUT: 'set', PATCH: 'set', DELETE: 'delete', POST: 'backup' }[method];
    if (op && segs.length >= 2) {
      return kvError(ctx, 403, 'Forbidden',
        `The user, group or application 'appid=${CLIENT_ID};oid=${OBJECT_ID};iss=https://sts.windows.net/${TENANT_ID}/' ` +
        `does not have secrets ${op} permission on key vault 'devvault;location=local'. ` +
        'For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287',
        'ForbiddenByPolicy');
    }
    return kvError(ctx, 405, 'MethodNotAllowed', `The requested resource does not support http method '${ctx.method}'.`,
      null, { Allow: 'GET' });
  }

  getSecret(ctx, name, version) {
    const s = this.store.get(name);
    if (version !== '' && !VERSION_RE.test(version)) return kvError(ctx, 404, 'SecretNotFound', notFoundMessage(`${name}/${version}`));
    if (!s) return kvError(ctx, 404, 'SecretNotFound', notFoundMessage(name));
    const v = version === '' ? s.latest : s.versions.get(version.toLowerCase());
    if (!v) return kvError(ctx, 404, 'SecretNotFound', notFoundMessage(`${name}/${version}`));
    if (!v.enabled) return kvError(ctx, 403, 'Forbidden', MSG_DISABLED, 'SecretDisabled');
    // nbf/exp are informational for secrets: Key Vault still returns them.
    return kvOk(ctx, secretBundle(ctx.base, s, v));
  }

  // Reads maxresults and $skiptoken. Returns { limit, given, start } or an
  // error response.
  pageParams(ctx, keyOk) {
    const mr = ctx.query.get('maxresults');
    let limit = DEFAULT_PAGE;
    if (mr !== undefined) {
      if (!/^\d{1,9}$/.test(mr) || Number(mr) < 1 || Number(mr) > DEFAULT_PAGE) {
        // Approximation of the service's wording.
        return { error: kvError(ctx, 400, 'BadParameter', `Invalid value '${mr}' for maxresults. The value must be between 1 and ${DEFAULT_PAGE}.`) };
      }
      limit = Number(mr);
    }
    let start = null;
    const st = ctx.query.get('$skiptoken');
    if (st !== undefined) {
      start = decodeSkipToken(st);
      if (start === null || !keyOk(start)) {
        return { error: kvError(ctx, 400, 'BadParameter', 'The value of the $skiptoken query parameter is invalid.') };
      }
    }
    return { limit: Math.min(limit, this.opts.pageSize), given: mr !== undefined ? Number(mr) : null, start };
  }

  // The nextLink carries an explicit port (the real ones say :443), the
  // caller's api-version, the token, and maxresults only when the caller sent
  // it (the cpp recording's unbounded list has none; the py one has it).
  nextLink(ctx, listPath, apiVersion, key, given) {
    const mr = given === null ? '' : `&maxresults=${given}`;
    return `${ctx.base}${listPath}?api-version=${apiVersion}&$skiptoken=${encodeSkipToken(key)}${mr}`;
  }

  listSecrets(ctx, apiVersion) {
    const p = this.pageParams(ctx, (k) => /^secret\/[0-9A-Z-]{1,127}$/.test(k));
    if (p.error) return p.error;
    const pg = page(this.store.sorted(), p.start, p.limit, true, (e) => secretItem(ctx.base, e.secret, e.secret.latest, false));
    return kvOk(ctx, {
      value: pg.items,
      nextLink: pg.next === null ? null : this.nextLink(ctx, '/secrets', apiVersion, pg.next, p.given),
    });
  }

  // Versions are listed in version-id order (both recordings), not by age.
  // A name with no secret lists as empty, as Key Vault does.
  listVersions(ctx, apiVersion, name) {
    const s = this.store.get(name);
    const prefix = `secret/${name.toUpperCase()}/`;
    const p = this.pageParams(ctx, (k) => k.startsWith(prefix) && /^[0-9A-F]{32}$/.test(k.slice(prefix.length)));
    if (p.error) return p.error;
    const entries = s
      ? [...s.versions.values()]
          .map((v) => ({ key: prefix + v.version.toUpperCase(), item: secretItem(ctx.base, s, v, true) }))
          .sort((a, b) => cmp(a.key, b.key))
      : [];
    const pg = page(entries, p.start, p.limit, false, (e) => e.item);
    const listPath = `/secrets/${s ? s.name : name}/versions`;
    return kvOk(ctx, {
      value: pg.items,
      nextLink: pg.next === null ? null : this.nextLink(ctx, listPath, apiVersion, pg.next, p.given),
    });
  }

  // -------------------------------------------------------------------------
  // Identity routes

  handleToken(ctx) {
    if (DISCOVERY_RE.test(ctx.pathname)) return this.openidConfiguration(ctx);
    const kind = this.tokenKind(ctx);
    this.stats.tokenMethods[kind]++;
    if (ctx.pathname === '/msi/token') return this.appServiceToken(ctx);
    if (ctx.pathname === '/metadata/identity/oauth2/token') return this.imdsToken(ctx);
    const m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(ctx.pathname);
    if (!m) {
      // Approximation: only the v2.0 token endpoint exists here.
      return entraError(404, 'invalid_request', 90011, 'The requested endpoint does not exist on the dev vault; use /{tenant}/oauth2/v2.0/token.');
    }
    let tenant;
    try {
      tenant = decodeURIComponent(m[1]);
    } catch {
      tenant = m[1];
    }
    if (tenant.toLowerCase() !== TENANT_ID) {
      return entraError(400, 'invalid_request', 90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. ` +
        'Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.');
    }
    if (ctx.method !== 'POST') {
      return entraError(400, 'invalid_request', 900561, `The endpoint only accepts POST, OPTIONS requests. Received a ${ctx.method} request.`);
    }
    const ctype = String(ctx.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
    const form = ctype === 'application/x-www-form-urlencoded' ? new URLSearchParams(ctx.body.toString('utf8')) : new URLSearchParams();
    const missing = (p) => entraError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${p}'.`);

    const grant = form.get('grant_type');
    if (!grant) return missing('grant_type');
    if (grant !== 'client_credentials') {
      return entraError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    }
    const clientId = form.get('client_id');
    if (!clientId) return missing('client_id');
    if (clientId.toLowerCase() !== CLIENT_ID) {
      return entraError(400, 'unauthorized_client', 700016,
        `Application with identifier '${clientId}' was not found in the directory '${TENANT_ID}'. This can happen if the application ` +
        'has not been installed by the administrator of the tenant or consented to by any user in the tenant. ' +
        'You may have sent your authentication request to the wrong tenant.');
    }
    const scope = form.get('scope');
    if (!scope) return missing('scope');
    if (!/\/\.default$/.test(scope)) {
      return entraError(400, 'invalid_scope', 1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
    }
    if (scope.toLowerCase() !== VAULT_SCOPE) {
      return entraError(400, 'invalid_resource', 500011,
        `The resource principal named ${scope.replace(/\/\.default$/, '')} was not found in the tenant named ${TENANT_ID}. ` +
        'This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. ' +
        'You might have sent your authentication request to the wrong tenant.');
    }

    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    if (secret !== null && assertion !== null) {
      return entraError(400, 'invalid_request', 90023, 'Only one of client_secret and client_assertion may be presented.');
    }
    if (secret === null && assertion === null) {
      return entraError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    if (secret !== null) {
      const expected = readCredential(this.files.clientSecret);
      if (!expected || !safeEqual(secret, expected)) {
        return entraError(401, 'invalid_client', 7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${CLIENT_ID}'.`);
      }
    } else {
      const err = this.checkAssertion(ctx, form.get('client_assertion_type'), assertion);
      if (err) return err;
    }

    const t = this.tokens.issue(VAULT_RESOURCE, CLIENT_ID);
    return reply(200, entraHeaders(), {
      token_type: 'Bearer',
      expires_in: this.opts.tokenLifetime,
      ext_expires_in: this.opts.tokenLifetime,
      access_token: t.token,
    });
  }

  // GET /{tenant}/v2.0/.well-known/openid-configuration: the tenant's OpenID
  // Connect discovery document, which MSAL (under @azure/identity's
  // credentials) fetches once before its first token request. Every
  // endpoint is the dev vault itself. Approximation: the reference holds no
  // capture; keys and values follow what Entra publishes for a tenant, and
  // only the token endpoint works.
  openidConfiguration(ctx) {
    const tenant = DISCOVERY_RE.exec(ctx.pathname)[1];
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      return entraError(400, 'invalid_request', 900561, `The endpoint only accepts GET, OPTIONS requests. Received a ${ctx.method} request.`);
    }
    if (tenant.toLowerCase() !== TENANT_ID) {
      return entraError(400, 'invalid_tenant', 90002,
        `Tenant '${tenant.slice(0, 100)}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. ` +
        'Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.');
    }
    const t = `${ctx.base}/${TENANT_ID}`;
    return reply(200, { ...entraHeaders(), 'Cache-Control': 'max-age=86400, private' }, {
      token_endpoint: `${t}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${t}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${t}/v2.0`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${t}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${t}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${t}/oauth2/v2.0/logout`,
      tenant_region_scope: 'devvault',
      cloud_instance_name: 'devvault.local',
    });
  }

  // Which credential a token request presents, for stats.tokenMethods.
  tokenKind(ctx) {
    if (ctx.pathname === '/msi/token') return 'app_service';
    if (ctx.pathname === '/metadata/identity/oauth2/token') return 'imds';
    const ctype = String(ctx.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
    if (ctype !== 'application/x-www-form-urlencoded' || !ctx.body) return 'other';
    const form = new URLSearchParams(ctx.body.toString('utf8'));
    if (form.get('client_secret') !== null) return 'client_secret';
    const a = form.get('client_assertion');
    if (a === null) return 'other';
    try {
      const claims = JSON.parse(Buffer.from(a.split('.')[1], 'base64url').toString('utf8'));
      const auds = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      return auds.includes(FEDERATED_AUDIENCE) ? 'workload_identity' : 'client_certificate';
    } catch {
      return 'other';
    }
  }

  // Accepts any well-formed client assertion with plausible claims and records
  // it. Two kinds: a certificate credential (iss == sub == client_id, aud = a
  // token endpoint of this tenant, RS256-signed by the registered certificate
  // D/client-cert.pem, named by x5t#S256 or x5t) and a federated token as
  // workload identity presents it (aud api://AzureADTokenExchange), accepted
  // only if it is exactly D/federated-token's current content (read on every
  // request, so a rewrite of the file is a rotation) or a token that
  // POST /_devvault/federated-token rotated out without revoking.
  // Approximation: the AADSTS codes for the claim failures.
  checkAssertion(ctx, type, assertion) {
    if (type !== JWT_BEARER) {
      return entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_assertion_type'.");
    }
    const parts = assertion.split('.');
    let header;
    let claims;
    try {
      if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+={0,2}$/.test(p))) throw new Error('shape');
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
      if (!header || typeof header !== 'object' || !claims || typeof claims !== 'object') throw new Error('shape');
    } catch {
      return entraError(400, 'invalid_request', 50027, 'JWT token is invalid or malformed.');
    }
    const auds = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    const federated = auds.includes(FEDERATED_AUDIENCE);
    if (federated) {
      if (typeof claims.iss !== 'string' || !claims.iss || typeof claims.sub !== 'string' || !claims.sub) {
        return entraError(400, 'invalid_request', 50027, 'JWT token is invalid or malformed. The iss and sub claims are required.');
      }
      const current = readCredential(this.files.federatedToken);
      if (!(current && safeEqual(assertion, current)) && !this.previousFederated.has(assertion)) {
        return entraError(400, 'invalid_client', 70021,
          `No matching federated identity record found for presented assertion. Assertion Issuer: '${String(claims.iss).slice(0, 200)}'. ` +
          `Assertion Subject: '${String(claims.sub).slice(0, 200)}'. Assertion Audience: '${FEDERATED_AUDIENCE}'.`);
      }
    } else {
      if (claims.iss !== CLIENT_ID || claims.sub !== CLIENT_ID) {
        return entraError(401, 'invalid_client', 700021, "Client assertion application identifier doesn't match 'client_id' parameter.");
      }
      const audOk = auds.some((a) => typeof a === 'string' &&
        new RegExp(`^https://[^/]+/(${TENANT_ID}/oauth2/v2\\.0/token|${TENANT_ID}/v2\\.0)/?$`, 'i').test(a));
      if (!audOk) {
        return entraError(401, 'invalid_client', 50027,
          `JWT token is invalid or malformed. The audience must be the token endpoint of tenant ${TENANT_ID}.`);
      }
      const err = this.checkSignature(header, parts);
      if (err) return err;
    }
    const now = Math.floor(Date.now() / 1000);
    const skew = 300;
    if (!Number.isInteger(claims.exp) || claims.exp + skew < now || (Number.isInteger(claims.nbf) && claims.nbf - skew > now)) {
      return entraError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
    }
    const rec = {
      kind: federated ? 'federated' : 'certificate',
      alg: header.alg,
      iss: claims.iss,
      sub: claims.sub,
      aud: claims.aud,
      exp: claims.exp,
    };
    for (const k of ['x5t', 'x5t#S256', 'kid']) if (header[k] !== undefined) rec[k] = header[k];
    this.stats.assertions.push(rec);
    if (this.stats.assertions.length > STATS_ASSERTIONS) this.stats.assertions.shift();
    return null;
  }

  // The certificate credential's key lookup and signature: the header names
  // the registered certificate by x5t#S256 (or x5t), alg is RS256, and the
  // signature verifies with its public key. Entra answers AADSTS700027 for
  // an unknown key and for a bad signature.
  checkSignature(header, parts) {
    const reg = this.clientCert;
    const bad = (reason) => entraError(401, 'invalid_client', 700027,
      `Client assertion failed signature validation. [Reason - ${reason}, Thumbprint of key used by client: '${String(header['x5t#S256'] || header.x5t || '').slice(0, 100)}']`);
    if (!reg) return bad('No certificate is registered on the application.');
    if (header.alg !== 'RS256') return bad(`The algorithm '${String(header.alg).slice(0, 20)}' is not supported.`);
    const byS256 = typeof header['x5t#S256'] === 'string';
    const byS1 = typeof header.x5t === 'string';
    if (!byS256 && !byS1) return bad('The key was not found.');
    if ((byS256 && header['x5t#S256'] !== reg.x5tS256) || (!byS256 && header.x5t !== reg.x5t)) {
      return bad('The key was not found.');
    }
    let good = false;
    try {
      good = crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), reg.cert.publicKey, Buffer.from(parts[2], 'base64url'));
    } catch {
      good = false;
    }
    return good ? null : bad('The provided signature value did not match the expected signature value.');
  }

  // App Service / Functions (api-version 2019-08-01). Approximation: the error
  // bodies; the reference has no capture of App Service errors.
  //
  // For both managed-identity endpoints the `resource` asked for becomes the
  // token's audience, so a wrong one (say, with a trailing slash) is refused
  // later by the vault with AKV10022, as in reality.
  appServiceToken(ctx) {
    const err = (status, message) => reply(status, entraHeaders(), { statusCode: status, message, correlationId: uuid() });
    if (ctx.method !== 'GET') return err(405, `The requested resource does not support http method '${ctx.method}'.`);
    const expected = readCredential(this.files.identityHeader);
    const given = ctx.headers['x-identity-header'];
    if (!expected || typeof given !== 'string' || !safeEqual(given, expected)) {
      return err(401, 'The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.');
    }
    const q = ctx.query || new Map();
    if (q.get('api-version') !== '2019-08-01') return err(400, "The api-version parameter must be '2019-08-01'.");
    const resource = q.get('resource');
    if (!resource) return err(400, "The 'resource' query parameter is required.");
    const identity = managedIdentity(q.get('client_id'));
    if (!identity) return err(400, 'Unable to load the requested managed identity.');
    for (const p of ['principal_id', 'mi_res_id']) {
      if (q.get(p) !== undefined) return err(400, 'Unable to load the requested managed identity.');
    }
    const t = this.tokens.issue(resource, identity);
    return reply(200, entraHeaders(), {
      access_token: t.token,
      expires_on: String(t.exp),
      resource,
      token_type: 'Bearer',
      client_id: identity,
    });
  }

  // Azure Instance Metadata Service (api-version 2018-02-01). Answers carry
  // every number as a string. Error texts are IMDS's (approximation).
  imdsToken(ctx) {
    const err = (status, error, description) => reply(status, entraHeaders(), { error, error_description: description });
    if (ctx.method !== 'GET') return err(405, 'invalid_request', 'Method not allowed');
    if (String(ctx.headers.metadata || '').toLowerCase() !== 'true') {
      return err(400, 'invalid_request', 'Required metadata header not specified');
    }
    if (ctx.headers['x-forwarded-for'] !== undefined) {
      return err(400, 'invalid_request', 'Request contains X-Forwarded-For header');
    }
    const q = ctx.query || new Map();
    const av = q.get('api-version');
    if (!av) return err(400, 'invalid_request', 'Required query variable \'api-version\' is missing');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(av)) return err(400, 'invalid_request', 'Invalid api-version');
    const resource = q.get('resource');
    if (!resource) return err(400, 'invalid_request', 'Required audience parameter not specified');
    const identity = managedIdentity(q.get('client_id'));
    if (!identity || q.get('object_id') !== undefined || q.get('msi_res_id') !== undefined) {
      return err(400, 'invalid_request', 'Identity not found');
    }
    const t = this.tokens.issue(resource, identity);
    const life = String(this.opts.tokenLifetime);
    return reply(200, entraHeaders(), {
      access_token: t.token,
      client_id: identity,
      expires_in: life,
      expires_on: String(t.exp),
      ext_expires_in: life,
      not_before: String(t.now),
      resource,
      token_type: 'Bearer',
    });
  }

  // -------------------------------------------------------------------------
  // Faults

  // Returns the first queued fault that matches this request and consumes one
  // of its uses. A fault with `every: N` applies to the 1st, (N+1)th, … of
  // the requests it matches and lets the others through untouched (they use
  // none of its `count`).
  takeFault(kind, url) {
    for (let i = 0; i < this.faults.length; i++) {
      const f = this.faults[i];
      if (f.target !== 'any' && f.target !== kind) continue;
      if (f.re && !f.re.test(url)) continue;
      if (f.every !== undefined && f.seen++ % f.every !== 0) return null;
      if (f.remaining !== null && --f.remaining <= 0) this.faults.splice(i, 1);
      return f;
    }
    return null;
  }

  // Default body of a `status` fault, in the shape of the side it hits.
  faultResponse(ctx, f) {
    const status = f.status;
    const extra = {};
    if (f.retryAfter !== undefined) extra['Retry-After'] = f.retryAfter;
    let r;
    if (f.body !== undefined) {
      const headers = ctx.kind === 'vault' ? kvHeaders(ctx) : entraHeaders();
      r = reply(status, { ...headers, ...extra }, f.body);
    } else if (ctx.kind === 'vault') {
      const codes = {
        400: ['BadParameter', 'The request is invalid.'],
        401: null,
        403: ['Forbidden', 'Caller is not authorized to perform action on resource.', 'ForbiddenByRbac'],
        404: ['SecretNotFound', notFoundMessage(ctx.pathname.split('/')[2] || 'unknown')],
        429: ['Throttled', MSG_THROTTLED],
        500: ['InternalServerError', 'The server encountered an internal error. Please retry the request.'],
        502: ['BadGateway', 'The server received an invalid response from an upstream server.'],
        503: ['ServiceUnavailable', 'The service is temporarily unavailable. Please retry the request.'],
        504: ['GatewayTimeout', 'The server did not receive a timely response from an upstream server.'],
      };
      if (status === 401) {
        r = kvChallenge(ctx, MSG_NO_TOKEN);
        Object.assign(r.headers, extra);
      } else {
        const [code, message, inner] = codes[status] || ['Error', `Injected HTTP ${status}.`];
        r = kvError(ctx, status, code, message, inner, extra);
      }
    } else {
      const error = status === 429 || status === 503 ? 'temporarily_unavailable' : status >= 500 ? 'server_error' : 'invalid_request';
      r = entraError(status, error, status >= 500 || status === 429 ? 90033 : 90014, `Injected HTTP ${status}.`);
      Object.assign(r.headers, extra);
    }
    if (f.headers) Object.assign(r.headers, f.headers);
    return r;
  }

  sleep(ms) {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.pending.delete(t);
        resolve();
      }, ms);
      this.pending.add(t);
    });
  }

  // Writes `response`, or misbehaves as `fault` says. Resolves the status
  // written (0 when none was).
  async deliver(req, res, ctx, response, fault) {
    if (!fault) {
      this.write(res, response);
      return response.status;
    }
    const socket = req.socket;
    const delay = fault.delayMs ?? (fault.mode === 'slow' ? 1000 : 0);
    if (fault.mode === 'hang') {
      // Never answer; the connection stays open until the client gives up or
      // the dev vault stops.
      return 0;
    }
    if (delay > 0) await this.sleep(delay);
    if (socket.destroyed) return 0;
    switch (fault.mode) {
      case 'reset':
        if (typeof socket.resetAndDestroy === 'function' && socket._handle && socket._handle.reset) socket.resetAndDestroy();
        else socket.destroy();
        return 0;
      case 'status':
        response = this.faultResponse(ctx, fault);
        break;
      case 'reject-token':
        response = kvChallenge(ctx, expiredMessage(Math.floor(Date.now() / 1000) - 60));
        break;
      case 'malformed': {
        // A complete HTTP answer whose JSON body is cut in half.
        const cut = response.body.subarray(0, Math.max(1, Math.floor(response.body.length / 2)));
        response = { ...response, headers: { ...response.headers, 'Content-Length': String(cut.length) }, body: cut };
        break;
      }
      case 'oversize':
        response = oversized(response, fault.bytes ?? 1024 * 1024);
        break;
      case 'truncate': {
        // Announce the full length, send half, then drop the connection.
        for (const [k, v] of Object.entries(response.headers)) if (v !== undefined) res.setHeader(k, v);
        res.writeHead(response.status);
        const half = response.body.subarray(0, Math.floor(response.body.length / 2));
        res.write(half, () => socket.destroy());
        return response.status;
      }
      case 'slow':
        if (fault.chunkBytes) {
          for (const [k, v] of Object.entries(response.headers)) if (v !== undefined) res.setHeader(k, v);
          res.writeHead(response.status);
          for (let i = 0; i < response.body.length; i += fault.chunkBytes) {
            if (socket.destroyed) return response.status;
            res.write(response.body.subarray(i, i + fault.chunkBytes));
            await this.sleep(fault.intervalMs ?? 100);
          }
          res.end();
          return response.status;
        }
        break;
      default:
        break;
    }
    this.write(res, response);
    return response.status;
  }

  // -------------------------------------------------------------------------
  // Control API (no auth: a local development tool)

  handleControl(ctx) {
    const headers = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' };
    const ok = (obj) => reply(200, headers, obj);
    const bad = (status, message) =>
      reply(status, headers, { error: { code: status === 404 ? 'NotFound' : 'BadParameter', message } });
    const route = `${ctx.method} ${ctx.pathname.replace(/\/+$/, '')}`;
    const json = () => {
      try {
        return { value: JSON.parse(ctx.body.toString('utf8') || 'null') };
      } catch (e) {
        return { error: bad(400, `body is not JSON: ${e.message}`) };
      }
    };
    switch (route) {
      case 'GET /_devvault':
        return ok({
          endpoints: [
            'GET /_devvault/stats', 'POST /_devvault/stats/reset',
            'GET /_devvault/faults', 'POST /_devvault/faults', 'DELETE /_devvault/faults',
            'POST /_devvault/secrets', 'POST /_devvault/tokens/expire', 'POST /_devvault/federated-token',
          ],
        });
      case 'GET /_devvault/stats':
        return ok(this.stats);
      case 'POST /_devvault/stats/reset':
        this.resetStats();
        return ok(this.stats);
      case 'GET /_devvault/faults':
        return ok({ faults: this.faults.map(describeFault) });
      case 'DELETE /_devvault/faults':
        this.faults = [];
        return ok({ faults: [] });
      case 'POST /_devvault/faults': {
        const j = json();
        if (j.error) return j.error;
        const list = Array.isArray(j.value) ? j.value : [j.value];
        const made = [];
        for (let i = 0; i < list.length; i++) {
          const f = makeFault(list[i], ++this.faultSeq);
          if (typeof f === 'string') return bad(400, `fault ${i}: ${f}`);
          made.push(f);
        }
        if (this.faults.length + made.length > MAX_FAULTS) return bad(400, `at most ${MAX_FAULTS} faults may be queued`);
        this.faults.push(...made);
        return ok({ faults: this.faults.map(describeFault) });
      }
      case 'POST /_devvault/secrets': {
        const j = json();
        if (j.error) return j.error;
        const src = j.value;
        if (!src || typeof src !== 'object' || typeof src.name !== 'string' || !NAME_RE.test(src.name)) {
          return bad(400, 'name must match [0-9A-Za-z-]{1,127}');
        }
        const { name, ...rest } = src;
        let v;
        try {
          // Runtime versions are newer than every seeded one, so they become
          // the latest; `created` stays overridable for tests.
          v = makeVersion('secret', rest, Math.floor(Date.now() / 1000));
          this.store.addVersion(name, v);
        } catch (e) {
          return bad(400, e.message);
        }
        const s = this.store.get(name);
        return ok(secretBundle(ctx.base, s, v));
      }
      case 'POST /_devvault/tokens/expire':
        this.tokens.expireAll();
        return ok({ expired: this.tokens.tokens.size });
      case 'POST /_devvault/federated-token': {
        // Rotates D/federated-token as Kubernetes does; with {"revoke":true}
        // the replaced token stops being accepted at once.
        const j = json();
        if (j.error) return j.error;
        const revoke = !!(j.value && j.value.revoke === true);
        const old = readCredential(this.files.federatedToken);
        if (old && !revoke) this.previousFederated.add(old);
        if (revoke) this.previousFederated.clear();
        writeFileAtomic(this.files.federatedToken, makeFederatedToken(), 0o600);
        return ok({ federated_token_file: this.files.federatedToken, revoked: revoke });
      }
      default:
        return bad(404, `no control endpoint ${route}`);
    }
  }

  // -------------------------------------------------------------------------
  // Start and stop

  async start() {
    const { dir } = this.opts;
    this.clientCert = loadClientCertificate(this.files.clientCert);
    const server = https.createServer({
      key: fs.readFileSync(path.join(dir, 'vault.key')),
      cert: fs.readFileSync(path.join(dir, 'vault.pem')),
    });
    // kvgate keeps one connection per process; Azure's front ends keep idle
    // connections for minutes, so do not drop them after Node's default 5 s.
    server.keepAliveTimeout = 240000;
    server.headersTimeout = 60000;
    server.requestTimeout = 0; // a `hang` fault must be able to hang
    server.on('secureConnection', () => this.stats.connections++);
    server.on('request', (req, res) => {
      this.onRequest(req, res).catch((e) => {
        process.stderr.write(`devvault: internal error: ${e.stack || e}\n`);
        if (!res.headersSent) res.destroy();
      });
    });
    server.on('tlsClientError', () => {}); // a client that rejects our CA is its own business
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = server.address().port;
    this.canonical = `https://127.0.0.1:${this.port}`;
    const info = {
      url: this.canonical,
      tenant_id: TENANT_ID,
      client_id: CLIENT_ID,
      port: this.port,
      pid: process.pid,
      authority_host: this.canonical,
      ca_file: this.files.ca,
      client_secret_file: this.files.clientSecret,
      identity_header_file: this.files.identityHeader,
      msi_endpoint: `${this.canonical}/msi/token`,
      imds_endpoint: `${this.canonical}/metadata/identity/oauth2/token`,
      client_certificate_file: this.files.clientCert,
      client_certificate_x5t_s256: this.clientCert.x5tS256,
      federated_token_file: this.files.federatedToken,
      user_assigned_client_id: USER_ASSIGNED_CLIENT_ID,
    };
    writeFileAtomic(path.join(dir, 'devvault.json'), JSON.stringify(info, null, 2) + '\n', 0o644);
  }

  stop() {
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    if (!this.server) return Promise.resolve();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

// Grows a JSON answer past `bytes` while keeping it valid JSON: a string
// `value` is replaced by a long one, otherwise a `padding` member is added.
function oversized(response, bytes) {
  const obj = response.json && typeof response.json === 'object' ? { ...response.json } : {};
  const filler = 'x'.repeat(bytes);
  if (typeof obj.value === 'string') obj.value = filler;
  else obj.padding = filler;
  const body = Buffer.from(JSON.stringify(obj));
  return { ...response, headers: { ...response.headers, 'Content-Length': String(body.length) }, body };
}

const FAULT_MODES = new Set(['status', 'hang', 'reset', 'truncate', 'malformed', 'oversize', 'slow', 'reject-token']);
const FAULT_KEYS = new Set(['target', 'path', 'mode', 'status', 'retryAfter', 'body', 'headers', 'count', 'delayMs', 'bytes', 'chunkBytes', 'intervalMs', 'every']);

// Validates one fault description. Returns the fault or an error string.
function makeFault(src, id) {
  if (!src || typeof src !== 'object' || Array.isArray(src)) return 'must be an object';
  for (const k of Object.keys(src)) if (!FAULT_KEYS.has(k)) return `unknown key '${k}'`;
  const f = { id, target: src.target ?? 'vault', mode: src.mode, remaining: null };
  if (!['vault', 'token', 'any'].includes(f.target)) return "target must be 'vault', 'token' or 'any'";
  if (!FAULT_MODES.has(f.mode)) return `mode must be one of ${[...FAULT_MODES].join(', ')}`;
  if (f.mode === 'reject-token' && f.target !== 'vault') return "mode 'reject-token' needs target 'vault'";
  if (src.path !== undefined) {
    if (typeof src.path !== 'string') return 'path must be a regular expression string';
    try {
      f.re = new RegExp(src.path);
    } catch (e) {
      return `path: ${e.message}`;
    }
    f.path = src.path;
  }
  const intIn = (k, min, max) => {
    if (src[k] === undefined) return true;
    if (!Number.isInteger(src[k]) || src[k] < min || src[k] > max) return false;
    f[k] = src[k];
    return true;
  };
  if (!intIn('status', 100, 599)) return 'status must be an integer 100..599';
  if (f.mode === 'status' && f.status === undefined) f.status = 500;
  if (!intIn('count', 1, 1e9)) return 'count must be a positive integer';
  if (f.count !== undefined) f.remaining = f.count;
  if (!intIn('delayMs', 0, 600000)) return 'delayMs must be an integer 0..600000';
  if (!intIn('bytes', 1, 64 * 1024 * 1024)) return 'bytes must be an integer 1..67108864';
  if (!intIn('chunkBytes', 1, 1 << 20)) return 'chunkBytes must be a positive integer';
  if (!intIn('intervalMs', 0, 60000)) return 'intervalMs must be an integer 0..60000';
  if (!intIn('every', 1, 1000)) return 'every must be an integer 1..1000';
  if (f.every !== undefined) f.seen = 0;
  if (src.retryAfter !== undefined) {
    if (typeof src.retryAfter !== 'string' && !Number.isInteger(src.retryAfter)) return 'retryAfter must be a string or integer';
    f.retryAfter = String(src.retryAfter);
  }
  if (src.body !== undefined) f.body = src.body;
  if (src.headers !== undefined) {
    if (!src.headers || typeof src.headers !== 'object' || Object.values(src.headers).some((v) => typeof v !== 'string')) {
      return 'headers must be an object of strings';
    }
    f.headers = src.headers;
  }
  return f;
}

function describeFault(f) {
  const { re, ...rest } = f;
  return rest;
}

// The managed identity a client_id query parameter selects: none given is the
// system-assigned one (CLIENT_ID), USER_ASSIGNED_CLIENT_ID the user-assigned
// one; anything else is no identity of this machine (null).
function managedIdentity(cid) {
  if (cid === undefined) return CLIENT_ID;
  const c = cid.toLowerCase();
  return c === CLIENT_ID || c === USER_ASSIGNED_CLIENT_ID ? c : null;
}

function safeEqual(a, b) {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && crypto.timingSafeEqual(ab, bb);
}

// ---------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  let store;
  try {
    fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    store = loadSeed(opts.seed);
    withDirLock(opts.dir, () => {
      ensureCertificates(opts.dir);
      ensureRandomFile(path.join(opts.dir, 'client-secret'), 40);
      ensureRandomFile(path.join(opts.dir, 'identity-header'), 32);
      ensureClientCertificate(opts.dir);
      ensureFederatedToken(opts.dir);
    });
  } catch (e) {
    process.stderr.write(`devvault: ${e.message}\n`);
    process.exit(1);
  }

  const vault = new DevVault(opts, store);
  try {
    await vault.start();
  } catch (e) {
    process.stderr.write(`devvault: cannot listen on 127.0.0.1:${opts.port}: ${e.message}\n`);
    process.exit(1);
  }

  let stopping = false;
  const stop = (sig) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`devvault: ${sig}, stopping\n`);
    // Exit even if a client holds a connection open past closeAllConnections.
    setTimeout(() => process.exit(0), 2000).unref();
    vault.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  process.stderr.write(`devvault: ${store.secrets.size} secrets from ${opts.seed}; state in ${opts.dir}\n`);
  process.stdout.write(`devvault: listening on ${vault.canonical}\n`);
}

if (require.main === module) main();

module.exports = { encodeSkipToken, decodeSkipToken, loadSeed, TENANT_ID, CLIENT_ID, USER_ASSIGNED_CLIENT_ID };
