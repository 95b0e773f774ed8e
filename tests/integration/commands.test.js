'use strict';
/*
 * commands.test.js: the commands README gives a person, run as a person runs
 * them. `make run` must serve the SPA and the API, a second origin whose
 * preflight passes, and stop every child on Ctrl-C (SIGINT to the process
 * group, as a terminal sends it). `make serve` must run the gateway alone in
 * the foreground against any vault (here the dev vault started by the test,
 * standing in for a real one) and stop on SIGTERM.
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const S = require('./stack.js');

let vault;
let dir;

before(async () => {
	dir = S.tmpDir('commands');
	vault = await S.startVault(path.join(dir, 'vault'));
});

after(async () => {
	if (vault) await S.terminate(vault.proc);
	S.removeDir(dir);
});

// Start a make target in its own process group. Its output goes to a file,
// not a pipe: a process that outlived make (the failure the tests look for)
// would otherwise hold the pipe open and hang this test file.
let makes = 0;
function make(args, env = {}) {
	const file = path.join(dir, `make-${++makes}.out`);
	const fd = fs.openSync(file, 'w');
	const proc = spawn('make', ['--no-print-directory', ...args], {
		cwd: S.ROOT,
		detached: true,
		stdio: ['ignore', fd, fd],
		env: { ...process.env, ...env },
	});
	fs.closeSync(fd);
	Object.defineProperty(proc, 'out', { get: () => fs.readFileSync(file, 'utf8') });
	return proc;
}

// Kill what a failed test left behind (by environment), so that it cannot
// disturb the files after this one.
function reap(needle) {
	for (const pid of processesWithEnv(needle)) {
		try {
			process.kill(Number(pid), 'SIGKILL');
		} catch {
			/* gone */
		}
	}
}

// Every live process whose command line mentions needle.
function processesWith(needle) {
	const found = [];
	for (const d of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
		try {
			const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
			if (cmd.includes(needle) && S.alive(Number(d))) found.push(`${d}: ${cmd}`);
		} catch {
			/* gone */
		}
	}
	return found;
}

// Every live process whose environment holds the entry needle (exactly).
function processesWithEnv(needle) {
	const found = [];
	for (const d of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
		try {
			const env = fs.readFileSync(`/proc/${d}/environ`, 'utf8').split('\0');
			if (env.includes(needle) && S.alive(Number(d))) found.push(d);
		} catch {
			/* gone, or not ours to read */
		}
	}
	return found;
}

// Whether anything still accepts connections on port.
async function listening(port) {
	const r = await S.request(port, 'GET', '/', { timeout: 1000 });
	return r.status !== 0;
}

test('make run serves the SPA, the API and a second allowed origin, and Ctrl-C stops every child', async () => {
	const port = await S.freePort();
	let alt = port + 1;
	const proc = make(['run', `PORT=${port}`]);
	try {
		await S.waitFor(() => /kvgate is running/.test(proc.out) || proc.exitCode !== null, 60000, 'make run to print its URLs');
		assert.equal(proc.exitCode, null, `make run exited early:\n${S.redact(proc.out)}`);
		assert.match(proc.out, new RegExp(`http://127\\.0\\.0\\.1:${port}/`), 'prints the SPA URL');
		assert.match(proc.out, /curl /, 'prints a curl example');

		const page = await S.request(port, 'GET', '/');
		assert.equal(page.status, 200, 'the SPA is served at /');
		assert.match(page.headers['content-type'] || '', /^text\/html/, 'the SPA is HTML');
		assert.match(page.text, /<script[^>]+src=/, 'the SPA loads its script');

		const list = await S.request(port, 'GET', '/api/secrets');
		assert.equal(list.status, 200, `the API lists secrets\n${S.show(list)}`);
		assert.ok(Array.isArray(list.json.value) && 'nextLink' in list.json, 'a SecretListResult');

		const cfg = await S.request(alt, 'GET', '/config.js');
		assert.equal(cfg.status, 200, 'the second origin serves the SPA config');
		assert.ok(cfg.text.includes(`http://127.0.0.1:${port}/api`), 'the second origin points the SPA at the API');

		const pre = await S.request(port, 'OPTIONS', '/api/secrets', {
			headers: {
				Origin: `http://127.0.0.1:${alt}`,
				'Access-Control-Request-Method': 'GET',
				'Access-Control-Request-Headers': 'x-ms-client-request-id',
			},
		});
		assert.equal(pre.status, 204, `the dev policy allows the second origin's preflight\n${S.show(pre)}`);
		assert.equal(pre.headers['access-control-allow-origin'], `http://127.0.0.1:${alt}`);
	} finally {
		// Ctrl-C: SIGINT to the whole foreground process group.
		try {
			process.kill(-proc.pid, 'SIGINT');
		} catch {
			/* already gone */
		}
		const r = await Promise.race([S.exited(proc), S.sleep(15000).then(() => null)]);
		if (!r) {
			process.kill(-proc.pid, 'SIGKILL');
			assert.fail('make run did not stop within 15 s of Ctrl-C');
		}
	}
	await S.waitFor(async () => !(await listening(port)) && !(await listening(alt)), 5000, 'the ports to close');
	// Programs may take a moment to exit after lighttpd (longer under
	// sanitizers): wait for them, then insist.
	const ini = `KVGATE_CONFIG=${path.join(S.ROOT, 'run', 'dev', 'kvgate.ini')}`;
	await S.waitFor(() => processesWithEnv(ini).length === 0, 10000, 'the gateway programs to exit').catch(() => {});
	const stray = processesWithEnv(ini);
	reap(ini);
	assert.deepEqual(stray, [], 'no gateway program is left running');
	const left = processesWith(path.join(S.ROOT, 'run', 'dev'));
	assert.deepEqual(left, [], 'no child of make run is left running');
});

