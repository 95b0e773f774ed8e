'use strict';
/*
 * The programs as processes: policy validation at start (refuse to start on
 * a half-valid policy, one stderr line per problem naming file, [section]
 * and key), `--check`, plain CGI mode (libfcgi falls back to CGI when stdin
 * is not a socket), SIGTERM in FastCGI mode, and lighttpd refusing to serve
 * with a bad policy.
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const S = require('./stack.js');

const BIN = (p) => path.join(S.ROOT, 'cgi-bin', `${p}.fcgi`);

let dir, vault, seed, goodIni;

before(async () => {
	dir = S.tmpDir('programs');
	seed = S.loadSeed();
	vault = await S.startVault(path.join(dir, 'vault'));
	goodIni = writeIni('good', {});
});

after(async () => {
	if (vault) await vault.stop();
	S.removeDir(dir);
});

// Write a policy INI into its own directory; returns its path.
function writeIni(name, overrides, extraText = '') {
	const d = path.join(dir, name);
	fs.mkdirSync(d, { recursive: true });
	const f = path.join(d, 'kvgate.ini');
	fs.writeFileSync(f, S.policy(vault, d, overrides).text + extraText);
	return f;
}

// Run a program to completion (stdin /dev/null: CGI mode). Returns { code, signal, stdout, stderr, ms }.
function run(prog, env, args = [], timeout = 15000) {
	const t0 = Date.now();
	const r = spawnSync(BIN(prog), args, {
		env: { PATH: process.env.PATH, ...env },
		stdio: ['ignore', 'pipe', 'pipe'],
		timeout,
		cwd: dir,
	});
	return { code: r.status, signal: r.signal, stdout: r.stdout || Buffer.alloc(0), stderr: (r.stderr || '').toString('utf8'), ms: Date.now() - t0, error: r.error };
}

// Parse a CGI response: "Status: 200 OK" + headers, blank line, body.
function parseCgi(buf) {
	const s = buf.toString('latin1');
	let sep = s.indexOf('\r\n\r\n');
	let skip = 4;
	if (sep < 0) {
		sep = s.indexOf('\n\n');
		skip = 2;
	}
	assert.ok(sep >= 0, `a CGI header block: ${S.redact(s.slice(0, 300))}`);
	const headers = {};
	for (const l of s.slice(0, sep).split(/\r?\n/)) {
		const i = l.indexOf(':');
		if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
	}
	const body = buf.subarray(Buffer.byteLength(s.slice(0, sep), 'latin1') + skip);
	const text = body.toString('utf8');
	let json = null;
	try {
		json = JSON.parse(text);
	} catch {
		/* not JSON */
	}
	const status = Number((headers.status || '').split(' ')[0]) || 0;
	return { status, headers, body, text, json, raw: s };
}

function cgiEnv(method, uri, extra = {}) {
	const q = uri.indexOf('?');
	return {
		KVGATE_CONFIG: goodIni,
		GATEWAY_INTERFACE: 'CGI/1.1',
		SERVER_PROTOCOL: 'HTTP/1.1',
		SERVER_SOFTWARE: 'test',
		SERVER_NAME: '127.0.0.1',
		SERVER_PORT: '8080',
		REMOTE_ADDR: '127.0.0.1',
		REMOTE_PORT: '50000',
		REQUEST_METHOD: method,
		REQUEST_URI: uri,
		SCRIPT_NAME: '',
		PATH_INFO: q < 0 ? uri : uri.slice(0, q),
		QUERY_STRING: q < 0 ? '' : uri.slice(q + 1),
		HTTP_HOST: '127.0.0.1:8080',
		...extra,
	};
}

/* ---------------- policy validation ---------------- */

test('--check with a good policy exits 0 (what `make serve` runs before starting)', () => {
	const r = run('get-secret', { KVGATE_CONFIG: goodIni }, ['--check']);
	assert.equal(r.code, 0, `exit status\n${S.redact(r.stderr)}`);
});

