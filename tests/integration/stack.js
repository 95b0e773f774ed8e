'use strict';
/*
 * stack.js: the integration-test harness. Starts the real parts on ports the
 * test picks, on 127.0.0.1 only: the dev vault (tests/devvault/devvault.js),
 * a policy INI built from defaults plus per-test overrides, and the web
 * server: lighttpd with etc/lighttpd/kvgate.conf (the file `make run` and
 * `make serve` use, so the tests prove that configuration), or, when
 * KVGATE_TEST_SERVER=apache, Apache httpd with mod_fcgid and
 * etc/apache/kvgate-standalone.conf (which includes etc/apache/kvgate.conf). Also: raw HTTP clients (node:http with
 * the path sent verbatim, and node:net for byte-level requests), the dev
 * vault's control API (faults, stats), the seed, and the checks every file
 * shares (common headers, error envelope, CORS headers, logs).
 *
 * Secret values never go into assertion messages or diagnostics: redact()
 * replaces every seeded value before anything is printed.
 */
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const DEVVAULT = path.join(ROOT, 'tests', 'devvault', 'devvault.js');
const SEED = path.join(ROOT, 'tests', 'devvault', 'seed.json');
const CONF = path.join(ROOT, 'etc', 'lighttpd', 'kvgate.conf');
const APACHE_CONF = path.join(ROOT, 'etc', 'apache', 'kvgate-standalone.conf');
// The web server startGateway() runs unless opts.server says otherwise.
const SERVER = process.env.KVGATE_TEST_SERVER || 'lighttpd';
if (!['lighttpd', 'apache'].includes(SERVER)) throw new Error(`KVGATE_TEST_SERVER: lighttpd or apache, not ${SERVER}`);
// Environment variables the programs get from the server's environment
// (lighttpd: bin-copy-environment; Apache: FcgidInitialEnv with -DKVGATE_PASS_*).
const PASS_ENV = ['KVGATE_LOG_LEVEL', 'AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_AUTHORITY_HOST', 'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_CLIENT_CERTIFICATE_PATH', 'AZURE_CLIENT_CERTIFICATE_PASSWORD', 'IDENTITY_ENDPOINT', 'IDENTITY_HEADER'];
const PROGRAMS = ['preflight', 'get-secret', 'list-secrets'];

// Origins the default policy allows (besides the gateway's own).
const ALLOWED = 'http://allowed.example:8081';
const ALLOWED2 = 'https://spa.example.com';
const EVIL = 'http://evil.example';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/*
 * What a whole test run keeps for tests/hygiene.js, when tests/run.sh sets
 * KVGATE_TEST_ARTIFACTS: every web server's logs and output (the programs'
 * stderr is there), every dev vault's output, and the credentials each dev
 * vault handed out (client secret, identity header, federated token, the
 * access tokens it issued), so that the run can be searched for them after
 * the temp dirs are gone. Best effort: nothing is kept without the variable.
 */
const ARTIFACTS = process.env.KVGATE_TEST_ARTIFACTS || '';
let artifactSeq = 0;
function keepArtifact(kind, label, text) {
	if (!ARTIFACTS || !text) return;
	try {
		const d = path.join(ARTIFACTS, kind);
		fs.mkdirSync(d, { recursive: true, mode: 0o700 });
		const name = `${process.pid}-${++artifactSeq}-${label.replace(/[^\w.-]+/g, '_')}`;
		fs.writeFileSync(path.join(d, name), text, { mode: 0o600 });
	} catch {
		/* the scan reports what it did not find */
	}
}

/* ------------------------------------------------------------------ */
/* Temp dirs, ports, processes                                         */
/* ------------------------------------------------------------------ */

// A fresh directory for one test file's runtime state.
function tmpDir(label) {
	return fs.mkdtempSync(path.join(os.tmpdir(), `kvgate-it-${label}-`));
}

function removeDir(dir) {
	if (!dir || process.env.KEEP_TMP === '1') return;
	fs.rmSync(dir, { recursive: true, force: true });
}

// A port that was free a moment ago: listen on 0, note it, close.
function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.unref();
		s.on('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

// Whether pid is a live (not zombie) process.
function alive(pid) {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
		return state !== 'Z' && state !== 'X';
	} catch {
		return false;
	}
}

// Direct children of pid, with their command lines.
function childrenOf(pid) {
	const out = [];
	for (const d of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(d)) continue;
		try {
			const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
			const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			if (Number(rest[1]) !== pid) continue;
			const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ').trim();
			out.push({ pid: Number(d), cmd });
		} catch {
			/* gone meanwhile */
		}
	}
	return out;
}

// Every descendant of pid (children first), with command lines.
function descendantsOf(pid) {
	const out = [];
	const queue = [pid];
	while (queue.length) {
		for (const c of childrenOf(queue.shift())) {
			out.push(c);
			queue.push(c.pid);
		}
	}
	return out;
}

// Processes whose environment holds needle (e.g. KVGATE_CONFIG=<our ini>).
function processesWithEnv(needle) {
	const out = [];
	for (const d of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
		try {
			const env = fs.readFileSync(`/proc/${d}/environ`, 'utf8');
			if (env.split('\0').includes(needle) && alive(Number(d))) out.push(Number(d));
		} catch {
			/* not ours or gone */
		}
	}
	return out;
}

