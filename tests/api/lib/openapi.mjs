// api/openapi.yaml as a validator of real replies, for any API test.
//
//   import { validateReply, validateResponse } from './lib/openapi.mjs';
//   const res = await srv.request('GET', `/api/v1/devices/${id}`);
//   validateReply('GET', `/api/v1/devices/${id}`, res);       // finds the path template itself
//   validateResponse('GET', '/api/v1/devices/{id}', 200, res.json);
//
// Both throw an Error that says what does not match: a path or method the
// spec does not have, a status the operation does not list, a content type
// other than the one described, or the body failing the schema (ajv, JSON
// Schema 2020-12 as OpenAPI 3.1 uses, with ajv-formats for uuid and
// date-time). $refs to components are resolved here: schemas through one
// ajv registry, responses and parameters by hand.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

export const SPEC_PATH = fileURLToPath(new URL('../../../api/openapi.yaml', import.meta.url));
export const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const SCHEMAS_ID = 'urn:certdeploy:openapi';
let cache = null;

/** The parsed spec (cached; pass a path to load another file, uncached). */
export function loadSpec(path) {
  if (path && path !== SPEC_PATH) return parse(readFileSync(path, 'utf8'), { uniqueKeys: true });
  return state().doc;
}

function state() {
  if (cache) return cache;
  const doc = parse(readFileSync(SPEC_PATH, 'utf8'), { uniqueKeys: true });
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
  addFormats(ajv);
  ajv.addKeyword({ keyword: 'example', schemaType: [] }); // an OpenAPI annotation
  ajv.addSchema({ $id: SCHEMAS_ID, $defs: rewriteRefs(doc.components?.schemas || {}) });
  cache = { doc, ajv, compiled: new Map(), templates: templatesOf(doc) };
  return cache;
}

/** '#/components/schemas/X' becomes a ref into the ajv registry. */
function rewriteRefs(node) {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') {
      const m = v.match(/^#\/components\/schemas\/(.+)$/);
      if (!m) throw new Error(`unsupported schema $ref ${v}`);
      out.$ref = `${SCHEMAS_ID}#/$defs/${m[1]}`;
    } else {
      out[k] = rewriteRefs(v);
    }
  }
  return out;
}

/** Follows a non-schema $ref ('#/components/responses/X', ...) within the spec. */
export function deref(doc, obj) {
  let o = obj;
  for (let hops = 0; o && typeof o === 'object' && typeof o.$ref === 'string'; hops++) {
    if (hops > 10 || !o.$ref.startsWith('#/')) throw new Error(`cannot follow $ref ${o.$ref}`);
    o = o.$ref.slice(2).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((n, key) => (n == null ? undefined : n[key]), doc);
    if (o === undefined) throw new Error(`dangling $ref ${obj.$ref}`);
  }
  return o;
}

function templatesOf(doc) {
  return Object.keys(doc.paths || {})
    .map((t) => ({
      template: t,
      params: t.split('/').filter((s) => /^\{.+\}$/.test(s)).length,
      re: new RegExp('^' + t.split(/\{[^}]+\}/).map((s) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('[^/]+') + '$'),
    }))
    .sort((a, b) => a.params - b.params); // literal segments win over placeholders
}

/** Every operation of the spec: [{method: 'GET', path, op}]. */
export function operations(doc = loadSpec()) {
  const out = [];
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const m of METHODS) if (item[m]) out.push({ method: m.toUpperCase(), path, op: item[m], item });
  }
  return out;
}

/** The spec's path template for a concrete path (query ignored), or null. */
export function matchPath(concretePath) {
  const p = concretePath.split('?')[0];
  const hit = state().templates.find((t) => t.re.test(p));
  return hit ? hit.template : null;
}

function operation(method, template) {
  const { doc } = state();
  const item = doc.paths?.[template];
  if (!item) throw new Error(`the spec has no path ${template}`);
  const op = item[method.toLowerCase()];
  if (!op) throw new Error(`the spec has no ${method.toUpperCase()} ${template} (it has ${METHODS.filter((m) => item[m]).map((m) => m.toUpperCase()).join(', ')})`);
  return op;
}

function compiled(key, schema) {
  const s = state();
  let v = s.compiled.get(key);
  if (!v) {
    v = s.ajv.compile(rewriteRefs(schema));
    s.compiled.set(key, v);
  }
  return v;
}

