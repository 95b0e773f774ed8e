'use strict';
/*
 * soak.js: `make soak` (issue 8, "Soak"). Starts the real stack (the dev
 * vault, lighttpd, two or more processes per program, cache on with a short
 * ttl), sends SOAK_REQUESTS mixed requests (preflights, cached and uncached
 * GETs, HEADs, versions, lists with paging, 404s, refused origins, bad
 * input, wrong methods) from SOAK_CONCURRENCY keep-alive clients, while a
 * timer toggles dev vault faults on and off at random (429, 503, slow,
 * reset, malformed). Every answer is classified against what its kind of
 * request may get under faults; anything else is "unexpected".
 *
 * It reports, and writes to soak-results.txt at the top of the tree:
 *   - unexpected answers (must be 0), with the first few, redacted;
 *   - VmRSS, PSS, RssAnon and open fds of every program process at the start
 *     (after a warm-up) and at the end (after a quiet spell), and the deltas:
 *     fds must not grow, RSS must stay within SOAK_RSS_MARGIN_KB, and the
 *     processes must be the same ones (no crash, no respawn);
 *   - upstream calls (token, vault) and requests per second;
 *   - the logs: no secret value, token or crash.
 * Exit status 0 when all of that holds, 1 otherwise.
 *
 * Environment: SOAK_REQUESTS (200000), SOAK_CONCURRENCY (16), SOAK_PROCS
 * (2), SOAK_FAULT_MS (how long a fault phase lasts, 1500), SOAK_TTL (cache
 * ttl, 2), SOAK_RSS_MARGIN_KB (1024), SOAK_SERVER (lighttpd), SOAK_SEED
 * (random seed), SOAK_OUT (report file). Node only, no npm packages.
 */
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const S = require('../integration/stack.js');

const N = intEnv('SOAK_REQUESTS', 200000);
const CONC = intEnv('SOAK_CONCURRENCY', 16);
const PROCS = intEnv('SOAK_PROCS', 2);
const FAULT_MS = intEnv('SOAK_FAULT_MS', 1500);
const TTL = intEnv('SOAK_TTL', 2);
const RSS_MARGIN_KB = intEnv('SOAK_RSS_MARGIN_KB', 1024);
const SERVER = process.env.SOAK_SERVER || 'lighttpd';
const OUT = process.env.SOAK_OUT || path.join(S.ROOT, 'soak-results.txt');
// After a fault is cleared, answers may still show it for one deadline.
const DEADLINE_MS = 2500;
const SETTLE_MS = DEADLINE_MS + 1500;

function intEnv(name, dflt) {
	const v = process.env[name];
	if (v === undefined || v === '') return dflt;
	if (!/^\d+$/.test(v) || Number(v) < 1) {
		console.error(`soak: ${name} must be a positive integer, not ${v}`);
		process.exit(2);
	}
	return Number(v);
}

// A small seeded PRNG (mulberry32), so that a run can be repeated.
const SEED = intEnv('SOAK_SEED', (Date.now() % 1e9) + 1);
let rs = SEED >>> 0;
function rand() {
	rs = (rs + 0x6d2b79f5) >>> 0;
	let t = rs;
	t = Math.imul(t ^ (t >>> 15), t | 1);
	t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
	return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rand() * a.length)];

/* ------------------------------------------------------------------ */
/* The request mix                                                     */
/* ------------------------------------------------------------------ */

const UPSTREAM_ERR = [502, 503, 504];
const CODE = { 400: 'BadParameter', 403: 'Forbidden', 404: 'SecretNotFound', 405: 'MethodNotAllowed', 502: 'BadGateway', 503: 'ServiceUnavailable', 504: 'GatewayTimeout' };

/*
 * The kinds of request, each with its weight, the statuses it may get
 * (upstream: 502/503/504 too, in the envelope, while a fault is on or
 * within SETTLE_MS of its end), cors: false when no Access-Control-* header
 * may come back, and make() building one request:
 * { method, path, headers, expect: { value? (the secret's value), list?, head? } }.
 * Returns { table, nextLinks } (nextLinks: paging links seen, reused).
 */
