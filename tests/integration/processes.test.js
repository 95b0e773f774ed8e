'use strict';
/*
 * The programs' life as the web server's processes, per server
 * (KVGATE_TEST_SERVER): a SIGTERM between requests (how mod_fcgid retires an
 * idle process) ends a program cleanly and the next request starts a new
 * one; a program that dies (SIGKILL) is replaced and the next request is
 * served; FcgidMaxRequestsPerProcess is honoured; and plain CGI mode works
 * (lighttpd mod_cgi, Apache mod_cgid). Which process answered is read from
 * the programs' own log lines, which carry their pid.
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const S = require('./stack.js');

let stack, gw, vault;
const apache = S.SERVER === 'apache';

before(async () => {
	// Apache: mod_fcgid itself retires a get-secret process idle for 2 s
	// (FcgidIdleTimeout, scanned every second), with no warm minimum.
	stack = await S.startStack('processes', { apache: { KVGATE_IDLE_TIMEOUT: 2, KVGATE_MIN_PROCS: 0 } });
	({ gw, vault } = stack);
});

after(async () => {
	await S.stopStack(stack);
});

const H = { Origin: S.ALLOWED };

// The pids of the live get-secret processes of g.
function getSecretPids(g) {
	return g.programs().filter((p) => p.cmd.includes('get-secret.fcgi')).map((p) => p.pid);
}

// The program log lines of pid.
function linesOf(g, pid) {
	return g.output().split('\n').filter((l) => l.includes(` ${pid}]: `));
}

async function served(g, what) {
	const res = await g.get('/api/secrets/public-greeting', { headers: H });
	assert.equal(res.status, 200, `${what}\n${S.show(res)}\n${S.redact(g.output()).slice(-1500)}`);
	S.assertCorsActual(res, S.ALLOWED);
	return res;
}

test(`${S.SERVER}: a SIGTERM between requests ends get-secret cleanly, and the next request is served by a new process`, async (t) => {
	await served(gw, 'first request');
	const [pid] = getSecretPids(gw);
	assert.ok(pid, `a get-secret process runs: ${JSON.stringify(gw.programs())}`);
	if (apache) {
		// Nothing from the test: mod_fcgid's idle scan sends the SIGTERM.
		await S.waitFor(() => !S.alive(pid), 15000, `mod_fcgid to retire idle get-secret ${pid}`);
		await S.waitFor(() => /exit\(idle timeout\)/.test(gw.output()), 5000, 'mod_fcgid to log the idle exit');
		const exit = gw.output().split('\n').find((l) => l.includes(`(${pid}) exit(idle timeout)`));
		t.diagnostic(S.redact(exit || '(no fcgid exit line)'));
		assert.match(exit || '', /terminated by calling exit\(\), return code: 0/, 'the program exited by itself with status 0, not by a signal');
	} else {
		process.kill(pid, 'SIGTERM');
		await S.waitFor(() => !S.alive(pid), 5000, `get-secret ${pid} to exit on SIGTERM`);
	}
	await S.waitFor(() => linesOf(gw, pid).some((l) => l.endsWith('info: stopping on SIGTERM')), 3000, 'the stop line');
	const bad = linesOf(gw, pid).filter((l) => /\]: (error|warn): /.test(l));
	assert.deepEqual(bad, [], 'no error or warning from the program as it stopped');
	if (!apache) await S.sleep(300); // lighttpd notices a dead backend on its next check
	await served(gw, 'the next request after the SIGTERM');
	const now = getSecretPids(gw);
	assert.ok(now.length === 1 && now[0] !== pid, `a new get-secret process serves: ${now} (was ${pid})`);
	assert.ok(linesOf(gw, now[0]).some((l) => /info: ready \(policy /.test(l)), 'the new process logged ready');
});

test(`${S.SERVER}: get-secret killed with SIGKILL is respawned and the next request is served`, async (t) => {
	await served(gw, 'before the kill');
	const [pid] = getSecretPids(gw);
	assert.ok(pid, 'a get-secret process runs');
	process.kill(pid, 'SIGKILL');
	await S.waitFor(() => !S.alive(pid), 5000, `get-secret ${pid} to die`);
	// The very next request: the server notices the dead process and starts
	// another. lighttpd needs a moment to notice (its backend check).
	const statuses = [];
	let ok = false;
	// lighttpd answers 503 while the backend is marked down (about a second
	// or more on a loaded machine), then restarts it.
	for (let i = 0; i < (apache ? 5 : 30) && !ok; i++) {
		if (!apache || i > 0) await S.sleep(300);
		const res = await gw.get('/api/secrets/public-greeting', { headers: H });
		statuses.push(res.status);
		ok = res.status === 200;
	}
	t.diagnostic(`statuses after SIGKILL: ${statuses.join(' ')}`);
	if (apache) assert.deepEqual(statuses, [200], 'mod_fcgid: the first request after the kill is served');
	else assert.ok(ok, `served within 30 tries: ${statuses.join(' ')}`);
	const now = getSecretPids(gw);
	assert.ok(now.length >= 1 && !now.includes(pid), `a new get-secret process: ${now} (killed ${pid})`);
});

test(`${S.SERVER}: FcgidMaxRequestsPerProcess=5 retires a process after 5 requests (lighttpd has no such limit)`, async (t) => {
	const g = await stack.gateway('maxreq', { maxRequests: 5 });
	// Each bad request makes get-secret log one line naming its pid and the
	// request, so every request maps to the process that answered it.
	const n = 12;
	for (let i = 1; i <= n; i++) {
		const res = await g.get(`/api/secrets/bad_${i}`, { headers: H });
		S.assertError(res, 400, 'BadParameter');
	}
	const byReq = await S.waitFor(
		() => {
			const m = new Map();
			for (const l of g.output().split('\n')) {
				const r = /^kvgate\[get-secret (\d+)\]: info: bad request: .*\(\/api\/secrets\/bad_(\d+)\)$/.exec(l);
				if (r) m.set(Number(r[2]), Number(r[1]));
			}
			return m.size === n ? m : null;
		},
		5000,
		'a log line per request',
	);
	const pids = Array.from({ length: n }, (_, i) => byReq.get(i + 1));
	t.diagnostic(`pid per request: ${pids.join(' ')}`);
	const ready = g.output().split('\n').filter((l) => /^kvgate\[get-secret \d+\]: info: ready/.test(l)).length;
	if (apache) {
		const groups = [];
		for (const p of pids) if (!groups.length || groups.at(-1).pid !== p) groups.push({ pid: p, n: 1 });
		else groups.at(-1).n++;
		assert.deepEqual(groups.map((x) => x.n), [5, 5, 2], 'five requests per process, then a new one');
		assert.equal(new Set(pids).size, 3, 'three distinct processes');
		assert.equal(ready, 3, 'three get-secret start-ups in the log');
	} else {
		assert.equal(new Set(pids).size, 1, 'lighttpd: one process serves every request');
		assert.equal(ready, 1, 'one get-secret start-up');
	}
	const r = await g.stop();
	assert.deepEqual(r.leftover, [], 'nothing left running');
});

test(`${S.SERVER}: plain CGI mode (${apache ? 'Apache mod_cgid' : 'lighttpd mod_cgi'}): get-secret.fcgi answers as a CGI program`, async () => {
	const dir = path.join(stack.dir, 'cgi');
	fs.mkdirSync(dir);
	const ini = path.join(dir, 'kvgate.ini');
	fs.writeFileSync(ini, S.policy(vault, dir).text);
	const port = await S.freePort();
	const prog = path.join(S.ROOT, 'cgi-bin', 'get-secret.fcgi');
	let proc;
	if (apache) {
		const env = S.apacheUser(dir, ini, S.policy(vault, dir).sections);
		const conf = path.join(dir, 'cgi.conf');
		fs.writeFileSync(
			conf,
			[
				`ServerRoot "${dir}"`,
				'LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so',
				'LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so',
				'LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so',
				'LoadModule env_module /usr/lib/apache2/modules/mod_env.so',
				'LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so',
				`User ${env.KVGATE_USER}`,
				`Group ${env.KVGATE_GROUP}`,
				`Listen 127.0.0.1:${port}`,
				'ServerName 127.0.0.1',
				`PidFile "${dir}/apache.pid"`,
				`Mutex file:${dir} default`,
				`ScriptSock "${dir}/cgid.sock"`,
				'ErrorLog "|/bin/cat"',
				`DocumentRoot "${dir}"`,
				'AllowEncodedSlashes NoDecode',
				`SetEnv KVGATE_CONFIG "${ini}"`,
				`ScriptAlias /api "${prog}"`,
				`<Location /api>\n  Require all granted\n</Location>`,
			].join('\n') + '\n',
		);
		proc = spawn('/usr/sbin/apache2', ['-f', conf, '-DFOREGROUND'], { cwd: dir, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
	} else {
		const conf = path.join(dir, 'cgi.conf');
		fs.writeFileSync(
			conf,
			[
				'server.modules += ( "mod_alias", "mod_cgi", "mod_setenv" )',
				'server.bind = "127.0.0.1"',
				`server.port = ${port}`,
				`server.document-root = "${dir}"`,
				`server.errorlog = "${dir}/error.log"`,
				`alias.url = ( "/api" => "${prog}" )`,
				'cgi.assign = ( ".fcgi" => "" )',
				`setenv.set-environment = ( "KVGATE_CONFIG" => "${ini}" )`,
			].join('\n') + '\n',
		);
		proc = spawn('lighttpd', ['-D', '-f', conf], { cwd: dir, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
	}
	let out = '';
	proc.stdout.on('data', (d) => (out += d));
	proc.stderr.on('data', (d) => (out += d));
	try {
		await S.waitFor(
			async () => {
				if (proc.exitCode !== null) throw new Error(`the server exited: ${out.slice(-1000)}`);
				return (await S.request(port, 'GET', '/', { timeout: 1000 })).status > 0;
			},
			10000,
			'the CGI server',
		);
		const ok = await S.request(port, 'GET', '/api/secrets/public-greeting', { headers: H });
		assert.equal(ok.status, 200, `${S.show(ok)}\n${S.redact(out).slice(-1500)}`);
		S.assertCommonHeaders(ok);
		S.assertCorsActual(ok, S.ALLOWED);
		const want = stack.seed.byName.get('public-greeting').latest.value;
		assert.ok(ok.json.value === want, 'the seeded value');
		S.assertError(await S.request(port, 'GET', '/api/secrets/admin-password', { headers: H }), 404, 'SecretNotFound');
		S.assertError(await S.request(port, 'GET', '/api/secrets/a_b', { headers: H }), 400, 'BadParameter');
		// One process per request in CGI mode: each start logs "ready".
		const readies = (out + (apache ? '' : fs.readFileSync(path.join(dir, 'error.log'), 'utf8'))).split('\n').filter((l) => /kvgate\[get-secret \d+\]: info: ready/.test(l));
		assert.ok(readies.length === 0 || new Set(readies.map((l) => l.split(']')[0])).size === readies.length, 'a new process per request');
	} finally {
		await S.terminate(proc);
	}
});

test(`${S.SERVER}: stopping leaves no kvgate program running; logs are clean`, async () => {
	for (const g of stack.gateways) {
		const r = await g.stop();
		assert.deepEqual(r.leftover, [], `nothing left for ${g.dir}`);
		assert.deepEqual(S.logLeaks(g), [], g.dir);
	}
});

test('every variable etc/lighttpd/kvgate.conf copies to the programs also reaches them under Apache', () => {
	const lconf = fs.readFileSync(path.join(S.ROOT, 'etc', 'lighttpd', 'kvgate.conf'), 'utf8');
	const m = /"bin-copy-environment"\s*=>\s*\(([^)]*)\)/.exec(lconf);
	const names = [...m[1].matchAll(/"([A-Z_]+)"/g)].map((x) => x[1]).filter((n) => n !== 'PATH');
	const aconf = fs.readFileSync(path.join(S.ROOT, 'etc', 'apache', 'kvgate-standalone.conf'), 'utf8');
	const serve = fs.readFileSync(path.join(S.ROOT, 'scripts', 'serve.sh'), 'utf8');
	for (const n of names) {
		assert.ok(aconf.includes(`<IfDefine KVGATE_PASS_${n}>`) && aconf.includes(`FcgidInitialEnv ${n} "\${${n}}"`), `kvgate-standalone.conf passes ${n}`);
		assert.ok(S.PASS_ENV.includes(n), `stack.js passes ${n}`);
		assert.ok(serve.includes(n), `serve.sh passes ${n}`);
	}
});

test(`${S.SERVER}: programs never outlive the web server: SIGKILL it and they exit (PR_SET_PDEATHSIG)`, async () => {
	// A gateway of its own, killed without any chance to retire its
	// programs; they must go by themselves (no orphan holding sockets).
	const g = await S.startGateway(vault, require('node:path').join(stack.dir, 'orphans'), {});
	try {
		await served(g, 'a request first, so every program has started');
		await g.request('OPTIONS', '/api/secrets', { headers: { ...H, 'Access-Control-Request-Method': 'GET' } });
		await g.get('/api/secrets', { headers: H });
		const pids = g.programs().map((p) => p.pid);
		assert.ok(pids.length >= 1, 'programs are running');
		// The server's main process (Apache: its parent of mod_fcgid's
		// process manager, which is what the programs' parent is).
		const victims = apache ? S.descendantsOf(g.proc.pid).filter((c) => !c.cmd.includes('.fcgi')).map((c) => c.pid).concat([g.proc.pid]) : [g.proc.pid];
		for (const pid of victims) {
			try {
				process.kill(pid, 'SIGKILL');
			} catch {
				/* gone */
			}
		}
		await S.waitFor(() => pids.every((pid) => !S.alive(pid)), 5000, 'the programs to exit after their web server died').catch(() => {});
		assert.deepEqual(pids.filter((pid) => S.alive(pid)), [], 'no program outlives its web server');
	} finally {
		await S.stopGateway(g).catch(() => {});
	}
});
