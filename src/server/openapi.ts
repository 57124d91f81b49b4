import { createRequire } from 'node:module';
import { z } from 'zod';
import { operations, type Operation } from './api.ts';

/**
 * The OpenAPI 3.1 document, generated from the operation table (api.ts): request schemas as
 * clients send them (zod's input side, so `?n=` is the string the server parses), response
 * schemas as named components. Served at GET /openapi.json and rendered at GET /docs.
 */

export type OpenApiDocument = ReturnType<typeof buildOpenApi>;
type JsonSchema = Record<string, unknown>;

const VERSION: string = createRequire(import.meta.url)('../../package.json').version;
const COMPONENT = '#/components/schemas/';
const ERROR_REF = { $ref: `${COMPONENT}Error` };

/** Shared error responses; every one has the body `{ error: { code, message, field } }`. */
const ERRORS = {
  BadRequest: 'Invalid input (`invalid_input`): `field` names the input, `message` the rule it broke',
  Unauthorized: 'No API key, or the wrong one (`unauthorized`); sent with WWW-Authenticate: Bearer',
  NotFound: 'Unknown id (`not_found`); `field` names it',
  PayloadTooLarge: 'Request body over the configured limit, 4 MiB by default (`payload_too_large`)',
  RateLimited: 'Token bucket spent (`rate_limited`), when rate limiting is on; Retry-After gives the seconds to wait',
  Unavailable: 'Storage unavailable, e.g. the disk is full or the database is locked (`unavailable`)',
  Internal: 'A bug (`internal`): quote `requestId` when reporting it',
} as const;

const errorRef = (name: keyof typeof ERRORS) => ({ $ref: `#/components/responses/${name}` });

/** A schema as JSON Schema 2020-12, without the per-document keys OpenAPI does not want inline. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' });
  return rest;
}

/** Every response schema with an `id` (responses.ts), as `components.schemas`, referencing each other. */
function componentSchemas(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(z.globalRegistry, {
    io: 'output',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    uri: (id) => `${COMPONENT}${id}`,
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _s, $id: _i, ...schema }]) => [id, schema as JsonSchema]),
  );
}

function parameters(op: Operation) {
  const list: JsonSchema[] = [];
  for (const [where, object] of [['path', op.params], ['query', op.query]] as const) {
    for (const [name, field] of Object.entries(object?.shape ?? {})) {
      const { description, ...schema } = jsonSchema(field as z.ZodType, 'input');
      list.push({
        name,
        in: where,
        required: where === 'path' || !(field as z.ZodType).safeParse(undefined).success,
        ...(description !== undefined && { description }),
        schema,
        ...(schema.type === 'array' && { style: 'form', explode: true }),
      });
    }
  }
  return list;
}

function responseId(op: Operation): string {
  const id = z.globalRegistry.get(op.response)?.id;
  if (id === undefined) throw new Error(`openapi: the response schema of ${op.method.toUpperCase()} ${op.path} needs an id (responses.ts)`);
  return id;
}

function operation(operationId: string, op: Operation) {
  const hasInput = op.params !== undefined || op.query !== undefined || op.body !== undefined;
  const responses: Record<string, unknown> = {
    [op.status]: { description: op.summary, content: { 'application/json': { schema: { $ref: `${COMPONENT}${responseId(op)}` } } } },
  };
  // train fails with 400 when there is nothing to train on, though it takes no input.
  if (hasInput || operationId === 'train') responses[400] = errorRef('BadRequest');
  if (op.auth !== 'none') responses[401] = errorRef('Unauthorized');
  if (op.notFound) responses[404] = { description: `Not found: ${op.notFound}`, content: { 'application/json': { schema: ERROR_REF } } };
  if (op.body) responses[413] = errorRef('PayloadTooLarge');
  if (op.auth !== 'none') responses[429] = errorRef('RateLimited');
  responses[500] = errorRef('Internal');
  responses[503] = errorRef('Unavailable');

  const security = { none: [], read: [{}, { bearerAuth: [] }], write: [{ bearerAuth: [] }] }[op.auth];
  const params = parameters(op);
  return {
    operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description && { description: op.description }),
    ...(params.length > 0 && { parameters: params }),
    ...(op.body && { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body, 'input') } } } }),
    responses,
    security,
  };
}

export function buildOpenApi() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [operationId, op] of Object.entries(operations) as Array<[string, Operation]>) {
    (paths[op.path] ??= {})[op.method] = operation(operationId, op);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'liverec HTTP API',
      version: VERSION,
      description:
        'Recommendations whose user profiles update with every click, buy or rating. ' +
        'Ids are 1–256 printable characters; `n` is 1–100. Unknown body fields are ignored. ' +
        'With LIVEREC_API_KEY set, writes need `Authorization: Bearer <key>`; LIVEREC_READ_KEY additionally guards reads.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: [...new Set(Object.values(operations).map((op) => op.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: componentSchemas(),
      responses: Object.fromEntries(
        Object.entries(ERRORS).map(([name, description]) => [name, { description, content: { 'application/json': { schema: ERROR_REF } } }]),
      ),
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'The API key for writes; the read key (or the API key) for reads when the server has one',
        },
      },
    },
  };
}
