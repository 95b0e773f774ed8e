'use strict';
/*
 * Bad input is refused at the edge, before any upstream call (the dev
 * vault's counters must not move): bad names and versions, encodings that
 * could smuggle a '/' or '..' into a name, NUL and control bytes, over-long
 * path and query, unknown or repeated parameters, maxresults out of range.
 * Where the programs answer, it is 400 BadParameter in Key Vault's envelope
 * with the common headers (and CORS headers for an allowed origin). A few
 * byte-level cases are refused by lighttpd itself (400 without our
 * envelope): those only need the 400 and silence upstream; each such case
 * is reported with a diagnostic line.
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const S = require('./stack.js');

let stack, gw, vault;

before(async () => {
	stack = await S.startStack('badinput');
	({ gw, vault } = stack);
});

after(async () => {
	await S.stopStack(stack);
});

// A request the programs must answer with our 400 envelope, no upstream call.
async function expect400(p, { origin = S.ALLOWED, method = 'GET' } = {}) {
	const res = await S.noUpstream(vault, () => gw.request(method, p, { headers: origin ? { Origin: origin } : {} }), `${method} ${p.slice(0, 80)}`);
	S.assertError(res, 400, 'BadParameter');
	if (origin) S.assertCorsActual(res, origin);
	assert.ok(!res.text.includes('HIDDEN'), 'no hidden value');
	return res;
}

// Encoded control bytes: lighttpd's url-ctrls-reject may refuse them itself.
async function expectLenient400(t, p) {
	const res = await S.noUpstream(vault, () => gw.get(p, { headers: { Origin: S.ALLOWED } }), `GET ${p}`);
	if (gw.server === 'apache' && p.split('?')[0].includes('%00')) {
		// Apache decodes the path before any handler runs and refuses an
		// encoded NUL itself with 404 (ap_unescape_url): its own HTML page,
		// no Access-Control-* header, the programs never see the request.
		assert.equal(res.status, 404, `Apache's own 404 for %00 in the path\n${S.show(res)}`);
		assert.ok(!(res.json && res.json.error), `not the programs' envelope\n${S.show(res)}`);
		S.assertNoCors(res);
		t.diagnostic(`refused by apache before the program (404, no Key Vault envelope): ${p}`);
		return;
	}
	assert.equal(res.status, 400, S.show(res));
	if (res.json && res.json.error) {
		S.assertError(res, 400, 'BadParameter');
		S.assertCorsActual(res, S.ALLOWED);
	} else {
		t.diagnostic(`refused by ${gw.server} before the program (no Key Vault envelope): ${p}`);
	}
}

// A raw request that must get a 400 (ours, or lighttpd's) and no upstream call.
async function expectRaw400(t, target, extraHeaders = '') {
	const bytes = Buffer.concat([Buffer.from('GET '), Buffer.isBuffer(target) ? target : Buffer.from(target, 'latin1'), Buffer.from(` HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nOrigin: ${S.ALLOWED}\r\n${extraHeaders}Connection: close\r\n\r\n`)]);
	const res = await S.noUpstream(vault, () => gw.raw(bytes), 'a raw request');
	assert.equal(res.status, 400, `status 400\n${res.raw ? S.redact(res.raw.slice(0, 800)) : ''}`);
	const ours = res.json && res.json.error && res.json.error.code === 'BadParameter';
	if (ours) {
		S.assertCommonHeaders(res);
		S.assertCorsActual(res, S.ALLOWED);
	} else {
		t.diagnostic(`refused by ${gw.server} before the program (no Key Vault envelope): ${S.redact(res.raw.split('\r\n')[0])}`);
	}
	return res;
}

/* ---------------- names ---------------- */

const name128 = 'public-' + 'a'.repeat(121);

for (const [what, p] of [
	['underscore in the name', '/api/secrets/a_b'],
	['dot in the name', '/api/secrets/a.b'],
	['dot in an allowed-looking name', '/api/secrets/public-greeting.json'],
	['tilde in the name', '/api/secrets/public~x'],
	['a 128-character name', `/api/secrets/${name128}`],
	['a 128-character name on /versions', `/api/secrets/${name128}/versions`],
	['a bad name on /versions', '/api/secrets/a_b/versions'],
	['a bad name with a version', '/api/secrets/a_b/0123456789abcdef0123456789abcdef'],
	['a name made of a quote', "/api/secrets/public-'x"],
	['a name with a colon', '/api/secrets/public:x'],
	['a name with a semicolon parameter', '/api/secrets/public-greeting;v=1'],
	['a name with an at-sign', '/api/secrets/public@x'],
]) {
	test(`${what} (${p.slice(0, 60)}) answers 400 BadParameter before any upstream call`, async () => {
		await expect400(p);
	});
}

