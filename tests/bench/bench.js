'use strict';
/*
 * bench.js: `make bench`. Starts the real stack on 127.0.0.1 (dev vaults,
 * lighttpd with etc/lighttpd/kvgate.conf via tests/bench/lighttpd-bench.conf,
 * which adds the two floors), drives each route with wrk, and prints one
 * table, side by side, from one run, then the targets of issue 6 with
 * PASS/MISS:
 *
 *   static          lighttpd serving a small static file (no FastCGI at all)
 *   fcgi floor      tests/bench/fcgi-floor.c behind the same lighttpd, same
 *                   process count: the ceiling for a FastCGI program (run
 *                   again later in the run, to show the machine's drift)
 *   preflight       OPTIONS with Origin + Access-Control-Request-Method
 *   get cached      GET one secret, [cache] ttl = 60 (served from the cache)
 *   get uncached    the same with [cache] ttl = 0 (every call to the vault)
 *   express + SDK   tests/bench/node-sdk-server.js: one Node process, Express
 *                   with the cors middleware and the Azure SDK, an uncached
 *                   getSecret per request (what people deploy today)
 *   list first N    GET {base}/secrets on a vault of N secrets (N = 100, 10,000)
 *   hot secret      GET one secret from 8 processes of get-secret, [cache]
 *                   ttl = 2, on a vault of its own: vault reads of that
 *                   secret per ttl window (issue 6: <= 1 per host)
 *   list walk N     whole list, following nextLink (a Node client, one walk
 *                   at a time): walks/s, ms per walk, pages per walk
 *   RSS flat        get-secret's memory after 10k and after 200k requests
 *                   per process (BENCH_LONG=0 skips it)
 *   paired rounds   the floor, preflight and get cached, ROUNDS times each
 *                   for ROUND_SECONDS, back to back in rotating order: the
 *                   median ratio of each to the floor of its own round is
 *                   what the two ratio targets judge (robust to the drift
 *                   of a shared machine)
 *   cold start      fresh lighttpd + programs, spawn to the first answered
 *                   get-secret (median of BENCH_COLD_RUNS)
 *
 * For each row: requests/s, p50/p99 latency, the ratio to the FastCGI
 * floor's requests/s, memory of the program processes after the row (the
 * largest VmRSS, PSS and private of them, and VmRSS growth during the row),
 * CPU per request of the program processes, the web server and the dev
 * vault, and the upstream calls the dev vault counted (token fetches, vault
 * reads, new TLS connections) per 1,000 requests. Everything started here is
 * stopped on exit, Ctrl-C included. Writes the tables, every process's
 * memory and the raw wrk outputs to bench-results.txt (git-ignored;
 * BENCH_OUT= to change).
 *
 * Environment: BENCH_SECONDS (10) per row, BENCH_WARMUP (2) seconds of
 * warm-up per row, BENCH_PROCS (2) processes per program, BENCH_THREADS (2)
 * and BENCH_CONNECTIONS (16) for wrk, BENCH_LONG (1; 0 skips the RSS flat
 * row), BENCH_COLD_RUNS (5), BENCH_ROUNDS (15) rounds of BENCH_ROUND_SECONDS
 * (1) for the paired ratios (0 skips them), BENCH_CACHE_EXTRA (see CACHE_EXTRA), KEEP_TMP=1
 * keeps the temp dir.
 */
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const stack = require('../integration/stack.js');

const ROOT = stack.ROOT;
const DEVVAULT = path.join(ROOT, 'tests', 'devvault', 'devvault.js');
const CONF = path.join(ROOT, 'tests', 'bench', 'lighttpd-bench.conf');
const FLOOR = path.join(ROOT, 'build', 'bench', 'fcgi-floor');
const SDK_SERVER = path.join(ROOT, 'tests', 'bench', 'node-sdk-server.js');

function intEnv(name, def, min, max) {
	const v = process.env[name];
	if (v === undefined || v === '') return def;
	const n = Number(v);
	if (!Number.isInteger(n) || n < min || n > max) {
		console.error(`bench: ${name} must be an integer from ${min} to ${max}, not ${v}`);
		process.exit(2);
	}
	return n;
}
const SECONDS = intEnv('BENCH_SECONDS', 10, 1, 600);
const WARMUP = intEnv('BENCH_WARMUP', 2, 0, 60);
const PROCS = intEnv('BENCH_PROCS', 2, 1, 64);
const THREADS = intEnv('BENCH_THREADS', 2, 1, 64);
const CONNS = intEnv('BENCH_CONNECTIONS', 16, 1, 1024);
const LONG = intEnv('BENCH_LONG', 1, 0, 1) === 1;
const COLD_RUNS = intEnv('BENCH_COLD_RUNS', 5, 1, 50);
const ROUNDS = intEnv('BENCH_ROUNDS', 15, 0, 50);
const ROUND_SECONDS = intEnv('BENCH_ROUND_SECONDS', 1, 1, 60);
const OUT = process.env.BENCH_OUT || path.join(ROOT, 'bench-results.txt');
const TICK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

// The hot-secret row: issue 6's "8 processes serving", a short ttl so that
// a run holds several ttl windows (at least 5: HOT_SECONDS >= 5 x HOT_TTL).
const HOT_PROCS = 8;
const HOT_TTL = 2;
const HOT_SECONDS = Math.max(SECONDS, 5 * HOT_TTL);
const HOT_SECRET = 'public-bench-00007';
// The RSS flat row: requests per process at the two readings.
const FLAT_FIRST = 10000;
const FLAT_LAST = 200000;
// "flat": VmRSS of no process grows by more than this between the readings.
const FLAT_SLACK_KB = 128;
const RSS_TARGET_KB = 4 * 1024;

/*
 * [cache] keys beyond ttl. Until the rewritten cache of issue 6 lands, the
 * policy loader rejects unknown keys, so the bench writes ttl alone. When it
 * lands, this is the spot: the keys every generated [cache] section should
 * carry, for instance
 *
 *     shared: 'true',        // one cache per host (the hot-secret row shows it)
 *     max_entries: '1024',   // LRU bound
 *
 * BENCH_CACHE_EXTRA="shared=true max_entries=1024" adds keys from the
 * environment without editing this file.
 */
const CACHE_EXTRA = {
	// shared: 'true',
	// max_entries: '1024',
	...cacheExtraFromEnv(),
};

function cacheExtraFromEnv() {
	const out = {};
	for (const kv of (process.env.BENCH_CACHE_EXTRA || '').split(/[\s,]+/).filter(Boolean)) {
		const m = /^([a-z_]+)=(\S+)$/.exec(kv);
		if (!m || m[1] === 'ttl') {
			console.error(`bench: BENCH_CACHE_EXTRA takes key=value pairs other than ttl, not ${kv}`);
			process.exit(2);
		}
		out[m[1]] = m[2];
	}
	return out;
}

// The [cache] section of a generated policy.
function cache(ttl) {
	return { cache: { ttl, ...CACHE_EXTRA } };
}

const started = []; // { kill(): Promise } for everything this run started
const children = []; // every process spawned, for the last-resort exit hook
let tmp = null;

/*
 * If this process dies without stopAll() (an uncaught exception, a broken
 * stdout), the 'exit' hook still sends SIGTERM to what it started, lighttpd
 * passing it on to its FastCGI programs.
 */