test('a policy with several problems: every program exits non-zero with one stderr line per problem naming file, [section] and key', () => {
	const ini = writeIni(
		'bad',
		{
			gateway: { base_path: 'api' },
			vault: { timeout_ms: '12abc' },
			identity: { client_secret_file: '/nonexistent/kvgate-secret' },
			cors: { allow_credentials: 'yolo', bogus_key: '1' },
			secrets: { allow: 'public_*' },
			nosuch: { x: '1' },
		},
	);
	const problems = [
		['gateway', 'base_path'],
		['vault', 'timeout_ms'],
		['identity', 'client_secret_file'],
		['cors', 'allow_credentials'],
		['cors', 'bogus_key'],
		['secrets', 'allow'],
		['nosuch', null],
	];
	for (const prog of S.PROGRAMS) {
		const r = run(prog, { KVGATE_CONFIG: ini });
		assert.notEqual(r.code, 0, `${prog} must refuse to start\n${S.redact(r.stderr)}`);
		assert.equal(r.stdout.length, 0, `${prog} serves nothing (no CGI output) on a bad policy`);
		const lines = r.stderr.split('\n').filter(Boolean);
		const used = new Set();
		for (const [sec, key] of problems) {
			// policy.h: "FILE: [section] key: message" ("FILE: [section]: …" for a section).
			const i = lines.findIndex((l, j) => !used.has(j) && l.includes(`${ini}: [${sec}]${key === null ? '' : ' ' + key}:`));
			assert.ok(i >= 0, `${prog}: a line naming ${ini}, [${sec}]${key ? ' ' + key : ''}\nstderr:\n${S.redact(r.stderr)}`);
			used.add(i);
		}
	}
});

test('a missing key ([cache] ttl) is an error naming file, [cache] and ttl', () => {
	const ini = writeIni('missing-key', { cache: { ttl: null } });
	const r = run('get-secret', { KVGATE_CONFIG: ini }, ['--check']);
	assert.notEqual(r.code, 0, `must refuse\n${S.redact(r.stderr)}`);
	assert.ok(r.stderr.split('\n').some((l) => l.includes(`${ini}: [cache] ttl:`)), S.redact(r.stderr));
});

test('a missing section ([secrets]) is an error naming [secrets]', () => {
	const ini = writeIni('missing-section', { secrets: null });
	const r = run('list-secrets', { KVGATE_CONFIG: ini }, ['--check']);
	assert.notEqual(r.code, 0, `must refuse\n${S.redact(r.stderr)}`);
	assert.ok(r.stderr.split('\n').some((l) => l.includes(ini) && l.includes('[secrets]')), S.redact(r.stderr));
});

for (const [what, ov, sec, key] of [
	['a boolean written 1', { cors: { allow_credentials: '1' } }, 'cors', 'allow_credentials'],
	['an integer with junk (600s)', { cors: { max_age: '600s' } }, 'cors', 'max_age'],
	['a negative timeout', { vault: { timeout_ms: '-1' } }, 'vault', 'timeout_ms'],
	['allowed_origins * with allow_credentials true', { cors: { allowed_origins: '*', allow_credentials: 'true' } }, 'cors', null],
	['an origin with a path', { cors: { allowed_origins: 'https://spa.example.com/app' } }, 'cors', 'allowed_origins'],
	['a vault url that is not https or has a path', { vault: { url: 'ftp://vault.example/x' } }, 'vault', 'url'],
	['an unknown identity method', { identity: { method: 'password' } }, 'identity', 'method'],
	['base_path with a trailing slash', { gateway: { base_path: '/api/' } }, 'gateway', 'base_path'],
	['public_url with a path', { gateway: { public_url: 'https://gw.example/x' } }, 'gateway', 'public_url'],
	['an unreadable ca_file', { vault: { ca_file: '/nonexistent/ca.pem' } }, 'vault', 'ca_file'],
]) {
	test(`${what} is refused at start, naming [${sec}]${key ? ' ' + key : ''}`, () => {
		const ini = writeIni(`bad-${what.replace(/\W+/g, '-')}`, ov);
		const r = run('get-secret', { KVGATE_CONFIG: ini }, ['--check']);
		assert.notEqual(r.code, 0, `must refuse\n${S.redact(r.stderr)}`);
		assert.ok(r.stderr.split('\n').some((l) => l.includes(`${ini}: [${sec}]`) && (key === null || l.includes(`[${sec}] ${key}:`))), `a line naming [${sec}] ${key || ''}\n${S.redact(r.stderr)}`);
	});
}