test('a 127-character name is valid syntax (404 when missing), 128 is 400: the boundary is exact', async () => {
	const n127 = 'public-' + 'b'.repeat(120);
	assert.equal(n127.length, 127);
	const res = await gw.get(`/api/secrets/${n127}`);
	S.assertError(res, 404, 'SecretNotFound');
	await expect400(`/api/secrets/${n127}b`);
});

/* ---------------- versions ---------------- */

for (const [what, v] of [
	['31 hex characters', '0123456789abcdef0123456789abcde'],
	['33 hex characters', '0123456789abcdef0123456789abcdef0'],
	['32 non-hex characters', 'g123456789abcdef0123456789abcdez'],
	['a dashed GUID', '01234567-89ab-cdef-0123-456789abcdef'],
	['a word', 'latest'],
]) {
	test(`a version of ${what} answers 400 BadParameter before any upstream call`, async () => {
		await expect400(`/api/secrets/public-rotating/${v}`);
	});
}

/* ---------------- path tricks ---------------- */

for (const [what, p, lenient] of [
	['%2F inside the name', '/api/secrets/public-greeting%2Fversions'],
	['%2f smuggling a hidden name', '/api/secrets/public-x%2f..%2fadmin-password'],
	['%2F as the whole name', '/api/secrets/%2F'],
	['.. climbing back into secrets', '/api/secrets/../secrets/public-greeting'],
	['.. climbing out of a name', '/api/secrets/public-greeting/..'],
	['.. reaching a hidden secret', '/api/secrets/public-x/../admin-password'],
	['. segment', '/api/secrets/./public-greeting'],
	['%2e%2e encoded dot segment', '/api/secrets/%2e%2e/secrets/public-greeting'],
	['%2E%2E trailing encoded dot segment', '/api/secrets/public-greeting/%2E%2E'],
	['%2e encoded single dot', '/api/secrets/%2e/public-greeting'],
	['%00 encoded NUL after the name', '/api/secrets/public-greeting%00', true],
	['%00 encoded NUL inside the name', '/api/secrets/public%00-greeting', true],
	['%0a encoded newline', '/api/secrets/public-greeting%0a', true],
	['%20 encoded space', '/api/secrets/public%20greeting'],
	['percent-encoded ordinary letters', '/api/secrets/%70ublic-greeting'],
	['a bare % sign', '/api/secrets/public-%', true],
	['extra path segments a/b/c', '/api/secrets/a/b/c'],
	['a segment after versions', '/api/secrets/public-rotating/versions/extra'],
	['a segment after the version', '/api/secrets/public-rotating/0123456789abcdef0123456789abcdef/x'],
	['an empty name (//)', '/api/secrets//public-greeting'],
	['an empty name and version', '/api/secrets//'],
	['a double slash after the name', '/api/secrets/public-greeting//'],
]) {
	test(`${what} (${p}) answers 400 BadParameter before any upstream call`, async (t) => {
		if (lenient) await expectLenient400(t, p);
		else await expect400(p);
	});
}

for (const p of ['/api', '/api/', '/api/keys/x', '/api/secretsX', '/api/deletedsecrets', '/api/secrets-x/public-greeting', '/api/certificates/public-greeting']) {
	test(`an unknown route under the base path (${p}) answers a 4xx in the Key Vault envelope, no upstream call`, async () => {
		const res = await S.noUpstream(vault, () => gw.get(p, { headers: { Origin: S.ALLOWED } }), `GET ${p}`);
		assert.ok(res.status === 400 || res.status === 404, S.show(res));
		S.assertError(res, res.status, res.status === 400 ? 'BadParameter' : res.json && res.json.error ? res.json.error.code : 'NotFound');
		S.assertCorsActual(res, S.ALLOWED);
	});
}

test('an over-long path (> 1024 bytes) answers 400 BadParameter before any upstream call', async () => {
	await expect400(`/api/secrets/public-${'a'.repeat(1100)}`);
	await expect400(`/api/secrets/${'a/'.repeat(520)}x`);
});

test('an over-long query (> 3072 bytes) answers 400 BadParameter before any upstream call', async () => {
	await expect400(`/api/secrets?api-version=7.6&$skiptoken=${'A'.repeat(3100)}`);
	await expect400(`/api/secrets/public-greeting?api-version=7.6${'&'.repeat(3100)}`);
});