process.on('exit', () => {
	for (const c of children) {
		if (c.exitCode === null && c.signalCode === null) {
			try {
				c.kill('SIGTERM');
			} catch {
				/* gone */
			}
		}
	}
});
process.stdout.on('error', () => {});

/* ------------------------------------------------------------------ */
/* Processes                                                           */
/* ------------------------------------------------------------------ */

// A dev vault seeded from seedFile; its request log goes to a file.
async function startVault(dir, seedFile) {
	fs.mkdirSync(dir, { recursive: true });
	const log = fs.openSync(path.join(dir, 'devvault.log'), 'w');
	const proc = spawn(process.execPath, [DEVVAULT, '--port', '0', '--dir', dir, '--seed', seedFile], {
		cwd: ROOT,
		stdio: ['ignore', 'pipe', log],
		env: { PATH: process.env.PATH, HOME: process.env.HOME || '/tmp' },
	});
	fs.closeSync(log);
	children.push(proc);
	started.push({ kill: () => stack.terminate(proc) });
	let out = '';
	proc.stdout.on('data', (d) => (out += d));
	await stack.waitFor(
		() => {
			if (proc.exitCode !== null) throw new Error(`the dev vault exited ${proc.exitCode}; see ${dir}/devvault.log`);
			return /devvault: listening on/.test(out);
		},
		30000,
		'the dev vault to listen',
	);
	const info = JSON.parse(fs.readFileSync(path.join(dir, 'devvault.json'), 'utf8'));
	const ca = fs.readFileSync(path.join(dir, 'ca.pem'));
	const vault = {
		proc,
		url: info.url,
		port: Number(info.port),
		tenantId: info.tenant_id,
		clientId: info.client_id,
		caFile: path.join(dir, 'ca.pem'),
		secretFile: path.join(dir, 'client-secret'),
	};
	vault.stats = () => control(vault.port, ca, 'GET', '/_devvault/stats');
	return vault;
}

// The dev vault's control API. Each call is a connection of its own, which
// the dev vault counts in `connections` but not in `connectionsUsed`.
function control(port, ca, method, p) {
	return new Promise((resolve, reject) => {
		const req = https.request({ host: '127.0.0.1', port, method, path: p, ca, agent: false }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => {
				const text = Buffer.concat(chunks).toString('utf8');
				if (res.statusCode >= 300) reject(new Error(`devvault ${method} ${p}: ${res.statusCode}`));
				else resolve(JSON.parse(text));
			});
		});
		req.setTimeout(10000, () => req.destroy(new Error('devvault control timeout')));
		req.on('error', reject);
		req.end();
	});
}

/*
 * lighttpd with the bench configuration, the gateway pointed at vault with
 * the test policy plus overrides, procs processes per program. Returns
 * { proc, port, dir, vault, spawnedAt, pids(prog) } once the static file
 * answers (the programs may answer later); with opts.wait false, at once.
 */
async function startGateway(name, vault, overrides, opts = {}) {
	const dir = path.join(tmp, `gw-${name}`);
	fs.mkdirSync(dir, { recursive: true });
	const ini = path.join(dir, 'kvgate.ini');
	fs.writeFileSync(ini, stack.policy(vault, dir, overrides).text);
	const port = await stack.freePort();
	const env = {
		PATH: process.env.PATH,
		KVGATE_ROOT: ROOT,
		KVGATE_RUNDIR: dir,
		KVGATE_CONFIG: ini,
		KVGATE_BIND: '127.0.0.1',
		KVGATE_PORT: String(port),
		KVGATE_BASE_PATH: '/api',
		KVGATE_PROCS: String(opts.procs || PROCS),
		KVGATE_BENCH_STATIC: path.join(tmp, 'static'),
		KVGATE_BENCH_FLOOR: FLOOR,
	};
	const log = fs.openSync(path.join(dir, 'lighttpd.out'), 'w');
	const spawnedAt = process.hrtime.bigint();
	const proc = spawn('lighttpd', ['-D', '-f', CONF], { cwd: dir, env, stdio: ['ignore', log, log] });
	fs.closeSync(log);
	children.push(proc);
	const gw = { name, proc, port, dir, ini, vault, spawnedAt, procs: opts.procs || PROCS, serverPid: proc.pid };
	gw.pids = (prog) => programs(gw, prog).map((c) => c.pid);
	// The kvgate-fetch making this gateway's upstream calls (lib/fetch.h):
	// not lighttpd's child, found by its socket name.
	gw.helpers = () => stack.fetcherOf(gw);
	const entry = { kill: () => stopGateway(gw) };
	started.push(entry);
	gw.stop = async () => {
		const i = started.indexOf(entry);
		if (i >= 0) started.splice(i, 1);
		await stopGateway(gw);
	};
	if (opts.wait === false) return gw;
	await stack.waitFor(
		async () => {
			if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`lighttpd exited; see ${dir}/lighttpd.out`);
			return (await stack.request(port, 'GET', '/bench-static/small.json', { timeout: 1000 })).status === 200;
		},
		15000,
		`lighttpd on port ${port}`,
	);
	return gw;
}

// lighttpd ends its FastCGI backends on SIGTERM; any left behind are killed.
async function stopGateway(gw) {
	const kids = stack.childrenOf(gw.proc.pid);
	await stack.terminate(gw.proc);
	const end = Date.now() + 3000;
	while (kids.some((k) => stack.alive(k.pid)) && Date.now() < end) await stack.sleep(50);
	for (const k of kids) {
		if (!stack.alive(k.pid)) continue;
		try {
			process.kill(k.pid, 'SIGKILL');
		} catch {
			/* gone */
		}
	}
}

/*
 * The "express + SDK" baseline (tests/bench/node-sdk-server.js) against vault:
 * one Node process, trusting the dev vault's CA through NODE_EXTRA_CA_CERTS.
 * Returns a target shaped like a gateway (port, vault, pids()).
 */
async function startSdkServer(vault) {
	const dir = path.join(tmp, 'node-sdk');
	fs.mkdirSync(dir, { recursive: true });
	const log = fs.openSync(path.join(dir, 'node-sdk.log'), 'w');
	const proc = spawn(process.execPath, [SDK_SERVER], {
		cwd: dir,
		stdio: ['ignore', 'pipe', log],
		env: {
			PATH: process.env.PATH,
			HOME: process.env.HOME || '/tmp',
			NODE_EXTRA_CA_CERTS: vault.caFile,
			VAULT_URL: vault.url,
			AZURE_TENANT_ID: vault.tenantId,
			AZURE_CLIENT_ID: vault.clientId,
			AZURE_AUTHORITY_HOST: vault.url,
			CLIENT_SECRET_FILE: vault.secretFile,
			ALLOWED_ORIGINS: `${stack.ALLOWED} ${stack.ALLOWED2}`,
			PORT: '0',
		},
	});
	fs.closeSync(log);
	children.push(proc);
	started.push({ kill: () => stack.terminate(proc) });
	let out = '';
	proc.stdout.on('data', (d) => (out += d));
	const m = await stack.waitFor(
		() => {
			if (proc.exitCode !== null) throw new Error(`node-sdk-server exited ${proc.exitCode}; see ${dir}/node-sdk.log`);
			return /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
		},
		30000,
		'node-sdk-server to listen',
	);
	return { name: 'node-sdk', proc, port: Number(m[1]), dir, vault, procs: 1, serverPid: null, pids: () => (stack.alive(proc.pid) ? [proc.pid] : []) };
}

