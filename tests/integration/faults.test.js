'use strict';
/*
 * The fault table (issue 8, "Faults"), end to end through the real web
 * server (KVGATE_TEST_SERVER: lighttpd or Apache mod_fcgid) with the real
 * programs, against the dev vault's fault API and against a dev vault that
 * is paused (SIGSTOP), killed (SIGKILL) or unreachable (a closed port).
 * Every row asserts what a browser sees: the documented status (README,
 * "What happens when the vault misbehaves"), Key Vault's error envelope with
 * its innererror code, the common and CORS headers (an SPA must be able to
 * read a 502), Retry-After on a 503, an answer within [vault] deadline_ms
 * plus slack; and then that nothing is wedged: no program process died or
 * hung, and the same request succeeds once the fault is cleared.
 *
 * Besides the vault's own faults: slow-loris clients (the web server holds
 * a request until it is complete, so a trickling client never occupies a
 * program process), a program killed with SIGKILL while its upstream call is
 * in flight (the client gets the web server's error, the next request a
 * respawned process), a program killed while other processes wait for its
 * fetch (the shared cache's "one fetch at a time" must not strand them), and
 * stale_if_error answering during an outage.
 *
 * resilience.test.js and upstream.test.js pin down retry counts and the
 * Retry-After arithmetic; this file is the complete table on its own, with
 * the recovery and process checks on every row.
 *
 * Policy: timeout_ms 1000, max_retries 2, deadline_ms 2500, no cache on the
 * main gateway (every request reaches the vault), two processes per program.
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const path = require('node:path');
const S = require('./stack.js');

const TIMEOUT_MS = 1000;
const MAX_RETRIES = 2;
const DEADLINE_MS = 2500;
// What the web server, the FastCGI hop and a loaded 2-core machine may add.
const SLACK_MS = 1500;
const VAULT = { timeout_ms: String(TIMEOUT_MS), max_retries: String(MAX_RETRIES), deadline_ms: String(DEADLINE_MS) };
const H = { Origin: S.ALLOWED };
const SECRET = '/api/secrets/public-greeting';
const LIST = '/api/secrets?maxresults=5';
const VERSIONS = '/api/secrets/public-rotating/versions';

let stack, gw, vault;

before(async () => {
	stack = await S.startStack('faults', { procs: 2, overrides: { vault: VAULT, cache: { ttl: '0' } } });
	({ gw, vault } = stack);
	// Every program started and holding a token before the table begins.
	for (const p of [SECRET, LIST]) assert.equal((await gw.get(p, { headers: H })).status, 200, `warm-up ${p}`);
	assert.equal((await preflight(gw)).status, 204, 'warm-up preflight');
});

after(async () => {
	if (vault && vault.proc.signalCode === null && vault.proc.exitCode === null) {
		try {
			process.kill(vault.proc.pid, 'SIGCONT');
		} catch {
			/* gone */
		}
	}
	await S.stopStack(stack);
});

function preflight(g, path_ = SECRET) {
	return g.request('OPTIONS', path_, { headers: { ...H, 'Access-Control-Request-Method': 'GET' } });
}

/*
 * An upstream error as an SPA reads it: status, envelope with code and
 * innererror, common and CORS headers, nothing of the vault's address,
 * Retry-After (delay-seconds) on a 503, within the deadline.
 */
function assertBrowserError(res, status, code, inner, { maxMs = DEADLINE_MS + SLACK_MS } = {}) {
	S.assertError(res, status, code);
	S.assertCorsActual(res, S.ALLOWED);
	assert.ok(res.json.error.innererror && typeof res.json.error.innererror === 'object', `innererror present\n${S.show(res)}`);
	const inners = Array.isArray(inner) ? inner : [inner];
	assert.ok(inners.includes(res.json.error.innererror.code), `innererror.code is ${inners.join(' or ')}\n${S.show(res)}`);
	assert.ok(!res.text.includes(`:${vault.port}`), `the error never names the vault's host:port\n${S.show(res)}`);
	assert.ok(!res.headers['cache-status'], `an error carries no Cache-Status\n${S.show(res)}`);
	if (status === 503) {
		assert.match(res.headers['retry-after'] || '', /^\d+$/, `Retry-After (delay-seconds) on a 503\n${S.show(res)}`);
		assert.ok(Number(res.headers['retry-after']) >= 1, `Retry-After at least 1\n${S.show(res)}`);
	}
	assert.ok(res.ms < maxMs, `answered in ${res.ms} ms, within deadline_ms ${DEADLINE_MS} + ${SLACK_MS} ms slack`);
}