function describe(errors) {
  return errors.map((e) => `  ${e.instancePath || '(body)'} ${e.message}${e.params && Object.keys(e.params).length ? ' ' + JSON.stringify(e.params) : ''}`).join('\n');
}

function checkAgainst(response, where, status, body, contentType) {
  const { doc } = state();
  const r = deref(doc, response);
  const content = r.content || {};
  const types = Object.keys(content);
  const text = typeof body === 'string' ? body : body === undefined ? '' : null;
  if (types.length === 0) {
    if (text !== '' && body !== undefined) throw new Error(`${where} ${status}: the spec describes no body, got ${JSON.stringify(body).slice(0, 300)}`);
    return;
  }
  const ct = contentType ? String(contentType).split(';')[0].trim().toLowerCase() : undefined;
  const type = ct ?? (types.includes('application/json') ? 'application/json' : types[0]);
  if (!types.includes(type)) throw new Error(`${where} ${status}: content type ${ct} is not one the spec describes (${types.join(', ')})`);
  const schema = content[type].schema;
  if (!schema) return;
  let value = body;
  if (type === 'application/json' && typeof body === 'string') {
    try { value = JSON.parse(body); } catch { throw new Error(`${where} ${status}: the body is not JSON: ${body.slice(0, 300)}`); }
  }
  if (value === undefined) throw new Error(`${where} ${status}: the spec describes a ${type} body, got none`);
  const validate = compiled(`${where} ${status} ${type}`, schema);
  if (!validate(value)) {
    throw new Error(`${where} ${status} does not match the spec:\n${describe(validate.errors)}\nbody: ${JSON.stringify(value).slice(0, 1500)}`);
  }
}

/**
 * Validates one reply against the operation (method, path template) of the
 * spec: the status must be listed, the body must match its schema (JSON
 * value or text; undefined/'' for none). contentType, when given, must be
 * one the response describes. Throws on any mismatch; returns nothing.
 */
export function validateResponse(method, pathTemplate, status, body, contentType) {
  const op = operation(method, pathTemplate);
  const where = `${method.toUpperCase()} ${pathTemplate}`;
  const response = op.responses?.[String(status)] ?? op.responses?.[`${String(status)[0]}XX`] ?? op.responses?.default;
  if (!response) {
    throw new Error(`${where} answered ${status}, which the spec does not list (it lists ${Object.keys(op.responses || {}).join(', ')}); body: ${JSON.stringify(body)?.slice(0, 500)}`);
  }
  checkAgainst(response, where, status, body, contentType);
}

/**
 * Validates a reply of tests/api/lib/server.mjs's request() ({status,
 * headers, text, json}) for a concrete path (query allowed). Returns the
 * path template it matched.
 */
export function validateReply(method, concretePath, res) {
  const template = matchPath(concretePath);
  if (!template) throw new Error(`${method} ${concretePath}: no path of the spec matches`);
  validateResponse(method, template, res.status, res.json !== undefined ? res.json : res.text, res.headers?.['content-type']);
  return template;
}

/**
 * Checks a JSON request body against the operation's requestBody schema.
 * Returns a list of problems (empty when it matches, or when the
 * operation takes no body and none is given).
 */
export function requestProblems(method, pathTemplate, body) {
  const { doc } = state();
  const op = operation(method, pathTemplate);
  const where = `${method.toUpperCase()} ${pathTemplate} request`;
  if (!op.requestBody) return body === undefined ? [] : [`${where}: the spec describes no request body`];
  const rb = deref(doc, op.requestBody);
  if (body === undefined) return rb.required ? [`${where}: the spec requires a body`] : [];
  const schema = rb.content?.['application/json']?.schema;
  if (!schema) return [`${where}: no application/json schema`];
  const validate = compiled(where, schema);
  return validate(body) ? [] : [`${where} does not match the spec:\n${describe(validate.errors)}`];
}

/**
 * Validates a reply to a request the spec has no operation for (a method
 * a path does not list: 405; a path that is no route: 404) against the
 * shared component response (MethodNotAllowed, NotFound).
 */
export function validateComponentResponse(name, status, res) {
  const { doc } = state();
  const response = doc.components?.responses?.[name];
  if (!response) throw new Error(`the spec has no components.responses.${name}`);
  checkAgainst(response, `components.responses.${name}`, status, res.json !== undefined ? res.json : res.text, res.headers?.['content-type']);
}