async function stopAll() {
	while (started.length) {
		try {
			await started.pop().kill();
		} catch {
			/* keep stopping the rest */
		}
	}
	if (tmp && process.env.KEEP_TMP !== '1') fs.rmSync(tmp, { recursive: true, force: true });
}

/* ------------------------------------------------------------------ */
/* Measurements                                                        */
/* ------------------------------------------------------------------ */

// The gateway's program processes whose command line ends in prog.
function programs(gw, prog) {
	return stack.childrenOf(gw.proc.pid).filter((c) => c.cmd.split(' ')[0].endsWith(prog));
}

// Memory of pid in kB: VmRSS (counts every page of the shared libraries
// -- libcrypto, libcurl, GnuTLS... -- in full in every process, although
// they are in memory once), PSS (shared pages divided among the processes
// that map them) and private (Private_Clean + Private_Dirty: the pages no
// other process maps, what one more process costs).
function memKB(pid) {
	const kb = (text, key) => {
		const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
		return m ? Number(m[1]) : null;
	};
	let status = '';
	let rollup = '';
	try {
		status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
		rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
	} catch {
		/* gone, or no smaps_rollup */
	}
	const pc = kb(rollup, 'Private_Clean');
	const pd = kb(rollup, 'Private_Dirty');
	const m = { pid, rss: kb(status, 'VmRSS'), pss: kb(rollup, 'Pss'), priv: pc === null || pd === null ? null : pc + pd, shm: 0 };
	// The shared cache (/dev/shm/kvgate-*) is the host's memory, shared by
	// every program process and reported once (the cache row below), not
	// as any one process's: its pages are taken out of the three figures.
	let smaps = '';
	try {
		smaps = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8');
	} catch {
		/* gone */
	}
	const blocks = smaps.split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/);
	// Whether the process has loaded libcurl: kvgate-fetch does; a
	// program only with [vault] fetcher = false (lib/fetch.h).
	m.curl = /\/libcurl[^/\s]*\.so/.test(smaps);
	// libcrypto alone: a program checking caller JWTs or signing with a
	// client certificate (lib/lazy/).
	m.crypto = /\/libcrypto[^/\s]*\.so/.test(smaps);
	for (const b of blocks) {
		if (!/^\S+ \S+ \S+ \S+ \S+\s+\/dev\/shm\/kvgate-/.test(b)) continue;
		const r = kb(b, 'Rss') || 0;
		const ps = kb(b, 'Pss') || 0;
		const pr = (kb(b, 'Private_Clean') || 0) + (kb(b, 'Private_Dirty') || 0);
		m.shm += r;
		if (m.rss !== null) m.rss -= r;
		if (m.pss !== null) m.pss -= ps;
		if (m.priv !== null) m.priv -= pr;
	}
	return m;
}

// utime + stime of pid, in seconds.
function cpuSeconds(pid) {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		return (Number(f[11]) + Number(f[12])) / TICK;
	} catch {
		return 0;
	}
}

// Seconds since pid started (/proc/PID/stat starttime against
// /proc/uptime; the kernel counts in clock ticks, so +-10 ms).
function ageSeconds(pid) {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]) / TICK;
		const up = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
		return up - start;
	} catch {
		return null;
	}
}

function snapshot(t, prog) {
	const pids = prog ? t.pids(prog) : [];
	const helpers = prog && t.helpers ? t.helpers() : [];
	return {
		pids,
		mem: pids.map(memKB),
		cpu: pids.reduce((a, p) => a + cpuSeconds(p), 0),
		helpers,
		helperMem: helpers.map(memKB),
		helperCpu: helpers.reduce((a, p) => a + cpuSeconds(p), 0),
		server: t.serverPid ? cpuSeconds(t.serverPid) : null,
		vault: cpuSeconds(t.vault.proc.pid),
	};
}

function parseDuration(s) {
	const m = /^([\d.]+)(us|ms|s|m)$/.exec(s);
	if (!m) return null;
	return Number(m[1]) * { us: 0.001, ms: 1, s: 1000, m: 60000 }[m[2]];
}

function parseWrk(text) {
	const num = (re) => {
		const m = re.exec(text);
		return m ? Number(m[1]) : 0;
	};
	const lat = (q) => {
		const m = new RegExp(`^\\s+${q}%\\s+(\\S+)`, 'm').exec(text);
		return m ? parseDuration(m[1]) : null;
	};
	const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
	const dur = /requests in ([\d.]+)(us|ms|s|m),/.exec(text);
	return {
		rps: num(/Requests\/sec:\s+([\d.]+)/),
		requests: num(/(\d+) requests in/),
		seconds: dur ? parseDuration(dur[1] + dur[2]) / 1000 : null,
		p50: lat(50),
		p99: lat(99),
		non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
		errors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
	};
}

/*
 * wrk for seconds. With until (a function polled every 100 ms), wrk gets
 * SIGINT, on which it stops and reports, as soon as until() is true: its
 * Lua wrk.thread:stop() ends a thread, but wrk itself still sleeps out -d.
 */
function wrk(t, urlPath, seconds, script, conns = CONNS, until = null) {
	const args = ['-t', String(THREADS), '-c', String(Math.max(conns, THREADS)), '-d', `${seconds}s`, '--latency', '--timeout', '5s'];
	if (script) args.push('-s', script);
	args.push(`http://127.0.0.1:${t.port}${urlPath}`);
	return new Promise((resolve, reject) => {
		const p = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		p.stdout.on('data', (d) => (out += d));
		p.stderr.on('data', (d) => (out += d));
		children.push(p);
		started.push({ kill: () => stack.terminate(p) });
		const poll = until
			? setInterval(() => {
					if (p.exitCode === null && until()) {
						clearInterval(poll);
						p.kill('SIGINT');
					}
				}, 100)
			: null;
		p.on('error', reject);
		p.on('exit', (code) => {
			if (poll) clearInterval(poll);
			if (code !== 0) reject(new Error(`wrk ${args.join(' ')} exited ${code}:\n${out}`));
			else resolve({ cmd: `wrk ${args.join(' ')}`, out });
		});
	});
}

// Upstream counters and process figures around fn(), which returns
// { requests, ... }. reads: the dev vault's reads of secret names.
async function measured(t, prog, fn) {
	const s0 = await t.vault.stats();
	const b = snapshot(t, prog);
	const r = await fn();
	const a = snapshot(t, prog);
	const s1 = await t.vault.stats();
	const n = r.requests || 1;
	const spawned = a.pids.filter((p) => !b.pids.includes(p)).length;
	const reads = (name) => (s1.reads[name] || 0) - (s0.reads[name] || 0);
	return {
		...r,
		memBefore: b.mem,
		memAfter: a.mem,
		spawned,
		progUs: prog ? ((a.cpu - b.cpu) * 1e6) / n : null,
		// kvgate-fetch's share: its CPU over the row (a helper started
		// during the row counts from its start).
		helperAfter: a.helperMem,
		helperUs: a.helpers.length ? ((a.helperCpu - (a.helpers.every((p) => b.helpers.includes(p)) ? b.helperCpu : 0)) * 1e6) / n : null,
		serverUs: t.serverPid ? ((a.server - b.server) * 1e6) / n : null,
		vaultUs: ((a.vault - b.vault) * 1e6) / n,
		token: ((s1.token - s0.token) * 1000) / n,
		vaultCalls: ((s1.vault - s0.vault) * 1000) / n,
		conns: ((s1.connectionsUsed - s0.connectionsUsed) * 1000) / n,
		reads,
		upstream: { token: s1.token - s0.token, vault: s1.vault - s0.vault, conns: s1.connectionsUsed - s0.connectionsUsed },
	};
}

