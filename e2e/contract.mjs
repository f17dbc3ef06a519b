// Validation of real traffic against docs/openapi.yaml (HTTP) and
// docs/asyncapi.yaml (Socket.IO) with ajv. harness.mjs wires it into api()
// and makeSocket(), so every response, received event and ack of the e2e
// suites is checked; a mismatch is collected here and fails the running
// test in harness.mjs's afterEach (throwing from a socket listener would
// surface as an uncaught error, not as the test that caused it).
//
//   checkHTTP({method, path, status, headers, text, stream})  one response
//   checkEvent(event, payload)                                  one received event
//   checkAck(event, ack)                                        one ack of a client event
//   checkSSE(event, payload)                                    one SSE data frame
//   takeContractErrors()                                        what failed so far (and forget it)

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const docsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs');
export const openapi = YAML.parse(readFileSync(path.join(docsDir, 'openapi.yaml'), 'utf8'));
export const asyncapi = YAML.parse(readFileSync(path.join(docsDir, 'asyncapi.yaml'), 'utf8'));

// OpenAPI 3.1 schemas are JSON Schema 2020-12; AsyncAPI 3.0's default
// schema format is draft-07. strict: false lets the documents' own keywords
// (example, x-…) through without weakening any validation keyword.
const ajvHTTP = addFormats(new Ajv2020({ strict: false, allErrors: true }));
ajvHTTP.addSchema(openapi, 'openapi.json');
const ajvIO = addFormats(new Ajv({ strict: false, allErrors: true }));
ajvIO.addSchema(asyncapi, 'asyncapi.json');

const errors = [];

/** Every contract violation seen since the last call; clears the list. */
export function takeContractErrors() {
  return errors.splice(0, errors.length);
}

function fail(what, detail) {
  errors.push(`${what}: ${detail}`);
}

