'use strict';
/*
 * bench.js: `make bench`. Starts the real stack on 127.0.0.1 (dev vaults,
 * lighttpd with etc/lighttpd/kvgate.conf via tests/bench/lighttpd-bench.conf,
 * which adds the two floors), drives each route with wrk, and prints one
 * table, side by side, from one run:
 *
 *   static          lighttpd serving a small static file (no FastCGI at all)
 *   fcgi floor      tests/bench/fcgi-floor.c behind the same lighttpd, same
 *                   process count: the ceiling for a FastCGI program
 *   preflight       OPTIONS with Origin + Access-Control-Request-Method
 *   get cached      GET one secret, [cache] ttl = 60 (served from the cache)
 *   get uncached    the same with [cache] ttl = 0 (every call to the vault)
 *   list first N    GET {base}/secrets on a vault of N secrets (N = 100, 10,000)
 *   list walk N     whole list, following nextLink (a Node client, one walk
 *                   at a time): walks/s, ms per walk, pages per walk
 *
 * For each row: requests/s, p50/p99 latency, the ratio to the FastCGI
 * floor's requests/s, RSS of each program process before and after the row
 * (VmRSS), CPU per request of the program processes and of lighttpd, and the
 * upstream calls the dev vault counted (token, vault, new TLS connections)
 * per 1,000 requests. Everything started here is stopped on exit, Ctrl-C
 * included. Writes the table and the raw wrk outputs to bench-results.txt
 * (git-ignored; BENCH_OUT= to change).
 *
 * Environment: BENCH_SECONDS (10) per row, BENCH_WARMUP (2) seconds of
 * warm-up per row, BENCH_PROCS (2) processes per program, BENCH_THREADS (2)
 * and BENCH_CONNECTIONS (16) for wrk, KEEP_TMP=1 keeps the temp dir.
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
const OUT = process.env.BENCH_OUT || path.join(ROOT, 'bench-results.txt');
const TICK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

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

// The dev vault's control API (not counted in its stats).
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
 * the test policy plus overrides. Returns { proc, port, dir, spawnedAt }
 * once it answers; the programs answer later (cold start).
 */
async function startGateway(name, vault, overrides) {
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
		KVGATE_PROCS: String(PROCS),
		KVGATE_BENCH_STATIC: path.join(tmp, 'static'),
		KVGATE_BENCH_FLOOR: FLOOR,
	};
	const log = fs.openSync(path.join(dir, 'lighttpd.out'), 'w');
	const spawnedAt = process.hrtime.bigint();
	const proc = spawn('lighttpd', ['-D', '-f', CONF], { cwd: dir, env, stdio: ['ignore', log, log] });
	fs.closeSync(log);
	children.push(proc);
	const gw = { name, proc, port, dir, ini, vault, spawnedAt };
	started.push({ kill: () => stopGateway(gw) });
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

