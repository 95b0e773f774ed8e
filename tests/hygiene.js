'use strict';
/*
 * hygiene.js: the secret-hygiene check of a whole test run, as TAP. tests/run.sh
 * runs it last, once every other suite has written its output.
 *
 * It searches everything the run wrote down, as text:
 *   - the suite's own output (build/test.log: every unit test's and node
 *     test file's TAP, assertion messages and diagnostics included);
 *   - every web server's error and access logs and its stderr (where the
 *     programs' log lines go), and every dev vault's output, which
 *     tests/integration/stack.js keeps under KVGATE_TEST_ARTIFACTS/logs when
 *     it stops them (their temp dirs are gone by now);
 *   - the sanitizer reports of a SANITIZE= build (build/sanitizer/), if any;
 * for:
 *   - the dev vault's secret values (tests/devvault/seed.json, every version);
 *   - every access token a dev vault issued during the run (stack.js keeps
 *     each dev vault's D/issued-tokens under KVGATE_TEST_ARTIFACTS/secrets),
 *     whole or by its payload or signature alone;
 *   - every client secret, App Service identity header and federated token
 *     the dev vaults handed out;
 * as they are, JSON-escaped (with and without "\/") and percent-encoded.
 * A web server's log must also hold nothing shaped like a bearer token or a
 * JWT. It prints where a value was found and which secret it was, never the
 * value.
 *
 * Screenshots (tests/screenshots/) are not searched: they are pictures of the
 * demo SPA showing the values the policy exposes, on purpose.
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const ARTIFACTS = process.env.KVGATE_TEST_ARTIFACTS || path.join(ROOT, 'build', 'test-artifacts');
const TEST_LOG = path.join(ROOT, 'build', 'test.log');
const SANITIZER = path.join(ROOT, 'build', 'sanitizer');
const SEED = path.join(ROOT, 'tests', 'devvault', 'seed.json');
const MIN = 6; // shorter strings are not searched for (they occur by chance)

let n = 0;
let failed = 0;
function ok(cond, name, diag = []) {
	n++;
	if (!cond) failed++;
	console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
	for (const d of diag.slice(0, 40)) console.log(`# ${d}`);
	if (diag.length > 40) console.log(`# ... ${diag.length - 40} more`);
}

function files(dir) {
	try {
		return fs
			.readdirSync(dir)
			.map((f) => path.join(dir, f))
			.filter((f) => fs.statSync(f).isFile());
	} catch {
		return [];
	}
}

function read(f) {
	try {
		return fs.readFileSync(f, 'utf8');
	} catch {
		return '';
	}
}

// The forms a value can take in a log or a test's output.
function forms(v) {
	const json = JSON.stringify(v).slice(1, -1);
	return [...new Set([v, json, json.replace(/\//g, '\\/'), encodeURIComponent(v)])].filter((f) => f.length >= MIN);
}

/* ---- what to search ---------------------------------------------------- */

const texts = []; // { name, kind, text }
const testLog = read(TEST_LOG);
if (testLog) texts.push({ name: 'build/test.log', kind: 'test output', text: testLog });
for (const f of files(path.join(ARTIFACTS, 'logs'))) {
	const kind = /devvault-/.test(path.basename(f)) ? 'dev vault log' : 'web server log';
	texts.push({ name: path.relative(ROOT, f), kind, text: read(f) });
}
for (const f of files(SANITIZER)) texts.push({ name: path.relative(ROOT, f), kind: 'sanitizer report', text: read(f) });

/* ---- what to search for ------------------------------------------------ */

// Seeded values, by secret name and version (the name may be printed).
const seeded = [];
{
	const raw = JSON.parse(fs.readFileSync(SEED, 'utf8'));
	const list = Array.isArray(raw) ? raw : raw.secrets;
	for (const s of list) {
		const versions = Array.isArray(s.versions) ? s.versions : [s];
		versions.forEach((v, i) => {
			const value = typeof v === 'string' ? v : v.value;
			if (typeof value === 'string' && value.length >= MIN) seeded.push({ what: `the value of ${s.name} (version ${i + 1})`, value });
		});
	}
}

// Credentials the dev vaults handed out, and the tokens they issued.
const credentials = [];
const tokens = new Set();
for (const f of files(path.join(ARTIFACTS, 'secrets'))) {
	const text = read(f);
	const base = path.basename(f);
	if (base.endsWith('-issued-tokens')) {
		for (const t of text.split('\n')) if (t.trim()) tokens.add(t.trim());
	} else if (text.trim().length >= MIN) {
		credentials.push({ what: `the ${base.replace(/^.*-(client-secret|identity-header|federated-token)$/, '$1')} of ${base.replace(/-(client-secret|identity-header|federated-token)$/, '')}`, value: text.trim() });
	}
}
// A token is found whole or by either of its unique parts (payload, signature):
// runs of base64url characters are looked up in this set.
const tokenParts = new Set();
for (const t of tokens) for (const p of t.split('.').slice(1)) if (p.length >= 20) tokenParts.add(p);

function findValues(list) {
	const hits = [];
	for (const { name, text } of texts) {
		for (const { what, value } of list) if (forms(value).some((f) => text.includes(f))) hits.push(`${name} holds ${what}`);
	}
	return hits;
}

function findTokens() {
	const hits = [];
	for (const { name, text } of texts) {
		let count = 0;
		for (const m of text.matchAll(/[A-Za-z0-9_-]{20,}/g)) if (tokenParts.has(m[0])) count++;
		if (count) hits.push(`${name} holds ${count} part(s) of access tokens a dev vault issued`);
	}
	return hits;
}

/* ---- the checks -------------------------------------------------------- */

const serverLogs = texts.filter((t) => t.kind === 'web server log');
const integrationRan = /^# (lighttpd|apache): tests\/integration\//m.test(testLog);
console.log('TAP version 13');
ok(
	texts.length > 0 && (!integrationRan || serverLogs.length > 0),
	`the run left its output to search: ${texts.length} files, ${texts.reduce((a, t) => a + t.text.length, 0)} bytes (${serverLogs.length} web server logs)`,
	integrationRan && serverLogs.length === 0 ? [`no web server log under ${path.relative(ROOT, ARTIFACTS)}/logs: was KVGATE_TEST_ARTIFACTS passed on?`] : [],
);
ok(seeded.length > 0, `${seeded.length} seeded secret values to search for`);
const seedHits = findValues(seeded);
ok(seedHits.length === 0, 'no seeded secret value in any log or test output', seedHits);
ok(!integrationRan || tokens.size > 0, `${tokens.size} access tokens issued by the dev vaults to search for`);
const tokenHits = findTokens();
ok(tokenHits.length === 0, 'no issued access token (nor its payload or signature) in any log or test output', tokenHits);
ok(!integrationRan || credentials.length > 0, `${credentials.length} client secrets, identity headers and federated tokens to search for`);
const credHits = findValues(credentials);
ok(credHits.length === 0, 'no client secret, identity header or federated token in any log or test output', credHits);
const shapeHits = [];
for (const { name, text } of serverLogs) {
	if (/Bearer\s+[A-Za-z0-9._~+/=-]{8,}/.test(text)) shapeHits.push(`${name} holds a Bearer token`);
	if (/eyJ[\w-]{8,}\.eyJ[\w-]{8,}\./.test(text)) shapeHits.push(`${name} holds a JWT`);
}
ok(shapeHits.length === 0, 'no bearer token or JWT of any origin in a web server log', shapeHits);
console.log(`1..${n}`);
process.exitCode = failed ? 1 : 0;