// Resolve when proc exits (or at once if it has), with its code/signal.
function exited(proc) {
	if (proc.exitCode !== null || proc.signalCode !== null)
		return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
	return new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
}

async function terminate(proc, ms = 5000) {
	if (!proc || proc.exitCode !== null || proc.signalCode !== null) return exited(proc);
	proc.kill('SIGTERM');
	const r = await Promise.race([exited(proc), sleep(ms).then(() => null)]);
	if (r) return r;
	proc.kill('SIGKILL');
	return exited(proc);
}

// Wait until fn() returns a truthy value, polling; throws with why on timeout.
async function waitFor(fn, ms, why) {
	const end = Date.now() + ms;
	let last;
	while (Date.now() < end) {
		try {
			last = await fn();
			if (last) return last;
		} catch (e) {
			last = e;
		}
		await sleep(50);
	}
	throw new Error(`timed out after ${ms} ms waiting for ${why}` + (last instanceof Error ? `: ${last.message}` : ''));
}

/* ------------------------------------------------------------------ */
/* Seed                                                                */
/* ------------------------------------------------------------------ */

/*
 * The dev vault's seed, normalised to
 *   { secrets: [{ name, enabled, contentType, versions: [{ id?, value }] }] }
 * with versions oldest first (the last is the latest). The seed file's exact
 * layout belongs to the dev vault; this accepts the plausible ones.
 */
function loadSeed() {
	const raw = JSON.parse(fs.readFileSync(SEED, 'utf8'));
	let list = Array.isArray(raw) ? raw : raw.secrets;
	if (!Array.isArray(list) && list && typeof list === 'object')
		list = Object.entries(list).map(([name, v]) => ({ name, ...v }));
	if (!Array.isArray(list)) throw new Error('seed.json: no secrets list');
	const secrets = list.map((s) => {
		let versions = s.versions;
		if (!Array.isArray(versions)) versions = [{ value: s.value, version: s.version, enabled: s.enabled, contentType: s.contentType }];
		versions = versions.map((v, i) =>
			typeof v === 'string'
				? { value: v, order: i }
				: {
						value: v.value,
						id: v.version || v.id,
						enabled: (v.enabled ?? v.attributes?.enabled ?? s.enabled ?? true) !== false,
						contentType: v.contentType,
						created: v.created ?? v.attributes?.created ?? 0,
						nbf: v.nbf,
						exp: v.exp,
						order: i,
					},
		);
		// Oldest first: the last one is what "latest" means.
		versions.sort((a, b) => (a.created || 0) - (b.created || 0) || a.order - b.order);
		const latest = versions.at(-1);
		return { name: s.name, enabled: latest.enabled !== false, contentType: latest.contentType, latest, versions, raw: s };
	});
	return { raw, secrets, byName: new Map(secrets.map((s) => [s.name.toLowerCase(), s])) };
}

// A glob of [secrets] allow/deny: `*` any run, `?` one, ignoring case.
function globMatch(pattern, name) {
	const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i');
	return re.test(name);
}

function visibleByPolicy(name, allow, deny) {
	const list = (s) => s.split(/[\s,]+/).filter(Boolean);
	return list(allow).some((p) => globMatch(p, name)) && !list(deny).some((p) => globMatch(p, name));
}

let seedValues = null;
// Every seeded value (all versions), longest first, for redaction and log checks.
function secretValues() {
	if (seedValues) return seedValues;
	try {
		const seed = loadSeed();
		seedValues = seed.secrets.flatMap((s) => s.versions.map((v) => v.value)).filter((v) => typeof v === 'string' && v.length >= 6);
		seedValues.sort((a, b) => b.length - a.length);
	} catch {
		seedValues = [];
	}
	return seedValues;
}

const extraSecrets = new Set(); // client secrets, tokens seen
function addSecret(s) {
	if (typeof s === 'string' && s.length >= 6) extraSecrets.add(s);
}