// Memory of pid in kB: VmRSS, PSS (shared pages divided among the
// processes that map them) and the anonymous (private) part of VmRSS.
// VmRSS counts every page of the shared libraries (libcrypto, libcurl,
// GnuTLS...) in full in every process, although they are in memory once.
function rssKB(pid) {
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
	return { rss: kb(status, 'VmRSS'), pss: kb(rollup, 'Pss'), anon: kb(status, 'RssAnon') };
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

function snapshot(gw, prog) {
	const procs = prog ? programs(gw, prog) : [];
	return {
		pids: procs.map((p) => p.pid),
		rss: procs.map((p) => rssKB(p.pid)),
		cpu: procs.reduce((a, p) => a + cpuSeconds(p.pid), 0),
		server: cpuSeconds(gw.proc.pid),
		vault: cpuSeconds(gw.vault.proc.pid),
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
	return {
		rps: num(/Requests\/sec:\s+([\d.]+)/),
		requests: num(/(\d+) requests in/),
		p50: lat(50),
		p99: lat(99),
		non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
		errors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
	};
}

function wrk(gw, urlPath, seconds, script) {
	const args = ['-t', String(THREADS), '-c', String(CONNS), '-d', `${seconds}s`, '--latency', '--timeout', '5s'];
	if (script) args.push('-s', script);
	args.push(`http://127.0.0.1:${gw.port}${urlPath}`);
	return new Promise((resolve, reject) => {
		const p = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		p.stdout.on('data', (d) => (out += d));
		p.stderr.on('data', (d) => (out += d));
		children.push(p);
		started.push({ kill: () => stack.terminate(p) });
		p.on('error', reject);
		p.on('exit', (code) => {
			if (code !== 0) reject(new Error(`wrk ${args.join(' ')} exited ${code}:\n${out}`));
			else resolve({ cmd: `wrk ${args.join(' ')}`, out });
		});
	});
}

// Upstream counters and process figures around fn(), which returns
// { requests, ... }.
async function measured(gw, prog, fn) {
	const s0 = await gw.vault.stats();
	const b = snapshot(gw, prog);
	const r = await fn();
	const a = snapshot(gw, prog);
	const s1 = await gw.vault.stats();
	const n = r.requests || 1;
	const respawned = a.pids.some((p) => !b.pids.includes(p));
	return {
		...r,
		rssBefore: b.rss,
		rssAfter: a.rss,
		respawned,
		progUs: prog ? ((a.cpu - b.cpu) * 1e6) / n : null,
		serverUs: ((a.server - b.server) * 1e6) / n,
		vaultUs: ((a.vault - b.vault) * 1e6) / n,
		token: ((s1.token - s0.token) * 1000) / n,
		vaultCalls: ((s1.vault - s0.vault) * 1000) / n,
		// The dev vault counts every TLS connection, the one that asks
		// for s1 included: that one is not the gateway's.
		conns: (Math.max(0, s1.connections - s0.connections - 1) * 1000) / n,
	};
}

const raw = [];

/*
 * One wrk row: check that the request gets the expected status, warm up,
 * then measure. opts: { method, headers, script, status }.
 */
async function wrkRow(label, gw, prog, urlPath, opts = {}) {
	const check = await stack.request(gw.port, opts.method || 'GET', urlPath, { headers: opts.headers || {} });
	const want = opts.status || 200;
	if (check.status !== want) throw new Error(`${label}: ${opts.method || 'GET'} ${urlPath} answered ${check.status}, not ${want}: ${check.text.slice(0, 300)}`);
	process.stderr.write(`bench: ${label} ...`);
	if (WARMUP > 0) await wrk(gw, urlPath, WARMUP, opts.script);
	const r = await measured(gw, prog, async () => {
		const w = await wrk(gw, urlPath, SECONDS, opts.script);
		raw.push(`### ${label}\n$ ${w.cmd}\n${w.out}`);
		return parseWrk(w.out);
	});
	process.stderr.write(` ${Math.round(r.rps)} req/s\n`);
	return { label, ...r };
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
		const q = (list, p) => {
			const v = [...list].sort((a, b) => a - b);
			return v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))];
		};
		const ms = walks.map((w) => w.ms);
		const pages = walks.reduce((a, w) => a + w.pages, 0);
		return {
			walks: walks.length,
			rps: pages / elapsed,
			walksPerSec: walks.length / elapsed,
			walkP50: q(ms, 50),
			walkP99: q(ms, 99),
			p50: q(pageMs, 50),
			p99: q(pageMs, 99),
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
	return { label, ...r };
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

function fmt(v, digits = 0) {
	if (v === null || v === undefined || Number.isNaN(v)) return '-';
	return v.toFixed(digits);
}

function table(rows, floorRps) {
	const head = ['row', 'req/s', 'p50 ms', 'p99 ms', 'x floor', 'non-2xx', 'kB/proc RSS/PSS/anon before -> after', 'prog us/req', 'lighttpd us/req', 'devvault us/req', 'token/1k', 'vault/1k', 'TLS conn/1k'];
	const rss = (list) => list.map((m) => `${m.rss}/${m.pss ?? '-'}/${m.anon}`).join(', ');
	const body = rows.map((r) => [
		r.label,
		fmt(r.rps),
		fmt(r.p50, 2),
		fmt(r.p99, 2),
		floorRps && !r.noFloor ? fmt(r.rps / floorRps, 2) : '-',
		String(r.non2xx + r.errors),
		r.rssBefore && r.rssBefore.length ? `${rss(r.rssBefore)} -> ${rss(r.rssAfter)}${r.respawned ? ' (respawned!)' : ''}` : '-',
		fmt(r.progUs, 0),
		fmt(r.serverUs, 0),
		fmt(r.vaultUs, 0),
		fmt(r.token, 1),
		fmt(r.vaultCalls, 1),
		fmt(r.conns, 1),
	]);
	const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
	const line = (cells) => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ') + ' |';
	return [line(head), '|' + w.map((n, i) => (i === 0 ? ':' : '') + '-'.repeat(n + 1) + (i === 0 ? '' : ':')).join('|') + '|', ...body.map(line)].join('\n');
}

async function main() {
	if (!haveWrk()) throw new Error('wrk is missing: run `make bench` (it installs wrk)');
	if (!fs.existsSync(FLOOR)) throw new Error(`${FLOOR} is missing: run \`make bench\` (it builds it)`);
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
	const v100 = await startVault(path.join(tmp, 'vault-100'), path.join(tmp, 'seed-100.json'));
	const v10k = await startVault(path.join(tmp, 'vault-10000'), path.join(tmp, 'seed-10000.json'));
	const cached = await startGateway('cached', v100, { cache: { ttl: 60 } });

	// Cold start: lighttpd spawned, programs started by it, the first
	// get-secret answered (token fetch and vault read included).
	const uncached = await startGateway('uncached', v100, { cache: { ttl: 0 } });
	let cold = null;
	for (;;) {
		const r = await stack.request(uncached.port, 'GET', '/api/secrets/public-bench-00042', { timeout: 5000 });
		if (r.status === 200) {
			cold = Number(process.hrtime.bigint() - uncached.spawnedAt) / 1e6;
			break;
		}
		if (Number(process.hrtime.bigint() - uncached.spawnedAt) > 20e9) throw new Error(`get-secret never answered 200 (last ${r.status})`);
		await stack.sleep(2);
	}
	const big = await startGateway('10000', v10k, { cache: { ttl: 60 } });

	const pre = { method: 'OPTIONS', status: 204, script: preflightLua, headers: { Origin: stack.ALLOWED, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-ms-client-request-id' } };
	const rows = [];
	rows.push(await wrkRow('static file (lighttpd)', cached, null, '/bench-static/small.json'));
	rows.push(await wrkRow('fcgi floor', cached, 'fcgi-floor', '/bench-floor'));
	rows.push(await wrkRow('preflight', cached, 'preflight.fcgi', '/api/secrets/public-bench-00042', pre));
	rows.push(await wrkRow('get-secret cached (ttl 60)', cached, 'get-secret.fcgi', '/api/secrets/public-bench-00042'));
	rows.push(await wrkRow('get-secret uncached (ttl 0)', uncached, 'get-secret.fcgi', '/api/secrets/public-bench-00042'));
	rows.push(await wrkRow('list first page, 100', cached, 'list-secrets.fcgi', '/api/secrets'));
	rows.push(await wrkRow('list first page, 10,000', big, 'list-secrets.fcgi', '/api/secrets'));
	// The floor again: how far it moved during the run says how much
	// of the table is the machine's noise (other work on shared cores).
	const floorAgain = await wrkRow('fcgi floor, again', cached, 'fcgi-floor', '/bench-floor');
	rows.push(floorAgain);
	const walkSeconds = Math.max(1, Math.min(5, SECONDS));
	const walks = [await walkRow('list full walk, 100', cached, walkSeconds), await walkRow('list full walk, 10,000', big, walkSeconds)];
	rows.push(...walks);

	const floorRps = (rows[1].rps + floorAgain.rps) / 2;
	const first100 = rows[5];
	const first10k = rows[6];
	const cpus = os.cpus();
	const lines = [
		`kvgate make bench, ${new Date().toISOString()}`,
		`machine: ${cpus.length} x ${cpus[0] ? cpus[0].model.trim() : '?'}, ${os.type()} ${os.release()}, node ${process.version}`,
		`${execFileSync('lighttpd', ['-v']).toString().trim()}; wrk -t${THREADS} -c${CONNS} -d${SECONDS}s after ${WARMUP}s warm-up; ${PROCS} process(es) per program`,
		'',
		table(rows, floorRps),
		'',
		'Walks (one client at a time, keep-alive, following nextLink; in the table req/s = pages/s, p50/p99 per page):',
		...walks.map((w) => `  ${w.label}: ${w.walks} walks, ${fmt(w.walksPerSec, 2)} walks/s, ${fmt(w.walkP50, 1)} ms/walk p50, ${fmt(w.walkP99, 1)} ms p99, ${w.pagesPerWalk} pages (${w.items} items) per walk, ${fmt((w.vaultCalls * w.pagesPerWalk) / 1000, 1)} vault calls per walk`),
		`List first page p50, 10,000 vs 100 secrets: ${fmt(first10k.p50 / first100.p50, 2)}x (target <= 1.5x); the gateway's own CPU per page: ${fmt(first10k.progUs / first100.progUs, 2)}x, the dev vault's: ${fmt(first10k.vaultUs / first100.vaultUs, 2)}x`,
		`FastCGI floor: ${fmt(rows[1].rps)} req/s first, ${fmt(floorAgain.rps)} at the end (${fmt((100 * Math.abs(floorAgain.rps - rows[1].rps)) / rows[1].rps, 0)}% apart); x floor uses their mean. A large gap means a noisy machine: run again.`,
		`Cold start (lighttpd spawned -> first get-secret 200, token + vault read included): ${fmt(cold, 0)} ms`,
		'',
		'Columns: x floor = req/s / the fcgi floor\'s mean req/s (only ratios within one run mean anything);',
		'non-2xx = non-2xx answers + socket errors (should be 0); kB/proc = VmRSS/PSS/RssAnon of each',
		'program process (VmRSS counts shared libraries in full in every process; PSS shares them out;',
		'anon is the private part); prog/lighttpd/devvault us/req = CPU time (user+sys)',
		'of the program processes, lighttpd and the dev vault per request; token, vault, TLS conn = calls',
		'the dev vault counted per 1,000 gateway requests (token fetches, vault reads, new TLS connections).',
		'The walks are one client, not wrk: their req/s has no floor ratio.',
	];
	const text = lines.join('\n') + '\n';
	process.stdout.write('\n' + text);
	fs.writeFileSync(OUT, text + '\n\nRaw wrk outputs\n===============\n\n' + raw.join('\n') + '\n');
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