const raw = [];

/*
 * One wrk row: check that the request gets the expected status, warm up,
 * then measure. opts: { method, headers, script, status, seconds, procs }.
 * With procs, the warm-up goes on (up to 30 s, 64 connections) until that
 * many processes of prog run: lighttpd starts min-procs of them (default
 * 4, and kvgate.conf sets none) and adds one a second while they are all
 * busy.
 */
async function wrkRow(label, t, prog, urlPath, opts = {}) {
	const check = await stack.request(t.port, opts.method || 'GET', urlPath, { headers: opts.headers || {} });
	const want = opts.status || 200;
	if (check.status !== want) throw new Error(`${label}: ${opts.method || 'GET'} ${urlPath} answered ${check.status}, not ${want}: ${check.text.slice(0, 300)}`);
	process.stderr.write(`bench: ${label} ...`);
	const procsAtStart = prog ? t.pids(prog).length : null;
	if (WARMUP > 0) await wrk(t, urlPath, WARMUP, opts.script);
	if (opts.procs) {
		const end = Date.now() + 30000;
		while (t.pids(prog).length < opts.procs && Date.now() < end) await wrk(t, urlPath, 1, opts.script, 64);
		process.stderr.write(` (${t.pids(prog).length} processes)`);
	}
	const r = await measured(t, prog, async () => {
		const w = await wrk(t, urlPath, opts.seconds || SECONDS, opts.script);
		raw.push(`### ${label}\n$ ${w.cmd}\n${w.out}`);
		return parseWrk(w.out);
	});
	process.stderr.write(` ${Math.round(r.rps)} req/s\n`);
	return { label, procs: t.procs, procsAtStart, cacheStatus: check.headers['cache-status'] || null, ...r };
}

/*
 * Whole-list walks, one at a time, for seconds (at least 2 walks after one
 * warm-up walk): each follows nextLink to the end on a keep-alive
 * connection. Reports walks/s, ms per walk (p50, p99) and pages per walk.
 */
async function walkRow(label, gw, seconds) {
	const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
	let pageMs = [];
	const one = async () => {
		let next = '/api/secrets';
		let pages = 0;
		let items = 0;
		const t0 = process.hrtime.bigint();
		while (next) {
			const p0 = process.hrtime.bigint();
			const r = await stack.request(gw.port, 'GET', next, { agent });
			pageMs.push(Number(process.hrtime.bigint() - p0) / 1e6);
			if (r.status !== 200 || !r.json) throw new Error(`${label}: page ${pages + 1} (${next}) answered ${r.status}: ${r.text.slice(0, 300)}`);
			pages++;
			items += r.json.value.length;
			const link = r.json.nextLink;
			if (!link) break;
			const u = new URL(link);
			next = u.pathname + u.search;
			if (pages > 10000) throw new Error(`${label}: the nextLink chain does not end`);
		}
		return { ms: Number(process.hrtime.bigint() - t0) / 1e6, pages, items };
	};
	process.stderr.write(`bench: ${label} ...`);
	const warm = await one();
	pageMs = [];
	const r = await measured(gw, 'list-secrets.fcgi', async () => {
		const walks = [];
		const t0 = Date.now();
		while (walks.length < 2 || Date.now() - t0 < seconds * 1000) walks.push(await one());
		const elapsed = (Date.now() - t0) / 1000;
		const ms = walks.map((w) => w.ms);
		const pages = walks.reduce((a, w) => a + w.pages, 0);
		return {
			walks: walks.length,
			rps: pages / elapsed,
			walksPerSec: walks.length / elapsed,
			walkP50: quantile(ms, 50),
			walkP99: quantile(ms, 99),
			p50: quantile(pageMs, 50),
			p99: quantile(pageMs, 99),
			requests: pages,
			pagesPerWalk: warm.pages,
			items: warm.items,
			non2xx: 0,
			errors: 0,
			noFloor: true,
		};
	});
	agent.destroy();
	process.stderr.write(` ${r.walks} walks, ${r.walkP50.toFixed(1)} ms/walk\n`);
	return { label, procs: gw.procs, ...r };
}

/*
 * The ratios the targets are about, measured in rounds: each round runs the
 * floor and each row for ROUND_SECONDS, back to back, in an order that
 * rotates from round to round, and takes each row's req/s over the floor's
 * of the same round. On a shared machine whose speed drifts by 10-30 %
 * within a minute, a ratio of two runs seconds apart is sound where one of
 * two runs a minute apart is not; the median of the rounds is reported,
 * with the spread.
 */
async function pairedRounds(floor, rows) {
	const all = [floor, ...rows];
	const ratios = rows.map(() => []);
	process.stderr.write(`bench: ${ROUNDS} rounds of ${all.map((r) => r.label).join(' / ')} ...`);
	for (let round = 0; round < ROUNDS; round++) {
		const rps = new Map();
		for (let k = 0; k < all.length; k++) {
			const r = all[(k + round) % all.length];
			const w = await wrk(r.t, r.urlPath, ROUND_SECONDS, r.script);
			raw.push(`### round ${round + 1}: ${r.label}\n$ ${w.cmd}\n${w.out}`);
			const parsed = parseWrk(w.out);
			if (parsed.non2xx || parsed.errors) throw new Error(`${r.label}: ${parsed.non2xx} non-2xx answers, ${parsed.errors} socket errors in round ${round + 1}`);
			rps.set(r, parsed.rps);
		}
		rows.forEach((r, i) => ratios[i].push(rps.get(r) / rps.get(floor)));
		process.stderr.write(` ${round + 1}`);
	}
	process.stderr.write('\n');
	return rows.map((r, i) => ({ label: r.label, ratios: ratios[i], median: quantile(ratios[i], 50), min: Math.min(...ratios[i]), max: Math.max(...ratios[i]) }));
}

function quantile(list, p) {
	const v = [...list].sort((a, b) => a - b);
	return v.length ? v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))] : null;
}

// Counts the lines of a growing file (lighttpd's access log: one per
// request), reading only what was appended since the last call.
function lineCounter(file) {
	let offset = 0;
	let lines = 0;
	const buf = Buffer.alloc(1 << 16);
	return () => {
		let fd;
		try {
			fd = fs.openSync(file, 'r');
		} catch {
			return lines;
		}
		try {
			for (;;) {
				const n = fs.readSync(fd, buf, 0, buf.length, offset);
				if (n <= 0) break;
				offset += n;
				for (let i = 0; i < n; i++) if (buf[i] === 10) lines++;
			}
		} finally {
			fs.closeSync(fd);
		}
		return lines;
	};
}