// The program pids of g, by program.
function pids(g) {
	return g.programs().map((p) => p.pid);
}

// No program process that was there before died (no crash, no respawn).
function assertSameProcesses(g, before, what) {
	const dead = before.filter((pid) => !S.alive(pid));
	assert.deepEqual(dead, [], `no program process died during ${what} (before: ${before.join(' ')}, now: ${pids(g).join(' ')})\n${S.redact(g.output()).slice(-1500)}`);
}

// Once the fault is gone, these requests answer 200 promptly: nothing wedged.
async function assertRecovered(g, paths, what) {
	for (const p of paths) {
		const res = await g.get(p, { headers: H });
		assert.equal(res.status, 200, `${p} after ${what}: the next request succeeds\n${S.show(res)}`);
		S.assertCorsActual(res, S.ALLOWED);
		assert.ok(res.ms < 3000, `${p} answered promptly after ${what} (${res.ms} ms)`);
	}
}

/*
 * One row of the table: inject spec, send path, check the answer against
 * the README, clear the fault, check recovery and the processes.
 */
async function faultRow(g, { spec, p, status, code, inner, minMs = 0, maxMs, retryAfter }) {
	const before_ = pids(g);
	await vault.clearFaults();
	await vault.fault(spec);
	let d;
	try {
		d = await S.upstreamDelta(vault, () => g.get(p, { headers: H }));
	} finally {
		await vault.clearFaults();
	}
	const res = d.r;
	if (status === 200) {
		assert.equal(res.status, 200, S.show(res));
		assert.ok(res.ms < (maxMs || DEADLINE_MS + SLACK_MS), `${res.ms} ms`);
	} else {
		assertBrowserError(res, status, code, inner, maxMs ? { maxMs } : {});
	}
	assert.ok(res.ms >= minMs, `waited for the fault (${res.ms} ms >= ${minMs} ms)`);
	if (retryAfter !== undefined) assert.equal(res.headers['retry-after'], String(retryAfter), `the vault's Retry-After passed on\n${S.show(res)}`);
	assertSameProcesses(g, before_, JSON.stringify(spec));
	await assertRecovered(g, [p], JSON.stringify(spec));
	return d;
}

/* ------------------------------------------------------------------ */
/* The vault's faults                                                  */
/* ------------------------------------------------------------------ */