test('a very long request line (8 KB) is refused with a 4xx and no upstream call', async () => {
	const res = await S.noUpstream(vault, () => gw.get(`/api/secrets?x=${'a'.repeat(8000)}`), 'an 8 KB request line');
	assert.ok(res.status >= 400 && res.status < 500, `4xx\n${S.show(res)}`);
});

/* ---------------- query ---------------- */

for (const [what, q] of [
	['an unknown query parameter', '?foo=bar'],
	['an unknown parameter beside api-version', '?api-version=7.6&x=1'],
	['skiptoken without $', '?skiptoken=abc'],
	['repeated api-version', '?api-version=7.6&api-version=7.6'],
	['repeated api-version with different values', '?api-version=7.6&api-version=2016-10-01'],
	['an api-version with an encoded NUL', '?api-version=7.6%00'],
	['an api-version with an encoded quote', '?api-version=7.6%22'],
	['an api-version with a slash', '?api-version=7.6/x'],
	['an over-long api-version', `?api-version=${'7'.repeat(40)}`],
	['a parameter without a value', '?api-version'],
	['a maxresults on a single secret', '?maxresults=5'],
]) {
	test(`${what} (${q.slice(0, 50)}) on GET one secret answers 400 BadParameter before any upstream call`, async (t) => {
		if (q.includes('%00')) return expectLenient400(t, `/api/secrets/public-greeting${q}`);
		if (q === '?maxresults=5') {
			// design.md lists maxresults for lists; refusing or ignoring it on a get are both
			// safe, so only an upstream-free 400 or a 200 is accepted here.
			const res = await gw.get(`/api/secrets/public-greeting${q}`);
			assert.ok(res.status === 400 || res.status === 200, S.show(res));
			return;
		}
		await expect400(`/api/secrets/public-greeting${q}`);
	});
}

for (const [what, q] of [
	['maxresults=0', '?maxresults=0'],
	['maxresults=26', '?maxresults=26'],
	['maxresults=-1', '?maxresults=-1'],
	['maxresults=abc', '?maxresults=abc'],
	['maxresults= (empty)', '?maxresults='],
	['maxresults repeated', '?maxresults=5&maxresults=5'],
	['maxresults=1.5', '?maxresults=1.5'],
	['maxresults=100', '?maxresults=100'],
	['maxresults=+5', '?maxresults=%2B5'],
	['maxresults=05', '?maxresults=05'],
	['maxresults=99999999999999999999', '?maxresults=99999999999999999999'],
	['an unknown parameter on the list', '?top=5'],
	['repeated api-version on the list', '?api-version=7.6&api-version=7.6'],
	['repeated $skiptoken', '?$skiptoken=abc&$skiptoken=abc'],
]) {
	test(`${what} on GET /api/secrets answers 400 BadParameter and makes no upstream call`, async () => {
		await expect400(`/api/secrets${q}`);
	});
	if (/maxresults=(0|26|abc)$/.test(q))
		test(`${what} on GET /api/secrets/{name}/versions answers 400 BadParameter and makes no upstream call`, async () => {
			await expect400(`/api/secrets/public-rotating/versions${q}`);
		});
}

test('maxresults=1 and maxresults=25 (the bounds) are accepted', async () => {
	for (const n of [1, 25]) {
		const res = await gw.get(`/api/secrets?maxresults=${n}`);
		assert.equal(res.status, 200, S.show(res));
		assert.ok(res.json.value.length <= n, `at most ${n} items`);
	}
});

/* ---------------- byte level ---------------- */

test('a raw NUL byte in the path is refused with 400 and no upstream call', async (t) => {
	await expectRaw400(t, Buffer.from('/api/secrets/public-greeting\0admin-password', 'latin1'));
});

test('a raw control byte (0x01) in the path is refused with 400 and no upstream call', async (t) => {
	await expectRaw400(t, '/api/secrets/public-gr\x01eeting');
});

test('a raw DEL byte (0x7f) in the path is refused with 400 and no upstream call', async (t) => {
	await expectRaw400(t, '/api/secrets/public-greeting\x7f');
});

test('raw non-ASCII bytes (UTF-8) in the name are refused with 400 and no upstream call', async (t) => {
	await expectRaw400(t, Buffer.from('/api/secrets/public-gr\u00e9eting', 'utf8'));
});

test('a backslash in the path (\\..\\) is refused with 400 and no upstream call', async (t) => {
	await expectRaw400(t, '/api/secrets/public-x\\..\\admin-password');
});

test('a raw NUL byte in the query is refused with 400 and no upstream call', async (t) => {
	await expectRaw400(t, Buffer.from('/api/secrets?api-version=7.6\0', 'latin1'));
});

