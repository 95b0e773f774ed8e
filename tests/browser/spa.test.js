'use strict';
/*
 * The demo SPA (www/) in a real browser: Debian's chromium (/usr/bin/chromium)
 * driven by playwright-core (pinned by tests/package-lock.json; it never
 * downloads a browser), headless. The SPA and the API are served by the real
 * web server: lighttpd with etc/lighttpd/kvgate.conf, started by
 * tests/integration/stack.js in front of the dev vault.
 *
 * Origins. Every page is served by the same lighttpd; what differs is the
 * host name the browser uses, and a different host is a different origin.
 * Chromium maps *.kvgate.test to 127.0.0.1 (--host-resolver-rules), so:
 *   http://127.0.0.1:P            the gateway's own origin (config.js: /api)
 *   http://spa.kvgate.test:P      a second origin, allowed by the policy
 *   http://evil.kvgate.test:P     an origin the policy does not allow
 * The cross-origin pages use ?api=http://127.0.0.1:P/api (or, for the
 * cookie test, http://api.kvgate.test:Q/api: same site as spa.kvgate.test,
 * so a SameSite=Lax cookie goes along, which is what a real deployment with
 * the SPA on www.example.com and the API on api.example.com looks like).
 *
 * Preflights are counted on the server: Chromium's preflights are not page
 * requests. lighttpd buffers its access log; SIGHUP (log reopen) flushes it
 * without stopping the server, so each test reads the lines it caused. That
 * is lighttpd's behaviour (Apache restarts on SIGHUP), so this file always
 * runs lighttpd, whatever KVGATE_TEST_SERVER says; the integration suite
 * covers both servers.
 *
 * Secret values are compared quietly and never printed. Screenshots go to
 * tests/screenshots/ (git-ignored).
 *
 * Run alone: node --test tests/browser/spa.test.js (after scripts/npm-deps.sh).
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const S = require('../integration/stack.js');

const { chromium } = require('playwright-core');

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(S.ROOT, 'tests', 'screenshots');
const ALLOW = 'public-* demo-*';
const DENY = '*-internal admin-*';
const COOKIE = 'kvgate_session';

let dir;
let vault;
let gw; // allow_credentials = false; allows spa.kvgate.test
let gwc; // allow_credentials = true; allows spa.kvgate.test
let browser;
let seed;

const host = (name, g) => `http://${name}.kvgate.test:${g.port}`;

before(async () => {
	assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/npm-deps.sh installs Debian's chromium`);
	fs.mkdirSync(SHOTS, { recursive: true });
	dir = S.tmpDir('browser');
	seed = S.loadSeed();
	vault = await S.startVault(path.join(dir, 'vault'));
	const secrets = { allow: ALLOW, deny: DENY };
	const p1 = await S.freePort();
	gw = await S.startGateway(vault, path.join(dir, 'gw'), {
		port: p1,
		server: 'lighttpd',
		overrides: { secrets, cors: { allowed_origins: `http://spa.kvgate.test:${p1}`, allowed_headers: 'x-ms-client-request-id', allow_credentials: 'false' } },
	});
	const p2 = await S.freePort();
	gwc = await S.startGateway(vault, path.join(dir, 'gwc'), {
		port: p2,
		server: 'lighttpd',
		overrides: { secrets, cors: { allowed_origins: `http://spa.kvgate.test:${p2}`, allowed_headers: 'x-ms-client-request-id', allow_credentials: 'true' } },
	});
	browser = await chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: [
			'--no-sandbox',
			'--disable-gpu',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync',
			'--no-first-run',
			'--host-resolver-rules=MAP *.kvgate.test 127.0.0.1',
		],
	});
});

after(async () => {
	if (browser) await browser.close();
	const leaks = [];
	for (const g of [gw, gwc]) {
		if (!g) continue;
		leaks.push(...S.logLeaks(g));
		await S.stopGateway(g);
	}
	if (vault) await vault.stop();
	S.removeDir(dir);
	assert.deepEqual(leaks, [], 'the gateway logs hold no secret');
});

/* ------------------------------------------------------------------ */