const ROWS = [
	// [what, spec, path, status, code, inner, extra]
	['hangs (never answers)', { mode: 'hang' }, SECRET, 504, 'GatewayTimeout', 'DeadlineExceeded', { minMs: 2 * TIMEOUT_MS - 100 }],
	['hangs on a list page', { mode: 'hang' }, LIST, 504, 'GatewayTimeout', 'DeadlineExceeded', { minMs: 2 * TIMEOUT_MS - 100 }],
	// The gateway answers as soon as the next attempt cannot fit in what is
	// left, so at least two attempts' worth, not the whole deadline.
	['answers slower than the deadline (5 s)', { mode: 'slow', delayMs: 5000 }, VERSIONS, 504, 'GatewayTimeout', 'DeadlineExceeded', { minMs: 2 * TIMEOUT_MS - 100 }],
	['trickles its answer past the deadline', { mode: 'slow', chunkBytes: 8, intervalMs: 400 }, SECRET, 504, 'GatewayTimeout', 'DeadlineExceeded', { minMs: 2 * TIMEOUT_MS - 100 }],
	['resets every connection', { mode: 'reset' }, SECRET, 502, 'BadGateway', 'VaultConnectionLost'],
	['resets every connection (list)', { mode: 'reset' }, LIST, 502, 'BadGateway', 'VaultConnectionLost'],
	['cuts every answer short (truncate)', { mode: 'truncate' }, SECRET, 502, 'BadGateway', 'VaultConnectionLost'],
	['cuts every list page short', { mode: 'truncate' }, VERSIONS, 502, 'BadGateway', 'VaultConnectionLost'],
	['answers malformed JSON', { mode: 'malformed' }, SECRET, 502, 'BadGateway', 'VaultMalformedAnswer'],
	['answers a malformed list page', { mode: 'malformed' }, LIST, 502, 'BadGateway', 'VaultMalformedAnswer'],
	['answers 2 MiB (over the 512 KB cap)', { mode: 'oversize', bytes: 2 * 1024 * 1024 }, SECRET, 502, 'BadGateway', 'VaultAnswerTooLarge'],
	['answers a 16 MiB list page', { mode: 'oversize', bytes: 16 * 1024 * 1024 }, VERSIONS, 502, 'BadGateway', 'VaultAnswerTooLarge'],
	['answers 429 every time (storm, no Retry-After)', { mode: 'status', status: 429 }, SECRET, 503, 'ServiceUnavailable', 'VaultThrottled'],
	['answers 429 every time on lists', { mode: 'status', status: 429 }, LIST, 503, 'ServiceUnavailable', 'VaultThrottled'],
	['answers 429 with Retry-After: 30 (beyond the deadline)', { mode: 'status', status: 429, retryAfter: '30' }, SECRET, 503, 'ServiceUnavailable', 'VaultThrottled', { maxMs: 1500, retryAfter: 30 }],
	['answers 500 every time', { mode: 'status', status: 500 }, SECRET, 502, 'BadGateway', 'VaultFailed'],
	['answers 502 every time', { mode: 'status', status: 502 }, LIST, 502, 'BadGateway', 'VaultFailed'],
	['answers 503 every time', { mode: 'status', status: 503 }, SECRET, 503, 'ServiceUnavailable', 'VaultUnreachable'],
	['answers 503 with Retry-After: 1 every time', { mode: 'status', status: 503, retryAfter: '1' }, VERSIONS, 503, 'ServiceUnavailable', 'VaultUnreachable'],
	['answers 504 every time', { mode: 'status', status: 504 }, SECRET, 502, 'BadGateway', 'VaultFailed'],
	['answers 408 every time', { mode: 'status', status: 408 }, SECRET, 502, 'BadGateway', 'VaultFailed'],
	['answers 501 (not transient, not retried)', { mode: 'status', status: 501 }, SECRET, 502, 'BadGateway', 'VaultFailed'],
	['answers 400 (refuses the request)', { mode: 'status', status: 400 }, SECRET, 502, 'BadGateway', 'VaultRefusedRequest'],
	['answers 403 ForbiddenByRbac (the identity lacks the role)', { mode: 'status', status: 403 }, LIST, 502, 'BadGateway', 'VaultForbidden'],
	['rejects every token (401 challenge)', { mode: 'reject-token' }, SECRET, 502, 'BadGateway', 'VaultRejectedToken'],
	// Faults that the retries absorb: the browser sees a 200.
	['throttles every other call (429)', { mode: 'status', status: 429, every: 2 }, SECRET, 200],
	['a burst of two 5xx', [{ mode: 'status', status: 500, count: 1 }, { mode: 'status', status: 503, count: 1 }], LIST, 200],
	['resets two connections', { mode: 'reset', count: 2 }, SECRET, 200],
	['cuts one answer short', { mode: 'truncate', count: 1 }, SECRET, 200],
	['rejects the token once', { mode: 'reject-token', count: 1 }, VERSIONS, 200],
	['is slow, within timeout_ms', { mode: 'slow', delayMs: 500 }, SECRET, 200],
];

for (const [what, spec, p, status, code, inner, extra = {}] of ROWS) {
	const expect = status === 200 ? '200 (retried)' : `${status} ${code}/${inner}`;
	test(`the vault ${what}: ${p} -> ${expect}, then 200 once it clears`, async () => {
		await faultRow(gw, { spec, p, status, code, inner, ...extra });
	});
}

test('a 429 storm under concurrent load: every request 503 VaultThrottled with Retry-After, none hangs, all recover', async () => {
	const before_ = pids(gw);
	const paths = [SECRET, '/api/secrets/demo-alpha', LIST, VERSIONS, '/api/secrets/demo-beta', '/api/secrets?maxresults=3'];
	await vault.clearFaults();
	await vault.fault({ mode: 'status', status: 429 });
	let d;
	try {
		d = await S.upstreamDelta(vault, () => Promise.all(paths.map((p) => gw.get(p, { headers: H }))));
	} finally {
		await vault.clearFaults();
	}
	// Three requests per program on two processes: one may queue behind another.
	for (const res of d.r) assertBrowserError(res, 503, 'ServiceUnavailable', 'VaultThrottled', { maxMs: 2 * DEADLINE_MS + SLACK_MS });
	assert.ok(d.vault >= paths.length && d.vault <= paths.length * (MAX_RETRIES + 1), `each request retried at most max_retries times (${d.vault} vault calls)`);
	assertSameProcesses(gw, before_, 'the storm');
	await assertRecovered(gw, paths, 'the storm');
});

/* ------------------------------------------------------------------ */
/* The token endpoint                                                  */
/* ------------------------------------------------------------------ */

/*
 * The programs hold a token, shared by the host's processes and keyed by
 * the token endpoint. So that a row starts with no token, each gets a
 * gateway of its own whose authority_host is a forwarder on a port of its
 * own in front of the dev vault: a new token endpoint, the same dev vault
 * (whose token faults apply).
 */