function kinds(seed) {
	const exposed = S.exposedSeed(seed).filter((s) => s.enabled && !s.latest.nbf && !s.latest.exp);
	const hot = ['public-greeting', 'demo-alpha', 'public-app-title'].map((n) => seed.byName.get(n));
	const rotating = seed.byName.get('public-rotating');
	const versions = rotating.versions.filter((v) => v.id && v.enabled !== false && !v.nbf && !v.exp);
	const denied = ['admin-password', 'internal-db-password', 'jwt-signing-secret', 'public-internal', 'db-password'];
	const A = { Origin: S.ALLOWED };
	const nextLinks = [];
	const get = (s, h = A) => ({ method: 'GET', path: `/api/secrets/${s.name}`, headers: h, expect: { value: s.latest.value } });
	const list = {
		weight: 8,
		allowed: [200],
		upstream: true,
		make: () => ({ method: 'GET', path: `/api/secrets?maxresults=${pick([3, 5, 10, 25])}`, headers: A, expect: { list: true } }),
	};
	return {
		nextLinks,
		table: {
			preflight: { weight: 14, allowed: [204], make: () => ({ method: 'OPTIONS', path: pick(['/api/secrets', '/api/secrets/public-greeting', '/api/secrets/x/versions']), headers: { ...A, 'Access-Control-Request-Method': pick(['GET', 'HEAD']), ...(rand() < 0.5 ? { 'Access-Control-Request-Headers': 'x-ms-client-request-id' } : {}) } }) },
			'preflight, origin refused': { weight: 3, allowed: [403], cors: false, make: () => ({ method: 'OPTIONS', path: '/api/secrets/public-greeting', headers: { Origin: S.EVIL, 'Access-Control-Request-Method': 'GET' } }) },
			'preflight, method refused': { weight: 2, allowed: [403], cors: false, make: () => ({ method: 'OPTIONS', path: '/api/secrets', headers: { ...A, 'Access-Control-Request-Method': pick(['DELETE', 'PUT', 'POST']) } }) },
			'get, hot (cached)': { weight: 22, allowed: [200], upstream: true, make: () => get(pick(hot)) },
			'get, any exposed (often uncached)': { weight: 12, allowed: [200], upstream: true, make: () => get(pick(exposed)) },
			'get, same origin (no Origin)': { weight: 3, allowed: [200], upstream: true, cors: false, make: () => get(pick(hot), {}) },
			'head, hot': { weight: 3, allowed: [200], upstream: true, make: () => ({ method: 'HEAD', path: `/api/secrets/${pick(hot).name}`, headers: A, expect: { head: true } }) },
			'get, a version': {
				weight: 4,
				allowed: [200],
				upstream: true,
				make: () => {
					const v = pick(versions);
					return { method: 'GET', path: `/api/secrets/public-rotating/${v.id}`, headers: A, expect: { value: v.value } };
				},
			},
			// Many names: most are not in the negative cache, so they reach the
			// vault (and its faults), and the cache evicts (max_entries 256).
			'get, missing (404 from the vault)': { weight: 4, allowed: [404], upstream: true, make: () => ({ method: 'GET', path: `/api/secrets/public-missing-${Math.floor(rand() * 2000)}`, headers: A }) },
			'get, denied by policy (404, no upstream)': { weight: 3, allowed: [404], make: () => ({ method: 'GET', path: `/api/secrets/${pick(denied)}`, headers: A }) },
			'get, origin refused': { weight: 2, allowed: [403], cors: false, make: () => ({ method: 'GET', path: '/api/secrets/public-greeting', headers: { Origin: S.EVIL } }) },
			'list, first page': list,
			'list, next page': {
				weight: 5,
				allowed: [200],
				upstream: true,
				make: () => {
					const l = nextLinks.length ? nextLinks[Math.floor(rand() * nextLinks.length)] : null;
					if (!l) return list.make();
					return { method: 'GET', path: l, headers: A, expect: { list: true } };
				},
			},
			'list, versions': { weight: 4, allowed: [200], upstream: true, make: () => ({ method: 'GET', path: '/api/secrets/public-rotating/versions', headers: A, expect: { list: true } }) },
			'bad input': {
				weight: 7,
				allowed: [400],
				make: () => ({
					method: 'GET',
					path: pick([
						'/api/secrets/bad_name',
						'/api/secrets/public-x%2f..%2fadmin-password',
						`/api/secrets/public-${'a'.repeat(130)}`,
						'/api/secrets?maxresults=0',
						'/api/secrets?maxresults=26',
						'/api/secrets?foo=bar',
						'/api/secrets/public-greeting?api-version=7.6&api-version=7.6',
						'/api/secrets/public-rotating/0123',
						'/api/secrets?$skiptoken=not-a-token-of-ours',
						'/api/secrets/a/b/c',
					]),
					headers: A,
				}),
			},
			'wrong method': { weight: 2, allowed: [405], make: () => ({ method: pick(['PUT', 'DELETE', 'PATCH']), path: '/api/secrets/public-greeting', headers: A }) },
		},
	};
}