// The access log so far: a marker request, then SIGHUP, then wait until the
// marker is in the file (lighttpd flushes its buffered log on SIGHUP).
let flushes = 0;
async function accessLog(g) {
	const marker = `/favicon.svg?flush=${++flushes}`;
	await g.get(marker);
	process.kill(g.proc.pid, 'SIGHUP');
	return S.waitFor(
		() => {
			const t = g.log('access.log');
			return t.includes(`"GET ${marker} `) && t;
		},
		5000,
		'lighttpd to flush its access log on SIGHUP',
	);
}

// A mark in the access log and the programs' stderr; since() gives what came after.
async function mark(g) {
	return { lines: (await accessLog(g)).split('\n').length - 1, out: g.output().length };
}
async function since(g, m) {
	const lines = (await accessLog(g)).split('\n').slice(m.lines, -1);
	const api = lines.filter((l) => / "[A-Z]+ \/api\//.test(l));
	return {
		lines,
		options: api.filter((l) => /"OPTIONS \/api\//.test(l)),
		gets: api.filter((l) => /"GET \/api\//.test(l)),
		stderr: g.output().slice(m.out),
	};
}

// A new page in its own context; records the API requests it makes.
async function newPage(opts = {}) {
	const ctx = await browser.newContext();
	if (opts.cookies) await ctx.addCookies(opts.cookies);
	if (opts.credentials) await ctx.addInitScript((c) => (window.KVGATE_CREDENTIALS = c), opts.credentials);
	const page = await ctx.newPage();
	page.setDefaultTimeout(10000);
	page.apiRequests = [];
	page.apiResponses = [];
	page.on('request', (r) => {
		if (new URL(r.url()).pathname.startsWith('/api/')) page.apiRequests.push(r);
	});
	page.on('response', (r) => {
		if (new URL(r.url()).pathname.startsWith('/api/')) page.apiResponses.push(r);
	});
	page.close = ((close) => async () => {
		await close.call(page);
		await ctx.close();
	})(page.close);
	return page;
}

// Load the SPA and wait until its list is complete or has failed.
async function openSpa(page, url) {
	await page.goto(url);
	await page.waitForSelector('[data-testid=secret-list][data-complete=true], [data-testid=error]');
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

// Names a list shows: exposed by the policy, latest version enabled.
function listedNames() {
	return S.exposedSeed(seed, ALLOW, DENY)
		.filter((s) => s.enabled)
		.map((s) => s.name)
		.sort();
}

async function shownNames(page) {
	return (await page.locator('[data-testid=secret-item]').evaluateAll((els) => els.map((e) => e.getAttribute('data-name')))).sort();
}

// How many seeded values (any version) appear in the page's DOM text.
async function valuesInPage(page) {
	const html = await page.content();
	const text = await page.evaluate(() => document.documentElement.textContent);
	return S.secretValues().filter((v) => html.includes(v) || text.includes(v)).length;
}

// Open one secret in the SPA and check the revealed value against the seed.
async function revealAndCheck(page, name) {
	await page.locator(`[data-testid=secret-item][data-name="${name}"] a`).click();
	const detail = page.locator(`[data-testid=secret-detail][data-name="${name}"]`);
	await detail.waitFor();
	const value = page.locator('[data-testid=secret-value]');
	assert.equal(await value.getAttribute('data-revealed'), 'false', 'the value is hidden until Reveal');
	await page.locator('[data-testid=reveal]').click();
	await page.locator('[data-testid=secret-value][data-revealed=true]').waitFor();
	// A JSON value is shown re-indented; "Show raw" gives the exact text.
	if ((await value.getAttribute('data-format')) === 'json') {
		await page.locator('[data-testid=format-toggle]').click();
		await page.locator('[data-testid=secret-value][data-format=text]').waitFor();
	}
	const shown = await value.textContent();
	const want = seed.byName.get(name.toLowerCase()).latest.value;
	assert.ok(shown === want, `the revealed value of ${name} equals the seed (values not printed)`);
	assert.equal(await detail.getAttribute('data-version'), seed.byName.get(name.toLowerCase()).latest.id);
	// Hide it again: screenshots never show a value.
	await page.locator('[data-testid=reveal]').click();
	await page.locator('[data-testid=secret-value][data-revealed=false]').waitFor();
}

/* ------------------------------------------------------------------ */

test('same origin: the SPA lists and shows secrets, and no preflight is sent', async () => {
	const m = await mark(gw);
	const page = await newPage();
	try {
		await openSpa(page, `${gw.origin}/`);
		assert.equal(await page.locator('[data-testid=error]').count(), 0, 'no error box');
		assert.equal(await page.locator('[data-testid=origin-mode]').textContent(), 'same origin: no CORS involved');
		assert.deepEqual(await shownNames(page), listedNames(), 'the list shows exactly the secrets the policy exposes');
		assert.ok(Number(await page.locator('[data-testid=secret-list]').getAttribute('data-pages')) >= 1);
		await revealAndCheck(page, 'public-greeting');
		await shot(page, 'same-origin');
		// The requests carried the SDK-style custom header: cross-origin it would force a preflight.
		assert.ok(page.apiRequests.length >= 2, 'the SPA made API requests');
		for (const r of page.apiRequests) {
			assert.equal(r.method(), 'GET');
			assert.match((await r.allHeaders())['x-ms-client-request-id'] || '', /^[0-9a-f-]{36}$/, `x-ms-client-request-id on ${r.url()}`);
		}
	} finally {
		await page.close();
	}
	const log = await since(gw, m);
	assert.ok(log.gets.length >= 2, `the server saw the SPA's GETs (${log.gets.length})`);
	assert.deepEqual(log.options, [], 'the server saw no preflight (OPTIONS) at all');
});

test('second, allowed origin: the SPA works through a real preflight, seen by the server', async () => {
	const m = await mark(gw);
	const page = await newPage();
	try {
		await openSpa(page, `${host('spa', gw)}/?api=${gw.origin}/api`);
		assert.equal(await page.locator('[data-testid=error]').count(), 0, 'no error box');
		assert.match(await page.locator('[data-testid=origin-mode]').textContent(), /cross-origin/);
		assert.deepEqual(await shownNames(page), listedNames());
		await revealAndCheck(page, 'public-json-config');
		await shot(page, 'cross-origin-allowed');
		const res = page.apiResponses.find((r) => r.status() === 200);
		assert.equal(res.headers()['access-control-allow-origin'], host('spa', gw), 'the answer allows exactly this origin');
	} finally {
		await page.close();
	}
	const log = await since(gw, m);
	const ok = log.options.filter((l) => / 204 \d+$/.test(l) || / 200 \d+$/.test(l));
	assert.ok(ok.length >= 1, `the server answered a preflight with 2xx\n${log.options.join('\n')}`);
	assert.ok(log.options.some((l) => /"OPTIONS \/api\/secrets\/public-json-config HTTP/.test(l)), 'the preflight for the secret itself');
	assert.ok(log.gets.some((l) => /"GET \/api\/secrets\/public-json-config HTTP\/1\.1" 200 /.test(l)), 'then the GET, answered 200');
	assert.ok(!log.options.some((l) => / 403 /.test(l)), 'no refused preflight');
});

test('disallowed origin: fetch rejects, no secret reaches the page, the server logs the refusal', async () => {
	const m = await mark(gw);
	const page = await newPage();
	try {
		await openSpa(page, `${host('evil', gw)}/?api=${gw.origin}/api`);
		const err = page.locator('[data-testid=error]');
		assert.equal(await err.getAttribute('data-code'), 'NetworkError', 'the SPA shows a network error: fetch rejected');
		assert.equal(await err.getAttribute('data-status'), '0');
		assert.equal(await page.locator('[data-testid=secret-item]').count(), 0, 'no secret listed');
		// Ask for one secret directly too.
		await page.goto(`${host('evil', gw)}/?api=${gw.origin}/api#/secrets/public-greeting`);
		await page.locator('[data-testid=error][data-scope=detail]').waitFor();
		assert.equal(await page.locator('[data-testid=error][data-scope=detail]').getAttribute('data-code'), 'NetworkError');
		// And a plain fetch (a simple request: no preflight) rejects as well.
		const r = await page.evaluate(async (u) => {
			try {
				const res = await fetch(u);
				return { status: res.status };
			} catch (e) {
				return { rejected: e.name };
			}
		}, `${gw.origin}/api/secrets/public-greeting`);
		assert.deepEqual(r, { rejected: 'TypeError' }, 'fetch() rejects');
		assert.equal(await page.locator('[data-testid=secret-detail]').count(), 0, 'no secret detail');
		assert.equal(await valuesInPage(page), 0, 'no seeded value anywhere in the page');
		await shot(page, 'cross-origin-refused');
	} finally {
		await page.close();
	}
	const log = await since(gw, m);
	assert.ok(log.options.some((l) => / 403 \d+$/.test(l)), `the server refused a preflight with 403\n${log.options.join('\n')}`);
	assert.ok(!log.options.some((l) => / 204 \d+$/.test(l)), 'and accepted none');
	const origin = host('evil', gw);
	const refused = log.stderr.split('\n').filter((l) => /refused/.test(l) && l.includes(origin));
	assert.ok(refused.length >= 1, `the programs logged a refusal naming ${origin}\n${S.redact(log.stderr).slice(-1500)}`);
	assert.ok(log.gets.every((l) => !/ 200 \d+$/.test(l)), `no GET from that origin was answered 200\n${log.gets.join('\n')}`);
});

test('allow_credentials = true: a cookie-carrying request works from the allowed origin and fails from others', async () => {
	const api = `${host('api', gwc)}/api`;
	const cookies = [{ name: COOKIE, value: 'test-session-1', domain: 'api.kvgate.test', path: '/', sameSite: 'Lax', httpOnly: true }];
	const m = await mark(gwc);

	// The allowed origin: the SPA itself sends credentials: 'include'.
	let page = await newPage({ cookies, credentials: 'include' });
	try {
		await openSpa(page, `${host('spa', gwc)}/?api=${api}`);
		assert.equal(await page.locator('[data-testid=error]').count(), 0, 'no error box');
		assert.deepEqual(await shownNames(page), listedNames());
		await revealAndCheck(page, 'public-greeting');
		const gets = page.apiRequests.filter((r) => r.method() === 'GET');
		assert.ok(gets.length >= 2);
		for (const r of gets) assert.match((await r.allHeaders()).cookie || '', new RegExp(`(^|; )${COOKIE}=`), `the cookie went with ${r.url()}`);
		for (const r of page.apiResponses) {
			assert.equal(r.headers()['access-control-allow-origin'], host('spa', gwc), 'exact origin, never *');
			assert.equal(r.headers()['access-control-allow-credentials'], 'true');
		}
		// A simple (unpreflighted) credentialed fetch from page code works too.
		const want = seed.byName.get('public-greeting').latest.value;
		const r = await page.evaluate(
			async ([u, w]) => {
				try {
					const res = await fetch(u, { credentials: 'include' });
					const b = await res.json();
					return { status: res.status, same: b.value === w };
				} catch (e) {
					return { rejected: e.name };
				}
			},
			[`${api}/secrets/public-greeting`, want],
		);
		assert.deepEqual(r, { status: 200, same: true });
		await shot(page, 'credentials-allowed');
	} finally {
		await page.close();
	}

	// Another origin of the same site: the cookie goes along, the browser refuses the answer.
	page = await newPage({ cookies, credentials: 'include' });
	try {
		await openSpa(page, `${host('evil', gwc)}/?api=${api}`);
		assert.equal(await page.locator('[data-testid=error]').getAttribute('data-code'), 'NetworkError');
		assert.equal(await page.locator('[data-testid=secret-item]').count(), 0);
		const r = await page.evaluate(async (u) => {
			try {
				const res = await fetch(u, { credentials: 'include' });
				return { status: res.status };
			} catch (e) {
				return { rejected: e.name };
			}
		}, `${api}/secrets/public-greeting`);
		assert.deepEqual(r, { rejected: 'TypeError' }, 'the cookie-carrying fetch rejects');
		// (The cookie goes with it: SameSite is per site, and this origin is of
		// the same site as the allowed one, whose requests carried it above.
		// Playwright does not show the headers of a request CORS then failed.)
		assert.ok(page.apiRequests.some((q) => q.url().endsWith('/api/secrets/public-greeting')), 'the simple request was sent');
		assert.equal(await valuesInPage(page), 0, 'no seeded value anywhere in the page');
		await shot(page, 'credentials-refused');
	} finally {
		await page.close();
	}

	const log = await since(gwc, m);
	assert.ok(log.options.some((l) => / 204 \d+$/.test(l)), 'preflights from the allowed origin were accepted');
	assert.ok(log.options.some((l) => / 403 \d+$/.test(l)), 'a preflight from the other origin was refused');
	assert.ok(log.stderr.split('\n').some((l) => /refused/.test(l) && l.includes(host('evil', gwc))), `the refusal was logged\n${S.redact(log.stderr).slice(-1500)}`);
});

// The error box of a detail view: status, code and the envelope's message.
async function detailError(page) {
	const box = page.locator('[data-testid=error][data-scope=detail]');
	await box.waitFor();
	return {
		kind: ((await box.getAttribute('class')) || '').split(/\s+/).find((c) => c.startsWith('error-') && c !== 'error-box'),
		status: await box.getAttribute('data-status'),
		code: await box.getAttribute('data-code'),
		message: await box.locator('.error-message').textContent(),
	};
}

test('a 404 (missing secret) is readable by the SPA, same origin and cross origin', async () => {
	const direct = await gw.get('/api/secrets/public-no-such-secret');
	S.assertError(direct, 404, 'SecretNotFound');
	for (const [label, url] of [
		['same-origin', `${gw.origin}/`],
		['cross-origin', `${host('spa', gw)}/?api=${gw.origin}/api`],
	]) {
		const page = await newPage();
		try {
			await page.goto(`${url}#/secrets/public-no-such-secret`);
			const e = await detailError(page);
			assert.deepEqual(e, { kind: 'error-http', status: '404', code: 'SecretNotFound', message: direct.json.error.message }, `${label}: the envelope is shown`);
			await shot(page, `error-404-${label}`);
		} finally {
			await page.close();
		}
	}
});

test('a 502 (the vault fails) is readable by the SPA across origins', async () => {
	const name = 'public-app-title'; // not fetched (so not cached) by any earlier test
	await vault.fault({ target: 'vault', mode: 'status', status: 500, path: `/secrets/${name}` });
	try {
		const page = await newPage();
		try {
			await page.goto(`${host('spa', gw)}/?api=${gw.origin}/api#/secrets/${name}`);
			const e = await detailError(page);
			assert.equal(e.kind, 'error-http', 'an HTTP answer, not an opaque network error');
			assert.equal(e.status, '502');
			assert.equal(e.code, 'BadGateway');
			assert.ok(e.message.length > 0, 'the envelope message is shown');
			assert.equal(await page.locator('[data-testid=secret-value]').count(), 0);
			await shot(page, 'error-502');
		} finally {
			await page.close();
		}
	} finally {
		await vault.clearFaults();
	}
});
