/**
 * Checks bodies against the DigitalOcean OpenAPI subset with ajv: the fake validates every
 * request body it receives and every response body it sends, so the fake cannot drift from
 * the spec the client's types come from.
 *
 * OpenAPI 3.0 schemas are not quite JSON Schema: `nullable` becomes `anyOf [null, ...]`, and
 * the keywords ajv does not know (`discriminator`, `example`, `x-*`) are dropped.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { bundleDigitalOceanSpec } from './digitalocean-spec.js';

// ajv-formats is CommonJS: its default export arrives wrapped under NodeNext.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

type Json = Record<string, unknown>;

export interface SpecValidator {
  /** The spec's path template for a request path (`/v2/droplets/{droplet_id}`), if the subset has it. */
  template(method: string, pathname: string): string | undefined;
  /** Problems with a request body (empty = valid). */
  request(method: string, pathname: string, body: unknown): string[];
  /** Problems with a response body for `status` (the operation's `default` when the status is not listed). */
  response(method: string, pathname: string, status: number, body: unknown): string[];
}

const DROPPED = new Set(['discriminator', 'example', 'examples', 'xml', 'externalDocs']);

/** An OpenAPI 3.0 schema as JSON Schema (draft 7 subset ajv understands). */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (typeof node !== 'object' || node === null) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (DROPPED.has(k) || k.startsWith('x-') || k === 'nullable') continue;
    // `properties` maps names to schemas: a property may be called `example`.
    out[k] =
      k === 'properties'
        ? Object.fromEntries(Object.entries(v as Json).map(([p, s]) => [p, toJsonSchema(s)]))
        : toJsonSchema(v);
  }
  return (node as Json).nullable === true ? { anyOf: [{ type: 'null' }, out] } : out;
}

const templateRegex = (template: string) => new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);

/** The schema of a `content` map's application/json entry. */
const jsonSchemaOf = (content: unknown): unknown =>
  ((content as Json | undefined)?.['application/json'] as Json | undefined)?.schema;

let cached: Promise<SpecValidator> | undefined;

/** Built once per test worker (bundling the spec takes a moment). */
export function digitalOceanValidator(): Promise<SpecValidator> {
  cached ??= build();
  return cached;
}

async function build(): Promise<SpecValidator> {
  const spec = (await bundleDigitalOceanSpec({ dereference: true })) as unknown as { paths: Record<string, Json> };
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  addFormats(ajv);
  const templates = Object.keys(spec.paths).map((t) => ({ t, re: templateRegex(t) }));
  const compiled = new Map<string, ValidateFunction | null>();
  const schemaAt = (key: string, find: () => unknown): ValidateFunction | null => {
    if (!compiled.has(key)) {
      const schema = find();
      compiled.set(key, schema ? ajv.compile(toJsonSchema(schema) as Json) : null);
    }
    return compiled.get(key) ?? null;
  };
  const operation = (method: string, template: string) =>
    spec.paths[template]?.[method.toLowerCase()] as Json | undefined;
  const errors = (validate: ValidateFunction | null, body: unknown, what: string): string[] => {
    if (!validate || validate(body)) return [];
    return (validate.errors ?? []).map(
      (e) => `${what}: ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
    );
  };

  const validator: SpecValidator = {
    template(method, pathname) {
      return templates.find(({ t, re }) => re.test(pathname) && operation(method, t))?.t;
    },
    request(method, pathname, body) {
      const t = validator.template(method, pathname);
      if (!t) return [`${method} ${pathname}: not in the spec subset`];
      const validate = schemaAt(`${method} ${t} request`, () => {
        const rb = operation(method, t)?.requestBody as Json | undefined;
        return jsonSchemaOf(rb?.content);
      });
      return errors(validate, body, `${method} ${t} request`);
    },
    response(method, pathname, status, body) {
      const t = validator.template(method, pathname);
      if (!t) return [`${method} ${pathname}: not in the spec subset`];
      const validate = schemaAt(`${method} ${t} ${status}`, () => {
        const responses = operation(method, t)?.responses as Json | undefined;
        const response = (responses?.[String(status)] ?? responses?.default) as Json | undefined;
        return jsonSchemaOf(response?.content);
      });
      return errors(validate, body, `${method} ${t} ${status}`);
    },
  };
  return validator;
}