test('booleans accept true/false, yes/no, on/off', () => {
	for (const v of ['true', 'false', 'yes', 'no', 'on', 'off']) {
		const ini = writeIni(`bool-${v}`, { cors: { allow_credentials: v } });
		const r = run('get-secret', { KVGATE_CONFIG: ini }, ['--check']);
		assert.equal(r.code, 0, `allow_credentials = ${v}\n${S.redact(r.stderr)}`);
	}
});

test('no KVGATE_CONFIG: exits non-zero with a message naming KVGATE_CONFIG', () => {
	for (const prog of S.PROGRAMS) {
		const r = run(prog, {});
		assert.notEqual(r.code, 0, `${prog} must refuse`);
		assert.match(r.stderr, /KVGATE_CONFIG/, `${prog} says why\n${S.redact(r.stderr)}`);
		assert.equal(r.stdout.length, 0, `${prog} writes no response`);
	}
});

test('KVGATE_CONFIG naming a missing file: exits non-zero naming the file', () => {
	const f = path.join(dir, 'no-such.ini');
	const r = run('get-secret', { KVGATE_CONFIG: f });
	assert.notEqual(r.code, 0);
	assert.ok(r.stderr.includes(f), S.redact(r.stderr));
});

test('start-up errors never print the client secret', () => {
	const secret = fs.readFileSync(vault.secretFile, 'utf8').trim();
	const ini = writeIni('bad-with-secret', { cors: { allow_credentials: 'maybe' } });
	const r = run('get-secret', { KVGATE_CONFIG: ini });
	assert.ok(!r.stderr.includes(secret), 'stderr holds no client secret');
});

/* ---------------- plain CGI ---------------- */

test('CGI mode: GET one secret writes "Status: 200" headers and the SecretBundle on stdout', () => {
	const s = seed.byName.get('public-greeting');
	const r = run('get-secret', cgiEnv('GET', '/api/secrets/public-greeting', { HTTP_ORIGIN: S.ALLOWED }));
	assert.equal(r.code, 0, `exit status\n${S.redact(r.stderr)}`);
	const res = parseCgi(r.stdout);
	assert.equal(res.status, 200, S.redact(res.raw.slice(0, 600)));
	assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
	assert.equal(res.headers['cache-control'], 'no-store');
	assert.equal(res.headers['x-content-type-options'], 'nosniff');
	assert.equal(res.headers['access-control-allow-origin'], S.ALLOWED);
	assert.ok(res.json && res.json.value === s.latest.value, 'the seeded value');
	assert.equal(res.json.id, `http://127.0.0.1:8080/secrets/public-greeting/${s.latest.id}`, 'id from SERVER_NAME and SERVER_PORT');
	assert.ok(!r.stderr.includes(s.latest.value), 'no value on stderr');
});

test('CGI mode: HTTPS=on and port 443 make ids https://host/… without the default port', () => {
	const s = seed.byName.get('public-greeting');
	const r = run('get-secret', cgiEnv('GET', '/api/secrets/public-greeting', { HTTPS: 'on', SERVER_NAME: 'gw.example.com', SERVER_PORT: '443', HTTP_HOST: 'gw.example.com' }));
	const res = parseCgi(r.stdout);
	assert.equal(res.status, 200, S.redact(res.raw.slice(0, 600)));
	assert.equal(res.json.id, `https://gw.example.com/secrets/public-greeting/${s.latest.id}`);
});

test('CGI mode: the list route answers a SecretListResult whose nextLink is at the CGI origin', () => {
	const r = run('list-secrets', cgiEnv('GET', '/api/secrets?maxresults=3'));
	const res = parseCgi(r.stdout);
	assert.equal(res.status, 200, S.redact(res.raw.slice(0, 600)));
	assert.ok(Array.isArray(res.json.value) && res.json.value.length <= 3);
	assert.ok(res.json.nextLink === null || res.json.nextLink.startsWith('http://127.0.0.1:8080/api/secrets?'), res.json.nextLink);
});

