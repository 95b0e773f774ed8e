'use strict';
/*
 * hostile-corpus.js: the hostile requests of issue 8 ("Hostile input"), as
 * data. hostile.test.js sends each one byte for byte (node:net) through the
 * web server and checks that it is refused with a 4xx, makes no upstream
 * call, shows no secret and crashes nothing.
 *
 * A row: { group, what, why, req(c) } where req builds the exact bytes
 * (a latin1 string or a Buffer) from c = { host, origin, port }, plus:
 *   status    the statuses allowed (default: any 4xx);
 *   ours      true: the programs must answer (Key Vault's envelope), not
 *             the web server; absent: either may (lighttpd and Apache
 *             refuse some things themselves, without the envelope);
 *   server    per-server overrides { lighttpd: {status, ours}, apache: {…} };
 *   single    exactly one HTTP answer may come back (smuggling rows);
 *   known     { lighttpd|apache: why } a known deviation, reported as a
 *             node:test todo on that server until it is fixed.
 * Every request ends with Connection: close so that the answer ends the
 * exchange; a body is always sent whole unless the row is about not doing so.
 */

const A = 'http://allowed.example:8081';
const GOOD = '/api/secrets/public-greeting';
const HIDDEN = '/api/secrets/admin-password';

// A request line, headers and optional body.
function req(method, target, headers, body) {
	const lines = [`${method} ${target} HTTP/1.1`, ...headers, 'Connection: close', '', ''];
	return lines.join('\r\n') + (body || '');
}

// The programs answer a request that carries a body as if it had none.
// lighttpd refuses a body on GET and HEAD itself (400), so only OPTIONS
// reaches a program with one there; Apache hands every body on.

const host = (c) => `Host: ${c.host}`;
const origin = (c) => `Origin: ${c.origin}`;

// Bytes of a UTF-8 or binary fragment as a latin1 string (one char per byte).
const bytes = (...b) => Buffer.from(b).toString('latin1');

