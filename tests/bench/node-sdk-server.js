'use strict';
/*
 * node-sdk-server.js: the "express + SDK" baseline of `make bench`, what people
 * deploy today in front of Key Vault: an Express server with the cors
 * middleware and the official SDK (@azure/keyvault-secrets SecretClient with
 * @azure/identity's ClientSecretCredential), the versions pinned in
 * tests/package.json, doing one uncached getSecret per request.
 *
 * Routes: OPTIONS * (the cors middleware's preflight answer) and
 * GET/HEAD /api/secrets/{name}[/{version}], answered with the secret in
 * Key Vault's SecretBundle shape. A request from an Origin not allowed gets
 * 403 (the check people add, since cors() only leaves the header out).
 * Errors: {"error":{"code","message"}} with 404 for the SDK's 404 and 403,
 * 502 otherwise.
 *
 * Environment (set by tests/bench/bench.js): VAULT_URL, AZURE_TENANT_ID,
 * AZURE_CLIENT_ID, CLIENT_SECRET_FILE, AZURE_AUTHORITY_HOST, ALLOWED_ORIGINS
 * (spaces or commas), PORT (0 picks one), NODE_EXTRA_CA_CERTS (the dev
 * vault's CA; Node reads it at start). Prints one line when ready:
 * "node-sdk-server: listening on http://127.0.0.1:PORT". Not installed;
 * benchmark only.
 */
const fs = require('node:fs');
const path = require('node:path');

const modules = path.join(__dirname, '..', 'node_modules');
const express = require(path.join(modules, 'express'));
const cors = require(path.join(modules, 'cors'));
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

function error(res, status, code, message) {
	res.status(status).json({ error: { code, message } });
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

async function getSecret(res, name, version) {
	try {
		const s = await client.getSecret(name, version ? { version } : {});
		res.json(bundle(s));
	} catch (e) {
		const status = e && Number.isInteger(e.statusCode) ? e.statusCode : 0;
		if (status === 404 || status === 403) error(res, 404, 'SecretNotFound', `A secret with (name/id) ${name} was not found.`);
		else error(res, 502, 'BadGateway', `The vault answered ${status || 'nothing'}.`);
	}
}

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.use((req, res, next) => {
	res.set({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
	next();
});
app.use(cors({ origin: [...allowed], methods: ['GET', 'HEAD'], maxAge: 600 }));
app.use((req, res, next) => {
	if (req.headers.origin !== undefined && !allowed.has(req.headers.origin)) error(res, 403, 'Forbidden', 'Origin not allowed.');
	else next();
});
app.get('/api/secrets/:name{/:version}', (req, res) => {
	const { name, version } = req.params;
	if (!NAME_RE.test(name) || (version !== undefined && !VERSION_RE.test(version))) {
		error(res, 400, 'BadParameter', 'Bad secret name or version.');
		return;
	}
	getSecret(res, name, version);
});
app.all('/api/secrets/:name{/:version}', (req, res) => error(res, 405, 'MethodNotAllowed', 'No such route.'));
app.use((req, res) => error(res, 404, 'NotFound', 'No such route.'));

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
	process.stdout.write(`node-sdk-server: listening on http://127.0.0.1:${server.address().port}\n`);
});
server.keepAliveTimeout = 65000;

process.on('SIGTERM', () => {
	setTimeout(() => process.exit(0), 1000).unref();
	server.close(() => process.exit(0));
	server.closeAllConnections();
});
