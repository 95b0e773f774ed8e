'use strict';
/*
 * [limits] requests_per_minute end to end (README: [limits]): the counters
 * are shared by every process of every program on the host (two processes
 * per program here, the requests spread across them), per caller for
 * authenticated callers and per client address otherwise (bad credentials
 * included, so keys cannot be guessed at full speed). Over the limit: 429
 * Throttled in Key Vault's envelope, Retry-After, the CORS headers and
 * Retry-After exposed, before any upstream call. The counters live in
 * /dev/shm with mode 0600 and are gone once the last process leaves.
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const S = require('./stack.js');

const KEYS = { a: crypto.randomBytes(24).toString('hex'), b: crypto.randomBytes(24).toString('hex') };
let stack, vault, gw, gwKeys;

before(async () => {
	stack = await S.startStack('limits', { procs: 2, overrides: { limits: { requests_per_minute: '8' } } });
	({ vault, gw } = stack);
	const keys = path.join(stack.dir, 'api-keys');
	const h = (k) => crypto.createHash('sha256').update(k).digest('hex');
	fs.writeFileSync(keys, `key-a ${h(KEYS.a)}\nkey-b ${h(KEYS.b)}\n`, { mode: 0o600 });
	gwKeys = await stack.gateway('keys', {
		procs: 2,
		overrides: {
			cors: { allowed_headers: 'x-api-key' },
			callers: { mode: 'api_key none', api_key_header: 'X-Api-Key', api_keys_file: keys },
			'grant all': { who: 'anonymous authenticated', allow: '*' },
			limits: { requests_per_minute: '3' },
		},
	});
});

after(async () => {
	if (!stack) return;
	const leaks = [...S.logLeaks(gw), ...S.logLeaks(gwKeys, Object.values(KEYS))];
	await S.stopStack(stack);
	assert.deepEqual(leaks, []);
});

// The segment a gateway's processes share (lib/ratelimit.c names it from
// the limit and the policy path).
function segment(g, limit) {
	const scope = crypto.createHash('sha256').update(`kvgate ratelimit 2 8192 ${limit}\n${g.ini}`).digest();
	const prefix = `kvgate-rl-`;
	const suffix = scope.subarray(0, 8).toString('hex');
	const f = fs.readdirSync('/dev/shm').find((n) => n.startsWith(prefix) && n.endsWith(`-${suffix}`));
	return f ? path.join('/dev/shm', f) : null;
}

function assert429(res, origin) {
	S.assertError(res, 429, 'Throttled');
	const ra = Number(res.headers['retry-after']);
	assert.ok(Number.isInteger(ra) && ra >= 1 && ra <= 120, `Retry-After in seconds\n${S.show(res)}`);
	if (origin) S.assertCorsActual(res, origin, { expose: 'x-ms-request-id Retry-After' });
}

// The pids that answered, from the audit lines of these request ids.
function pidsOf(g, ids) {
	const pids = new Set();
	for (const line of g.output().split('\n').concat(g.log('error.log').split('\n'))) {
		const i = line.indexOf('{"audit":"kvgate"');
		if (i < 0) continue;
		const r = JSON.parse(line.slice(i));
		if (ids.includes(r.request_id)) pids.add(`${r.program}:${r.pid}`);
	}
	return pids;
}

test('the limit holds across processes and programs: 8 a minute, the 9th is 429 with Retry-After and CORS', async (t) => {
	const paths = ['/api/secrets/public-greeting', '/api/secrets?maxresults=2', '/api/secrets/demo-1', '/api/secrets/public-app-title'];
	const ok = [];
	// Two at a time, so that both processes of each program answer.
	for (let i = 0; i < 8; i += 2) {
		const rs = await Promise.all([0, 1].map((j) => gw.get(paths[(i + j) % paths.length], { headers: { Origin: S.ALLOWED } })));
		for (const r of rs) assert.equal(r.status, 200, S.show(r));
		ok.push(...rs);
	}
	const over = await S.noUpstream(vault, () => gw.get('/api/secrets/public-greeting', { headers: { Origin: S.ALLOWED } }));
	assert429(over, S.ALLOWED);
	// The other program is over the limit too: one count per host.
	assert429(await gw.get('/api/secrets'));
	const pids = await S.waitFor(() => {
		const p = pidsOf(gw, ok.map((r) => r.headers['x-ms-request-id']));
		return p.size >= 2 ? p : null;
	}, 5000, 'audit lines of the allowed requests');
	// At least one process of each program (lighttpd starts both of each
	// at once; mod_fcgid spawns the second only under load).
	assert.ok(pids.size >= 2, `answered by ${pids.size} processes: ${[...pids].join(', ')}`);
	t.diagnostic(`answered by ${[...pids].join(', ')}`);
});

test('preflights are not counted and never throttled', async () => {
	const res = await gw.request('OPTIONS', '/api/secrets', { headers: { Origin: S.ALLOWED, 'Access-Control-Request-Method': 'GET' } });
	assert.equal(res.status, 204, S.show(res));
});

test('the counters are in /dev/shm, mode 0600, and only hashes of callers', () => {
	const f = segment(gw, 8);
	assert.ok(f, 'the segment exists');
	const st = fs.statSync(f);
	assert.equal(st.mode & 0o777, 0o600, 'mode 0600');
	const bytes = fs.readFileSync(f);
	assert.ok(!bytes.includes(Buffer.from('127.0.0.1')), 'no client address in clear');
});

test('per caller: one key over its limit does not throttle another key, nor anonymous callers', async () => {
	const a = { 'X-Api-Key': KEYS.a, Origin: S.ALLOWED };
	for (let i = 0; i < 3; i++) assert.equal((await gwKeys.get('/api/secrets/public-greeting', { headers: a })).status, 200);
	assert429(await gwKeys.get('/api/secrets/public-greeting', { headers: a }), S.ALLOWED);
	assert.equal((await gwKeys.get('/api/secrets/public-greeting', { headers: { 'X-Api-Key': KEYS.b } })).status, 200, 'key-b has its own count');
	assert.equal((await gwKeys.get('/api/secrets/public-greeting')).status, 200, 'anonymous: counted per address');
});

test('bad keys count against the client address: guessing is throttled (429, not 401)', async () => {
	// The address already used 1 of its 3 (the anonymous request above).
	const statuses = [];
	for (let i = 0; i < 4; i++) statuses.push((await gwKeys.get('/api/secrets/public-greeting', { headers: { 'X-Api-Key': `guess-${i}` } })).status);
	assert.deepEqual(statuses, [401, 401, 429, 429]);
	assert.equal((await gwKeys.get('/api/secrets/public-greeting', { headers: { 'X-Api-Key': KEYS.b } })).status, 200, 'a good key is still served');
});

test('the segment is removed when the last process leaves', async () => {
	const f = segment(gwKeys, 3);
	assert.ok(f && fs.existsSync(f));
	await S.stopGateway(gwKeys);
	await S.waitFor(() => !fs.existsSync(f), 5000, `${f} to go`);
});
