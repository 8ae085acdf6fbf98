// How the route modules (routes.ts and the job, payment and storage tables it concatenates) write a
// route: each module's handlers take the services they need, a subtype of Services, and the status
// defaults to 200. Types only from routes.ts, so there is no import cycle at run time.
import type { z } from 'zod';
import { HttpError } from './http.js';
import type { Ctx, Route, Services } from './routes.js';

export type RouteSpec<B, S extends Services> = Omit<Route, 'handle' | 'body' | 'status'> & {
  body?: z.ZodType<B>;
  status?: number;
  handle(s: S, ctx: Ctx<B>): Promise<unknown>;
};

/** A `route()` for handlers that take services of type S. */
export const routesFor =
  <S extends Services>() =>
  <B>(r: RouteSpec<B, S>): Route =>
    ({ status: 200, ...r }) as Route;

export async function registered(s: Services, node: string): Promise<void> {
  if (!(await s.nodes.isRegistered(node))) throw new HttpError(403, 'not_registered', 'register this node (POST /v1/nodes) first');
}
