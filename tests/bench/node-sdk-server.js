'use strict';
/*
 * node-sdk-server.js: the "node + SDK" baseline of `make bench`, what people
 * deploy today in front of Key Vault: a small Node HTTP server with an
 * express-cors-like Origin check and the official SDK (@azure/keyvault-secrets
 * SecretClient with @azure/identity's ClientSecretCredential, the versions
 * pinned in tests/package.json), doing one uncached getSecret per request.
 * node:http rather than Express (not installed): Express's router adds a
 * little per request, so this is, if anything, the baseline's best case.
 *
 * Routes: OPTIONS * (a preflight the way the cors package answers it) and
 * GET/HEAD /api/secrets/{name}[/{version}], answered with the secret in
 * Key Vault's SecretBundle shape. Errors: {"error":{"code","message"}} with
 * the SDK's status (404, 403...), 502 otherwise.
 *
 * Environment (set by tests/bench/bench.js): VAULT_URL, AZURE_TENANT_ID,
 * AZURE_CLIENT_ID, CLIENT_SECRET_FILE, AZURE_AUTHORITY_HOST, ALLOWED_ORIGINS
 * (spaces or commas), PORT (0 picks one), NODE_EXTRA_CA_CERTS (the dev
 * vault's CA; Node reads it at start). Prints one line when ready:
 * "node-sdk-server: listening on http://127.0.0.1:PORT". Not installed;
 * benchmark only.
 */
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const modules = path.join(__dirname, '..', 'node_modules');
const { SecretClient } = require(path.join(modules, '@azure', 'keyvault-secrets'));
const { ClientSecretCredential } = require(path.join(modules, '@azure', 'identity'));

function need(name) {
	const v = process.env[name];
	if (!v) {
		process.stderr.write(`node-sdk-server: ${name} is not set\n`);
		process.exit(2);
	}
	return v;
}

const allowed = new Set(need('ALLOWED_ORIGINS').split(/[\s,]+/).filter(Boolean));
const credential = new ClientSecretCredential(need('AZURE_TENANT_ID'), need('AZURE_CLIENT_ID'), fs.readFileSync(need('CLIENT_SECRET_FILE'), 'utf8').trim(), {
	authorityHost: need('AZURE_AUTHORITY_HOST'),
	// The dev vault is no Azure cloud: no instance discovery, and its
	// challenge names https://vault.azure.net although the host is 127.0.0.1.
	disableInstanceDiscovery: true,
});
const client = new SecretClient(need('VAULT_URL'), credential, { disableChallengeResourceVerification: true });

const NAME_RE = /^[0-9A-Za-z-]{1,127}$/;
const VERSION_RE = /^[0-9A-Fa-f]{32}$/;

// What the cors middleware does with { origin: [...allowed] }: reflect an
// allowed Origin and add Vary: Origin; say nothing to the others.
function cors(req, headers) {
	headers.Vary = 'Origin';
	const origin = req.headers.origin;
	if (origin !== undefined && allowed.has(origin)) headers['Access-Control-Allow-Origin'] = origin;
}

function send(req, res, status, headers, obj) {
	const body = obj === undefined ? '' : JSON.stringify(obj);
	const h = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...headers };
	if (obj !== undefined) h['Content-Type'] = 'application/json; charset=utf-8';
	h['Content-Length'] = Buffer.byteLength(body);
	cors(req, h);
	res.writeHead(status, h);
	res.end(req.method === 'HEAD' ? undefined : body);
}

function error(req, res, status, code, message) {
	send(req, res, status, {}, { error: { code, message } });
}

// The SDK's KeyVaultSecret back in Key Vault's SecretBundle shape.
function bundle(s) {
	const p = s.properties;
	const secs = (d) => (d ? Math.floor(d.getTime() / 1000) : undefined);
	return {
		value: s.value,
		contentType: p.contentType,
		id: p.id,
		attributes: { enabled: p.enabled, nbf: secs(p.notBefore), exp: secs(p.expiresOn), created: secs(p.createdOn), updated: secs(p.updatedOn), recoveryLevel: p.recoveryLevel, recoverableDays: p.recoverableDays },
		tags: p.tags,
	};
}

async function getSecret(req, res, name, version) {
	try {
		const s = await client.getSecret(name, version ? { version } : {});
		send(req, res, 200, {}, bundle(s));
	} catch (e) {
		const status = e && Number.isInteger(e.statusCode) ? e.statusCode : 0;
		if (status === 404 || status === 403) error(req, res, 404, 'SecretNotFound', `A secret with (name/id) ${name} was not found.`);
		else error(req, res, 502, 'BadGateway', `The vault answered ${status || 'nothing'}.`);
	}
}

const server = http.createServer((req, res) => {
	const url = req.url || '/';
	const p = url.split('?')[0];
	if (req.method === 'OPTIONS') {
		const h = {};
		if (allowed.has(req.headers.origin)) {
			h['Access-Control-Allow-Methods'] = 'GET,HEAD';
			const rh = req.headers['access-control-request-headers'];
			if (rh) h['Access-Control-Allow-Headers'] = rh;
			h['Access-Control-Max-Age'] = '600';
		}
		send(req, res, 204, h, undefined);
		return;
	}
	if (req.headers.origin !== undefined && !allowed.has(req.headers.origin)) {
		error(req, res, 403, 'Forbidden', 'Origin not allowed.');
		return;
	}
	const m = /^\/api\/secrets\/([^/]+)(?:\/([^/]*))?\/?$/.exec(p);
	if (!m || (req.method !== 'GET' && req.method !== 'HEAD')) {
		error(req, res, m ? 405 : 404, m ? 'MethodNotAllowed' : 'NotFound', 'No such route.');
		return;
	}
	if (!NAME_RE.test(m[1]) || (m[2] && !VERSION_RE.test(m[2]))) {
		error(req, res, 400, 'BadParameter', 'Bad secret name or version.');
		return;
	}
	getSecret(req, res, m[1], m[2]);
});
server.keepAliveTimeout = 65000;

process.on('SIGTERM', () => {
	setTimeout(() => process.exit(0), 1000).unref();
	server.close(() => process.exit(0));
	server.closeAllConnections();
});
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
	process.stdout.write(`node-sdk-server: listening on http://127.0.0.1:${server.address().port}\n`);
});
