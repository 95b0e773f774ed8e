'use strict';
/*
 * tokens.js: what the caller-authentication tests need of an identity
 * provider, made at test time with node:crypto: signing keys (RSA 2048 and
 * P-256) and their JWKS, compact JWS access tokens shaped like Entra ID's
 * (and the forged kinds: alg none, HS256 keyed with the public key, a
 * foreign signature), and an OpenID provider on 127.0.0.1 (plain http,
 * which kvgate accepts for loopback only) serving its metadata and JWKS,
 * counting the fetches so that tests can see kvgate's refetch rule.
 */
const crypto = require('node:crypto');
const http = require('node:http');

const b64u = (b) => Buffer.from(b).toString('base64url');

// A signing key: { kid, alg, privateKey, publicKey, jwk (public, for the JWKS) }.
function makeKey(kid, alg = 'RS256') {
	const pair = alg === 'ES256' ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }) : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
	const jwk = pair.publicKey.export({ format: 'jwk' });
	return { kid, alg, privateKey: pair.privateKey, publicKey: pair.publicKey, jwk: { ...jwk, kid, use: 'sig', alg } };
}

function jwks(keys) {
	return { keys: keys.map((k) => k.jwk) };
}

// A token signed by key; header fields (alg, kid, typ) may be overridden.
function sign(key, claims, header = {}) {
	const h = { typ: 'JWT', alg: key.alg, kid: key.kid, ...header };
	const input = `${b64u(JSON.stringify(h))}.${b64u(JSON.stringify(claims))}`;
	const sig = crypto.sign('sha256', Buffer.from(input), key.alg === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey);
	return `${input}.${b64u(sig)}`;
}

// alg none: no signature at all.
function unsigned(claims, kid) {
	return `${b64u(JSON.stringify({ typ: 'JWT', alg: 'none', kid }))}.${b64u(JSON.stringify(claims))}.`;
}

// The algorithm-confusion forgery: HS256 keyed with the RSA public key's PEM.
function hs256WithPublicKey(key, claims) {
	const input = `${b64u(JSON.stringify({ typ: 'JWT', alg: 'HS256', kid: key.kid }))}.${b64u(JSON.stringify(claims))}`;
	const pem = key.publicKey.export({ type: 'spki', format: 'pem' });
	return `${input}.${b64u(crypto.createHmac('sha256', pem).update(input).digest())}`;
}

/*
 * An OpenID provider on 127.0.0.1: GET {base}/v2.0/.well-known/openid-configuration
 * (issuer, jwks_uri) and GET {base}/discovery/keys (the JWKS given to
 * setKeys()). counts: { metadata, jwks }.
 */
async function startIssuer(keys) {
	const state = { jwks: jwks(keys), counts: { metadata: 0, jwks: 0 } };
	const server = http.createServer((req, res) => {
		const base = `http://127.0.0.1:${server.address().port}/tenant`;
		let body;
		if (req.url === '/tenant/v2.0/.well-known/openid-configuration') {
			state.counts.metadata++;
			body = { issuer: `${base}/v2.0`, jwks_uri: `${base}/discovery/keys`, id_token_signing_alg_values_supported: ['RS256'] };
		} else if (req.url === '/tenant/discovery/keys') {
			state.counts.jwks++;
			body = state.jwks;
		} else {
			res.writeHead(404).end();
			return;
		}
		res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
	});
	await new Promise((r) => server.listen(0, '127.0.0.1', r));
	const base = `http://127.0.0.1:${server.address().port}/tenant`;
	return {
		issuer: `${base}/v2.0`,
		metadataUrl: `${base}/v2.0/.well-known/openid-configuration`,
		counts: state.counts,
		setKeys: (list) => (state.jwks = jwks(list)),
		stop: () => new Promise((r) => server.close(r)),
	};
}

// Claims of an Entra ID v2.0 access token, valid now.
function claims(issuer, audience, extra = {}) {
	const now = Math.floor(Date.now() / 1000);
	return {
		aud: audience,
		iss: issuer,
		iat: now - 60,
		nbf: now - 60,
		exp: now + 3600,
		tid: '00000000-0000-4000-8000-00000000a11e',
		oid: '11111111-0000-4000-8000-000000000001',
		sub: 'subject-1',
		azp: '22222222-0000-4000-8000-000000000002',
		ver: '2.0',
		...extra,
	};
}

module.exports = { makeKey, jwks, sign, unsigned, hs256WithPublicKey, startIssuer, claims, b64u };
