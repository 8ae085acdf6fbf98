// The OpenAPI 3.1 document, generated from the route table and its zod schemas (zod 4 writes JSON
// Schema draft 2020-12, which is OpenAPI 3.1's dialect), so it cannot drift from what is served.
import { z } from 'zod';
import { HubErrorBody } from '../../protocol/index.js';
import type { Route } from './routes.js';
import { BLOB_ROUTES } from './blob-routes.js';
import { BlobHex, BlobStatus } from '../../protocol/index.js';

const schema = (s: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

export function openApiDocument(routes: readonly Route[], serverUrl: string, blobs = true): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const error = { description: 'Refused; see error.code', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  for (const r of routes) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
    }));
    (paths[r.path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      ...(params.length ? { parameters: params } : {}),
      ...(r.auth === 'none' ? { security: [] } : { security: [{ [r.auth === 'node' ? 'nodeSession' : 'customerKey']: [] }] }),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema(r.body, 'input') } } } } : {}),
      responses: {
        [String(r.status)]: { description: 'OK', content: { 'application/json': { schema: schema(r.response, 'output') } } },
        '4XX': error,
      },
    };
  }
  if (blobs) Object.assign(paths, blobPaths(error));
  return {
    openapi: '3.1.0',
    info: { title: 'Offhours hub API', version: '1' },
    servers: [{ url: serverUrl }],
    paths,
    components: {
      schemas: { Error: schema(HubErrorBody, 'output') },
      securitySchemes: {
        nodeSession: { type: 'http', scheme: 'bearer', description: 'Session token from POST /v1/auth/sign-in' },
        customerKey: { type: 'http', scheme: 'bearer', description: "The customer's API key" },
      },
    },
  };
}

/** The blob endpoints carry raw bytes, so they are written out here rather than read off ROUTES. */
function blobPaths(error: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const hex = { name: 'hex', in: 'path', required: true, schema: schema(BlobHex, 'input') };
  const security = [{ nodeSession: [] }, { customerKey: [] }];
  const status = { description: 'What the hub holds', content: { 'application/json': { schema: schema(BlobStatus, 'output') } } };
  const summary = (method: string, path: string) => BLOB_ROUTES.find((r) => r.method === method && r.path === path)!.summary;
  const int = (description: string) => ({ type: 'integer', minimum: 0, maximum: 2 ** 53, description });
  return {
    '/v1/blobs/{hex}/status': {
      get: { summary: summary('GET', '/v1/blobs/{hex}/status'), parameters: [hex], security, responses: { '200': status, '4XX': error } },
    },
    '/v1/blobs/{hex}': {
      put: {
        summary: summary('PUT', '/v1/blobs/{hex}'),
        description:
          'offset must equal what the hub holds of your upload (GET …/status), else 409 upload_offset. When received reaches length the bytes are hashed: kept under their name, or discarded with 422 digest_mismatch. A blob already complete answers 200 at once.',
        parameters: [
          hex,
          { name: 'offset', in: 'query', required: true, schema: int('Where these bytes start') },
          { name: 'length', in: 'query', required: true, schema: int('The whole blob\'s size in bytes') },
        ],
        security,
        requestBody: { required: true, content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } },
        responses: { '200': status, '409': error, '413': error, '422': error, '4XX': error },
      },
      get: {
        summary: summary('GET', '/v1/blobs/{hex}'),
        parameters: [hex, { name: 'Range', in: 'header', required: false, schema: { type: 'string', pattern: '^bytes=\\d+-$' } }],
        security,
        responses: {
          '200': { description: 'The blob', content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } },
          '206': { description: 'The blob from the requested offset', content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } },
          '4XX': error,
        },
      },
    },
  };
}