/*
 * "RSS flat": a fresh gateway's get-secret processes, read after FLAT_FIRST
 * and after FLAT_LAST requests per process (wrk stops each thread after its
 * share, and is stopped once the access log holds them all; lighttpd
 * spreads requests over the processes about evenly). The
 * requests cycle over 100 secrets with [cache] ttl = 2, so the processes
 * both serve from the cache and keep fetching from the vault (100 secrets
 * per 2 s), the paths a leak would hide in. The row's req/s and latency are
 * those of the second stretch; its memory columns compare the two readings.
 */
async function flatRow(label, gw) {
	const script = (total) => {
		const file = path.join(tmp, `flat-${total}.lua`);
		const perThread = Math.ceil(total / THREADS);
		fs.writeFileSync(
			file,
			[
				'-- written by tests/bench/bench.js: 100 secrets in turn, stop after a count',
				'local n = 0',
				'local done = 0',
				'request = function()',
				'  n = n + 1',
				'  return wrk.format("GET", string.format("/api/secrets/public-bench-%05d", n % 100))',
				'end',
				'response = function(status, headers, body)',
				'  done = done + 1',
				`  if done >= ${perThread} then wrk.thread:stop() end`,
				'end',
				'',
			].join('\n'),
		);
		return file;
	};
	const first = FLAT_FIRST * gw.procs;
	const rest = (FLAT_LAST - FLAT_FIRST) * gw.procs;
	process.stderr.write(`bench: ${label} ...`);
	const check = await stack.request(gw.port, 'GET', '/api/secrets/public-bench-00000');
	if (check.status !== 200) throw new Error(`${label}: get-secret answered ${check.status}: ${check.text.slice(0, 300)}`);
	const served = lineCounter(path.join(gw.dir, 'access.log'));
	const base = served();
	const w1 = await wrk(gw, '/', 600, script(first), CONNS, () => served() - base >= first);
	raw.push(`### ${label}: first ${first} requests\n$ ${w1.cmd}\n${w1.out}`);
	const done1 = parseWrk(w1.out).requests + 1;
	const r = await measured(gw, 'get-secret.fcgi', async () => {
		const base2 = served();
		const w = await wrk(gw, '/', 600, script(rest), CONNS, () => served() - base2 >= rest);
		raw.push(`### ${label}: the next ${rest} requests\n$ ${w.cmd}\n${w.out}`);
		return parseWrk(w.out);
	});
	const total = done1 + r.requests;
	process.stderr.write(` ${total} requests, ${Math.round(r.rps)} req/s\n`);
	// Not comparable with the floor: wrk runs Lua for every request here.
	return { label, procs: gw.procs, firstRequests: done1, totalRequests: total, ...r, noFloor: true };
}

/*
 * Cold start, runs times: a fresh lighttpd (new directory and policy, on
 * vault) is spawned and get-secret asked every 2 ms until it answers 200;
 * the programs fetch their token and the secret on that first request.
 * Returns the median and all samples of spawn -> 200 and of the oldest
 * get-secret process's age at the 200 (its own start -> 200).
 */
async function coldStart(vault, runs) {
	const spawnMs = [];
	const procMs = [];
	process.stderr.write('bench: cold start ...');
	for (let i = 0; i < runs; i++) {
		const gw = await startGateway(`cold-${i}`, vault, cache(60), { wait: false });
		try {
			for (;;) {
				const r = await stack.request(gw.port, 'GET', '/api/secrets/public-bench-00042', { timeout: 5000 });
				const since = Number(process.hrtime.bigint() - gw.spawnedAt) / 1e6;
				if (r.status === 200) {
					spawnMs.push(since);
					const ages = gw.pids('get-secret.fcgi').map(ageSeconds).filter((x) => x !== null);
					if (ages.length) procMs.push(Math.max(...ages) * 1000);
					break;
				}
				if (gw.proc.exitCode !== null || gw.proc.signalCode !== null) throw new Error(`cold start: lighttpd exited; see ${gw.dir}/lighttpd.out`);
				if (since > 20000) throw new Error(`cold start: get-secret never answered 200 (last ${r.status})`);
				await stack.sleep(2);
			}
		} finally {
			await gw.stop();
		}
	}
	process.stderr.write(` ${spawnMs.map((x) => x.toFixed(0)).join(', ')} ms\n`);
	return { spawn: quantile(spawnMs, 50), proc: procMs.length ? quantile(procMs, 50) : null, spawnMs, procMs };
}

/* ------------------------------------------------------------------ */
/* Set-up                                                              */
/* ------------------------------------------------------------------ */

// A seed of n secrets named public-bench-NNNNN (the test policy exposes
// public-*), one fixed version each, values of about 60 bytes.
function writeSeed(file, n) {
	const secrets = [];
	for (let i = 0; i < n; i++) {
		const name = `public-bench-${String(i).padStart(5, '0')}`;
		const version = (i.toString(16).padStart(8, '0') + 'b'.repeat(24)).slice(0, 32);
		secrets.push({ name, versions: [{ version, value: `bench-value-${i} ${'x'.repeat(40)}`, contentType: 'text/plain', created: 1717000000 + i }] });
	}
	fs.writeFileSync(file, JSON.stringify({ _comment: 'generated by tests/bench/bench.js', secrets }));
}

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

function fmt(v, digits = 0) {
	if (v === null || v === undefined || Number.isNaN(v) || !Number.isFinite(v)) return '-';
	return v.toFixed(digits);
}

function maxOf(list, key) {
	const v = list.map((m) => m[key]).filter((x) => x !== null && x !== undefined);
	return v.length ? Math.max(...v) : null;
}

// The largest VmRSS growth of one process across the row (matched by pid).
function growth(r) {
	if (!r.memAfter || !r.memAfter.length) return null;
	const d = r.memAfter.map((a) => {
		const b = r.memBefore.find((m) => m.pid === a.pid);
		return b && a.rss !== null && b.rss !== null ? a.rss - b.rss : null;
	});
	const v = d.filter((x) => x !== null);
	return v.length ? Math.max(...v) : null;
}