// Text safe to print: no seeded value, client secret or token.
function redact(text) {
	let t = String(text);
	for (const v of [...secretValues(), ...extraSecrets]) {
		const json = JSON.stringify(v).slice(1, -1);
		// json-c escapes '/' as '\/'.
		for (const form of [v, json, json.replace(/\//g, '\\/')]) if (form.length >= 6) t = t.split(form).join('<redacted>');
	}
	return t;
}

/* ------------------------------------------------------------------ */
/* Dev vault                                                           */
/* ------------------------------------------------------------------ */

/*
 * Start the dev vault on port (0: any) with its runtime files in dir.
 * Returns { proc, url, port, dir, tenantId, clientId, ca, control(), ... }.
 */
async function startVault(dir, port = 0, args = []) {
	if (!fs.existsSync(DEVVAULT)) throw new Error(`the dev vault is missing: ${DEVVAULT}`);
	fs.mkdirSync(dir, { recursive: true });
	const proc = spawn(process.execPath, [DEVVAULT, '--port', String(port), '--dir', dir, ...args], {
		cwd: ROOT,
		stdio: ['ignore', 'pipe', 'pipe'],
		env: { PATH: process.env.PATH, HOME: process.env.HOME || '/tmp' },
	});
	let out = '';
	let err = '';
	proc.stdout.on('data', (d) => (out += d));
	proc.stderr.on('data', (d) => (err += d));
	proc.once('close', () => {
		const label = path.basename(path.dirname(dir)) + '-' + path.basename(dir);
		keepArtifact('logs', `devvault-${label}.log`, out + err);
		for (const f of ['client-secret', 'identity-header', 'federated-token', 'issued-tokens']) {
			try {
				keepArtifact('secrets', `${label}-${f}`, fs.readFileSync(path.join(dir, f), 'utf8'));
			} catch {
				/* not made by this dev vault */
			}
		}
	});
	const m = await waitFor(
		() => {
			if (proc.exitCode !== null) throw new Error(`devvault exited ${proc.exitCode}: ${err.slice(-2000)}`);
			return /devvault: listening on (https:\/\/127\.0\.0\.1:(\d+))/.exec(out);
		},
		20000,
		'the dev vault to listen',
	);
	const info = JSON.parse(fs.readFileSync(path.join(dir, 'devvault.json'), 'utf8'));
	const vault = {
		proc,
		dir,
		url: info.url || m[1],
		port: Number(info.port || m[2]),
		tenantId: info.tenant_id,
		clientId: info.client_id,
		ca: fs.readFileSync(path.join(dir, 'ca.pem')),
		caFile: path.join(dir, 'ca.pem'),
		secretFile: path.join(dir, 'client-secret'),
		output: () => out + err,
	};
	addSecret(fs.readFileSync(vault.secretFile, 'utf8').trim());
	vault.control = (method, p, body) => vaultControl(vault, method, p, body);
	vault.fault = (spec) => vault.control('POST', '/_devvault/faults', spec);
	vault.clearFaults = () => vault.control('DELETE', '/_devvault/faults');
	// fn() with the fault spec (null: none) in force, and no other; cleared after.
	vault.withFault = async (spec, fn) => {
		await vault.clearFaults();
		if (spec) await vault.fault(spec);
		try {
			return await fn();
		} finally {
			await vault.clearFaults();
		}
	};
	vault.stats = async () => (await vault.control('GET', '/_devvault/stats')).json;
	vault.resetStats = () => vault.control('POST', '/_devvault/stats/reset');
	vault.stop = () => terminate(proc);
	vault.args = args;
	return vault;
}

function vaultControl(vault, method, p, body) {
	return new Promise((resolve, reject) => {
		const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
		const req = https.request(
			{
				host: '127.0.0.1',
				port: vault.port,
				method,
				path: p,
				ca: vault.ca,
				agent: false,
				headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {},
			},
			(res) => {
				const chunks = [];
				res.on('data', (c) => chunks.push(c));
				res.on('end', () => {
					const text = Buffer.concat(chunks).toString('utf8');
					let json = null;
					try {
						json = JSON.parse(text);
					} catch {
						/* not JSON */
					}
					if (res.statusCode >= 300) reject(new Error(`devvault ${method} ${p}: ${res.statusCode} ${text.slice(0, 300)}`));
					else resolve({ status: res.statusCode, text, json });
				});
			},
		);
		req.setTimeout(5000, () => req.destroy(new Error('devvault control timeout')));
		req.on('error', reject);
		req.end(data);
	});
}

/* ------------------------------------------------------------------ */
/* Policy INI                                                          */
/* ------------------------------------------------------------------ */

/*
 * The default test policy for vault, with ca_file and client_secret_file
 * relative to the INI's directory (iniDir) so that relative resolution is
 * exercised. overrides: { section: { key: value | null } }; null removes the
 * key, a new section or key is added (to test refusals).
 */
function policy(vault, iniDir, overrides = {}) {
	const rel = (f) => path.relative(iniDir, f) || f;
	const sections = {
		gateway: { base_path: '/api', public_url: '' },
		vault: { url: vault ? vault.url : 'https://127.0.0.1:1', api_version: '7.6', ca_file: vault ? rel(vault.caFile) : '', timeout_ms: '3000', max_retries: '1', verify_challenge_resource: 'false' },
		identity: {
			method: 'client_secret',
			tenant_id: vault ? vault.tenantId : 'tenant',
			client_id: vault ? vault.clientId : 'client',
			client_secret_file: vault ? rel(vault.secretFile) : '',
			authority_host: vault ? vault.url : 'https://127.0.0.1:1',
		},
		cors: {
			allowed_origins: `${ALLOWED}, ${ALLOWED2}`,
			allowed_methods: 'GET HEAD',
			allowed_headers: 'x-ms-client-request-id',
			expose_headers: 'x-ms-request-id',
			allow_credentials: 'false',
			max_age: '600',
		},
		secrets: { allow: 'public-* demo-*', deny: '*-internal admin-*', allow_versions: 'true', serve_expired: 'true' },
		cache: { ttl: '60' },
	};
	for (const [sec, keys] of Object.entries(overrides)) {
		if (keys === null) {
			delete sections[sec];
			continue;
		}
		sections[sec] = sections[sec] || {};
		for (const [k, v] of Object.entries(keys)) {
			if (v === null) delete sections[sec][k];
			else sections[sec][k] = String(v);
		}
	}
	let text = '; written by tests/integration/stack.js\n';
	for (const [sec, keys] of Object.entries(sections)) {
		text += `\n[${sec}]\n`;
		for (const [k, v] of Object.entries(keys)) text += `${k} = ${v}\n`;
	}
	return { text, sections };
}

/* ------------------------------------------------------------------ */
/* lighttpd + the gateway                                              */
/* ------------------------------------------------------------------ */

/*
 * Start the web server (opts.server, else KVGATE_TEST_SERVER, else lighttpd)
 * with the gateway for vault, its runtime files in dir.
 * opts: { overrides, procs, port, env, expectFail, server, maxRequests,
 * apache, htpasswd }. htpasswd: HTTP Basic authentication in front of the
 * API with that user file (etc/lighttpd/auth-basic.conf included after
 * kvgate.conf, or Apache's -DKVGATE_AUTH_BASIC), for [callers] web_server. maxRequests is Apache's FcgidMaxRequestsPerProcess (lighttpd has
 * none); apache: other Defines for etc/apache/kvgate.conf (KVGATE_IDLE_TIMEOUT…).
 * Returns the gateway handle: server ('lighttpd' or 'apache'), port, origin
 * (http://127.0.0.1:PORT), base, dir, ini, policy sections, get/request/raw
 * helpers, log(name) (error.log, access.log), output(), programs(), stop().
 */
async function startGateway(vault, dir, opts = {}) {
	fs.mkdirSync(dir, { recursive: true });
	const pol = policy(vault, dir, opts.overrides || {});
	const ini = path.join(dir, 'kvgate.ini');
	fs.writeFileSync(ini, pol.text);
	const port = opts.port || (await freePort());
	const base = (pol.sections.gateway && pol.sections.gateway.base_path) || '/api';
	const env = {
		PATH: process.env.PATH,
		KVGATE_ROOT: ROOT,
		KVGATE_RUNDIR: dir,
		KVGATE_CONFIG: ini,
		KVGATE_BIND: '127.0.0.1',
		KVGATE_PORT: String(port),
		KVGATE_BASE_PATH: base,
		KVGATE_PROCS: String(opts.procs || 1),
		// Extra environment for the programs (AZURE_*, IDENTITY_*): lighttpd
		// copies the names kvgate.conf lists into their environment.
		...(opts.env || {}),
		...(opts.htpasswd ? { KVGATE_HTPASSWD: opts.htpasswd } : {}),
	};
	const server = opts.server || SERVER;
	let proc;
	if (server === 'apache') {
		// The programs' stderr on Apache's stderr (output()), as with lighttpd -D.
		const args = ['-f', APACHE_CONF, '-DFOREGROUND', '-DKVGATE_LOG_TO_STDERR'];
		// kvgate.conf's knobs: opts.apache { KVGATE_IDLE_TIMEOUT: 2, … }.
		const defines = { ...(opts.maxRequests ? { KVGATE_MAX_REQUESTS: opts.maxRequests } : {}), ...(opts.apache || {}) };
		for (const [k, v] of Object.entries(defines)) args.push('-C', `Define ${k} ${v}`);
		for (const name of PASS_ENV) if (env[name] !== undefined) args.push(`-DKVGATE_PASS_${name}`);
		if (opts.htpasswd) args.push('-DKVGATE_AUTH_BASIC');
		Object.assign(env, apacheUser(dir, ini, pol.sections));
		proc = spawn(apacheBinary(), args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
	} else {
		let conf = CONF;
		if (opts.htpasswd) {
			// The shipped snippet, included after the shipped configuration.
			conf = path.join(dir, 'lighttpd-auth.conf');
			fs.writeFileSync(conf, `include "${CONF}"\ninclude "${path.join(ROOT, 'etc', 'lighttpd', 'auth-basic.conf')}"\n`);
		}
		proc = spawn('lighttpd', ['-D', '-f', conf], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
	}
	let out = '';
	proc.stdout.on('data', (d) => (out += d));
	proc.stderr.on('data', (d) => (out += d));
	const gw = {
		server,
		proc,
		vault,
		dir,
		ini,
		env,
		port,
		base,
		origin: `http://127.0.0.1:${port}`,
		sections: pol.sections,
		output: () => out,
		log: (name) => {
			try {
				return fs.readFileSync(path.join(dir, name), 'utf8');
			} catch {
				return '';
			}
		},
	};
	gw.request = (method, p, o) => request(gw.port, method, p, o);
	gw.get = (p, o) => request(gw.port, 'GET', p, o);
	gw.raw = (bytes, o) => rawRequest(gw.port, bytes, o);
	// lighttpd's programs are its children; Apache's are children of the
	// mod_fcgid process manager, one of its own children.
	gw.programs = () => (server === 'apache' ? descendantsOf(proc.pid).filter((c) => /\.fcgi\b/.test(c.cmd)) : childrenOf(proc.pid));
	gw.stop = () => stopGateway(gw);
	if (opts.expectFail) return gw;
	try {
		await waitFor(
			async () => {
				if (proc.exitCode !== null || proc.signalCode !== null)
					throw new Error(`${server} exited (${proc.exitCode ?? proc.signalCode}): ${out.slice(-2000)}\n${gw.log('error.log').slice(-3000)}`);
				const r = await request(port, 'GET', '/', { timeout: 1000 });
				return r.status > 0;
			},
			15000,
			`${server} on port ${port}`,
		);
	} catch (e) {
		await terminate(proc);
		throw e;
	}
	return gw;
}

// The Apache binary: apache2 (Debian) or httpd, on PATH or in /usr/sbin.
function apacheBinary() {
	for (const d of [...(process.env.PATH || '').split(':'), '/usr/sbin', '/usr/local/sbin'])
		for (const b of ['apache2', 'httpd']) if (d && fs.existsSync(path.join(d, b))) return path.join(d, b);
	throw new Error('Apache httpd is not installed (apt-get install apache2 libapache2-mod-fcgid)');
}

/*
 * Who runs Apache's children and the programs: KVGATE_USER/KVGATE_GROUP for
 * etc/apache/kvgate-standalone.conf. Not root: the current user (Apache
 * keeps it). Root: Apache must switch (it refuses to serve as root), to
 * www-data, so the files the programs read are handed to its group, as a
 * production install does (group www-data, read-only): the test's
 * directory tree (every directory under the system temp dir that holds dir,
 * with what is in it) and any file the policy names outside it.
 */
function apacheUser(dir, ini, sections) {
	if (process.getuid() !== 0) return { KVGATE_USER: `#${process.getuid()}`, KVGATE_GROUP: `#${process.getgid()}` };
	const gid = groupId('www-data');
	const grant = (p, recurse) => {
		let st;
		try {
			st = fs.lstatSync(p);
		} catch {
			return;
		}
		if (st.isSymbolicLink()) return;
		fs.chownSync(p, st.uid, gid);
		fs.chmodSync(p, (st.mode & 0o7777) | (st.isDirectory() ? 0o050 : 0o040));
		if (recurse && st.isDirectory()) for (const e of fs.readdirSync(p)) grant(path.join(p, e), true);
	};
	const tmp = fs.realpathSync(os.tmpdir());
	const real = fs.realpathSync(dir);
	const top = real.startsWith(tmp + path.sep) ? path.join(tmp, path.relative(tmp, real).split(path.sep)[0]) : real;
	grant(top, true);
	for (const [sec, key] of [['vault', 'ca_file'], ['identity', 'client_secret_file'], ['identity', 'client_certificate_file'], ['identity', 'federated_token_file'], ['gateway', 'paging_key_file']]) {
		const v = sections[sec] && sections[sec][key];
		if (v) grant(path.resolve(path.dirname(ini), v), false);
	}
	return { KVGATE_USER: 'www-data', KVGATE_GROUP: 'www-data' };
}

function groupId(name) {
	for (const line of fs.readFileSync('/etc/group', 'utf8').split('\n')) {
		const f = line.split(':');
		if (f[0] === name) return Number(f[2]);
	}
	throw new Error(`no group ${name}: Apache running as root needs it`);
}

/*
 * The kvgate-fetch serving gw (lib/fetch.h): its abstract socket, on its
 * command line, is "kvgate-fetch-UID-" and the first 16 hex digits of
 * SHA-256(helper path, NUL, policy path). Returns the pids found ([] or one).
 */
function fetcherOf(gw) {
	const exe = fs.realpathSync(path.join(ROOT, 'cgi-bin', 'kvgate-fetch'));
	const hash = require('node:crypto').createHash('sha256').update(`${exe}\0`).update(gw.ini).digest('hex').slice(0, 16);
	const found = [];
	for (const d of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(d)) continue;
		try {
			const argv = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
			if (argv[0] === 'kvgate-fetch' && /^kvgate-fetch-\d+-[0-9a-f]{16}$/.test(argv[1]) && argv[1].endsWith(`-${hash}`) && alive(Number(d))) found.push(Number(d));
		} catch {
			/* gone */
		}
	}
	return found;
}

/*
 * Stop the web server with SIGTERM and report what is left: { code, signal,
 * leftover: [pids of kvgate programs still running] }. lighttpd ends its
 * FastCGI backends on exit; a program left behind would hold the vault
 * client and the client secret forever.
 */
async function stopGateway(gw) {
	if (gw.stopped) return gw.stopped;
	const kids = gw.programs().filter((c) => PROGRAMS.some((p) => c.cmd.includes(`${p}.fcgi`)));
	const r = await terminate(gw.proc);
	let leftover = [];
	try {
		await waitFor(
			() => {
				leftover = kids.filter((k) => alive(k.pid)).concat(processesWithEnv(`KVGATE_CONFIG=${gw.ini}`).map((pid) => ({ pid })));
				return leftover.length === 0;
			},
			3000,
			'the kvgate programs to exit',
		);
	} catch {
		for (const k of leftover) {
			try {
				process.kill(k.pid, 'SIGKILL');
			} catch {
				/* gone */
			}
		}
	}
	gw.stopped = { ...r, programs: kids, leftover };
	const label = `${gw.server}-${path.basename(path.dirname(gw.dir))}-${path.basename(gw.dir)}`;
	keepArtifact('logs', `${label}-output.log`, gw.output());
	try {
		for (const f of fs.readdirSync(gw.dir)) if (f.endsWith('.log')) keepArtifact('logs', `${label}-${f}`, gw.log(f));
	} catch {
		/* the directory is gone */
	}
	return gw.stopped;
}

/* ------------------------------------------------------------------ */
/* HTTP clients                                                        */
/* ------------------------------------------------------------------ */

/*
 * One request with node:http, the path sent as given. Resolves
 * { status, headers (lower-case names), rawHeaders, body (Buffer), text,
 * json (parsed or null), ms }; never rejects on HTTP errors. A connection
 * error resolves with status 0 and error set.
 */
function request(port, method, p, o = {}) {
	return new Promise((resolve) => {
		const t0 = Date.now();
		let req;
		try {
			req = http.request({ host: '127.0.0.1', port, method, path: p, headers: o.headers || {}, agent: o.agent || false, insecureHTTPParser: true });
		} catch (e) {
			resolve({ status: 0, error: e, headers: {}, rawHeaders: [], body: Buffer.alloc(0), text: '', json: null, ms: 0 });
			return;
		}
		req.setTimeout(o.timeout || 20000, () => req.destroy(new Error('client timeout')));
		req.on('error', (e) => resolve({ status: 0, error: e, headers: {}, rawHeaders: [], body: Buffer.alloc(0), text: '', json: null, ms: Date.now() - t0 }));
		req.on('response', (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve(makeResponse(res.statusCode, res.headers, res.rawHeaders, Buffer.concat(chunks), Date.now() - t0, method, p)));
			res.on('error', (e) => resolve({ status: 0, error: e, headers: {}, rawHeaders: [], body: Buffer.alloc(0), text: '', json: null, ms: Date.now() - t0 }));
		});
		req.end(o.body);
	});
}

function makeResponse(status, headers, rawHeaders, body, ms, method, p) {
	const text = body.toString('utf8');
	let json = null;
	try {
		json = text ? JSON.parse(text) : null;
	} catch {
		/* not JSON */
	}
	return { status, headers, rawHeaders, body, text, json, ms, method, path: p };
}

/*
 * A byte-level request over node:net: bytes (string as latin1, or Buffer)
 * go out as they are. Reads until the server closes (send Connection:
 * close). Resolves a response like request()'s, plus raw (the whole answer).
 */
function rawRequest(port, bytes, o = {}) {
	return new Promise((resolve) => {
		const t0 = Date.now();
		const sock = net.connect({ host: '127.0.0.1', port });
		const chunks = [];
		const done = () => {
			const raw = Buffer.concat(chunks);
			resolve({ ...parseRaw(raw), raw: raw.toString('latin1'), ms: Date.now() - t0 });
		};
		sock.setTimeout(o.timeout || 10000, () => sock.destroy());
		sock.on('data', (c) => chunks.push(c));
		sock.on('close', done);
		sock.on('error', () => {});
		sock.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1'));
	});
}

function parseRaw(raw) {
	const sep = raw.indexOf('\r\n\r\n');
	if (sep < 0) return { status: 0, headers: {}, rawHeaders: [], body: Buffer.alloc(0), text: '', json: null };
	const lines = raw.subarray(0, sep).toString('latin1').split('\r\n');
	const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
	const headers = {};
	const rawHeaders = [];
	for (const l of lines.slice(1)) {
		const i = l.indexOf(':');
		if (i < 0) continue;
		const k = l.slice(0, i).trim();
		const v = l.slice(i + 1).trim();
		rawHeaders.push(k, v);
		const lk = k.toLowerCase();
		headers[lk] = lk in headers ? `${headers[lk]}, ${v}` : v;
	}
	let body = raw.subarray(sep + 4);
	if (/chunked/i.test(headers['transfer-encoding'] || '')) body = dechunk(body);
	return makeResponse(m ? Number(m[1]) : 0, headers, rawHeaders, body, 0);
}

function dechunk(b) {
	const out = [];
	let i = 0;
	while (i < b.length) {
		const e = b.indexOf('\r\n', i);
		if (e < 0) break;
		const n = parseInt(b.subarray(i, e).toString('latin1'), 16);
		if (!n) break;
		out.push(b.subarray(e + 2, e + 2 + n));
		i = e + 2 + n + 2;
	}
	return Buffer.concat(out);
}

/* ------------------------------------------------------------------ */
/* Shared checks                                                       */
/* ------------------------------------------------------------------ */

// A response, printable: status, headers, body with secrets redacted.
function show(res) {
	if (!res) return '(no response)';
	if (res.status === 0) return `(no HTTP answer: ${res.error ? res.error.message : 'connection closed'})`;
	const hs = [];
	for (let i = 0; i < res.rawHeaders.length; i += 2) hs.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
	let text = res.text;
	// A SecretBundle's value is never printed, whatever its escaping.
	if (res.json && typeof res.json === 'object' && typeof res.json.value === 'string') text = JSON.stringify({ ...res.json, value: '<redacted>' });
	const body = text.length > 600 ? text.slice(0, 600) + '…' : text;
	return redact(`${res.method || ''} ${res.path || ''} -> ${res.status}\n${hs.join('\n')}\n\n${body}`);
}

// Vary tokens of a response, lower-cased (all Vary headers merged).
function varyTokens(res) {
	const v = res.headers.vary;
	return (Array.isArray(v) ? v.join(',') : v || '')
		.split(',')
		.map((s) => s.trim().toLowerCase())
		.filter(Boolean);
}

function corsHeaderNames(res) {
	return Object.keys(res.headers).filter((h) => h.startsWith('access-control-'));
}

/*
 * The headers design.md promises on every response, errors included:
 * Content-Type application/json; charset=utf-8 (unless the body is empty and
 * emptyOk), Cache-Control: no-store, X-Content-Type-Options: nosniff, Vary
 * holding Origin.
 */
function assertCommonHeaders(res, { emptyOk = false } = {}) {
	const ctx = () => show(res);
	if (!(emptyOk && res.body.length === 0 && !res.headers['content-type']))
		assert.equal(res.headers['content-type'], 'application/json; charset=utf-8', `Content-Type on ${res.status}\n${ctx()}`);
	assert.match(res.headers['cache-control'] || '', /(^|,)\s*no-store\s*(,|$)/, `Cache-Control: no-store on ${res.status}\n${ctx()}`);
	assert.equal(res.headers['x-content-type-options'], 'nosniff', `X-Content-Type-Options: nosniff on ${res.status}\n${ctx()}`);
	assert.ok(varyTokens(res).includes('origin'), `Vary holds Origin on ${res.status}\n${ctx()}`);
}

// Key Vault's error envelope with this status and code, plus the common headers.
function assertError(res, status, code) {
	assert.equal(res.status, status, `status\n${show(res)}`);
	assertCommonHeaders(res);
	assert.ok(res.json && typeof res.json === 'object' && res.json.error && typeof res.json.error === 'object', `Key Vault error envelope {"error":{…}}\n${show(res)}`);
	assert.equal(res.json.error.code, code, `error.code\n${show(res)}`);
	assert.equal(typeof res.json.error.message, 'string', `error.message is a string\n${show(res)}`);
	assert.ok(res.json.error.message.length > 0, `error.message is not empty\n${show(res)}`);
}

function assertNoCors(res) {
	assert.deepEqual(corsHeaderNames(res), [], `no Access-Control-* header at all\n${show(res)}`);
}

/*
 * The CORS headers of an actual request from an allowed origin under the
 * default policy: exact echo, Expose-Headers as configured, no credentials.
 */
function assertCorsActual(res, origin, { expose = 'x-ms-request-id', credentials = false, acao = origin } = {}) {
	assert.equal(res.headers['access-control-allow-origin'], acao, `Access-Control-Allow-Origin\n${show(res)}`);
	const eh = (res.headers['access-control-expose-headers'] || '').toLowerCase().split(/\s*,\s*/);
	for (const h of expose.split(/[\s,]+/).filter(Boolean)) assert.ok(eh.includes(h.toLowerCase()), `Access-Control-Expose-Headers lists ${h}\n${show(res)}`);
	if (credentials) assert.equal(res.headers['access-control-allow-credentials'], 'true', `Access-Control-Allow-Credentials\n${show(res)}`);
	else assert.equal(res.headers['access-control-allow-credentials'], undefined, `no Access-Control-Allow-Credentials\n${show(res)}`);
	assert.ok(varyTokens(res).includes('origin'), `Vary: Origin\n${show(res)}`);
}

/*
 * Run fn and check that it caused no call to the vault or the token
 * endpoint (the dev vault's counters did not move). Returns fn's result.
 */
async function noUpstream(vault, fn, what = 'request') {
	const before = await vault.stats();
	const r = await fn();
	const after = await vault.stats();
	const moved = { token: after.token - before.token, vault: after.vault - before.vault };
	const reqs = (after.requests || []).slice((before.requests || []).length);
	assert.ok(moved.token === 0 && moved.vault === 0, `${what} must be refused before any upstream call, but the dev vault saw ${JSON.stringify(moved)} ${redact(JSON.stringify(reqs.slice(0, 5)))}\n${r && r.status !== undefined ? show(r) : ''}`);
	return r;
}

// Upstream calls fn caused: { token, vault, requests }.
async function upstreamDelta(vault, fn) {
	const before = await vault.stats();
	const r = await fn();
	const after = await vault.stats();
	return { r, token: after.token - before.token, vault: after.vault - before.vault, requests: (after.requests || []).slice((before.requests || []).length) };
}

/*
 * The logs of a gateway must never hold a secret value, the client secret
 * or an access token. Returns the list of problems (empty when clean).
 */
function logLeaks(gw, extra = []) {
	const problems = [];
	// With lighttpd -D the programs' stderr is lighttpd's stderr (captured
	// here as output()), not error.log; all three are checked.
	const sources = { 'error.log': gw.log('error.log'), 'access.log': gw.log('access.log'), 'lighttpd stderr': gw.output() };
	for (const [name, text] of Object.entries(sources)) {
		let n = 0;
		for (const v of [...secretValues(), ...extraSecrets, ...extra]) {
			const json = JSON.stringify(v).slice(1, -1);
			const forms = [v, json, json.replace(/\//g, '\\/'), encodeURIComponent(v)];
			if (forms.some((f) => f.length >= 6 && text.includes(f))) n++;
		}
		if (n) problems.push(`${name} holds ${n} secret value(s)`);
		if (/Bearer\s+[A-Za-z0-9._~+/=-]{8,}/.test(text)) problems.push(`${name} holds a Bearer token`);
		if (/eyJ[\w-]{8,}\.eyJ[\w-]{8,}\./.test(text)) problems.push(`${name} holds a JWT`);
		if (/access_token/.test(text)) problems.push(`${name} mentions access_token`);
	}
	return problems;
}

/*
 * Walk a list from path on gw following nextLink. Returns { pages, items,
 * links } and checks each nextLink points at the gateway (origin + base
 * path), never at the vault. limit bounds the number of pages.
 */
async function walk(gw, p, { origin = gw.origin, headers = {}, limit = 200 } = {}) {
	const pages = [];
	const items = [];
	const links = [];
	let next = p;
	while (next) {
		assert.ok(pages.length < limit, `more than ${limit} pages: the nextLink chain does not end`);
		const res = await gw.get(next, { headers });
		assert.equal(res.status, 200, `page ${pages.length + 1} of ${p}\n${show(res)}`);
		assert.ok(res.json && Array.isArray(res.json.value), `SecretListResult has a value array\n${show(res)}`);
		assert.ok('nextLink' in res.json, `SecretListResult has a nextLink key (null on the last page)\n${show(res)}`);
		pages.push(res);
		items.push(...res.json.value);
		const link = res.json.nextLink;
		if (link === null || link === undefined || link === '') break;
		assert.equal(typeof link, 'string', `nextLink is a string or null\n${show(res)}`);
		links.push(link);
		let u;
		try {
			u = new URL(link);
		} catch {
			assert.fail(`nextLink is an absolute URL: ${link}`);
		}
		assert.equal(u.origin, origin, `nextLink points at the gateway's origin, not elsewhere: ${link}`);
		assert.ok(u.pathname.startsWith(gw.base + '/secrets'), `nextLink is under the base path ${gw.base}: ${link}`);
		assert.ok(!link.includes(`:${gw.vault.port}`), `nextLink does not reveal the vault's port: ${link}`);
		next = u.pathname + u.search;
	}
	return { pages, items, links };
}

// Name of a list item from its id ("scheme://host/secrets/{name}[/{version}]").
function parseId(id) {
	const m = /^(https?:\/\/[^/]+)\/secrets\/([0-9A-Za-z-]{1,127})(?:\/([0-9a-fA-F]{32}))?$/.exec(id || '');
	return m ? { origin: m[1], name: m[2], version: m[3] || null } : null;
}

/* ------------------------------------------------------------------ */
/* Whole stacks                                                        */
/* ------------------------------------------------------------------ */

/*
 * One test file's stack: a temp dir, the dev vault, and the default gateway
 * (opts as startGateway's). Returns { dir, vault, gw, seed, gateway(name,
 * opts) to add variants, stop() }.
 */
async function startStack(label, opts = {}) {
	const dir = tmpDir(label);
	const stack = { dir, gateways: [] };
	try {
		stack.seed = loadSeed();
		stack.vault = await startVault(path.join(dir, 'vault'), 0, opts.vaultArgs || []);
		stack.gateway = async (name, o = {}) => {
			const gw = await startGateway(stack.vault, path.join(dir, `gw-${name}`), o);
			stack.gateways.push(gw);
			return gw;
		};
		stack.gw = await stack.gateway('default', opts);
	} catch (e) {
		await stopStack(stack);
		throw e;
	}
	stack.stop = () => stopStack(stack);
	return stack;
}

async function stopStack(stack) {
	if (!stack || stack.done) return;
	stack.done = true;
	for (const gw of stack.gateways || []) await stopGateway(gw);
	if (stack.vault) await stack.vault.stop();
	removeDir(stack.dir);
}

// Seeded secrets the default policy exposes (enabled or not).
function exposedSeed(seed, allow = 'public-* demo-*', deny = '*-internal admin-*') {
	return seed.secrets.filter((s) => visibleByPolicy(s.name, allow, deny));
}

module.exports = {
	ROOT,
	PROGRAMS,
	SERVER,
	PASS_ENV,
	descendantsOf,
	apacheUser,
	ALLOWED,
	ALLOWED2,
	EVIL,
	sleep,
	tmpDir,
	removeDir,
	freePort,
	alive,
	childrenOf,
	terminate,
	exited,
	waitFor,
	loadSeed,
	globMatch,
	visibleByPolicy,
	exposedSeed,
	secretValues,
	addSecret,
	redact,
	startVault,
	policy,
	startGateway,
	stopGateway,
	fetcherOf,
	startStack,
	stopStack,
	request,
	rawRequest,
	show,
	varyTokens,
	corsHeaderNames,
	assertCommonHeaders,
	assertError,
	assertNoCors,
	assertCorsActual,
	noUpstream,
	upstreamDelta,
	logLeaks,
	walk,
	parseId,
};
