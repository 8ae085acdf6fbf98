// The OpenAPI 3.1 document, generated from the route table and its zod schemas (zod 4 writes JSON
// Schema draft 2020-12, which is OpenAPI 3.1's dialect), so it cannot drift from what is served.
import { z } from 'zod';
import { HubErrorBody } from '../../protocol/index.js';
import type { Route } from './routes.js';

const schema = (s: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

export function openApiDocument(routes: readonly Route[], serverUrl: string): Record<string, unknown> {
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