function markdown(head, body, leftCols = 1) {
	const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
	const line = (cells) => '| ' + cells.map((c, i) => (i < leftCols ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ') + ' |';
	const rule = '|' + w.map((n, i) => (i < leftCols ? ':' + '-'.repeat(n + 1) : '-'.repeat(n + 1) + ':')).join('|') + '|';
	return [line(head), rule, ...body.map(line)].join('\n');
}

function table(rows, floorRps) {
	const head = ['row', 'req/s', 'p50 ms', 'p99 ms', 'x floor', 'non-2xx', 'procs', 'RSS kB', 'PSS kB', 'priv kB', 'dRSS kB', 'prog us/req', 'fetch us/req', 'server us/req', 'devvault us/req', 'token/1k', 'vault/1k', 'TLS conn/1k'];
	const body = rows.map((r) => {
		const mem = r.memAfter && r.memAfter.length;
		const g = growth(r);
		return [
			r.label,
			fmt(r.rps),
			fmt(r.p50, 2),
			fmt(r.p99, 2),
			floorRps && !r.noFloor ? fmt(r.rps / floorRps, 2) : '-',
			String(r.non2xx + r.errors),
			mem ? String(r.memAfter.length) : '-',
			mem ? fmt(maxOf(r.memAfter, 'rss')) : '-',
			mem ? fmt(maxOf(r.memAfter, 'pss')) : '-',
			mem ? fmt(maxOf(r.memAfter, 'priv')) : '-',
			mem ? (g === null ? '-' : (g > 0 ? '+' : '') + g) + (r.spawned ? ` (${r.spawned} new)` : '') : '-',
			fmt(r.progUs, 0),
			fmt(r.helperUs, 0),
			fmt(r.serverUs, 0),
			fmt(r.vaultUs, 0),
			fmt(r.token, 1),
			fmt(r.vaultCalls, 1),
			fmt(r.conns, 1),
		];
	});
	return markdown(head, body);
}

// Every process's memory, before -> after, per row (for the results file).
function memoryDetail(rows) {
	const one = (m) => `${m.pid}: ${m.rss}/${m.pss ?? '-'}/${m.priv ?? '-'}${m.curl ? ' (libcurl loaded)' : m.crypto ? ' (libcrypto loaded)' : ''}`;
	const out = [];
	for (const r of rows) {
		if (!r.memAfter || !r.memAfter.length) continue;
		out.push(`${r.label}:`);
		for (const a of r.memAfter) {
			const b = r.memBefore.find((m) => m.pid === a.pid);
			out.push(`  ${b ? one(b) : `${a.pid}: (new)`} -> ${one(a).replace(/^\d+: /, '')}`);
		}
		for (const h of r.helperAfter || []) out.push(`  kvgate-fetch ${one(h)}`);
	}
	return out;
}

const verdict = (ok) => (ok === null ? '-' : ok ? 'PASS' : 'MISS');
const mb = (kb) => (kb === null ? '-' : `${(kb / 1024).toFixed(1)} MB`);
const pct = (x) => `${fmt(100 * x, 0)}%`;

/* ------------------------------------------------------------------ */
/* The run                                                             */
/* ------------------------------------------------------------------ */

async function main() {
	if (!haveWrk()) throw new Error('wrk is missing: run `make bench` (it installs wrk)');
	if (!fs.existsSync(FLOOR)) throw new Error(`${FLOOR} is missing: run \`make bench\` (it builds it)`);
	const haveSdk = ['@azure/keyvault-secrets', '@azure/identity', 'express', 'cors'].every((m) => fs.existsSync(path.join(ROOT, 'tests', 'node_modules', m)));
	if (!haveSdk) console.error('bench: tests/node_modules has no Azure SDK or Express (scripts/npm-deps.sh installs them; make test runs it): the express + SDK row is skipped');
	tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kvgate-bench-'));
	fs.mkdirSync(path.join(tmp, 'static'));
	fs.writeFileSync(path.join(tmp, 'static', 'small.json'), '{"value":"static"}');
	const preflightLua = path.join(tmp, 'preflight.lua');
	fs.writeFileSync(
		preflightLua,
		`wrk.method = "OPTIONS"\nwrk.headers["Origin"] = "${stack.ALLOWED}"\nwrk.headers["Access-Control-Request-Method"] = "GET"\nwrk.headers["Access-Control-Request-Headers"] = "x-ms-client-request-id"\n`,
	);
	writeSeed(path.join(tmp, 'seed-100.json'), 100);
	writeSeed(path.join(tmp, 'seed-10000.json'), 10000);

	const t0 = Date.now();
	// Vaults: v100 for the cached gateway, the lists of 100, the express + SDK
	// baseline and the cold starts; the uncached and hot gateways have one
	// each, so that the dev vault's totals (tokens, connections) are theirs.
	const [v100, v10k, vUnc, vHot] = await Promise.all([
		startVault(path.join(tmp, 'vault-100'), path.join(tmp, 'seed-100.json')),
		startVault(path.join(tmp, 'vault-10000'), path.join(tmp, 'seed-10000.json')),
		startVault(path.join(tmp, 'vault-uncached'), path.join(tmp, 'seed-100.json')),
		startVault(path.join(tmp, 'vault-hot'), path.join(tmp, 'seed-100.json')),
	]);
	const cached = await startGateway('cached', v100, cache(60));
	const uncached = await startGateway('uncached', vUnc, cache(0));
	const big = await startGateway('10000', v10k, cache(60));
	const big0 = await startGateway('10000-uncached', v10k, cache(0));
	const hot = await startGateway('hot', vHot, cache(HOT_TTL), { procs: HOT_PROCS });
	const sdk = haveSdk ? await startSdkServer(v100) : null;

	const pre = { method: 'OPTIONS', status: 204, script: preflightLua, headers: { Origin: stack.ALLOWED, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-ms-client-request-id' } };
	const rows = [];
	const row = (r) => (rows.push(r), r);
	row(await wrkRow('static file (lighttpd)', cached, null, '/bench-static/small.json'));
	const floor1 = row(await wrkRow('fcgi floor', cached, 'fcgi-floor', '/bench-floor'));
	const preflight = row(await wrkRow('preflight', cached, 'preflight.fcgi', '/api/secrets/public-bench-00042', pre));
	const getCached = row(await wrkRow('get-secret cached (ttl 60)', cached, 'get-secret.fcgi', '/api/secrets/public-bench-00042'));
	const getUncached = row(await wrkRow('get-secret uncached (ttl 0)', uncached, 'get-secret.fcgi', '/api/secrets/public-bench-00042'));
	// What the uncached gateway's vault counted so far (start-up, warm-up
	// and the row, get-secret alone): connections and tokens.
	const uncTotals = await vUnc.stats();
	const node = sdk ? row(await wrkRow('express + SDK, uncached (1 proc)', sdk, 'node', '/api/secrets/public-bench-00042')) : null;
	// Lists cached (ttl 60: pages from the gateway's cache) and uncached
	// (ttl 0: every page from the vault, which is what shows paging).
	const first100c = row(await wrkRow('list first page, 100 (ttl 60)', cached, 'list-secrets.fcgi', '/api/secrets'));
	const first10kc = row(await wrkRow('list first page, 10,000 (ttl 60)', big, 'list-secrets.fcgi', '/api/secrets'));
	const first100 = row(await wrkRow('list first page, 100 (ttl 0)', uncached, 'list-secrets.fcgi', '/api/secrets'));
	const first10k = row(await wrkRow('list first page, 10,000 (ttl 0)', big0, 'list-secrets.fcgi', '/api/secrets'));
	const hotRow = row(await wrkRow(`hot secret, ${HOT_PROCS} procs (ttl ${HOT_TTL})`, hot, 'get-secret.fcgi', `/api/secrets/${HOT_SECRET}`, { seconds: HOT_SECONDS, procs: HOT_PROCS }));
	const hotTotals = await vHot.stats();
	await hot.stop();
	// The floor again: how far it moved during the run says how much
	// of the table is the machine's noise (other work on shared cores).
	const floor2 = row(await wrkRow('fcgi floor, again', cached, 'fcgi-floor', '/bench-floor'));
	const paired = ROUNDS
		? await pairedRounds({ label: 'fcgi floor', t: cached, urlPath: '/bench-floor' }, [
				{ label: 'preflight', t: cached, urlPath: '/api/secrets/public-bench-00042', script: preflightLua },
				{ label: 'get-secret cached', t: cached, urlPath: '/api/secrets/public-bench-00042' },
			])
		: null;
	const walkSeconds = Math.max(1, Math.min(5, SECONDS));
	const walks = [];
	for (const [label, gw] of [
		['list full walk, 100 (ttl 60)', cached],
		['list full walk, 10,000 (ttl 60)', big],
		['list full walk, 100 (ttl 0)', uncached],
		['list full walk, 10,000 (ttl 0)', big0],
	])
		walks.push(row(await walkRow(label, gw, walkSeconds)));
	await uncached.stop();
	await big0.stop();
	let flat = null;
	if (LONG) {
		const flatGw = await startGateway('flat', v100, cache(2));
		flat = row(await flatRow(`get-secret RSS, ${FLAT_FIRST / 1000}k -> ${FLAT_LAST / 1000}k req/proc`, flatGw));
		await flatGw.stop();
	}
	const cold = await coldStart(v100, COLD_RUNS);

	const floorRps = (floor1.rps + floor2.rps) / 2;
	const cpus = os.cpus();
	const hotReads = hotRow.reads(HOT_SECRET);
	const hotWindows = hotRow.seconds / HOT_TTL;
	// Programs' memory: every kvgate program process seen after any row.
	const progRows = rows.filter((r) => r.memAfter && r.memAfter.length && !/floor|express/.test(r.label));
	const allMem = progRows.flatMap((r) => r.memAfter.map((m) => ({ ...m, row: r.label })));
	const rssMax = maxOf(allMem, 'rss');
	const rssMaxRow = (allMem.find((m) => m.rss === rssMax) || {}).row;
	// The programs hand their vault calls to kvgate-fetch and load
	// libcrypto only for caller JWTs or a client certificate (neither in
	// the bench's policy): a program process with either mapped is a
	// regression, named in the target row.
	const cryptoOnly = allMem.filter((m) => !m.curl && m.crypto);
	const curled = allMem.filter((m) => m.curl);
	// kvgate-fetch, one per gateway (per host in production).
	const helperMem = progRows.flatMap((r) => (r.helperAfter || []).map((m) => ({ ...m, row: r.label })));
	const helperMax = maxOf(helperMem, 'rss');
	const helperPss = maxOf(helperMem, 'pss');
	const helperPriv = maxOf(helperMem, 'priv');
	const pssMaxRow = (allMem.find((m) => m.pss === maxOf(allMem, 'pss')) || {}).row;
	const getMem = rows.filter((r) => /get-secret/.test(r.label) && r.memAfter && r.memAfter.length).flatMap((r) => r.memAfter);
	const pssMax = maxOf(allMem, 'pss');
	const privMax = maxOf(allMem, 'priv');
	const flatGrowth = flat ? growth(flat) : null;
	const flatPss = flat ? Math.max(...flat.memAfter.map((a) => a.pss - (flat.memBefore.find((m) => m.pid === a.pid) || a).pss)) : null;
	const listRatio = first10k.p50 / first100.p50;
	// A ratio target: the median of the paired rounds when there are any,
	// else the row against the mean of the two floor rows.
	const ratioTarget = (what, want, r, p) => [
		what,
		`>= ${pct(want)} of the FastCGI floor`,
		p
			? `${pct(p.median)} median of ${p.ratios.length} paired rounds (${pct(p.min)}-${pct(p.max)}); table row alone ${pct(r.rps / floorRps)}`
			: `${pct(r.rps / floorRps)} (${fmt(r.rps)} vs ${fmt(floorRps)} req/s)`,
		verdict((p ? p.median : r.rps / floorRps) >= want),
	];
	const targets = [
		ratioTarget('preflight', 0.9, preflight, paired && paired[0]),
		ratioTarget('cached get-secret', 0.8, getCached, paired && paired[1]),
		[
			'RSS per program process (VmRSS)',
			'<= 4 MB',
			`${mb(rssMax)} at most (${rssMaxRow || '-'}; ${allMem.length} readings; ${curled.length} with libcurl mapped, ${cryptoOnly.length} with libcrypto)`,
			verdict(rssMax !== null ? rssMax <= RSS_TARGET_KB && curled.length === 0 : null),
		],
		[
			'kvgate-fetch (one per host)',
			'(reported)',
			helperMem.length ? `${mb(helperMax)} VmRSS, ${mb(helperPss)} PSS, ${mb(helperPriv)} private (${helperMem.length} readings; it alone maps libcurl)` : 'not started',
			'-',
		],
		// PSS shares a library's pages among the processes that map it: a
		// process that alone has loaded libcurl carries all of it.
		['RSS per process (PSS, reported)', '(VmRSS is the target)', `${mb(pssMax)} at most (${pssMaxRow}), private ${mb(privMax)}; get-secret ${mb(maxOf(getMem, 'pss'))}`, '-'],
		[
			`RSS flat, ${FLAT_FIRST / 1000}k -> ${FLAT_LAST / 1000}k req/proc`,
			`VmRSS growth <= ${FLAT_SLACK_KB} kB/proc`,
			flat ? `${flatGrowth >= 0 ? '+' : ''}${flatGrowth} kB VmRSS, ${flatPss >= 0 ? '+' : ''}${flatPss} kB PSS (${mb(maxOf(flat.memBefore, 'rss'))} -> ${mb(maxOf(flat.memAfter, 'rss'))})` : 'skipped (BENCH_LONG=0)',
			flat ? verdict(flatGrowth <= FLAT_SLACK_KB && !flat.spawned) : '-',
		],
		[
			'TLS connections',
			'<= processes (reused)',
			`${hotTotals.connectionsVault} vault conns for ${hotRow.memAfter.length} procs (hot); ${uncTotals.connectionsVault} for ${PROCS} (uncached, ${fmt(getUncached.upstream.vault)} reads in the row)`,
			verdict(hotTotals.connectionsVault <= hotRow.memAfter.length && uncTotals.connectionsVault <= PROCS),
		],
		[
			'token fetches',
			'1 per host per lifetime (or per process)',
			`${hotTotals.token} for ${hotRow.memAfter.length} procs (hot), ${uncTotals.token} for ${PROCS} (uncached), lifetime 3599 s`,
			hotTotals.token <= 1 && uncTotals.token <= 1 ? 'PASS' : hotTotals.token <= hotRow.memAfter.length && uncTotals.token <= PROCS ? 'PASS (per process)' : 'MISS',
		],
		[
			'cache misses',
			`<= 1 vault read of a hot secret per ttl per host, ${hotRow.memAfter.length} procs`,
			`${fmt(hotReads / hotWindows, 1)} per ${HOT_TTL} s window (${hotReads} reads in ${fmt(hotRow.seconds, 1)} s)`,
			// A window boundary inside the run allows one read more.
			verdict(hotReads <= Math.floor(hotWindows) + 1),
		],
		['list first page at 10,000', 'p50 <= 1.5x the same at 100', `${fmt(listRatio, 2)}x (${fmt(first10k.p50, 2)} vs ${fmt(first100.p50, 2)} ms, ttl 0); ${fmt(first10kc.p50 / first100c.p50, 2)}x cached`, verdict(listRatio <= 1.5)],
		['cold start', '(reported)', `${fmt(cold.spawn, 0)} ms spawn -> first 200; ${fmt(cold.proc, 0)} ms process start -> 200 (median of ${COLD_RUNS})`, '-'],
	];
	const lines = [
		`kvgate make bench, ${new Date().toISOString()}`,
		`machine: ${cpus.length} x ${cpus[0] ? cpus[0].model.trim() : '?'}, ${os.type()} ${os.release()}, node ${process.version}`,
		`${execFileSync('lighttpd', ['-v']).toString().trim()}; wrk -t${THREADS} -c${CONNS} -d${SECONDS}s after ${WARMUP}s warm-up; ${PROCS} process(es) per program (hot row: ${HOT_PROCS}, ${HOT_SECONDS} s)`,
		`[cache] keys written besides ttl: ${Object.keys(CACHE_EXTRA).length ? Object.entries(CACHE_EXTRA).map(([k, v]) => `${k} = ${v}`).join(', ') : 'none (see CACHE_EXTRA in tests/bench/bench.js)'}`,
		'',
		table(rows, floorRps),
		'',
		'Targets (issue 6):',
		'',
		markdown(['what', 'target', 'measured', 'verdict'], targets, 3),
		'',
		paired ? `Paired rounds (${ROUNDS} x ${ROUND_SECONDS} s each of the floor and every row, order rotating; ratio to the floor of the same round): ${paired.map((p) => `${p.label} ${p.ratios.map((x) => x.toFixed(2)).join(' ')} (median ${p.median.toFixed(2)})`).join('; ')}` : 'Paired rounds: skipped (BENCH_ROUNDS=0)',
		'',
		'Walks (one client at a time, keep-alive, following nextLink; in the table req/s = pages/s, p50/p99 per page):',
		...walks.map((w) => `  ${w.label}: ${w.walks} walks, ${fmt(w.walksPerSec, 2)} walks/s, ${fmt(w.walkP50, 1)} ms/walk p50, ${fmt(w.walkP99, 1)} ms p99, ${w.pagesPerWalk} pages (${w.items} items) per walk, ${fmt((w.vaultCalls * w.pagesPerWalk) / 1000, 1)} vault calls per walk`),
		`List first page p50, 10,000 vs 100 secrets, ttl 0 (every page from the vault): ${fmt(listRatio, 2)}x (target <= 1.5x); the gateway's own CPU per page: ${fmt(first10k.progUs / first100.progUs, 2)}x, the dev vault's: ${fmt(first10k.vaultUs / first100.vaultUs, 2)}x. Cached (ttl 60): ${fmt(first10kc.p50 / first100c.p50, 2)}x`,
		`Hot secret: ${hotRow.memAfter.length} get-secret processes (lighttpd started ${hotRow.procsAtStart}: its min-procs defaults to 4 and etc/lighttpd/kvgate.conf sets none; the warm-up made it add the rest), [cache] ttl = ${HOT_TTL}, ${fmt(hotRow.requests)} requests in ${fmt(hotRow.seconds, 1)} s: ${hotReads} vault reads of ${HOT_SECRET} = ${fmt(hotReads / hotWindows, 2)} per ttl window (one host); Cache-Status of a check request: ${hotRow.cacheStatus || '(none sent)'}`,
		!node ? 'express + SDK: skipped (no Azure SDK or Express in tests/node_modules; run scripts/npm-deps.sh)' : `express + SDK vs kvgate: cached get-secret ${fmt(getCached.rps / node.rps, 1)}x its req/s, uncached ${fmt(getUncached.rps / node.rps, 1)}x; its RSS ${mb(maxOf(node.memAfter, 'rss'))} (PSS ${mb(maxOf(node.memAfter, 'pss'))}) in one process vs kvgate get-secret's ${mb(maxOf(getMem, 'rss'))} (PSS ${mb(maxOf(getMem, 'pss'))}) per process`,
		`Cache segment (shared by the host's processes, counted once): at most ${fmt(maxOf(allMem, 'shm'))} kB resident in any one process's view after a row`,
		flat ? `RSS flat: ${flat.totalRequests} get-secret requests over ${flat.procs} processes (${flat.firstRequests} before the first reading), [cache] ttl = 2 over 100 secrets; VmRSS ${maxOf(flat.memBefore, 'rss')} -> ${maxOf(flat.memAfter, 'rss')} kB, PSS ${maxOf(flat.memBefore, 'pss')} -> ${maxOf(flat.memAfter, 'pss')} kB, private ${maxOf(flat.memBefore, 'priv')} -> ${maxOf(flat.memAfter, 'priv')} kB (largest process)` : 'RSS flat: skipped (BENCH_LONG=0)',
		`Cold start (fresh lighttpd + programs -> first get-secret 200, token + vault read included), ms: ${cold.spawnMs.map((x) => fmt(x, 0)).join(', ')} from spawn; ${cold.procMs.map((x) => fmt(x, 0)).join(', ')} from the get-secret process's start`,
		`FastCGI floor: ${fmt(floor1.rps)} req/s first, ${fmt(floor2.rps)} at the end (${fmt((100 * Math.abs(floor2.rps - floor1.rps)) / floor1.rps, 0)}% apart); x floor uses their mean. A large gap means a noisy machine: run again.`,
		'',
		"Columns: x floor = req/s / the fcgi floor's mean req/s (only ratios within one run mean anything);",
		'non-2xx = non-2xx answers + socket errors (should be 0); procs = processes of the row\'s program;',
		'RSS/PSS/priv kB = the largest VmRSS, PSS and private (Private_Clean + Private_Dirty) among them after the row,',
		'without the shared cache segment (/dev/shm/kvgate-*: host memory shared by every process, see "cache segment");',
		'(VmRSS counts shared libraries in full in every process; PSS shares them out; private is what one more',
		'process costs); dRSS = the largest VmRSS growth of one process during the row; prog/server/devvault us/req =',
		'CPU time (user+sys) per request of the program processes, the web server (lighttpd) and the dev vault;',
		'token, vault, TLS conn = token fetches, vault requests and new TLS connections carrying them that the dev',
		'vault counted per 1,000 requests. Walks are one client, not wrk, and the RSS row runs Lua per request in wrk:',
		'their req/s has no floor ratio. The hot row runs ' + HOT_PROCS + ' processes against the floor\'s ' + PROCS + '.',
		'The express + SDK row is one Node process (tests/bench/node-sdk-server.js: Express, cors, the Azure SDK), no web server in front.',
	];
	const text = lines.join('\n') + '\n';
	process.stdout.write('\n' + text);
	fs.writeFileSync(OUT, text + '\n\nMemory of every process, kB VmRSS/PSS/private, before -> after each row\n=====================================================================\n\n' + memoryDetail(rows).join('\n') + '\n\n\nRaw wrk outputs\n===============\n\n' + raw.join('\n') + '\n');
	console.log(`\nbench: written to ${path.relative(process.cwd(), OUT) || OUT} in ${Math.round((Date.now() - t0) / 1000)} s`);
}

function haveWrk() {
	try {
		execFileSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' });
		return true;
	} catch {
		return false;
	}
}

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.on(sig, async () => {
		if (stopping) return;
		stopping = true;
		console.error(`\nbench: ${sig}: stopping everything`);
		await stopAll();
		process.exit(130);
	});
}

main()
	.then(
		() => 0,
		(e) => {
			if (!stopping) console.error(`bench: ${e.stack || e}`);
			return 1;
		},
	)
	.then(async (code) => {
		await stopAll();
		process.exit(code);
	});