test('a NUL byte inside the Origin header is refused (400 or 403), without CORS headers or upstream call', async () => {
	const bytes = Buffer.from(`GET /api/secrets/public-greeting HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nOrigin: ${S.ALLOWED}\0.evil\r\nConnection: close\r\n\r\n`, 'latin1');
	const res = await S.noUpstream(vault, () => gw.raw(bytes), 'NUL in Origin');
	assert.ok(res.status === 400 || res.status === 403, `400 or 403\n${S.redact(res.raw.slice(0, 600))}`);
	S.assertNoCors(res);
});

test('two Origin headers (one allowed, one not) never earn an Access-Control-Allow-Origin', async (t) => {
	const bytes = `GET /api/secrets/public-greeting HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nOrigin: ${S.ALLOWED}\r\nOrigin: ${S.EVIL}\r\nConnection: close\r\n\r\n`;
	const res = await gw.raw(bytes);
	assert.ok(res.status === 400 || res.status === 403, `400 or 403 for an ambiguous Origin\n${S.redact(res.raw.slice(0, 800))}`);
	S.assertNoCors(res);
	t.diagnostic(`two Origin headers -> ${res.status}`);
});

test('two identical allowed Origin headers are not echoed as a merged value', async () => {
	const bytes = `GET /api/secrets/public-greeting HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nOrigin: ${S.ALLOWED}\r\nOrigin: ${S.ALLOWED}\r\nConnection: close\r\n\r\n`;
	const res = await gw.raw(bytes);
	const acao = res.headers['access-control-allow-origin'];
	assert.ok(acao === undefined || acao === S.ALLOWED, `ACAO is absent or exactly one origin, got ${acao}\n${S.redact(res.raw.slice(0, 800))}`);
	if (res.status !== 200) S.assertNoCors(res);
});

test('an Origin longer than 512 bytes is refused with 403 and no Access-Control-* header', async () => {
	const origin = `https://${'a'.repeat(600)}.example`;
	const res = await S.noUpstream(vault, () => gw.get('/api/secrets/public-greeting', { headers: { Origin: origin } }), 'a long Origin');
	S.assertError(res, 403, 'Forbidden');
	S.assertNoCors(res);
});

test('an HTTP/1.0 request without Host is still checked: bad name gives 400, no upstream call', async () => {
	const res = await S.noUpstream(vault, () => gw.raw('GET /api/secrets/a_b HTTP/1.0\r\n\r\n'), 'HTTP/1.0');
	assert.equal(res.status, 400, S.redact(res.raw.slice(0, 600)));
});

test('a request with an absolute-form target to another host is not proxied: no upstream call, no secret', async () => {
	const res = await S.noUpstream(
		vault,
		() => gw.raw(`GET http://127.0.0.1:${vault.port}/secrets/admin-password HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nConnection: close\r\n\r\n`),
		'absolute-form',
	);
	assert.ok(res.status >= 400, `refused\n${S.redact(res.raw.slice(0, 600))}`);
	assert.ok(!res.text.includes('HIDDEN'), 'no hidden value');
});

/* ---------------- answers to bad input ---------------- */

test('a 400 message never quotes the request (no reflection of the bad name)', async () => {
	const res = await expect400('/api/secrets/evil_%3Cscript%3E');
	assert.ok(!res.text.includes('script'), `the message does not echo the input\n${S.show(res)}`);
	const res2 = await expect400('/api/secrets/public-greeting?injected_param_xyz=1');
	assert.ok(!res2.text.includes('injected_param_xyz'), `the message does not echo the parameter\n${S.show(res2)}`);
});

test('a bad request from a disallowed origin is still refused (403 or 400), never with CORS headers', async () => {
	const res = await S.noUpstream(vault, () => gw.get('/api/secrets/a_b', { headers: { Origin: S.EVIL } }), 'bad input from evil origin');
	assert.ok(res.status === 403 || res.status === 400, S.show(res));
	S.assertNoCors(res);
	S.assertCommonHeaders(res);
});

test(`SIGTERM to ${S.SERVER} leaves no kvgate program running`, async () => {
	const r = await gw.stop();
	assert.deepEqual(r.leftover, [], 'no kvgate program left running');
});

test('logs hold no secret value, client secret or token, and no raw control byte from hostile requests', async () => {
	assert.deepEqual(S.logLeaks(gw), [], 'logs leak');
	for (const text of [gw.log('error.log'), gw.output()]) assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(text), 'no raw control byte in the error log or program log lines');
});
