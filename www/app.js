// kvgate demo SPA: lists the secrets the gateway's policy exposes and shows one.
//
// Rules this file keeps:
// - Data from the network only ever reaches the page through textContent, text
//   nodes and attribute values; never innerHTML, never eval.
// - Every request carries Accept: application/json and a fresh
//   x-ms-client-request-id, as the Azure SDKs do (cross-origin, that header is what
//   makes the browser send a CORS preflight).
// - Stable test hooks are data-testid attributes: secret-list, secret-item
//   (data-name), secret-detail (data-name, data-version), secret-value
//   (data-revealed), reveal, copy, show-versions, versions, version-item
//   (data-version), load-more, error (data-status, data-code, data-scope).
(function () {
  'use strict';

  // Secret names and versions, as the gateway validates them (design.md).
  const NAME_RE = /^[0-9A-Za-z-]{1,127}$/;
  const VERSION_RE = /^[0-9A-Fa-f]{32}$/;

  // Paging: how much one "batch" walks before asking the user for "Load more".
  // Pages may be short or even empty while nextLink is not null, so both a page
  // cap and an item cap apply.
  const BATCH_PAGES = 10;
  const BATCH_ITEMS = 100;
  const TIMEOUT_MS = 30000;
  const MAX_BODY_CHARS = 4 * 1024 * 1024;

  const NETWORK_MSG = 'The browser blocked the request or could not reach the gateway; ' +
    'if this page is on another origin, is it in [cors] allowed_origins?';

  const STATUS_TEXT = {
    400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
    405: 'Method Not Allowed', 408: 'Request Timeout', 429: 'Too Many Requests',
    500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable',
    504: 'Gateway Timeout'
  };

  // ---------------------------------------------------------------- DOM helpers

  // Builds an element. props: "class", "text", or attributes (null/false skip,
  // true sets an empty attribute). Children: nodes, strings (as text), arrays.
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = String(v);
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    appendKids(el, kids);
    return el;
  }

  function appendKids(el, kids) {
    for (const k of kids) {
      if (k === null || k === undefined || k === false) continue;
      if (Array.isArray(k)) appendKids(el, k);
      else if (k instanceof Node) el.appendChild(k);
      else el.appendChild(document.createTextNode(String(k)));
    }
  }

  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------ visible control characters

  // Characters that would otherwise be invisible or would change how the text
  // around them is drawn: C0/C1 controls, zero-width characters, bidirectional
  // overrides and isolates ("Trojan Source"), line/paragraph separators, the BOM,
  // unusual spaces, and lone surrogates.
  const SPECIAL_RE = new RegExp(
    '[\\u0000-\\u001f\\u007f-\\u00a0\\u00ad\\u034f\\u061c\\u115f\\u1160\\u1680\\u17b4\\u17b5' +
    '\\u180b-\\u180e\\u2000-\\u200f\\u2028-\\u202f\\u205f-\\u206f\\u3000\\u3164' +
    '\\ufe00-\\ufe0f\\ufeff\\uffa0\\ufff0-\\ufffb]' +
    '|[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]', 'g');

  function hex4(c) { return c.toString(16).padStart(4, '0'); }

  // Appends `text` to `parent` so that every special character shows as a visible
  // escape (\u0001, ⏎ for a newline, → for a tab) drawn by CSS from data-esc.
  // The original character stays in the DOM (textContent is the exact value) but
  // is display:none unless it is a newline or tab, so that it can neither hide
  // nor reorder text. Returns how many characters were escaped.
  function appendVisible(parent, text) {
    let count = 0;
    let last = 0;
    const push = (from, to) => {
      if (to > from) parent.appendChild(document.createTextNode(text.slice(from, to)));
    };
    text.replace(SPECIAL_RE, (ch, at) => {
      push(last, at);
      const code = ch.charCodeAt(0);
      let esc;
      let keep = false;
      if (ch === '\n') { esc = '⏎'; keep = true; }
      else if (ch === '\t') { esc = '→'; keep = true; }
      else if (ch === '\r') esc = '\\r';
      else esc = '\\u' + hex4(code);
      parent.appendChild(h('span', {
        class: keep ? 'ctl ctl-keep' : 'ctl',
        'data-esc': esc,
        title: 'U+' + hex4(code).toUpperCase()
      }, h('span', { class: 'ctl-raw' }, ch)));
      count++;
      last = at + 1;
      return ch;
    });
    push(last, text.length);
    return count;
  }

  // --------------------------------------------- JSON pretty-printing (lossless)

  // Re-indents a JSON text token by token, keeping every token exactly as written
  // (so big numbers, escapes and duplicate keys survive, unlike JSON.stringify).
  // Returns an array of {t: text, c: class|null} segments, or null when `src` is
  // not valid JSON.
  function jsonSegments(src) {
    try { JSON.parse(src); } catch (e) { return null; }
    const tokens = [];
    const re = /\s+|("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(true|false|null)|([{}[\],:])/gy;
    while (re.lastIndex < src.length) {
      const m = re.exec(src);
      if (m === null) return null;
      if (m[1] !== undefined) tokens.push({ t: m[1], k: 'str' });
      else if (m[2] !== undefined) tokens.push({ t: m[2], k: 'num' });
      else if (m[3] !== undefined) tokens.push({ t: m[3], k: 'lit' });
      else if (m[4] !== undefined) tokens.push({ t: m[4], k: 'punc' });
    }
    const out = [];
    let depth = 0;
    const nl = () => out.push({ t: '\n' + '  '.repeat(depth), c: null });
    for (let i = 0; i < tokens.length; i++) {
      const tok = tokens[i];
      const next = tokens[i + 1];
      if (tok.k === 'punc') {
        if (tok.t === '{' || tok.t === '[') {
          const close = tok.t === '{' ? '}' : ']';
          if (next && next.t === close) {
            out.push({ t: tok.t + close, c: 'j-punc' });
            i++;
            continue;
          }
          out.push({ t: tok.t, c: 'j-punc' });
          depth++;
          nl();
        } else if (tok.t === '}' || tok.t === ']') {
          depth--;
          nl();
          out.push({ t: tok.t, c: 'j-punc' });
        } else if (tok.t === ',') {
          out.push({ t: ',', c: 'j-punc' });
          nl();
        } else {
          out.push({ t: ': ', c: 'j-punc' });
        }
      } else if (tok.k === 'str') {
        out.push({ t: tok.t, c: next && next.t === ':' ? 'j-key' : 'j-str' });
      } else {
        out.push({ t: tok.t, c: 'j-' + tok.k });
      }
    }
    return out;
  }

  function isJsonContentType(ct) {
    return typeof ct === 'string' && /^\s*application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(ct);
  }

  // ------------------------------------------------------------------ formatting

  const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  const shortDateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
  const relFmt = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

  function relative(ms) {
    const diff = (ms - Date.now()) / 1000;
    const abs = Math.abs(diff);
    const units = [[60, 'second', 1], [3600, 'minute', 60], [86400, 'hour', 3600],
      [86400 * 30, 'day', 86400], [86400 * 365, 'month', 86400 * 30], [Infinity, 'year', 86400 * 365]];
    for (const [limit, unit, div] of units) {
      if (abs < limit) return relFmt.format(Math.round(diff / div), unit);
    }
    return '';
  }

  // A <time> for Unix seconds (Key Vault's format), or a dash when absent.
  function timeEl(sec, short) {
    if (typeof sec !== 'number' || !Number.isFinite(sec)) return h('span', { class: 'muted' }, '—');
    const d = new Date(sec * 1000);
    if (Number.isNaN(d.getTime())) return h('span', null, String(sec));
    const iso = d.toISOString();
    const text = short ? shortDateFmt.format(d) : dateFmt.format(d) + ' (' + relative(d.getTime()) + ')';
    return h('time', { datetime: iso, title: iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') }, text);
  }

  function badge(text, kind, testid) {
    return h('span', { class: 'badge' + (kind ? ' badge-' + kind : ''), 'data-testid': testid || null }, text);
  }

  function visibleText(tag, cls, text) {
    const el = h(tag, { class: cls });
    appendVisible(el, text);
    return el;
  }

  function tagList(tags) {
    if (!tags || typeof tags !== 'object') return null;
    const entries = Object.entries(tags);
    if (entries.length === 0) return null;
    return h('ul', { class: 'tags', 'aria-label': 'Tags' }, entries.map(([k, v]) => {
      const li = h('li', { class: 'tag' });
      appendVisible(li, k);
      li.appendChild(h('span', { class: 'tag-sep' }, '='));
      appendVisible(li, typeof v === 'string' ? v : JSON.stringify(v));
      return li;
    }));
  }

  // Notes on time-based validity: Key Vault refuses to serve outside nbf..exp.
  function validityBadges(attrs) {
    const out = [];
    if (!attrs) return out;
    const now = Date.now() / 1000;
    if (attrs.enabled === false) out.push(badge('disabled', 'off'));
    if (typeof attrs.exp === 'number' && attrs.exp < now) out.push(badge('expired', 'warn'));
    if (typeof attrs.nbf === 'number' && attrs.nbf > now) out.push(badge('not yet valid', 'warn'));
    return out;
  }

  // Parses a Key Vault identifier scheme://host/secrets/{name}[/{version}].
  function parseId(id) {
    if (typeof id !== 'string') return null;
    let u;
    try { u = new URL(id); } catch (e) { return null; }
    const seg = u.pathname.split('/').filter(Boolean);
    if (seg.length < 2 || seg.length > 3 || seg[0] !== 'secrets') return null;
    let name;
    let version = null;
    try {
      name = decodeURIComponent(seg[1]);
      if (seg[2]) version = decodeURIComponent(seg[2]);
    } catch (e) { return null; }
    if (!NAME_RE.test(name)) return null;
    return { name, version };
  }

  // ------------------------------------------------------------------- settings

  // Checks an API base: an absolute http(s) URL, or a path starting with one '/'.
  // Returns {ok, base, origin} with the base made absolute and without a
  // trailing slash, or {ok: false, why}.
  function checkApi(s) {
    if (typeof s !== 'string' || s === '') return { ok: false, why: 'it is empty' };
    if (s.length > 2048) return { ok: false, why: 'it is too long' };
    if (/[\s\\]/.test(s)) return { ok: false, why: 'it contains spaces or backslashes' };
    if (s[0] === '/') {
      if (s[1] === '/') return { ok: false, why: 'protocol-relative URLs ("//host") are not accepted' };
    } else if (!/^https?:\/\//i.test(s)) {
      return { ok: false, why: 'it must be an http(s) URL or a path starting with "/"' };
    }
    let u;
    try { u = new URL(s, location.href); } catch (e) { return { ok: false, why: 'it is not a valid URL' }; }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return { ok: false, why: 'only http and https are accepted' };
    if (u.username || u.password) return { ok: false, why: 'credentials in the URL are not accepted' };
    if (u.search || u.hash) return { ok: false, why: 'it must not carry a query or a fragment' };
    return { ok: true, base: u.origin + u.pathname.replace(/\/+$/, ''), origin: u.origin };
  }

  function resolveSettings() {
    const notes = [];
    const params = new URLSearchParams(location.search);
    let api = checkApi('/api');
    let source = 'default';
    if (window.KVGATE_API === undefined) {
      notes.push('config.js did not set window.KVGATE_API; using "/api".');
    } else {
      const c = checkApi(window.KVGATE_API);
      if (c.ok) { api = c; source = 'from config.js'; }
      else notes.push('Ignored window.KVGATE_API from config.js: ' + c.why + '.');
    }
    if (params.has('api')) {
      const c = checkApi(params.get('api'));
      if (c.ok) { api = c; source = 'from ?api='; }
      else notes.push('Ignored ?api=: ' + c.why + '.');
    }
    // Optional page size for the list requests (Key Vault accepts 1..25).
    let maxresults = null;
    if (params.has('maxresults')) {
      const n = params.get('maxresults');
      if (/^\d{1,2}$/.test(n) && +n >= 1 && +n <= 25) maxresults = +n;
      else notes.push('Ignored ?maxresults=: it must be a number from 1 to 25.');
    }
    // Optional fetch credentials mode, for gateways that authenticate callers
    // with cookies (needs allow_credentials on another origin).
    let credentials = 'same-origin';
    if (['omit', 'same-origin', 'include'].includes(window.KVGATE_CREDENTIALS)) {
      credentials = window.KVGATE_CREDENTIALS;
    }
    return { api: api.base, apiOrigin: api.origin, source, notes, maxresults, credentials };
  }

  const settings = resolveSettings();
  const crossOrigin = settings.apiOrigin !== location.origin;

  // ------------------------------------------------------------------ transport

  class ApiError extends Error {
    constructor(f) {
      super(f.message);
      this.kind = f.kind;            // http | network | timeout | response | client
      this.status = f.status || 0;
      this.code = f.code || '';
      this.innerCode = f.innerCode || '';
      this.retryAfter = f.retryAfter || null;
      this.url = f.url || '';
      this.requestId = f.requestId || '';
      this.detail = f.detail || '';
    }
  }

  function isAbort(e) { return e && e.name === 'AbortError'; }
  function abortError() { return new DOMException('aborted', 'AbortError'); }

  // crypto.randomUUID() exists only in secure contexts; plain http on a LAN
  // address is not one, so fall back to getRandomValues (RFC 4122 version 4).
  function requestId() {
    if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const x = Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
    return x.slice(0, 8) + '-' + x.slice(8, 12) + '-' + x.slice(12, 16) + '-' + x.slice(16, 20) + '-' + x.slice(20);
  }

  // Content-Security-Policy violations, to tell "our own CSP blocked it" apart
  // from other network failures.
  const cspBlocked = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    cspBlocked.push({ uri: e.blockedURI, directive: e.effectiveDirective || e.violatedDirective });
  });

  function cspHit(url) {
    let origin;
    try { origin = new URL(url).origin; } catch (e) { return null; }
    return cspBlocked.find((v) => {
      try { return new URL(v.uri).origin === origin; } catch (e) { return false; }
    }) || null;
  }

  // GETs `url` and returns the parsed JSON body of a 2xx answer. Throws ApiError
  // for everything else, or an AbortError when `signal` aborts.
  async function apiGet(url, signal) {
    const id = requestId();
    const ctrl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; ctrl.abort(); }, TIMEOUT_MS);
    const onAbort = () => ctrl.abort();
    if (signal) {
      if (signal.aborted) ctrl.abort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
    const entry = logStart(url, id);
    const fail = async (e, reading) => {
      if (signal && signal.aborted) { logEnd(entry, 'aborted'); return abortError(); }
      if (timedOut) {
        logEnd(entry, 'timeout');
        return new ApiError({ kind: 'timeout', code: 'Timeout', url, requestId: id,
          message: 'No answer from the gateway within ' + TIMEOUT_MS / 1000 + ' s.' });
      }
      // Let a CSP violation report arrive before deciding what to say.
      await new Promise((r) => setTimeout(r, 0));
      const csp = cspHit(url);
      logEnd(entry, csp ? 'blocked by CSP' : 'network error');
      return new ApiError({
        kind: 'network', code: 'NetworkError', url, requestId: id, message: NETWORK_MSG,
        detail: csp
          ? 'This page\'s own Content-Security-Policy (' + csp.directive + ') blocked the request.'
          : (reading ? 'The connection failed while reading the answer' : 'fetch() failed') +
            ' (' + (e && e.name ? e.name + ': ' : '') + (e && e.message ? e.message : 'no details') + ').' +
            (crossOrigin ? ' The browser hides the reason from scripts; its console shows it.' : '')
      });
    };
    try {
      let res;
      try {
        res = await fetch(url, {
          method: 'GET',
          headers: { 'Accept': 'application/json', 'x-ms-client-request-id': id },
          credentials: settings.credentials,
          mode: 'cors',
          signal: ctrl.signal
        });
      } catch (e) {
        throw await fail(e, false);
      }
      let text;
      try {
        text = await res.text();
      } catch (e) {
        throw await fail(e, true);
      }
      logEnd(entry, res.status);
      const retryAfter = res.headers.get('Retry-After');
      let body;
      let parsed = false;
      if (text.length <= MAX_BODY_CHARS) {
        try { body = JSON.parse(text); parsed = true; } catch (e) { /* handled below */ }
      }
      if (!res.ok) {
        const env = parsed && body && typeof body === 'object' && body.error && typeof body.error === 'object'
          ? body.error : null;
        const inner = env && env.innererror && typeof env.innererror === 'object' ? env.innererror.code : '';
        throw new ApiError({
          kind: 'http', status: res.status, url, requestId: id, retryAfter,
          code: env && typeof env.code === 'string' ? env.code : '',
          innerCode: typeof inner === 'string' ? inner : '',
          message: env && typeof env.message === 'string' ? env.message
            : (text ? 'The answer is not a Key Vault error envelope ({"error":{"code","message"}}).' : 'The answer has no body.')
        });
      }
      if (!parsed) {
        throw new ApiError({ kind: 'response', status: res.status, code: 'BadResponse', url, requestId: id,
          message: text.length > MAX_BODY_CHARS ? 'The answer is too large.' : 'The answer is not JSON.' });
      }
      return body;
    } finally {
      clearTimeout(timer);
      if (signal) signal.removeEventListener('abort', onAbort);
    }
  }

  function badResponse(message, url) {
    return new ApiError({ kind: 'response', code: 'BadResponse', message, url });
  }

  // Checks one SecretListResult page and where its nextLink leads. nextLink is
  // followed verbatim; it must be an http(s) URL and must not repeat a page.
  function checkPage(body, url, seen) {
    if (!body || typeof body !== 'object' || !Array.isArray(body.value)) {
      throw badResponse('The list answer has no "value" array.', url);
    }
    let next = null;
    let foreign = null;
    if (body.nextLink !== null && body.nextLink !== undefined && body.nextLink !== '') {
      if (typeof body.nextLink !== 'string') throw badResponse('"nextLink" is not a string.', url);
      let u;
      try { u = new URL(body.nextLink, url); } catch (e) { throw badResponse('"nextLink" is not a URL.', url); }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw badResponse('"nextLink" is not an http(s) URL.', url);
      next = u.href;
      if (seen.has(next)) throw badResponse('"nextLink" repeats an earlier page; stopped to avoid a loop.', url);
      seen.add(next);
      if (u.origin !== settings.apiOrigin) foreign = u.origin;
    }
    return { items: body.value, next, foreign };
  }

  // ------------------------------------------------------------------ request log

  const logList = $('request-log');
  const logCount = $('log-count');
  let logTotal = 0;

  function logStart(url, id) {
    logTotal++;
    const status = h('span', { class: 'log-status' }, '…');
    const li = h('li', { class: 'log-entry' },
      h('span', { class: 'log-time' }, new Date().toLocaleTimeString()), ' ',
      h('span', { class: 'log-method' }, 'GET'), ' ',
      h('span', { class: 'log-url' }, url), ' ', status,
      h('span', { class: 'log-id muted' }, ' x-ms-client-request-id: ' + id));
    logList.prepend(li);
    while (logList.children.length > 50) logList.lastChild.remove();
    logCount.textContent = '(' + logTotal + ')';
    return { status, t0: performance.now() };
  }

  function logEnd(entry, status) {
    entry.status.textContent = status + ' · ' + Math.round(performance.now() - entry.t0) + ' ms';
    entry.status.classList.toggle('log-bad', typeof status !== 'number' || status >= 400);
  }

  // ------------------------------------------------------------------ error boxes

  // One box per scope (list, detail, versions), shown where the failure happened.
  // Exactly one element carries data-testid="error": the most recent failure;
  // older ones that are still on screen carry data-testid="error-older".
  const errors = new Map();
  let errorSeq = 0;

  function retestErrors() {
    let latest = null;
    for (const e of errors.values()) if (!latest || e.seq > latest.seq) latest = e;
    for (const e of errors.values()) e.el.setAttribute('data-testid', e === latest ? 'error' : 'error-older');
  }

  function clearError(scope) {
    const e = errors.get(scope);
    if (!e) return;
    e.el.remove();
    errors.delete(scope);
    retestErrors();
  }

  function hintFor(err, scope) {
    switch (err.status) {
      case 400: return 'The gateway refused the request as malformed (bad name, version or query).';
      case 401: return 'The gateway wants the caller to authenticate.';
      case 403: return scope === 'versions'
        ? 'The policy does not allow listing versions here.'
        : 'The gateway refused this request (for example, this origin is not allowed).';
      case 404: return scope === 'versions'
        ? 'The secret is missing, or the policy does not expose its versions.'
        : 'The secret does not exist, is disabled, or the policy does not expose it; the gateway does not say which.';
      case 405: return 'The gateway does not allow this method here.';
      case 429: case 503: return 'Key Vault is throttling or unreachable; try again later.';
      case 502: return 'The gateway could not get a valid answer from Key Vault or the identity endpoint.';
      case 504: return 'Key Vault did not answer the gateway in time.';
      default: return '';
    }
  }

  function retryAfterText(v) {
    if (/^\d+$/.test(v)) return 'Retry after ' + v + ' s.';
    const d = new Date(v);
    if (!Number.isNaN(d.getTime())) return 'Retry after ' + dateFmt.format(d) + '.';
    return 'Retry-After: ' + v;
  }

  // Shows `err` in `slot` for `scope`, under the one-line `context`. `retry`, if
  // given, is what the Retry button does.
  function showError(scope, slot, context, err, retry) {
    clearError(scope);
    const status = err.status || 0;
    let title;
    if (err.kind === 'http') title = 'HTTP ' + status + (STATUS_TEXT[status] ? ' ' + STATUS_TEXT[status] : '');
    else if (err.kind === 'network') title = 'Network error: no HTTP answer was readable';
    else if (err.kind === 'timeout') title = 'Timed out';
    else if (err.kind === 'client') title = 'Not sent';
    else title = 'Unexpected answer' + (status ? ' (HTTP ' + status + ')' : '');

    const box = h('div', {
      class: 'error-box error-' + err.kind,
      role: 'alert',
      'data-scope': scope,
      'data-status': String(status),
      'data-code': err.code || ''
    });
    box.appendChild(h('p', { class: 'error-context' }, context));
    const head = h('p', { class: 'error-title' }, h('strong', null, title));
    if (err.code && err.kind === 'http') head.append(' · ', h('code', { class: 'error-code' }, err.code));
    else if (err.kind === 'http') head.append(' · ', h('span', { class: 'muted' }, 'no error code'));
    if (err.innerCode) head.append(' ', h('span', { class: 'muted' }, '(' + err.innerCode + ')'));
    box.appendChild(head);
    box.appendChild(visibleText('p', 'error-message', err.message || ''));
    if (err.detail) box.appendChild(h('p', { class: 'error-detail' }, err.detail));
    const hint = err.kind === 'http' ? hintFor(err, scope) : '';
    if (hint) box.appendChild(h('p', { class: 'error-hint' }, hint));
    if (err.retryAfter) {
      box.appendChild(h('p', { class: 'error-retry-after', 'data-testid': 'retry-after' }, retryAfterText(err.retryAfter)));
    } else if (status === 503 || status === 429) {
      box.appendChild(h('p', { class: 'error-hint' }, crossOrigin
        ? 'No Retry-After header was readable (cross-origin, it is visible only if [cors] expose_headers lists it).'
        : 'The answer had no Retry-After header.'));
    }
    if (err.url || err.requestId) {
      box.appendChild(h('p', { class: 'error-meta' },
        err.url ? 'GET ' + err.url : '', err.url && err.requestId ? ' · ' : '',
        err.requestId ? 'x-ms-client-request-id ' + err.requestId : ''));
    }
    if (retry) {
      const b = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'retry' }, 'Retry');
      b.addEventListener('click', retry);
      box.appendChild(b);
    }
    slot.appendChild(box);
    errors.set(scope, { el: box, seq: ++errorSeq });
    retestErrors();
    return box;
  }

  // ------------------------------------------------------------------ the list

  const listEl = $('secret-list');
  const listStatus = $('list-status');
  const listErrorSlot = $('list-error');
  const loadMoreBtn = $('load-more');
  const filterInput = $('filter');

  const list = { next: null, pages: 0, names: new Set(), seen: new Set(), ctrl: null, busy: false, foreign: null };

  function listUrl() {
    return settings.api + '/secrets' + (settings.maxresults ? '?maxresults=' + settings.maxresults : '');
  }

  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }

  function updateListStatus() {
    const total = list.names.size;
    const shown = listEl.querySelectorAll('li.secret-item:not([hidden])').length;
    const parts = [];
    parts.push(filterInput.value && shown !== total
      ? shown + ' of ' + plural(total, 'secret', 'secrets') + ' match'
      : plural(total, 'secret', 'secrets'));
    parts.push(plural(list.pages, 'page', 'pages') + ' loaded');
    if (list.busy) parts.push('loading page ' + (list.pages + 1) + '…');
    else if (errors.has('list')) parts.push('stopped by an error');
    else if (list.next) parts.push('more available');
    else if (list.pages > 0) parts.push('all pages loaded');
    listStatus.textContent = parts.join(' · ');
    if (!list.busy && list.pages > 0 && !list.next && total === 0) {
      listStatus.textContent += '. No secrets are visible: the policy exposes none, or the vault is empty.';
    }
    if (list.foreign) listStatus.textContent += ' (nextLink pointed at ' + list.foreign + ', not at the API base.)';
    listEl.setAttribute('data-pages', String(list.pages));
    listEl.setAttribute('data-complete', String(list.pages > 0 && !list.next));
    listEl.setAttribute('aria-busy', String(list.busy));
    loadMoreBtn.hidden = !list.next || list.pages === 0 || errors.has('list');
    loadMoreBtn.disabled = list.busy;
    loadMoreBtn.textContent = list.busy ? 'Loading…' : 'Load more';
  }

  function renderItem(raw) {
    const item = raw && typeof raw === 'object' ? raw : {};
    const parsed = parseId(item.id);
    const attrs = item.attributes && typeof item.attributes === 'object' ? item.attributes : {};
    const name = parsed ? parsed.name : '';
    if (name && list.names.has(name)) return null;
    const li = h('li', { class: 'secret-item', 'data-testid': 'secret-item', 'data-name': name });
    const top = h('div', { class: 'item-top' });
    li.appendChild(top);
    if (parsed) {
      list.names.add(name);
      top.appendChild(h('a', { class: 'item-link', href: '#/secrets/' + encodeURIComponent(name) }, name));
    } else {
      li.classList.add('item-bad');
      top.appendChild(h('span', { class: 'item-link' }, 'Unreadable id'));
    }
    top.appendChild(h('span', { class: 'item-updated' }, h('span', { class: 'sr-only' }, 'updated '), timeEl(attrs.updated, true)));
    if (!parsed) li.appendChild(visibleText('code', 'item-rawid', String(item.id)));
    const meta = h('div', { class: 'item-meta' });
    if (item.contentType) meta.appendChild(visibleText('span', 'item-ct', String(item.contentType)));
    else meta.appendChild(h('span', { class: 'item-ct muted' }, 'no content type'));
    meta.appendChild(attrs.enabled === false ? badge('disabled', 'off') : badge('enabled', 'on'));
    if (item.managed) meta.appendChild(badge('managed'));
    for (const b of validityBadges(attrs).filter((x) => x.textContent !== 'disabled')) meta.appendChild(b);
    li.appendChild(meta);
    const tags = tagList(item.tags);
    if (tags) li.appendChild(tags);
    li.setAttribute('data-search', [name, item.contentType || '',
      ...Object.entries(item.tags || {}).map(([k, v]) => k + '=' + v)].join(' ').toLowerCase());
    applyFilter(li);
    return li;
  }

  function applyFilter(li) {
    const q = filterInput.value.trim().toLowerCase();
    li.hidden = q !== '' && !(li.getAttribute('data-search') || '').includes(q);
  }

  filterInput.addEventListener('input', () => {
    for (const li of listEl.children) applyFilter(li);
    updateListStatus();
  });

  function startList() {
    if (list.ctrl) list.ctrl.abort();
    clearError('list');
    listEl.textContent = '';
    Object.assign(list, { next: listUrl(), pages: 0, names: new Set(), seen: new Set(), ctrl: new AbortController(), busy: false, foreign: null });
    runBatch();
  }

  // Walks pages from list.next until the batch caps or the last page. On failure
  // list.next still names the page that failed, so Retry resumes there.
  async function runBatch() {
    if (list.busy || !list.next) return;
    const ctrl = list.ctrl;
    clearError('list');
    list.busy = true;
    updateListStatus();
    let pages = 0;
    let items = 0;
    try {
      while (list.next && pages < BATCH_PAGES && items < BATCH_ITEMS) {
        const url = list.next;
        const body = await apiGet(url, ctrl.signal);
        const page = checkPage(body, url, list.seen);
        if (ctrl !== list.ctrl) return;
        const frag = document.createDocumentFragment();
        for (const it of page.items) {
          const li = renderItem(it);
          if (li) frag.appendChild(li);
        }
        listEl.appendChild(frag);
        list.pages++;
        list.next = page.next;
        if (page.foreign) list.foreign = page.foreign;
        pages++;
        items += page.items.length;
        markCurrent();
        updateListStatus();
      }
    } catch (e) {
      if (isAbort(e) || ctrl !== list.ctrl) return;
      showError('list', listErrorSlot, list.pages === 0 ? 'Could not list the secrets.'
        : 'Could not load page ' + (list.pages + 1) + ' of the list.', e, () => runBatch());
    } finally {
      if (ctrl === list.ctrl) {
        list.busy = false;
        updateListStatus();
      }
    }
  }

  loadMoreBtn.addEventListener('click', () => runBatch());
  $('reload').addEventListener('click', () => startList());

  function markCurrent() {
    const r = current;
    for (const a of listEl.querySelectorAll('a.item-link')) {
      const li = a.closest('li');
      if (r && r.name === li.getAttribute('data-name')) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }

  // ------------------------------------------------------------------ the detail

  const pane = $('detail-pane');
  let current = null;      // {name, version, versions} of the route being shown
  let detailCtrl = null;

  function secretUrl(name, version) {
    return settings.api + '/secrets/' + encodeURIComponent(name) + (version ? '/' + encodeURIComponent(version) : '');
  }

  function backLink() {
    return h('a', { class: 'back-link', href: '#/' }, '← All secrets');
  }

  function showPlaceholder() {
    if (detailCtrl) detailCtrl.abort();
    detailCtrl = null;
    clearError('detail');
    clearError('versions');
    pane.removeAttribute('aria-busy');
    pane.replaceChildren(h('p', { class: 'placeholder' }, 'Choose a secret to see its properties and its value.'));
    document.title = 'kvgate demo';
  }

  async function loadDetail(route, focus) {
    if (detailCtrl) detailCtrl.abort();
    const ctrl = new AbortController();
    detailCtrl = ctrl;
    clearError('detail');
    clearError('versions');
    const { name, version } = route;
    document.title = name + ' · kvgate demo';
    const heading = h('h2', { class: 'detail-title', tabindex: '-1' }, name);
    pane.setAttribute('aria-busy', 'true');
    pane.replaceChildren(h('div', { class: 'detail-loading' },
      h('div', { class: 'detail-head' }, heading, backLink()),
      h('p', { class: 'muted', role: 'status' }, 'Loading ' + (version ? 'version ' + version + ' of ' : '') + name + '…')));
    if (focus) heading.focus();
    try {
      const bundle = await apiGet(secretUrl(name, version), ctrl.signal);
      if (ctrl !== detailCtrl) return;
      if (!bundle || typeof bundle !== 'object' || typeof bundle.value !== 'string') {
        throw badResponse('The answer is not a SecretBundle (no string "value").', secretUrl(name, version));
      }
      renderDetail(route, bundle, ctrl, focus);
    } catch (e) {
      if (isAbort(e) || ctrl !== detailCtrl) return;
      const h2 = h('h2', { class: 'detail-title', tabindex: '-1' }, name);
      const slot = h('div', { class: 'error-slot' });
      pane.replaceChildren(h('div', { class: 'detail-failed' },
        h('div', { class: 'detail-head' }, h2, backLink()), slot));
      pane.removeAttribute('aria-busy');
      showError('detail', slot, 'Could not load ' + (version ? 'version ' + version + ' of ' : 'the secret ') + '“' + name + '”.',
        e, () => loadDetail(route, false));
      if (focus) h2.focus();
    }
  }

  function renderDetail(route, bundle, ctrl, focus) {
    const { name } = route;
    const idInfo = parseId(bundle.id);
    const version = idInfo && idInfo.version ? idInfo.version : route.version || '';
    const attrs = bundle.attributes && typeof bundle.attributes === 'object' ? bundle.attributes : {};
    const value = bundle.value;
    const asJson = isJsonContentType(bundle.contentType);
    const segments = asJson ? jsonSegments(value) : null;
    const st = { revealed: false, formatted: !!segments };

    const heading = h('h2', { class: 'detail-title', tabindex: '-1' }, name);
    const head = h('div', { class: 'detail-head' }, heading, backLink());
    const badges = h('p', { class: 'detail-badges' },
      attrs.enabled === false ? badge('disabled', 'off') : badge('enabled', 'on'),
      validityBadges(attrs).filter((x) => x.textContent !== 'disabled'),
      bundle.managed ? badge('managed') : null,
      route.version ? badge('pinned version', 'info') : badge('latest version', 'info'));

    // The value, hidden until Reveal.
    const valueEl = h('pre', {
      id: 'secret-value', class: 'secret-value', 'data-testid': 'secret-value',
      'data-revealed': 'false', tabindex: '0', 'aria-label': 'Secret value (hidden)'
    });
    const note = h('p', { class: 'value-note muted', 'data-testid': 'value-note' });
    const revealBtn = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'reveal',
      'aria-controls': 'secret-value' }, 'Reveal');
    const copyBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'copy' }, 'Copy');
    const fmtBtn = segments ? h('button', { type: 'button', class: 'btn btn-quiet', 'data-testid': 'format-toggle',
      hidden: true }, 'Show raw') : null;
    const copyStatus = h('span', { class: 'copy-status muted', role: 'status' });

    function drawValue() {
      valueEl.textContent = '';
      valueEl.setAttribute('data-revealed', String(st.revealed));
      valueEl.setAttribute('aria-label', st.revealed ? 'Secret value' : 'Secret value (hidden)');
      revealBtn.textContent = st.revealed ? 'Hide' : 'Reveal';
      if (fmtBtn) {
        fmtBtn.hidden = !st.revealed;
        fmtBtn.textContent = st.formatted ? 'Show raw' : 'Format JSON';
      }
      if (!st.revealed) {
        valueEl.removeAttribute('data-format');
        note.textContent = 'Hidden. Reveal shows it here; Copy copies it without showing it.';
        return;
      }
      let escaped = 0;
      if (st.formatted && segments) {
        valueEl.setAttribute('data-format', 'json');
        for (const s of segments) {
          if (s.c === null) valueEl.appendChild(document.createTextNode(s.t));
          else {
            const span = h('span', { class: s.c });
            escaped += appendVisible(span, s.t);
            valueEl.appendChild(span);
          }
        }
      } else {
        valueEl.setAttribute('data-format', 'text');
        // Leading and trailing spaces are easy to miss in a password: mark them.
        const lead = /^ */.exec(value)[0].length;
        const trail = lead === value.length ? 0 : / *$/.exec(value)[0].length;
        if (lead) valueEl.appendChild(h('span', { class: 'edge-ws', title: 'leading spaces' }, value.slice(0, lead)));
        escaped = appendVisible(valueEl, value.slice(lead, value.length - trail));
        if (trail) valueEl.appendChild(h('span', { class: 'edge-ws', title: 'trailing spaces' }, value.slice(value.length - trail)));
      }
      const chars = Array.from(value).length;
      const parts = [plural(chars, 'character', 'characters')];
      if (value === '') parts[0] = 'Empty value';
      const lines = value.split('\n').length;
      if (lines > 1) parts.push(plural(lines, 'line', 'lines'));
      if (st.formatted && segments) parts.push('JSON, re-indented for reading (Copy gives the exact value)');
      else if (asJson && !segments) parts.push('the content type says JSON but the value does not parse as JSON');
      if (escaped) parts.push(plural(escaped, 'invisible or control character', 'invisible or control characters') + ' shown escaped');
      if (/^\s|\s$/.test(value)) parts.push('note: leading or trailing whitespace');
      note.textContent = parts.join(' · ') + '.';
    }

    revealBtn.addEventListener('click', () => {
      st.revealed = !st.revealed;
      drawValue();
    });
    if (fmtBtn) {
      fmtBtn.addEventListener('click', () => {
        st.formatted = !st.formatted;
        drawValue();
      });
    }
    copyBtn.addEventListener('click', async () => {
      const ok = await copyText(value);
      copyStatus.textContent = ok ? 'Copied.' : 'Copy failed; reveal the value and select it.';
      setTimeout(() => { copyStatus.textContent = ''; }, 2500);
    });
    drawValue();

    const valueSection = h('section', { class: 'card value-card', 'aria-labelledby': 'value-heading' },
      h('div', { class: 'card-head' }, h('h3', { id: 'value-heading' }, 'Value'),
        h('div', { class: 'actions' }, revealBtn, copyBtn, fmtBtn, copyStatus)),
      valueEl, note);

    // Properties.
    const dl = h('dl', { class: 'props', 'data-testid': 'secret-props' });
    const row = (label, ...v) => dl.appendChild(h('div', { class: 'prop' }, h('dt', null, label), h('dd', null, ...v)));
    row('Name', h('code', null, name));
    row('Version', version ? h('code', { 'data-testid': 'secret-version' }, version) : h('span', { class: 'muted' }, '—'));
    row('Identifier', bundle.id ? visibleText('code', 'break', String(bundle.id)) : h('span', { class: 'muted' }, '—'));
    row('Content type', bundle.contentType ? visibleText('code', '', String(bundle.contentType)) : h('span', { class: 'muted' }, 'none'));
    const known = { enabled: 'Enabled', created: 'Created', updated: 'Updated', nbf: 'Not before', exp: 'Expires',
      recoveryLevel: 'Recovery level', recoverableDays: 'Recoverable days' };
    for (const key of Object.keys(known)) {
      if (key === 'enabled') row('Enabled', attrs.enabled === false ? 'no' : attrs.enabled === true ? 'yes' : '—');
      else if (key === 'nbf' || key === 'exp') { if (attrs[key] !== undefined) row(known[key], timeEl(attrs[key])); }
      else if (key === 'created' || key === 'updated') row(known[key], timeEl(attrs[key]));
      else if (attrs[key] !== undefined) row(known[key], String(attrs[key]));
    }
    for (const [k, v] of Object.entries(attrs)) {
      if (known[k]) continue;
      row('attributes.' + k, visibleText('code', 'break', typeof v === 'string' ? v : JSON.stringify(v)));
    }
    if (bundle.managed !== undefined) row('Managed', bundle.managed ? 'yes (backs a certificate)' : 'no');
    if (bundle.kid) row('Key ID (kid)', visibleText('code', 'break', String(bundle.kid)));
    row('Tags', tagList(bundle.tags) || h('span', { class: 'muted' }, 'none'));
    const propsSection = h('section', { class: 'card', 'aria-labelledby': 'props-heading' },
      h('div', { class: 'card-head' }, h('h3', { id: 'props-heading' }, 'Properties')), dl);

    // Versions, on demand.
    const versionsBody = h('div', { class: 'versions-body' });
    const versionsBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'show-versions' }, 'Versions');
    const versionsSection = h('section', { class: 'card', 'aria-labelledby': 'versions-heading' },
      h('div', { class: 'card-head' }, h('h3', { id: 'versions-heading' }, 'Versions'), h('div', { class: 'actions' }, versionsBtn)),
      versionsBody);
    const vstate = { next: null, seen: new Set(), pages: 0, items: [], busy: false, current: version };
    versionsBtn.addEventListener('click', () => {
      if (vstate.busy) return;
      Object.assign(vstate, { next: settings.api + '/secrets/' + encodeURIComponent(name) + '/versions' +
        (settings.maxresults ? '?maxresults=' + settings.maxresults : ''), seen: new Set(), pages: 0, items: [] });
      versionsBody.textContent = '';
      walkVersions(name, vstate, versionsBody, versionsBtn, ctrl);
    });

    const article = h('article', {
      class: 'detail', 'data-testid': 'secret-detail', 'data-name': name, 'data-version': version
    }, head, badges, valueSection, propsSection, versionsSection);
    pane.replaceChildren(article);
    pane.removeAttribute('aria-busy');
    if (focus) heading.focus();
    if (route.versions) versionsBtn.click();
  }

  async function walkVersions(name, vs, body, btn, ctrl) {
    clearError('versions');
    vs.busy = true;
    btn.disabled = true;
    btn.textContent = 'Loading…';
    const status = h('p', { class: 'muted', role: 'status' }, 'Loading versions…');
    body.replaceChildren(status);
    let pages = 0;
    let items = 0;
    try {
      while (vs.next && pages < BATCH_PAGES && items < BATCH_ITEMS) {
        const url = vs.next;
        const page = checkPage(await apiGet(url, ctrl.signal), url, vs.seen);
        vs.items.push(...page.items);
        vs.next = page.next;
        vs.pages++;
        pages++;
        items += page.items.length;
      }
      drawVersions(name, vs, body, btn, ctrl);
    } catch (e) {
      if (isAbort(e) || ctrl !== detailCtrl) return;
      if (vs.items.length) drawVersions(name, vs, body, btn, ctrl);
      else body.replaceChildren();
      showError('versions', body, 'Could not list the versions of “' + name + '”.', e,
        () => walkVersions(name, vs, body, btn, ctrl));
    } finally {
      if (ctrl === detailCtrl) {
        vs.busy = false;
        btn.disabled = false;
        btn.textContent = vs.pages ? 'Reload versions' : 'Versions';
      }
    }
  }

  function drawVersions(name, vs, body, btn, ctrl) {
    const rows = vs.items.map((it) => ({ it, id: parseId(it && it.id), a: (it && it.attributes) || {} }));
    rows.sort((x, y) => (y.a.created || 0) - (x.a.created || 0));
    const ul = h('ul', { class: 'versions', 'data-testid': 'versions', 'aria-label': 'Versions of ' + name });
    for (const { it, id, a } of rows) {
      const v = id && id.version ? id.version : '';
      const li = h('li', { class: 'version-item', 'data-testid': 'version-item', 'data-version': v });
      if (v && VERSION_RE.test(v)) {
        li.appendChild(h('a', { class: 'version-link', href: '#/secrets/' + encodeURIComponent(name) + '/' + v,
          'aria-current': v === vs.current ? 'true' : null }, h('code', null, v)));
      } else {
        li.appendChild(visibleText('code', 'break', String(it && it.id)));
      }
      const meta = h('div', { class: 'item-meta' },
        v === vs.current ? badge('shown', 'info') : null,
        a.enabled === false ? badge('disabled', 'off') : badge('enabled', 'on'),
        validityBadges(a).filter((x) => x.textContent !== 'disabled'),
        h('span', null, 'created ', timeEl(a.created, true)),
        h('span', null, 'updated ', timeEl(a.updated, true)));
      if (it && it.contentType) meta.appendChild(visibleText('span', 'item-ct', String(it.contentType)));
      li.appendChild(meta);
      ul.appendChild(li);
    }
    const summary = h('p', { class: 'muted', role: 'status', 'data-testid': 'versions-status' },
      plural(rows.length, 'version', 'versions') + ' · ' + plural(vs.pages, 'page', 'pages') + ' loaded' +
      (vs.next ? ' · more available' : ''));
    const parts = [summary];
    if (rows.length) parts.push(ul);
    if (vs.next) {
      const more = h('button', { type: 'button', class: 'btn load-more' }, 'Load more versions');
      more.addEventListener('click', () => walkVersions(name, vs, body, btn, ctrl));
      parts.push(more);
    }
    body.replaceChildren(...parts);
  }

  async function copyText(text) {
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        return true;
      }
    } catch (e) { /* fall back below */ }
    // Outside secure contexts the async clipboard API is missing.
    const ta = h('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true' });
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    ta.remove();
    return ok;
  }

  // ------------------------------------------------------------------ routing

  // Routes: "" or "#/" (list only), "#/secrets/{name}", "#/secrets/{name}/{version}",
  // "#/secrets/{name}/versions" (opens the versions list too).
  function parseHash(hash) {
    const s = hash.replace(/^#/, '');
    if (s === '' || s === '/') return { view: 'list' };
    const m = /^\/secrets\/([^/]+)(?:\/([^/]*))?\/?$/.exec(s);
    if (!m) return { view: 'list' };
    let name;
    let version = null;
    try {
      name = decodeURIComponent(m[1]);
      if (m[2]) version = decodeURIComponent(m[2]);
    } catch (e) {
      return { view: 'invalid', why: 'The link is not validly encoded.' };
    }
    if (!NAME_RE.test(name)) {
      return { view: 'invalid', name, why: 'This is not a valid secret name: names are 1 to 127 characters of 0-9, a-z, A-Z and "-".' };
    }
    if (version === 'versions') return { view: 'secret', name, version: null, versions: true };
    if (version !== null && !VERSION_RE.test(version)) {
      return { view: 'invalid', name, why: 'This is not a valid secret version: versions are 32 hexadecimal characters.' };
    }
    return { view: 'secret', name, version };
  }

  function route(focus) {
    const r = parseHash(location.hash);
    if (r.view === 'secret') {
      current = r;
      markCurrent();
      loadDetail(r, focus);
      return;
    }
    current = null;
    markCurrent();
    showPlaceholder();
    if (r.view === 'invalid') {
      const slot = h('div', { class: 'error-slot' });
      pane.replaceChildren(h('div', { class: 'detail-head' }, h('h2', { class: 'detail-title' }, 'Not a secret'), backLink()), slot);
      const err = new ApiError({ kind: 'client', code: 'InvalidName', message: r.why });
      showError('detail', slot, 'Nothing was requested for this link.', err, null);
    }
  }

  window.addEventListener('hashchange', () => route(true));

  // ------------------------------------------------------------------ start

  function showSettings() {
    $('api-base').textContent = settings.api;
    $('api-source').textContent = '(' + settings.source + ')';
    $('page-origin').textContent = location.origin;
    const mode = $('origin-mode');
    mode.textContent = crossOrigin ? 'cross-origin: CORS preflight on every request' : 'same origin: no CORS involved';
    mode.classList.add(crossOrigin ? 'badge-warn' : 'badge-on');
    const notes = $('config-notes');
    if (settings.notes.length) {
      notes.replaceChildren(...settings.notes.map((n) => h('p', null, n)));
      notes.hidden = false;
    }
  }

  showSettings();
  startList();
  route(false);
})();