/* ------------------------------------------------------------------ */
/* Process metrics                                                     */
/* ------------------------------------------------------------------ */

function procMetrics(pid) {
	const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	const kb = (k) => Number((new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status) || [])[1] || 0);
	let pss = 0;
	try {
		pss = Number((/^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')) || [])[1] || 0);
	} catch {
		/* older kernels */
	}
	const fds = fs.readdirSync(`/proc/${pid}/fd`);
	let sockets = 0;
	for (const fd of fds) {
		try {
			if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
		} catch {
			/* closed meanwhile */
		}
	}
	return { rss: kb('VmRSS'), pss, anon: kb('RssAnon'), fds: fds.length, sockets };
}

function snapshot(gw) {
	const out = new Map();
	for (const p of gw.programs()) {
		const name = (S.PROGRAMS.find((n) => p.cmd.includes(`${n}.fcgi`)) || '?');
		if (name === '?') continue;
		try {
			out.set(p.pid, { name, ...procMetrics(p.pid) });
		} catch {
			/* gone */
		}
	}
	// kvgate-fetch, which made every vault call of the run (lib/fetch.h):
	// the same process at the end, its memory within the same margin.
	for (const pid of S.fetcherOf(gw)) {
		try {
			out.set(pid, { name: 'kvgate-fetch', ...procMetrics(pid) });
		} catch {
			/* gone */
		}
	}
	return out;
}

/* ------------------------------------------------------------------ */
/* Main                                                                */
/* ------------------------------------------------------------------ */

async function main() {
	const t0 = Date.now();
	const stack = await S.startStack('soak', {
		server: SERVER,
		procs: PROCS,
		overrides: {
			vault: { timeout_ms: '1000', max_retries: '2', deadline_ms: String(DEADLINE_MS) },
			cache: { ttl: String(TTL), negative_ttl: '1', stale_if_error: '30', max_entries: '256' },
		},
	});
	const { gw, vault, seed } = stack;
	let agent = new http.Agent({ keepAlive: true, maxSockets: CONC, maxFreeSockets: CONC });
	const mix = kinds(seed);
	const names = Object.keys(mix.table);
	const total = names.reduce((n, k) => n + mix.table[k].weight, 0);
	const chooseKind = () => {
		let r = rand() * total;
		for (const k of names) if ((r -= mix.table[k].weight) < 0) return k;
		return names[0];
	};

	// Fault state: what is on, and when the last one ended.
	const fault = { on: null, since: 0, lastEnd: 0, phases: {}, timer: null, stop: false };
	const FAULTS = [
		['429 every other call', { mode: 'status', status: 429, every: 2 }],
		['429 storm', { mode: 'status', status: 429 }],
		['503', { mode: 'status', status: 503 }],
		['slow 300 ms', { mode: 'slow', delayMs: 300 }],
		['slow 1500 ms (over timeout_ms)', { mode: 'slow', delayMs: 1500 }],
		['reset', { mode: 'reset' }],
		['reset every 3rd call', { mode: 'reset', every: 3 }],
		['malformed', { mode: 'malformed' }],
	];
	// Alternate: a fault for about FAULT_MS, then (most often) a quiet spell
	// of about FAULT_MS, at random.
	async function faultLoop() {
		while (!fault.stop) {
			if (fault.on !== null) {
				await vault.clearFaults();
				fault.lastEnd = Date.now();
				fault.on = null;
			} else if (rand() < 0.7) {
				const [what, spec] = pick(FAULTS);
				fault.since = Date.now();
				fault.on = what;
				await vault.fault(spec);
				fault.phases[what] = (fault.phases[what] || 0) + 1;
			}
			await S.sleep(FAULT_MS / 2 + rand() * FAULT_MS);
		}
		await vault.clearFaults();
		fault.on = null;
		fault.lastEnd = Date.now();
	}

	const counts = {};
	for (const k of names) counts[k] = { n: 0, statuses: {} };
	const unexpected = [];
	let nUnexpected = 0;
	let wrongValues = 0;
	let sent = 0;
	let done = 0;
	const lat = [];

	function send(r) {
		return new Promise((resolve) => {
			const started = Date.now();
			const req = http.request({ host: '127.0.0.1', port: gw.port, method: r.method, path: r.path, headers: r.headers, agent }, (res) => {
				const chunks = [];
				res.on('data', (c) => chunks.push(c));
				res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), started, ms: Date.now() - started }));
				res.on('error', (e) => resolve({ status: 0, error: e.message, headers: {}, body: Buffer.alloc(0), started, ms: Date.now() - started }));
			});
			req.setTimeout(20000, () => req.destroy(new Error('client timeout (20 s)')));
			req.on('error', (e) => resolve({ status: 0, error: e.message, headers: {}, body: Buffer.alloc(0), started, ms: Date.now() - started }));
			req.end();
		});
	}

	// Why res is not allowed for kind k (null when it is).
	function judge(k, r, res, faulty) {
		const spec = mix.table[k];
		const ok = spec.allowed.includes(res.status) || (spec.upstream && faulty && UPSTREAM_ERR.includes(res.status));
		if (res.status === 0) return `no answer (${res.error})`;
		if (!ok) return `status ${res.status} not in ${spec.allowed.join('/')}${spec.upstream ? (faulty ? ' or 502/503/504' : ' (no fault on: upstream errors not allowed)') : ''}`;
		const h = res.headers;
		if (h['cache-control'] !== 'no-store' && !/(^|,)\s*no-store\s*(,|$)/.test(h['cache-control'] || '')) return 'no Cache-Control: no-store';
		if (h['x-content-type-options'] !== 'nosniff') return 'no X-Content-Type-Options: nosniff';
		if (!/(^|,)\s*origin\s*(,|$)/i.test(h.vary || '')) return 'no Vary: Origin';
		// cors: false: no Access-Control-* answer at all (a refused origin or
		// preflight, or no Origin); otherwise the allowed origin, echoed.
		if (spec.cors === false) {
			if (Object.keys(h).some((x) => x.startsWith('access-control-'))) return 'Access-Control-* headers on a refused or same-origin request';
		} else if (h['access-control-allow-origin'] !== S.ALLOWED) return 'no Access-Control-Allow-Origin for an allowed origin';
		if (res.status === 204 || r.method === 'HEAD') return res.body.length ? 'a body on a 204 or HEAD' : null;
		if (h['content-type'] !== 'application/json; charset=utf-8') return `Content-Type ${h['content-type']}`;
		let json;
		try {
			json = JSON.parse(res.body.toString('utf8'));
		} catch {
			return 'a body that is not JSON';
		}
		if (res.status >= 400) {
			if (!json || !json.error || json.error.code !== CODE[res.status] || typeof json.error.message !== 'string') return `not the envelope with code ${CODE[res.status]}`;
			if (res.status === 503 && !/^\d+$/.test(h['retry-after'] || '')) return '503 without Retry-After';
			if (h['cache-status']) return 'Cache-Status on an error';
			return null;
		}
		if (r.expect && r.expect.value !== undefined) {
			if (!json || json.value !== r.expect.value) {
				wrongValues++;
				return 'a 200 with the wrong secret value';
			}
			if (!/^kvgate; /.test(h['cache-status'] || '')) return 'a 200 without Cache-Status';
		}
		if (r.expect && r.expect.list) {
			if (!json || !Array.isArray(json.value) || !('nextLink' in json)) return 'not a SecretListResult';
			if (json.nextLink) {
				let u;
				try {
					u = new URL(json.nextLink);
				} catch {
					return 'a nextLink that is not a URL';
				}
				if (u.origin !== gw.origin) return 'a nextLink not at the gateway';
				if (mix.nextLinks.length < 64) mix.nextLinks.push(u.pathname + u.search);
				else mix.nextLinks[Math.floor(rand() * 64)] = u.pathname + u.search;
			}
		}
		return null;
	}

	async function worker(limit) {
		while (sent < limit) {
			sent++;
			const k = chooseKind();
			const r = mix.table[k].make();
			// A fault may shape this answer if one was on at any time while it
			// was in flight, or had ended less than SETTLE_MS before it started.
			const startFaulty = fault.on !== null || Date.now() - fault.lastEnd < SETTLE_MS;
			const res = await send(r);
			const faulty = startFaulty || fault.on !== null || fault.lastEnd >= res.started;
			const why = judge(k, r, res, faulty);
			counts[k].n++;
			counts[k].statuses[res.status] = (counts[k].statuses[res.status] || 0) + 1;
			if (lat.length < 200000) lat.push(res.ms);
			done++;
			if (why) {
				nUnexpected++;
				if (unexpected.length < 20) unexpected.push(`${k}: ${r.method} ${r.path.slice(0, 120)} -> ${why}; fault: ${fault.on || 'none'}; ${S.redact(res.body.toString('utf8').slice(0, 200))}`);
			}
		}
	}

	// Warm-up: every program, every hot secret, the cache's pages touched;
	// no faults. Then the start snapshot.
	const warmN = Math.min(10000, Math.max(1000, Math.floor(N / 20)));
	await Promise.all(Array.from({ length: CONC }, () => worker(warmN)));
	await S.sleep(500);
	const statsStart = await vault.stats();
	const start = snapshot(gw);
	const startPids = [...start.keys()].sort((a, b) => a - b);
	for (const k of names) counts[k] = { n: 0, statuses: {} };
	nUnexpected = 0;
	unexpected.length = 0;
	wrongValues = 0;
	lat.length = 0;
	sent = 0;
	done = 0;

	// The soak.
	console.log(`soak: ${N} requests, ${CONC} clients, ${PROCS} processes per program, ${SERVER}, faults every ~${FAULT_MS} ms, seed ${SEED}`);
	const tRun = Date.now();
	const faults = faultLoop();
	// Memory of the programs (sum of RssAnon, kB) at every tenth of the run.
	const samples = [];
	let nextSample = 0;
	const sampler = setInterval(() => {
		if (done >= nextSample && samples.length < 11) {
			let anon = 0;
			for (const m of snapshot(gw).values()) anon += m.anon;
			samples.push(`${Math.round((done * 100) / N)}%: ${anon}`);
			nextSample += N / 10;
		}
	}, 100);
	const progress = setInterval(() => {
		const s = (Date.now() - tRun) / 1000;
		console.log(`soak: ${done}/${N} in ${s.toFixed(0)} s (${(done / s).toFixed(0)} req/s), unexpected ${nUnexpected}, fault: ${fault.on || 'none'}`);
	}, 10000);
	await Promise.all(Array.from({ length: CONC }, () => worker(N)));
	const runMs = Date.now() - tRun;
	clearInterval(progress);
	clearInterval(sampler);
	fault.stop = true;
	await faults;

	// A quiet spell (no faults), then a short clean phase, then the end
	// snapshot: every answer now must be as if nothing had happened.
	await S.sleep(SETTLE_MS);
	// New connections for the clean phase: the quiet spell comes close to
	// lighttpd's 5 s keep-alive idle limit, and a connection it closes just
	// as a client reuses it is a "socket hang up" that says nothing about
	// kvgate (seen once, all 16 clients at once, after a stall).
	agent.destroy();
	agent = new http.Agent({ keepAlive: true, maxSockets: CONC, maxFreeSockets: CONC });
	const unexpectedBefore = nUnexpected;
	sent = 0;
	const cleanN = Math.min(2000, warmN);
	await Promise.all(Array.from({ length: CONC }, () => worker(cleanN)));
	const cleanUnexpected = nUnexpected - unexpectedBefore;
	await S.sleep(500);
	const end = snapshot(gw);
	const statsEnd = await vault.stats();
	agent.destroy();

	// Processes: the same ones, fds not grown, RSS within the margin.
	const problems = [];
	const endPids = [...end.keys()].sort((a, b) => a - b);
	// lighttpd starts a fixed set; mod_fcgid may start more under load, so
	// with Apache only a process gone from the start set is a failure.
	const gone = startPids.filter((pid) => !end.has(pid));
	const added = endPids.filter((pid) => !start.has(pid));
	if (gone.length || (added.length && SERVER === 'lighttpd')) problems.push(`program processes changed (crash or respawn): start ${startPids.join(' ')}, end ${endPids.join(' ')}`);
	else if (added.length) console.log(`soak: mod_fcgid started ${added.length} more process(es) during the run: ${added.join(' ')}`);
	const rows = [];
	for (const pid of startPids) {
		const a = start.get(pid);
		const b = end.get(pid);
		if (!b) {
			rows.push(`  ${a.name.padEnd(13)} ${String(pid).padStart(7)}  gone at the end`);
			continue;
		}
		const d = (k) => b[k] - a[k];
		rows.push(
			`  ${a.name.padEnd(13)} ${String(pid).padStart(7)}  ${`${a.rss} -> ${b.rss} (${sign(d('rss'))})`.padEnd(24)} ${`${a.pss} -> ${b.pss} (${sign(d('pss'))})`.padEnd(22)} ${`${a.anon} -> ${b.anon} (${sign(d('anon'))})`.padEnd(22)} ${a.fds} -> ${b.fds} (${sign(d('fds'))}, sockets ${a.sockets} -> ${b.sockets})`,
		);
		// The helper's descriptors are its programs' connections and its
		// kept-alive vault connections, which the faults close and reopen.
		if (d('fds') > 0 && a.name !== 'kvgate-fetch') problems.push(`${a.name} ${pid}: open fds grew ${a.fds} -> ${b.fds}`);
		if (d('rss') > RSS_MARGIN_KB) problems.push(`${a.name} ${pid}: VmRSS grew ${d('rss')} kB (> ${RSS_MARGIN_KB} kB)`);
		if (d('anon') > RSS_MARGIN_KB) problems.push(`${a.name} ${pid}: RssAnon grew ${d('anon')} kB (> ${RSS_MARGIN_KB} kB)`);
	}
	if (nUnexpected) problems.push(`${nUnexpected} unexpected answers`);
	if (cleanUnexpected) problems.push(`${cleanUnexpected} unexpected answers after the faults were cleared (something stayed wedged)`);
	if (wrongValues) problems.push(`${wrongValues} answers with a wrong secret value`);

	// Logs: no secret, no token, no crash.
	await S.sleep(300);
	const leaks = S.logLeaks(gw);
	if (leaks.length) problems.push(`logs: ${leaks.join('; ')}`);
	const log = gw.output() + gw.log('error.log');
	const crash = /AddressSanitizer|runtime error:|Segmentation fault|core dumped|SIGSEGV|SIGABRT|\baborted\b/i.exec(log);
	if (crash) problems.push(`logs: a crash marker (${crash[0]})`);
	const errLines = log.split('\n').filter((l) => /^kvgate\[[a-z-]+ \d+\]: error:/.test(l)).length;
	const warnLines = log.split('\n').filter((l) => /^kvgate\[[a-z-]+ \d+\]: warn/.test(l)).length;
	// The program log lines by kind: the message with names and numbers blanked.
	const kindsOfLines = {};
	for (const l of log.split('\n')) {
		const m = /^kvgate\[([a-z-]+) \d+\]: (error|warn\w*): (.*)$/.exec(l);
		if (!m) continue;
		const key = `${m[2]}: ${m[3].replace(/\b(public|demo)-[\w-]+/g, 'NAME').replace(/\d+/g, 'N').slice(0, 90)}`;
		kindsOfLines[key] = (kindsOfLines[key] || 0) + 1;
	}
	const stopped = await gw.stop();
	if (stopped.leftover.length) problems.push(`programs left running after lighttpd stopped: ${stopped.leftover.map((p) => p.pid).join(' ')}`);
	await stack.stop();

	// The report.
	lat.sort((a, b) => a - b);
	const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : 0);
	const upstream = { token: statsEnd.token - statsStart.token, vault: statsEnd.vault - statsStart.vault };
	const byStatus = {};
	for (const c of Object.values(counts)) for (const [s, n] of Object.entries(c.statuses)) byStatus[s] = (byStatus[s] || 0) + n;
	const lines = [];
	lines.push(`kvgate make soak, ${new Date().toISOString()}`);
	lines.push(`machine: ${require('node:os').cpus().length} x ${require('node:os').cpus()[0].model.trim()}, Linux ${require('node:os').release()}, node ${process.version}`);
	lines.push(`${SERVER}, ${PROCS} processes per program; policy: timeout_ms 1000, max_retries 2, deadline_ms ${DEADLINE_MS}, cache ttl ${TTL} s, negative_ttl 1 s, stale_if_error 30 s`);
	lines.push(`${N} requests (+ ${warmN} warm-up, ${cleanN} after the faults), ${CONC} keep-alive clients, seed ${SEED}`);
	lines.push('');
	lines.push(`result: ${problems.length ? 'FAIL' : 'PASS'}`);
	for (const p of problems) lines.push(`  - ${p}`);
	lines.push('');
	lines.push(`requests/s: ${((N * 1000) / runMs).toFixed(0)} (${(runMs / 1000).toFixed(1)} s under faults); latency p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${lat.length ? lat[lat.length - 1] : 0} ms`);
	lines.push(`unexpected answers: ${nUnexpected} (after the faults were cleared: ${cleanUnexpected}); wrong secret values: ${wrongValues}`);
	lines.push(`answers by status: ${Object.entries(byStatus).sort().map(([s, n]) => `${s}: ${n}`).join(', ')}`);
	lines.push(`upstream calls: token ${upstream.token}, vault ${upstream.vault} (${((upstream.vault * 1000) / (N + cleanN)).toFixed(1)} vault calls per 1,000 requests)`);
	lines.push(`fault phases: ${Object.entries(fault.phases).map(([k, n]) => `${k} x${n}`).join(', ')}`);
	lines.push(`program log lines: ${errLines} error, ${warnLines} warn; the most frequent:`);
	for (const [k, n] of Object.entries(kindsOfLines).sort((a, b) => b[1] - a[1]).slice(0, 8)) lines.push(`  ${String(n).padStart(7)}  ${S.redact(k)}`);
	lines.push('');
	lines.push('program processes, start -> end (kB: VmRSS, PSS, RssAnon; open fds):');
	lines.push(`  ${'program'.padEnd(13)} ${'pid'.padStart(7)}  ${'VmRSS'.padEnd(24)} ${'PSS'.padEnd(22)} ${'RssAnon'.padEnd(22)} fds`);
	lines.push(...rows);
	lines.push(`  all programs' RssAnon (kB) through the run: ${samples.join(', ')}; at the end: ${[...end.values()].reduce((n, m) => n + m.anon, 0)}`);
	lines.push('');
	lines.push('requests by kind (allowed statuses; 502/503/504 also allowed for upstream kinds while a fault is on or just ended):');
	for (const k of names) {
		const c = counts[k];
		const spec = mix.table[k];
		lines.push(`  ${k.padEnd(36)} ${String(c.n).padStart(7)}  allowed ${spec.allowed.join('/')}${spec.upstream ? '(+5xx)' : ''}  got ${Object.entries(c.statuses).map(([s, n]) => `${s}:${n}`).join(' ')}`);
	}
	if (unexpected.length) {
		lines.push('');
		lines.push('first unexpected answers:');
		for (const u of unexpected) lines.push(`  ${u}`);
	}
	lines.push('');
	lines.push(`took ${((Date.now() - t0) / 1000).toFixed(0)} s in all`);
	const report = lines.join('\n') + '\n';
	fs.writeFileSync(OUT, report);
	process.stdout.write(report);
	console.log(`soak: report written to ${path.relative(process.cwd(), OUT) || OUT}`);
	process.exit(problems.length ? 1 : 0);
}

function sign(n) {
	return n > 0 ? `+${n}` : String(n);
}

main().catch((e) => {
	console.error(`soak: ${S.redact(e && e.stack ? e.stack : String(e))}`);
	process.exit(1);
});