test('CGI mode: a bad name answers Status: 400 BadParameter without calling the vault', async () => {
	const before = await vault.stats();
	const r = run('get-secret', cgiEnv('GET', '/api/secrets/a_b'));
	const after = await vault.stats();
	const res = parseCgi(r.stdout);
	assert.equal(res.status, 400, S.redact(res.raw));
	assert.equal(res.json.error.code, 'BadParameter');
	assert.equal(after.vault + after.token, before.vault + before.token, 'no upstream call');
});

test('CGI mode: DELETE answers Status: 405 with Allow', () => {
	const r = run('get-secret', cgiEnv('DELETE', '/api/secrets/public-greeting'));
	const res = parseCgi(r.stdout);
	assert.equal(res.status, 405, S.redact(res.raw));
	assert.match(res.headers.allow || '', /GET/);
	assert.equal(res.json.error.code, 'MethodNotAllowed');
});

test('CGI mode: the preflight program answers an allowed preflight with Status: 204 and no body', () => {
	const r = run('preflight', cgiEnv('OPTIONS', '/api/secrets', { HTTP_ORIGIN: S.ALLOWED, HTTP_ACCESS_CONTROL_REQUEST_METHOD: 'GET' }));
	const res = parseCgi(r.stdout);
	assert.equal(res.status, 204, S.redact(res.raw));
	assert.equal(res.body.length, 0, 'empty body');
	assert.equal(res.headers['access-control-allow-origin'], S.ALLOWED);
});

/* ---------------- FastCGI mode, SIGTERM ---------------- */

test('FastCGI mode: an idle program ends cleanly (status 0) within 2 s of SIGTERM', async (t) => {
	const sock = path.join(dir, 'sigterm.sock');
	const server = net.createServer();
	await new Promise((r) => server.listen(sock, r));
	const fd = server._handle && server._handle.fd;
	if (typeof fd !== 'number' || fd < 0) {
		server.close();
		t.skip('cannot hand a listening socket to the child on this platform');
		return;
	}
	const child = spawn(BIN('get-secret'), [], { env: { PATH: process.env.PATH, KVGATE_CONFIG: goodIni }, stdio: [fd, 'ignore', 'pipe'] });
	let err = '';
	child.stderr.on('data', (d) => (err += d));
	server.close();
	await S.sleep(700);
	assert.equal(child.exitCode, null, `the program waits for connections in FastCGI mode\n${err}`);
	const t0 = Date.now();
	child.kill('SIGTERM');
	const r = await Promise.race([S.exited(child), S.sleep(2000).then(() => null)]);
	if (!r) child.kill('SIGKILL');
	assert.ok(r, `exited within 2 s of SIGTERM\n${err}`);
	assert.ok(r.code === 0 || r.signal === 'SIGTERM', `clean exit: ${JSON.stringify(r)} after ${Date.now() - t0} ms\n${err}`);
});

/* ---------------- lighttpd with a bad policy ---------------- */

test('lighttpd with a bad policy serves no API: it exits, or never answers 200, and error.log names the problem', async (t) => {
	const d = path.join(dir, 'gw-bad');
	const gw = await S.startGateway(vault, d, { expectFail: true, overrides: { cors: { allow_credentials: 'yolo' } } });
	try {
		const outcome = await Promise.race([S.exited(gw.proc).then((r) => ({ exited: r })), S.sleep(2500).then(() => null)]);
		if (outcome) {
			assert.notEqual(outcome.exited.code, 0, `lighttpd exits non-zero\n${gw.output()}`);
			t.diagnostic(`lighttpd exited with ${outcome.exited.code ?? outcome.exited.signal}`);
		} else {
			const res = await gw.get('/api/secrets/public-greeting');
			assert.notEqual(res.status, 200, S.show(res));
			t.diagnostic(`lighttpd stayed up; /api answered ${res.status}`);
		}
		const log = gw.log('error.log') + gw.output();
		assert.ok(/\[cors\]/.test(log) && /allow_credentials/.test(log), `error.log or lighttpd output names [cors] allow_credentials\n${log.slice(-2000)}`);
	} finally {
		const r = await gw.stop();
		assert.deepEqual(r.leftover, [], 'no program left running');
	}
});