// JSON pointer helpers: the validators compile `$ref`s into the documents,
// so relative `#/components/...` refs inside them resolve as written.
const esc = (s) => encodeURIComponent(String(s).replace(/~/g, '~0').replace(/\//g, '~1'));
const at = (doc, pointer) => pointer.split('/').slice(1)
  .reduce((o, k) => (o == null ? o : o[decodeURIComponent(k).replace(/~1/g, '/').replace(/~0/g, '~')]), doc);

/** Follow $ref (local only); returns [object, pointer]. */
function deref(doc, obj, pointer) {
  for (let i = 0; obj && obj.$ref && i < 10; i++) {
    pointer = obj.$ref.slice(1).split('/').map((s) => (s ? encodeURIComponent(s) : s)).join('/');
    obj = at(doc, pointer);
  }
  return [obj, pointer];
}

const compiled = new Map();
function validator(ajv, id, pointer) {
  const key = `${id}#${pointer}`;
  let v = compiled.get(key);
  if (!v) {
    v = ajv.compile({ $ref: key });
    compiled.set(key, v);
  }
  return v;
}

function validate(ajv, id, pointer, value) {
  const v = validator(ajv, id, pointer);
  if (v(value)) return null;
  return ajv.errorsText(v.errors, { dataVar: 'payload' }) + ' ' + JSON.stringify(v.errors.map((e) => e.params));
}

// ---- HTTP ----

const pathTemplates = Object.keys(openapi.paths).map((t) => ({ t, segs: t.split('/') }));

function findPath(p) {
  const got = p.split('/');
  let best = null;
  for (const { t, segs } of pathTemplates) {
    let params = 0;
    let ok = true;
    for (let i = 0; i < segs.length && ok; i++) {
      const s = segs[i];
      if (i >= got.length) ok = false;
      else if (s.startsWith('{')) {
        if (got[i] === '') ok = false;
        params++;
        if (s === '{file}' && i === segs.length - 1) { got.length = segs.length; } // rest of the path
      } else if (s !== got[i]) ok = false;
    }
    if (ok && segs.length === got.length && (!best || params < best.params)) best = { t, params };
  }
  return best?.t ?? null;
}

const mediaType = (h) => (h ?? '').split(';')[0].trim().toLowerCase();

/**
 * Check one HTTP response against openapi.yaml. stream: the body is an
 * endless stream (SSE); only status and headers are checked then.
 */
export function checkHTTP({ method, path: urlPath, status, headers, text, stream = false }) {
  const what = `${method} ${urlPath.split('?')[0].slice(0, 80)} -> ${status}`;
  const u = new URL(urlPath, 'http://x');
  let p;
  try { p = decodeURIComponent(u.pathname); } catch { return; } // net/http refuses a bad escape before the app (text/plain)
  if (p.startsWith('/socket.io/')) return; // Engine.IO framing; its events are asyncapi.yaml's
  const hget = (n) => (typeof headers?.get === 'function' ? headers.get(n) : headers?.[n.toLowerCase()]);
  if (method === 'OPTIONS' && hget('access-control-allow-methods') !== null && status === 204) return; // CORS preflight
  const json = () => { try { return JSON.parse(text); } catch { return undefined; } };
  const tmpl = findPath(p);
  if (!tmpl) {
    if (status !== 404) return fail(what, 'a path openapi.yaml does not know answered other than 404');
    const err = validate(ajvHTTP, 'openapi.json', '/components/schemas/NotFoundError', json());
    return err && fail(what, err);
  }
  const base = `/paths/${esc(tmpl)}`;
  const op = openapi.paths[tmpl][method.toLowerCase()];
  if (!op) {
    if (status !== 405) return fail(what, `method ${method} is not documented for ${tmpl} (only 405 is expected)`);
    const err = validate(ajvHTTP, 'openapi.json', '/components/schemas/Error', json());
    return err && fail(what, err);
  }
  const [res, resPtr] = deref(openapi, op.responses?.[String(status)], `${base}/${method.toLowerCase()}/responses/${status}`);
  if (!res) return fail(what, `status ${status} is not documented for ${method} ${tmpl}`);
  for (const [name, h0] of Object.entries(res.headers ?? {})) {
    const [h, hPtr] = deref(openapi, h0, `${resPtr}/headers/${esc(name)}`);
    const v = hget(name);
    if (v === null || v === undefined) {
      if (h.required) fail(what, `required header ${name} missing`);
      continue;
    }
    const err = validate(ajvHTTP, 'openapi.json', `${hPtr}/schema`, v);
    if (err) fail(what, `header ${name}: ${err}`);
  }
  if (!res.content) return;
  const mt = mediaType(hget('content-type'));
  const media = res.content[mt];
  if (!media) return fail(what, `content type ${mt || '(none)'} not documented (${Object.keys(res.content).join(', ')})`);
  if (stream || !media.schema || mt !== 'application/json') return;
  const body = json();
  if (body === undefined) return fail(what, `body is not JSON: ${String(text).slice(0, 200)}`);
  const err = validate(ajvHTTP, 'openapi.json', `${resPtr}/content/${esc(mt)}/schema`, body);
  if (err) fail(what, `${err}; body ${String(text).slice(0, 300)}`);
}

/** Check one SSE frame's JSON data against the event schemas. */
export function checkSSE(event, payload) {
  const schema = { 'order:status': 'StatusEvent', 'order:message': 'MessageEvent' }[event];
  if (!schema) return fail(`SSE ${event}`, 'event name not documented');
  const err = validate(ajvHTTP, 'openapi.json', `/components/schemas/${schema}`, payload);
  if (err) fail(`SSE ${event}`, `${err}; data ${JSON.stringify(payload).slice(0, 300)}`);
}

// ---- Socket.IO ----

// event name -> pointer of the payload schema of what the server sends,
// and of the ack (reply) of what the client sends.
const received = new Map();
const acks = new Map();
for (const [name, op] of Object.entries(asyncapi.operations)) {
  for (const ref of op.messages ?? []) {
    const [msg, ptr] = deref(asyncapi, ref, '');
    if (op.action === 'send') received.set(msg.name, `${ptr}/payload`);
    else if (op.reply) {
      for (const r of op.reply.messages ?? []) {
        const [, rptr] = deref(asyncapi, r, '');
        acks.set(msg.name, `${rptr}/payload`);
      }
    } else fail('asyncapi.yaml', `operation ${name} receives without a reply`);
  }
}

/** Check one event the server sent to a client (first argument). */
export function checkEvent(event, payload) {
  const ptr = received.get(event);
  if (!ptr) return fail(`event ${event}`, 'not documented as sent by the server');
  const err = validate(ajvIO, 'asyncapi.json', ptr, payload);
  if (err) fail(`event ${event}`, `${err}; payload ${JSON.stringify(payload).slice(0, 300)}`);
}

/** Check the ack the server gave to a client event. */
export function checkAck(event, ack) {
  const ptr = acks.get(event);
  // An event the server does not handle (tests probe them) is acked
  // bad_request, and nothing else.
  const err = ptr
    ? validate(ajvIO, 'asyncapi.json', ptr, ack)
    : validate(ajvIO, 'asyncapi.json', '/components/schemas/UnknownEventAck', ack);
  if (err) fail(`ack of ${event}`, `${err}; ack ${JSON.stringify(ack).slice(0, 300)}`);
}