const CORPUS = [
	/* ---------------- over-long paths, queries and headers ---------------- */
	{ group: 'long', what: 'a 1,100-byte secret name', why: 'names are at most 127 characters; the programs refuse before any upstream call', req: (c) => req('GET', `/api/secrets/public-${'a'.repeat(1100)}`, [host(c), origin(c)]), status: [400], ours: true },
	{ group: 'long', what: 'a 4,000-byte path of segments', why: 'over the programs\' 1,024-byte path cap', req: (c) => req('GET', `/api/secrets/${'a/'.repeat(2000)}x`, [host(c), origin(c)]), status: [400, 414] },
	{ group: 'long', what: 'a 7,000-byte path (near the servers\' request-line limit)', why: 'the programs cap the path; the server may refuse first', req: (c) => req('GET', `/api/secrets/${'b'.repeat(7000)}`, [host(c), origin(c)]) },
	{ group: 'long', what: 'a 20,000-byte path (over the servers\' limits)', why: 'lighttpd (431) and Apache (414) refuse a request line this long themselves', req: (c) => req('GET', `/api/secrets/${'c'.repeat(20000)}`, [host(c), origin(c)]) },
	{ group: 'long', what: 'a 3,100-byte query', why: 'over the programs\' 3,072-byte query cap', req: (c) => req('GET', `/api/secrets?$skiptoken=${'A'.repeat(3100)}`, [host(c), origin(c)]), status: [400], ours: true },
	{ group: 'long', what: 'a 7,500-byte query', why: 'the query cap, near the request-line limit', req: (c) => req('GET', `${GOOD}?api-version=${'7'.repeat(7500)}`, [host(c), origin(c)]) },
	{ group: 'long', what: 'a 2,000-parameter query', why: 'unknown parameters are refused however many there are', req: (c) => req('GET', `/api/secrets?${Array.from({ length: 2000 }, (_, i) => `p${i}=`).join('&').slice(0, 7000)}`, [host(c), origin(c)]) },
	{ group: 'long', what: 'a 12 KB header (over the servers\' field limit)', why: 'lighttpd (431) and Apache (400) refuse a header this long themselves', req: (c) => req('GET', GOOD, [host(c), origin(c), `X-Junk: ${'j'.repeat(12000)}`]) },
	{ group: 'long', what: '200 headers of 500 bytes (100 KB of headers)', why: 'over the servers\' total header limits', req: (c) => req('GET', GOOD, [host(c), ...Array.from({ length: 200 }, (_, i) => `X-H${i}: ${'v'.repeat(500)}`)]) },
	{ group: 'long', what: '90 headers of 60 bytes on a bad name', why: 'many FastCGI parameters reach the program, which still refuses the name', req: (c) => req('GET', '/api/secrets/bad_name', [host(c), origin(c), ...Array.from({ length: 90 }, (_, i) => `X-Many-${i}: ${'m'.repeat(60)}`)]), status: [400], ours: true },

	/* ---------------- NUL and control bytes ---------------- */
	{ group: 'ctl', what: 'a raw NUL in the path before a hidden name', why: 'a NUL could cut the name a C program sees', req: (c) => req('GET', `${GOOD}\0admin-password`, [host(c), origin(c)]), status: [400] },
	{ group: 'ctl', what: 'a raw ESC (0x1b) in the query', why: 'control bytes are refused (and never reach a log raw)', req: (c) => req('GET', '/api/secrets?api-version=7.6\x1b[31m', [host(c), origin(c)]), status: [400] },
	{ group: 'ctl', what: 'a raw TAB in the path', why: 'whitespace inside the request target', req: (c) => req('GET', '/api/secrets/public-\tgreeting', [host(c), origin(c)]), status: [400] },
	{ group: 'ctl', what: 'a raw CR inside the path', why: 'a bare CR could split the request line', req: (c) => req('GET', '/api/secrets/public-\rgreeting', [host(c), origin(c)]), status: [400] },
	{ group: 'ctl', what: 'a raw DEL (0x7f) in the query', why: 'DEL is a control byte', req: (c) => req('GET', '/api/secrets?maxresults=5\x7f', [host(c), origin(c)]), status: [400] },
	{ group: 'ctl', what: 'a NUL inside a header value (on a bad name)', why: 'a NUL in a FastCGI parameter must not confuse the program', req: (c) => req('GET', '/api/secrets/bad_name', [host(c), origin(c), 'X-Nul: a\0b']), status: [400] },
	{ group: 'ctl', what: 'a NUL inside Origin', why: 'the origin check must see the whole value, not a prefix that is allowed', req: (c) => req('GET', GOOD, [host(c), `Origin: ${c.origin}\0.evil.example`]), status: [400, 403] },
	{ group: 'ctl', what: 'a control byte (0x01) inside Origin', why: 'an origin is an ASCII serialisation without control bytes', req: (c) => req('GET', GOOD, [host(c), `Origin: ${c.origin}\x01`]), status: [400, 403] },
	{ group: 'ctl', what: 'an obsolete folded header (obs-fold) on Origin', why: 'a continuation line could smuggle a second value', req: (c) => req('GET', GOOD, [host(c), `Origin: ${c.origin}`, ' http://evil.example']), status: [400, 403] },
	{ group: 'ctl', what: 'bare LF line endings with a NUL in the path', why: 'lenient line endings must not let a NUL through', req: (c) => `GET /api/secrets/x\0y HTTP/1.1\nHost: ${c.host}\nConnection: close\n\n`, status: [400] },
	{ group: 'ctl', what: '%00 (encoded NUL) in the path', why: 'an encoded NUL is refused (Apache: its own 404 before any program)', req: (c) => req('GET', '/api/secrets/public-greeting%00.json', [host(c), origin(c)]), status: [400, 404] },
	{ group: 'ctl', what: '%0d%0a (encoded CRLF) in the query', why: 'header injection through a reflected parameter', req: (c) => req('GET', '/api/secrets?api-version=7.6%0d%0aSet-Cookie:%20x=1', [host(c), origin(c)]), status: [400] },

	/* ---------------- invalid UTF-8 ---------------- */
	{ group: 'utf8', what: 'raw bytes 0xff 0xfe in the name', why: 'not UTF-8 at all', req: (c) => req('GET', `/api/secrets/public-${bytes(0xff, 0xfe)}`, [host(c), origin(c)]), status: [400] },
	{ group: 'utf8', what: 'an overlong UTF-8 "/" (0xc0 0xaf) in the name', why: 'the classic overlong-encoding traversal', req: (c) => req('GET', `/api/secrets/public-x${bytes(0xc0, 0xaf)}..${bytes(0xc0, 0xaf)}admin-password`, [host(c), origin(c)]), status: [400] },
	{ group: 'utf8', what: 'percent-encoded overlong "/" (%c0%af)', why: 'the same, encoded', req: (c) => req('GET', '/api/secrets/public-x%c0%af..%c0%afadmin-password', [host(c), origin(c)]), status: [400] },
	{ group: 'utf8', what: 'a lone continuation byte (0x80) in the query', why: 'invalid UTF-8 in a parameter', req: (c) => req('GET', `/api/secrets?api-version=7.6${bytes(0x80)}`, [host(c), origin(c)]), status: [400] },
	{
		group: 'utf8',
		what: 'a surrogate (0xed 0xa0 0x80) in the name',
		why: 'UTF-8 never encodes surrogates (lighttpd\'s URL match does not take it for the API: its own static 404)',
		req: (c) => req('GET', `/api/secrets/demo-${bytes(0xed, 0xa0, 0x80)}`, [host(c), origin(c)]),
		status: [400, 404],
	},
	{ group: 'utf8', what: 'invalid UTF-8 in Origin', why: 'never equal to an allowed origin, never echoed', req: (c) => req('GET', GOOD, [host(c), `Origin: http://allowed.example${bytes(0xff)}:8081`]), status: [400, 403] },
	{ group: 'utf8', what: 'a valid but non-ASCII name (é)', why: 'names are [0-9A-Za-z-] only', req: (c) => req('GET', `/api/secrets/public-gr${bytes(0xc3, 0xa9)}eting`, [host(c), origin(c)]), status: [400] },

	/* ---------------- percent-encoded separators ---------------- */
	{ group: 'pct', what: '%2F inside a name', why: 'an encoded "/" must not split a name into name/version', req: (c) => req('GET', '/api/secrets/public-greeting%2Fversions', [host(c), origin(c)]), status: [400] },
	{ group: 'pct', what: '%2f..%2f reaching a hidden name', why: 'encoded traversal into a denied secret', req: (c) => req('GET', '/api/secrets/public-x%2f..%2fadmin-password', [host(c), origin(c)]), status: [400] },
	{ group: 'pct', what: '%5C (backslash) traversal', why: 'Windows-style separators', req: (c) => req('GET', '/api/secrets/public-x%5c..%5cadmin-password', [host(c), origin(c)]), status: [400] },
	{ group: 'pct', what: 'a raw backslash traversal', why: 'the same, unencoded', req: (c) => req('GET', '/api/secrets/public-x\\..\\admin-password', [host(c), origin(c)]), status: [400] },
	{ group: 'pct', what: '%2E%2E as a segment', why: 'encoded dot segments', req: (c) => req('GET', '/api/secrets/%2E%2E/secrets/admin-password', [host(c), origin(c)]), status: [400] },
	{ group: 'pct', what: '%2e as a whole name', why: 'an encoded "."', req: (c) => req('GET', '/api/secrets/%2e', [host(c), origin(c)]), status: [400] },
	{ group: 'pct', what: '%25 (an encoded "%")', why: 'a literal percent sign in a name', req: (c) => req('GET', '/api/secrets/public-%25greeting', [host(c), origin(c)]), status: [400] },
	{ group: 'pct', what: 'double encoding (%252F)', why: 'decoded twice it would be "/"', req: (c) => req('GET', '/api/secrets/public-x%252f..%252fadmin-password', [host(c), origin(c)]), status: [400] },
	{ group: 'pct', what: 'nested encoding (%%32%66)', why: 'a decoder that decodes the digits first gets %2f', req: (c) => req('GET', '/api/secrets/public-x%%32%66admin-password', [host(c), origin(c)]), status: [400] },
	{ group: 'pct', what: 'IIS-style %u002f', why: 'a non-standard encoding of "/"', req: (c) => req('GET', '/api/secrets/public-x%u002fadmin-password', [host(c), origin(c)]), status: [400] },
	{ group: 'pct', what: 'an encoded "?" (%3F) in the name', why: 'must not start a query', req: (c) => req('GET', '/api/secrets/admin-password%3Fx=public-greeting', [host(c), origin(c)]), status: [400] },
	{ group: 'pct', what: 'an encoded "&" and "=" in the query', why: 'must not add a parameter', req: (c) => req('GET', '/api/secrets?maxresults=5%26%24skiptoken%3Dx', [host(c), origin(c)]), status: [400] },
	{ group: 'pct', what: 'an encoded separator in $skiptoken', why: 'a paging token is the gateway\'s own, never a path', req: (c) => req('GET', '/api/secrets?$skiptoken=..%2F..%2Fsecrets%2Fadmin-password', [host(c), origin(c)]), status: [400] },
	{ group: 'pct', what: 'a matrix parameter (;) after the name', why: 'path parameters are not names', req: (c) => req('GET', '/api/secrets/admin-password;public-greeting', [host(c), origin(c)]), status: [400] },
	{ group: 'pct', what: 'a raw "#" fragment in the request target', why: 'a fragment is never sent; here it is data', req: (c) => req('GET', '/api/secrets/admin-password#public-greeting', [host(c), origin(c)]), status: [400] },

	/* ---------------- duplicate and conflicting headers ---------------- */
	{ group: 'dup', what: 'two Origin headers (allowed, then evil)', why: 'an ambiguous origin must never earn Access-Control-Allow-Origin', req: (c) => req('GET', GOOD, [host(c), origin(c), 'Origin: http://evil.example']), status: [400, 403] },
	{ group: 'dup', what: 'two Origin headers (evil, then allowed)', why: 'the same, the other way round', req: (c) => req('GET', GOOD, [host(c), 'Origin: http://evil.example', origin(c)]), status: [400, 403] },
	{ group: 'dup', what: 'two Host headers', why: 'RFC 9112: a request with more than one Host is refused with 400', req: (c) => req('GET', GOOD, [host(c), 'Host: evil.example']), status: [400] },
	{ group: 'dup', what: 'two different Content-Length headers', why: 'request smuggling', req: (c) => req('GET', GOOD, [host(c), 'Content-Length: 0', 'Content-Length: 5'], 'hello'), status: [400] },
	{
		group: 'dup',
		what: 'Content-Length and Transfer-Encoding together, smuggling a second request',
		why: 'request smuggling (CL.TE): the hidden request after the chunked body must never be answered',
		req: (c) => req('GET', '/api/secrets/bad_name', [host(c), 'Content-Length: 70', 'Transfer-Encoding: chunked'], `0\r\n\r\nGET ${HIDDEN} HTTP/1.1\r\nHost: ${c.host}\r\n\r\n`),
		status: [400],
		single: true,
	},
	{ group: 'dup', what: 'two Access-Control-Request-Method headers on a preflight', why: 'an ambiguous preflight is refused', req: (c) => req('OPTIONS', GOOD, [host(c), origin(c), 'Access-Control-Request-Method: GET', 'Access-Control-Request-Method: DELETE']), status: [400, 403] },
	{ group: 'dup', what: 'a preflight asking for DELETE', why: 'only GET and HEAD are allowed', req: (c) => req('OPTIONS', GOOD, [host(c), origin(c), 'Access-Control-Request-Method: DELETE']), status: [403], ours: true },

	/* ---------------- huge Origin / Access-Control-Request-Headers ---------------- */
	{ group: 'huge', what: 'a 7,000-byte Origin (under the servers\' limit)', why: 'reaches the program, which refuses an origin over 512 bytes', req: (c) => req('GET', GOOD, [host(c), `Origin: http://${'o'.repeat(7000)}.example`]), status: [403], ours: true },
	{ group: 'huge', what: 'a 7,000-byte Origin on a preflight', why: 'the same for the preflight program', req: (c) => req('OPTIONS', GOOD, [host(c), `Origin: http://${'o'.repeat(7000)}.example`, 'Access-Control-Request-Method: GET']), status: [403], ours: true },
	{ group: 'huge', what: 'a 9,000-byte Origin (over lighttpd\'s 8 KB field limit)', why: 'the server refuses it itself', req: (c) => req('GET', GOOD, [host(c), `Origin: http://${'o'.repeat(9000)}.example`]) },
	{ group: 'huge', what: 'a 7,000-byte Access-Control-Request-Headers (1,400 names)', why: 'names the policy does not allow: refused', req: (c) => req('OPTIONS', GOOD, [host(c), origin(c), 'Access-Control-Request-Method: GET', `Access-Control-Request-Headers: ${'x-a,'.repeat(1400)}x`]), status: [403], ours: true },
	{ group: 'huge', what: 'a 7,000-byte single header name in Access-Control-Request-Headers', why: 'one absurd token', req: (c) => req('OPTIONS', GOOD, [host(c), origin(c), 'Access-Control-Request-Method: GET', `Access-Control-Request-Headers: x-${'h'.repeat(7000)}`]), status: [403], ours: true },
	{ group: 'huge', what: 'Access-Control-Request-Headers of 7,000 commas', why: 'empty list elements only', req: (c) => req('OPTIONS', GOOD, [host(c), origin(c), 'Access-Control-Request-Method: GET', `Access-Control-Request-Headers: ${','.repeat(7000)}x-evil`]), status: [400, 403], ours: true },
	{ group: 'huge', what: 'a 12 KB Access-Control-Request-Headers (over the field limit)', why: 'the server refuses it itself', req: (c) => req('OPTIONS', GOOD, [host(c), origin(c), 'Access-Control-Request-Method: GET', `Access-Control-Request-Headers: ${'x-b,'.repeat(3000)}x`]) },
	{ group: 'huge', what: 'a 7,000-byte Access-Control-Request-Method', why: 'not a method the policy allows', req: (c) => req('OPTIONS', GOOD, [host(c), origin(c), `Access-Control-Request-Method: ${'G'.repeat(7000)}`]), status: [400, 403], ours: true },

	/* ---------------- unexpected methods ---------------- */
	...['PUT', 'DELETE', 'PATCH', 'POST'].map((m) => ({
		group: 'method',
		what: `${m} on a secret`,
		why: 'the API is read-only: 405 with Allow',
		req: (c) => req(m, GOOD, [host(c), origin(c), 'Content-Type: application/json', 'Content-Length: 13'], '{"value":"x"}'),
		status: [405],
		ours: true,
	})),
	{ group: 'method', what: 'DELETE on the list', why: 'read-only', req: (c) => req('DELETE', '/api/secrets', [host(c), origin(c)]), status: [405], ours: true },
	{ group: 'method', what: 'TRACE', why: 'TRACE echoes the request (cross-site tracing); Apache has TraceEnable Off', req: (c) => req('TRACE', GOOD, [host(c), origin(c), 'X-Echo: me']), status: [405] },
	{ group: 'method', what: 'CONNECT to the vault\'s host:port', why: 'the gateway is not a forward proxy', req: (c) => req('CONNECT', `127.0.0.1:${c.vaultPort}`, [`Host: 127.0.0.1:${c.vaultPort}`]), status: [400, 405] },
	{ group: 'method', what: 'CONNECT with a path', why: 'not a proxy', req: (c) => req('CONNECT', GOOD, [host(c), origin(c)]), status: [400, 405] },
	{ group: 'method', what: 'PROPFIND (WebDAV)', why: 'not WebDAV', req: (c) => req('PROPFIND', GOOD, [host(c), origin(c), 'Depth: 1']), status: [405], ours: true },
	{ group: 'method', what: 'MKCOL (WebDAV)', why: 'not WebDAV', req: (c) => req('MKCOL', '/api/secrets/new', [host(c), origin(c)]), status: [405], ours: true },
	{
		group: 'method',
		what: 'lower-case "get"',
		why: 'methods are case-sensitive (RFC 9110 §9.1): "get" is not GET. lighttpd answers it itself with 501 Not Implemented (the status RFC 9110 gives an unrecognised method), Apache hands it to the program, which answers 405',
		req: (c) => req('get', GOOD, [host(c), origin(c)]),
		server: { lighttpd: { status: [501] }, apache: { status: [405], ours: true } },
	},
	{
		group: 'method',
		what: 'a 1,000-character method',
		why: 'an absurd method token',
		req: (c) => req('X'.repeat(1000), GOOD, [host(c), origin(c)]),
		server: { lighttpd: { status: [501] }, apache: { status: [400, 405] } },
	},

	/* ---------------- bodies on GET, HEAD, OPTIONS ---------------- */
	{ group: 'body', what: 'GET with a Content-Length body', why: 'a GET carries no body; a body is a smuggling attempt or a confused client', req: (c) => req('GET', GOOD, [host(c), origin(c), 'Content-Type: application/json', 'Content-Length: 16'], '{"name":"admin"}'), status: [400] },
	{ group: 'body', what: 'GET with a chunked body', why: 'the same with Transfer-Encoding', req: (c) => req('GET', GOOD, [host(c), origin(c), 'Transfer-Encoding: chunked'], '5\r\nhello\r\n0\r\n\r\n'), status: [400] },
	{ group: 'body', what: 'GET of the list with a body', why: 'the same on list-secrets', req: (c) => req('GET', '/api/secrets', [host(c), origin(c), 'Content-Length: 5'], 'hello'), status: [400] },
	{ group: 'body', what: 'HEAD with a body', why: 'HEAD carries no body', req: (c) => req('HEAD', GOOD, [host(c), origin(c), 'Content-Length: 5'], 'hello'), status: [400] },
	{ group: 'body', what: 'GET with Expect: 100-continue and a body', why: 'a client waiting for permission to send a body to a GET', req: (c) => req('GET', GOOD, [host(c), origin(c), 'Expect: 100-continue', 'Content-Length: 5'], 'hello'), status: [400, 417] },
	{ group: 'body', what: 'a preflight with a body', why: 'a preflight never has a body', req: (c) => req('OPTIONS', GOOD, [host(c), origin(c), 'Access-Control-Request-Method: GET', 'Content-Length: 5'], 'hello'), status: [400] },

	/* ---------------- protocol oddities ---------------- */
	{
		group: 'proto',
		what: 'an HTTP/0.9 simple request for a secret',
		why: 'an HTTP/0.9 answer has no status line nor headers: no Cache-Control: no-store, no nosniff, no CORS',
		req: () => `GET ${GOOD}\r\n\r\n`,
		status: [400],
	},
	{ group: 'proto', what: 'HTTP/1.2 in the request line', why: 'an unknown minor version', req: (c) => `GET ${HIDDEN} HTTP/1.2\r\n${host(c)}\r\nConnection: close\r\n\r\n`, status: [400, 404, 505] },
	{ group: 'proto', what: 'an absolute-form target naming the vault', why: 'the gateway is not a proxy: never forwarded', req: (c) => req('GET', `https://127.0.0.1:${c.vaultPort}/secrets/admin-password`, [host(c)]), status: [400, 404] },
	{ group: 'proto', what: 'a Host header naming the vault, on a bad name', why: 'Host does not steer anything upstream', req: (c) => req('GET', '/api/secrets/bad_name', [`Host: 127.0.0.1:${c.vaultPort}`, origin(c)]), status: [400] },
	{ group: 'proto', what: 'a space inside the request target', why: 'three words in a request line only', req: (c) => req('GET', '/api/secrets/public greeting', [host(c), origin(c)]), status: [400] },
];

module.exports = { CORPUS, GOOD, HIDDEN, A };
