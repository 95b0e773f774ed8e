'use strict';
/*
 * Secret hygiene of the running programs (issue 8): behind the real web
 * server, every kvgate program process has core dumps off (RLIMIT_CORE 0,
 * so a crash never writes the client secret, a token or a secret value to
 * disk) and is not dumpable (PR_SET_DUMPABLE 0: /proc/PID/mem and ptrace
 * are closed to other processes of its user; the kernel then owns its
 * /proc files), and its shared cache segment is excluded from dumps.
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const S = require('./stack.js');

let stack, gw;

before(async () => {
	stack = await S.startStack('hardening', { procs: 2 });
	({ gw } = stack);
	// Start every program: a preflight, a secret, a list.
	await gw.request('OPTIONS', '/api/secrets/public-greeting', { headers: { Origin: S.ALLOWED, 'Access-Control-Request-Method': 'GET' } });
	await gw.get('/api/secrets/public-greeting', { headers: { Origin: S.ALLOWED } });
	await gw.get('/api/secrets?maxresults=2', { headers: { Origin: S.ALLOWED } });
});

after(async () => {
	await S.stopStack(stack);
});

function programs() {
	return gw.programs().filter((c) => S.PROGRAMS.some((p) => c.cmd.includes(`${p}.fcgi`)));
}

test('every program process has core dumps off (RLIMIT_CORE 0)', () => {
	const procs = programs();
	assert.ok(procs.length >= 3, `the three programs run (${procs.length} processes)`);
	for (const p of procs) {
		const limits = fs.readFileSync(`/proc/${p.pid}/limits`, 'utf8');
		assert.match(limits, /^Max core file size\s+0\s+0\s+bytes/m, `${p.cmd}: ${limits.split('\n').find((l) => l.startsWith('Max core'))}`);
	}
});

test('every program process is not dumpable: its /proc files belong to root, whoever runs it', () => {
	for (const p of programs()) {
		const st = fs.statSync(`/proc/${p.pid}/mem`);
		assert.equal(st.uid, 0, `${p.cmd}: /proc/${p.pid}/mem owned by root (not dumpable)`);
		// A process that runs as another user and is dumpable would own it.
		const uid = Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${p.pid}/status`, 'utf8'))[1]);
		if (uid !== 0) assert.notEqual(st.uid, uid, `${p.cmd}: not owned by its own user ${uid}`);
	}
});

test('the shared cache segment is mapped out of core dumps (dd: MADV_DONTDUMP)', () => {
	let seen = 0;
	for (const p of programs()) {
		const smaps = fs.readFileSync(`/proc/${p.pid}/smaps`, 'utf8');
		for (const block of smaps.split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
			if (!/\/dev\/shm\/kvgate-/.test(block.split('\n')[0])) continue;
			seen++;
			assert.match(block, /^VmFlags:.*\bdd\b/m, `${p.cmd}: the segment is marked do-not-dump`);
		}
	}
	assert.ok(seen >= 1, 'a program maps the segment');
});
