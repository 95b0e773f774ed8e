'use strict';
/*
 * reload.test.js: hot reload of the policy. Each process looks at the INI
 * at most once a second (one stat) before a request and swaps in a changed
 * file whole. Pins down: a good edit (renamed into place, or written in
 * place) takes effect within about a second with no restart; a broken edit
 * keeps the last good policy serving and logs every problem; the change is
 * logged; the same processes keep serving (no respawn).
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const S = require('./stack.js');

let st;

before(async () => {
	st = await S.startStack('reload');
});

after(async () => {
	if (st) await S.stopStack(st);
});

// Write the gateway's INI with overrides: atomically (write + rename, as
// editors and ConfigMaps do) or in place (truncate + write).
function writePolicy(overrides, { inPlace = false } = {}) {
	const text = S.policy(st.vault, path.dirname(st.gw.ini), overrides).text;
	if (inPlace) {
		fs.writeFileSync(st.gw.ini, text);
	} else {
		const tmp = `${st.gw.ini}.new`;
		fs.writeFileSync(tmp, text);
		fs.renameSync(tmp, st.gw.ini);
	}
}

// Poll until fn(response) holds, for at most ms; return the last response.
async function until(p, fn, ms = 4000, headers = {}) {
	const end = Date.now() + ms;
	let res;
	do {
		res = await st.gw.get(p, { headers });
		if (fn(res)) return res;
		await S.sleep(100);
	} while (Date.now() < end);
	return res;
}

test('a good edit renamed into place takes effect within about a second, without a restart', async () => {
	let res = await st.gw.get('/api/secrets/admin-password');
	assert.equal(res.status, 404, 'hidden before the edit');
	// After the first request: mod_fcgid starts a program on its first request.
	const pids = st.gw.programs().map((p) => p.pid).sort();
	const t0 = Date.now();
	writePolicy({ secrets: { allow: 'public-* demo-* admin-password', deny: '*-internal' } });
	res = await until('/api/secrets/admin-password', (r) => r.status === 200);
	assert.equal(res.status, 200, `visible after the edit\n${S.show(res)}`);
	assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
	assert.deepEqual(st.gw.programs().map((p) => p.pid).sort(), pids, 'the same processes serve: no restart');
	assert.match(st.gw.output(), /policy reloaded from /, 'the reload is logged');
});

test('a good edit written in place takes effect too', async () => {
	writePolicy({}, { inPlace: true });
	const res = await until('/api/secrets/admin-password', (r) => r.status === 404);
	assert.equal(res.status, 404, `hidden again after the in-place edit\n${S.show(res)}`);
});

test('a CORS edit applies to preflights: a newly allowed origin passes', async () => {
	const origin = 'https://new.example.org';
	const pre = () => st.gw.request('OPTIONS', '/api/secrets', { headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' } });
	assert.equal((await pre()).status, 403, 'refused before the edit');
	writePolicy({ cors: { allowed_origins: `${S.ALLOWED}, ${origin}` } });
	let res;
	const end = Date.now() + 4000;
	do {
		res = await pre();
		if (res.status === 204) break;
		await S.sleep(100);
	} while (Date.now() < end);
	assert.equal(res.status, 204, `allowed after the edit\n${S.show(res)}`);
	assert.equal(res.headers['access-control-allow-origin'], origin);
});

test('a broken edit keeps the last good policy serving and logs every problem', async () => {
	writePolicy({ cors: { allowed_origins: `${S.ALLOWED}, https://new.example.org` } });
	await S.sleep(1200);
	fs.writeFileSync(st.gw.ini, fs.readFileSync(st.gw.ini, 'utf8').replace(/max_age = 600/, 'max_age = 12abc').replace(/ttl = 60/, 'ttl = soon'));
	await S.sleep(1500);
	for (let i = 0; i < 3; i++) {
		const res = await st.gw.get('/api/secrets/public-greeting');
		assert.equal(res.status, 200, `still serving on the last good policy\n${S.show(res)}`);
	}
	const out = st.gw.output();
	assert.match(out, /\[cors\] max_age: /, 'the first problem is logged');
	assert.match(out, /\[cache\] ttl: /, 'the second problem is logged');
	assert.match(out, /keeping the last good policy/);
	const pre = await st.gw.request('OPTIONS', '/api/secrets', { headers: { Origin: 'https://new.example.org', 'Access-Control-Request-Method': 'GET' } });
	assert.equal(pre.status, 204, 'the last good policy (with the new origin) still answers');
});

test('fixing the broken file is picked up again', async () => {
	writePolicy({ secrets: { allow: 'public-* demo-* admin-password', deny: '*-internal' } });
	const res = await until('/api/secrets/admin-password', (r) => r.status === 200);
	assert.equal(res.status, 200, `the fixed file is loaded\n${S.show(res)}`);
});