test('make serve runs the gateway alone against a given vault and stops on SIGTERM', async () => {
	const port = await S.freePort();
	const iniDir = path.join(dir, 'serve');
	fs.mkdirSync(iniDir, { recursive: true });
	const ini = path.join(iniDir, 'kvgate.ini');
	fs.writeFileSync(ini, S.policy(vault, iniDir, { gateway: { base_path: '/kv/v1' } }).text);
	const proc = make(['serve', `CONFIG=${ini}`, `PORT=${port}`]);
	try {
		await S.waitFor(() => listening(port), 30000, 'make serve to listen');
		const one = await S.request(port, 'GET', '/kv/v1/secrets/public-greeting');
		assert.equal(one.status, 200, `a secret through make serve\n${S.show(one)}`);
		assert.equal(one.json.id.split('/secrets/')[0], `http://127.0.0.1:${port}`, 'ids point at the gateway');
		const gw = { origin: `http://127.0.0.1:${port}`, base: '/kv/v1', vault, get: (p, o = {}) => S.request(port, 'GET', p, o) };
		const all = await S.walk(gw, '/kv/v1/secrets?maxresults=5');
		assert.ok(all.items.length > 5, 'following nextLink walks more than one page');
		assert.equal(new Set(all.items.map((i) => i.id)).size, all.items.length, 'no item twice');
	} finally {
		try {
			process.kill(-proc.pid, 'SIGTERM');
		} catch {
			/* already gone */
		}
		const r = await Promise.race([S.exited(proc), S.sleep(15000).then(() => null)]);
		if (!r) {
			process.kill(-proc.pid, 'SIGKILL');
			assert.fail('make serve did not stop within 15 s of SIGTERM');
		}
	}
	await S.waitFor(async () => !(await listening(port)), 5000, 'the port to close');
	await S.waitFor(() => processesWithEnv(`KVGATE_CONFIG=${ini}`).length === 0, 10000, 'the gateway programs to exit').catch(() => {});
	const stray = processesWithEnv(`KVGATE_CONFIG=${ini}`);
	reap(`KVGATE_CONFIG=${ini}`);
	assert.deepEqual(stray, [], 'no gateway program is left running');
	assert.deepEqual(processesWith(ini), [], 'neither make nor lighttpd is left running');
});

test('make serve refuses a bad policy before starting anything, naming section and key', async () => {
	const port = await S.freePort();
	const iniDir = path.join(dir, 'bad');
	fs.mkdirSync(iniDir, { recursive: true });
	const ini = path.join(iniDir, 'kvgate.ini');
	fs.writeFileSync(ini, S.policy(vault, iniDir, { cors: { max_age: '12abc' } }).text);
	const proc = make(['serve', `CONFIG=${ini}`, `PORT=${port}`]);
	const r = await Promise.race([S.exited(proc), S.sleep(30000).then(() => null)]);
	if (!r) process.kill(-proc.pid, 'SIGKILL');
	assert.ok(r && r.code !== 0, 'make serve exits non-zero');
	assert.match(proc.out, /\[cors\] max_age/, 'the problem names [cors] max_age');
	assert.equal(await listening(port), false, 'nothing listens');
});