const TOKEN_ROWS = [
	['answers 500 every time', { target: 'token', mode: 'status', status: 500 }, 502, 'BadGateway', 'IdentityUnavailable'],
	['answers 429 every time', { target: 'token', mode: 'status', status: 429 }, 502, 'BadGateway', 'IdentityUnavailable'],
	['resets every connection', { target: 'token', mode: 'reset' }, 502, 'BadGateway', 'IdentityUnavailable'],
	['cuts its answer short', { target: 'token', mode: 'truncate' }, 502, 'BadGateway', 'IdentityUnavailable'],
	['answers malformed JSON', { target: 'token', mode: 'malformed' }, 502, 'BadGateway', 'IdentityUnavailable'],
	['answers an oversized body', { target: 'token', mode: 'oversize' }, 502, 'BadGateway', 'IdentityUnavailable'],
	['hangs', { target: 'token', mode: 'hang' }, 504, 'GatewayTimeout', 'DeadlineExceeded'],
	[
		'refuses the credential (400 invalid_client)',
		{ target: 'token', mode: 'status', status: 400, body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.', error_codes: [7000215] } },
		502,
		'BadGateway',
		'IdentityRejected',
	],
];

for (const [what, tokenFault, status, code, inner] of TOKEN_ROWS) {
	test(`the token endpoint ${what}: ${status} ${code}/${inner}, no vault call without a token, then 200`, async () => {
		const port = await S.freePort();
		const fwd = forwarder(port, () => vault.port);
		await fwd.open();
		const g = await stack.gateway(`token-${port}`, { procs: 1, overrides: { vault: VAULT, identity: { authority_host: `https://127.0.0.1:${port}` }, cache: { ttl: '0' } } });
		try {
			const d = await faultRow(g, { spec: tokenFault, p: SECRET, status, code, inner });
			assert.ok(d.token >= 1, `the token endpoint was asked (${d.token})`);
			assert.equal(d.vault, 0, 'no vault call without a token');
			assert.ok(!d.r.text.includes('AADSTS'), 'the identity error is not passed through');
		} finally {
			await S.stopGateway(g);
			await fwd.close();
		}
	});
}

test('the token endpoint down while a valid token is held: 200, no token call', async () => {
	const d = await faultRow(gw, { spec: { target: 'token', mode: 'status', status: 503 }, p: LIST, status: 200 });
	assert.equal(d.token, 0, 'the held token is used');
});

/* ------------------------------------------------------------------ */
/* A vault that cannot be reached: refused, paused, killed             */
/* ------------------------------------------------------------------ */

/*
 * A TCP forwarder from port to the dev vault, opened and closed on demand:
 * while closed, connections to port are refused, as for a vault host that
 * is down. TLS passes through untouched (the certificate names 127.0.0.1).
 */
function forwarder(port, target) {
	let server = null;
	const socks = new Set();
	return {
		open: () =>
			new Promise((resolve, reject) => {
				server = net.createServer((c) => {
					const u = net.connect({ host: '127.0.0.1', port: target() });
					socks.add(c).add(u);
					const drop = () => {
						c.destroy();
						u.destroy();
						socks.delete(c);
						socks.delete(u);
					};
					c.on('error', drop).on('close', drop);
					u.on('error', drop).on('close', drop);
					c.pipe(u).pipe(c);
				});
				server.once('error', reject);
				server.listen(port, '127.0.0.1', () => resolve());
			}),
		close: () =>
			new Promise((resolve) => {
				if (!server) return resolve();
				for (const s of socks) s.destroy();
				socks.clear();
				server.close(() => resolve());
				server = null;
			}),
	};
}

test('connection refused (nothing listens at the vault and token endpoint): 502 IdentityUnavailable, then 503 VaultUnreachable once a token is held; 200 when it listens again', async () => {
	const port = await S.freePort();
	const url = `https://127.0.0.1:${port}`;
	const fwd = forwarder(port, () => vault.port);
	const g = await stack.gateway('refused', { overrides: { vault: { ...VAULT, url }, identity: { authority_host: url }, cache: { ttl: '0' } } });
	try {
		// No token yet and the token endpoint refuses connections.
		const a = await g.get(SECRET, { headers: H });
		assertBrowserError(a, 502, 'BadGateway', 'IdentityUnavailable');
		const before_ = pids(g);
		await fwd.open();
		// (No first list page here: its nextLink names the dev vault's own
		// port, which the gateway rightly refuses as foreign.)
		await assertRecovered(g, [SECRET, VERSIONS], 'the port opened');
		// A token is held now; the vault's port refuses connections.
		await fwd.close();
		for (const p of [SECRET, VERSIONS]) {
			const res = await g.get(p, { headers: H });
			assertBrowserError(res, 503, 'ServiceUnavailable', 'VaultUnreachable');
			assert.equal(res.headers['retry-after'], '5', `Retry-After 5 for a vault that cannot be reached\n${S.show(res)}`);
		}
		await fwd.open();
		await assertRecovered(g, [SECRET, VERSIONS], 'the port opened again');
		assertSameProcesses(g, before_, 'refused connections');
	} finally {
		await fwd.close();
		await S.stopGateway(g);
	}
});

test('a paused dev vault (SIGSTOP: connections accepted, nothing answered): 504 DeadlineExceeded by the deadline; 200 after SIGCONT', async () => {
	const before_ = pids(gw);
	process.kill(vault.proc.pid, 'SIGSTOP');
	let results;
	try {
		// No control API calls while it is stopped: they would hang too.
		results = await Promise.all([gw.get(SECRET, { headers: H }), gw.get(LIST, { headers: H })]);
	} finally {
		process.kill(vault.proc.pid, 'SIGCONT');
	}
	for (const res of results) {
		assertBrowserError(res, 504, 'GatewayTimeout', 'DeadlineExceeded');
		assert.ok(res.ms >= DEADLINE_MS - 700, `waited for the deadline (${res.ms} ms)`);
	}
	assertSameProcesses(gw, before_, 'the pause');
	await assertRecovered(gw, [SECRET, LIST, VERSIONS], 'SIGCONT');
});

test('a killed dev vault (SIGKILL): 503 VaultUnreachable with Retry-After, at once; 200 once it is back on the same port', async () => {
	const before_ = pids(gw);
	vault.proc.kill('SIGKILL');
	await S.exited(vault.proc);
	try {
		for (const p of [SECRET, LIST, VERSIONS]) {
			const res = await gw.get(p, { headers: H });
			assertBrowserError(res, 503, 'ServiceUnavailable', 'VaultUnreachable', { maxMs: 2000 });
		}
	} finally {
		// The same directory: the same CA, tenant and client secret.
		const v2 = await S.startVault(vault.dir, vault.port, vault.args);
		stack.vault = vault = v2;
		for (const g of stack.gateways) g.vault = v2;
	}
	assertSameProcesses(gw, before_, 'the vault restart');
	await assertRecovered(gw, [SECRET, LIST, VERSIONS], 'the vault restart');
});

/* ------------------------------------------------------------------ */
/* Slow-loris clients                                                  */
/* ------------------------------------------------------------------ */

/*
 * Clients that send a request a byte at a time and never finish. The web
 * server reads the whole request (headers, and body) before it hands it to a
 * program, so none of them occupies a program process: with one process per
 * program, every other client is still served at once.
 */
test('slow-loris clients (headers or body a byte at a time, never finished) do not block the programs: others are served promptly', async (t) => {
	const g = await stack.gateway('loris', { procs: 1, overrides: { vault: VAULT, cache: { ttl: '60' } } });
	const socks = [];
	const timers = [];
	try {
		for (const p of [SECRET, LIST]) assert.equal((await g.get(p, { headers: H })).status, 200, 'warm-up');
		assert.equal((await preflight(g)).status, 204, 'warm-up');
		const before_ = pids(g);
		const trickle = (head, body) => {
			const s = net.connect({ host: '127.0.0.1', port: g.port });
			s.on('error', () => {});
			socks.push(s);
			const bytes = Buffer.from(head + (body || ''), 'latin1');
			// Headers: all but the final CRLF a byte at a time. Body: complete
			// headers first, then the body a byte at a time (never all of it).
			let i = body ? head.length : 0;
			if (body) s.write(bytes.subarray(0, i));
			const end = bytes.length - 2;
			timers.push(
				setInterval(() => {
					if (i < end && !s.destroyed) s.write(bytes.subarray(i, ++i));
				}, 100),
			);
		};
		const host = `Host: 127.0.0.1:${g.port}\r\nOrigin: ${S.ALLOWED}\r\n`;
		for (let i = 0; i < 6; i++) trickle(`GET ${SECRET} HTTP/1.1\r\n${host}X-Filler: ${'a'.repeat(200)}\r\n\r\n`);
		for (let i = 0; i < 2; i++) trickle(`GET ${LIST} HTTP/1.1\r\n${host}X-Filler: ${'a'.repeat(200)}\r\n\r\n`);
		for (let i = 0; i < 2; i++) trickle(`OPTIONS ${SECRET} HTTP/1.1\r\n${host}Access-Control-Request-Method: GET\r\nX-Filler: ${'a'.repeat(200)}\r\n\r\n`);
		// Bodies (on routes whose program would answer 405): the server must
		// buffer them whole before any program sees the request.
		const n = 20000;
		for (const p of [SECRET, '/api/secrets']) for (let i = 0; i < 2; i++) trickle(`POST ${p} HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: ${n}\r\n\r\n`, 'x'.repeat(n + 2));
		await S.sleep(1500);
		const times = [];
		for (let round = 0; round < 5; round++) {
			for (const [what, send, want] of [
				['get', () => g.get(SECRET, { headers: H }), 200],
				['list', () => g.get(LIST, { headers: H }), 200],
				['preflight', () => preflight(g), 204],
			]) {
				const res = await send();
				assert.equal(res.status, want, `${what} while slow clients hold connections\n${S.show(res)}`);
				times.push(res.ms);
				assert.ok(res.ms < 1000, `${what} answered promptly (${res.ms} ms) beside ${socks.length} slow clients`);
			}
		}
		t.diagnostic(`${socks.length} slow clients; 15 other requests, slowest ${Math.max(...times)} ms`);
		assert.ok(socks.filter((s) => !s.destroyed).length >= 10, 'the slow clients are still connected (the test held them)');
		assertSameProcesses(g, before_, 'the slow clients');
		assert.deepEqual(pids(g).sort(), before_.sort(), 'no extra program process was needed');
	} finally {
		for (const tm of timers) clearInterval(tm);
		for (const s of socks) s.destroy();
		await S.stopGateway(g);
	}
});

/* ------------------------------------------------------------------ */
/* Programs killed mid-request                                         */
/* ------------------------------------------------------------------ */

test('get-secret killed (SIGKILL) while its vault call is in flight: the client gets the web server\'s error at once, the next request a respawned process', async (t) => {
	const victims = gw.programs().filter((p) => p.cmd.includes('get-secret.fcgi'));
	assert.ok(victims.length >= 1, 'get-secret runs');
	const others = gw.programs().filter((p) => !p.cmd.includes('get-secret.fcgi')).map((p) => p.pid);
	await vault.clearFaults();
	await vault.fault({ mode: 'slow', delayMs: 4000, count: 1 });
	const pending = gw.get(SECRET, { headers: H });
	await S.sleep(800);
	const t0 = Date.now();
	for (const v of victims) process.kill(v.pid, 'SIGKILL');
	const res = await pending;
	const afterKill = Date.now() - t0;
	await vault.clearFaults();
	t.diagnostic(`the in-flight request got ${res.status || 'a closed connection'} ${afterKill} ms after the kill (${gw.server})`);
	// The web server's own error: the program never wrote an answer.
	assert.ok(res.status === 0 || res.status >= 500, `an error from the web server\n${S.show(res)}`);
	assert.ok(!(res.json && res.json.error), `not a program's envelope\n${S.show(res)}`);
	assert.ok(afterKill < 2000, `answered soon after the kill, not at the deadline (${afterKill} ms)`);
	// lighttpd may answer 503 while it restarts a dead backend.
	const statuses = [];
	let ok = null;
	for (let i = 0; i < 30 && !ok; i++) {
		const r = await gw.get(SECRET, { headers: H });
		statuses.push(r.status);
		if (r.status === 200) ok = r;
		else await S.sleep(300);
	}
	t.diagnostic(`statuses after the kill: ${statuses.join(' ')}`);
	assert.ok(ok, `a 200 after the kill: ${statuses.join(' ')}`);
	S.assertCorsActual(ok, S.ALLOWED);
	const now = gw.programs().filter((p) => p.cmd.includes('get-secret.fcgi')).map((p) => p.pid);
	assert.ok(now.length >= 1 && now.every((pid) => !victims.some((v) => v.pid === pid)), `served by a respawned get-secret (${now} vs killed ${victims.map((v) => v.pid)})`);
	assertSameProcesses(gw, others, 'the kill (the other programs)');
	await assertRecovered(gw, [LIST, VERSIONS], 'the kill');
});

test('a process killed while fetching for others (shared cache, one fetch at a time): the waiters are not stranded until the deadline', async (t) => {
	// Cache on, two processes: request A's process fetches (slowly), request
	// B for the same secret waits for that fetch; A's process is killed.
	const g = await stack.gateway('collapse', { procs: 2, overrides: { vault: { ...VAULT, deadline_ms: '9000', timeout_ms: '8000' }, cache: { ttl: '60' } } });
	try {
		for (let i = 0; i < 4; i++) assert.equal((await g.get('/api/secrets/demo-gamma', { headers: H })).status, 200, 'warm-up');
		const name = 'demo-delta';
		await vault.clearFaults();
		await vault.fault({ mode: 'slow', delayMs: 6500, count: 1, path: `/secrets/${name}` });
		const a = g.get(`/api/secrets/${name}`, { headers: H });
		await S.sleep(600);
		const b = g.get(`/api/secrets/${name}`, { headers: H });
		// The fetcher waits in poll for the slow answer, the waiter in a
		// futex (mod_fcgid may take a moment to start B's process). If they
		// cannot be told apart both are killed, and only the recovery is
		// checked.
		let procs = [];
		let fetcher = null;
		await S.waitFor(
			() => {
				procs = g.programs().filter((p) => p.cmd.includes('get-secret.fcgi'));
				const polling = procs.filter((p) => /poll|select/.test(wchan(p.pid)));
				const waiting = procs.filter((p) => /futex/.test(wchan(p.pid)));
				fetcher = polling.length === 1 && waiting.length >= 1 ? polling[0] : null;
				return fetcher;
			},
			3000,
			'a fetcher and a waiter',
		).catch(() => {});
		const states = procs.map((p) => `${p.pid}:${wchan(p.pid)}`);
		t.diagnostic(`get-secret processes (pid:wchan) ${states.join(' ')}; the fetcher: ${fetcher ? fetcher.pid : 'not identified'}`);
		const t0 = Date.now();
		for (const p of fetcher ? [fetcher] : procs) process.kill(p.pid, 'SIGKILL');
		const [ra, rb] = await Promise.all([a, b]);
		const bMs = Date.now() - t0;
		await vault.clearFaults();
		assert.ok(ra.status === 0 || ra.status >= 500, `A, whose process died, gets the web server's error\n${S.show(ra)}`);
		if (fetcher) {
			// B's own process saw the fetcher die and fetched itself.
			assert.equal(rb.status, 200, `B is served by its own process\n${S.show(rb)}`);
			assert.ok(bMs < 3000, `B answered ${bMs} ms after the kill, long before the 9 s deadline`);
			S.assertCorsActual(rb, S.ALLOWED);
		}
		let ok = null;
		for (let i = 0; i < 30 && !ok; i++) {
			const r = await g.get(`/api/secrets/${name}`, { headers: H });
			if (r.status === 200) ok = r;
			else await S.sleep(300);
		}
		assert.ok(ok, 'the secret is served after the kill');
		assert.ok(ok.ms < 3000, `promptly (${ok.ms} ms): no lock left held by the dead process`);
	} finally {
		await vault.clearFaults();
		await S.stopGateway(g);
	}
});

test('kvgate-fetch killed (SIGKILL) while it makes a vault call: the program starts another, and the browser still gets its secret', async (t) => {
	const g = await stack.gateway('helperkill', { procs: 1, overrides: { vault: VAULT, cache: { ttl: '0' } } });
	try {
		assert.equal((await g.get(SECRET, { headers: H })).status, 200, 'warm-up');
		const [killed] = S.fetcherOf(g);
		assert.ok(killed, 'kvgate-fetch serves this gateway');
		await vault.clearFaults();
		await vault.fault({ mode: 'slow', delayMs: 1500, count: 1 });
		const pending = g.get(SECRET, { headers: H });
		await S.sleep(500);
		process.kill(killed, 'SIGKILL');
		const res = await pending;
		await vault.clearFaults();
		t.diagnostic(`answered ${res.status} in ${res.ms} ms (${g.server})`);
		assert.equal(res.status, 200, `the call was sent again through a new helper\n${S.show(res)}`);
		S.assertCorsActual(res, S.ALLOWED);
		const now = S.fetcherOf(g);
		assert.ok(now.length === 1 && now[0] !== killed, `one new kvgate-fetch (${now}; killed ${killed})`);
		assert.match(g.output(), /kvgate\[kvgate-fetch \d+\]: info: serving @kvgate-fetch-/, 'the new helper says so in the error log');
	} finally {
		await vault.clearFaults();
		await S.stopGateway(g);
	}
});

// What pid sleeps in (/proc/PID/wchan): a process fetching from the vault
// waits in poll (libcurl), one waiting for another's fetch in a futex, an
// idle one in its accept.
function wchan(pid) {
	try {
		return require('node:fs').readFileSync(`/proc/${pid}/wchan`, 'utf8');
	} catch {
		return '';
	}
}

/* ------------------------------------------------------------------ */
/* stale_if_error during an outage                                     */
/* ------------------------------------------------------------------ */

test('stale_if_error: past ttl, during 503s, a 429 storm, a hang and a killed vault, the cached answer is served (200, Cache-Status detail=stale-if-error)', async (t) => {
	const TTL = 2;
	const g = await stack.gateway('stale', { procs: 1, overrides: { vault: VAULT, cache: { ttl: String(TTL), stale_if_error: '120', negative_ttl: '0' } } });
	try {
		const names = ['public-app-title', 'public-cdn-host', 'public-locale-default', 'public-theme-color', 'demo-color'];
		const values = {};
		for (const n of names) {
			const r = await g.get(`/api/secrets/${n}`, { headers: H });
			assert.equal(r.status, 200, S.show(r));
			values[n] = r.json.value;
		}
		await S.sleep(TTL * 1000 + 600);
		const assertStale = (res, n, what) => {
			assert.equal(res.status, 200, `${what}: the stale answer\n${S.show(res)}`);
			assert.ok(res.json.value === values[n], `${what}: the last good value`);
			assert.match(res.headers['cache-status'] || '', /^kvgate; hit; ttl=-\d+; fwd=stale; detail=stale-if-error$/, `${what}: Cache-Status`);
			S.assertCommonHeaders(res);
			S.assertCorsActual(res, S.ALLOWED);
			assert.ok(res.ms < DEADLINE_MS + SLACK_MS, `${what}: within the deadline (${res.ms} ms)`);
		};
		const cases = [
			['503 every time', { mode: 'status', status: 503 }],
			['a 429 storm', { mode: 'status', status: 429 }],
			['a hang', { mode: 'hang' }],
			['resets', { mode: 'reset' }],
		];
		for (let i = 0; i < cases.length; i++) {
			const [what, spec] = cases[i];
			await vault.clearFaults();
			await vault.fault(spec);
			try {
				assertStale(await g.get(`/api/secrets/${names[i]}`, { headers: H }), names[i], what);
				// A secret never cached gets the error, not a 200.
				const none = await g.get('/api/secrets/demo-3', { headers: H });
				assert.ok([502, 503, 504].includes(none.status), `${what}: nothing to serve stale for a secret never cached\n${S.show(none)}`);
				S.assertCorsActual(none, S.ALLOWED);
			} finally {
				await vault.clearFaults();
			}
		}
		// The outage: the dev vault killed.
		const last = names[names.length - 1];
		vault.proc.kill('SIGKILL');
		await S.exited(vault.proc);
		try {
			assertStale(await g.get(`/api/secrets/${last}`, { headers: H }), last, 'a killed vault');
			// Still stale on the next ask (the vault is still down).
			assertStale(await g.get(`/api/secrets/${names[0]}`, { headers: H }), names[0], 'a killed vault, again');
		} finally {
			const v2 = await S.startVault(vault.dir, vault.port, vault.args);
			stack.vault = vault = v2;
			for (const x of stack.gateways) x.vault = v2;
		}
		// Back: fetched again, fresh.
		const back = await g.get(`/api/secrets/${last}`, { headers: H });
		assert.equal(back.status, 200, S.show(back));
		assert.doesNotMatch(back.headers['cache-status'] || '', /stale-if-error/, 'fresh once the vault is back');
		const log = g.output() + g.log('error.log');
		assert.match(log, /stale_if_error/, 'the stale answers were logged');
		t.diagnostic(`Cache-Status once back: ${back.headers['cache-status']}`);
	} finally {
		await vault.clearFaults();
		await S.stopGateway(g);
	}
});

/* ------------------------------------------------------------------ */
/* After everything                                                    */
/* ------------------------------------------------------------------ */

test('after the whole table every route answers again (200, 204) and the logs hold no secret or token', async () => {
	await vault.clearFaults();
	await assertRecovered(gw, [SECRET, LIST, VERSIONS], 'the table');
	assert.equal((await preflight(gw)).status, 204);
	for (const g of stack.gateways) assert.deepEqual(S.logLeaks(g), [], `${path.basename(g.dir)}: logs leak`);
	const log = gw.output() + gw.log('error.log');
	assert.doesNotMatch(log, /AddressSanitizer|runtime error:|Segmentation fault|core dumped|\babort(ed)?\b/i, 'no crash in the logs');
});

test(`SIGTERM to ${S.SERVER} leaves no kvgate program running`, async () => {
	const r = await gw.stop();
	assert.deepEqual(r.leftover, [], 'no program left running');
});
