// The API v1 as one table: dispatch and the OpenAPI document are both read from it, so what is
// published is what is served.
import { z } from 'zod';
import {
  ChallengeRequest,
  CompleteRequest,
  CreateTasksRequest,
  CreateTasksResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  HubHealth,
  HubId,
  LeaseRequest,
  LeaseResponse,
  NodeView,
  ProgressRequest,
  RegisterNodeRequest,
  ReleaseRequest,
  RenewRequest,
  RenewResponse,
  Session,
  SignInChallenge,
  SignInRequest,
  TaskView,
} from '../../protocol/index.js';
import type { NodeAuth } from '../auth.js';
import type { Nodes } from '../nodes.js';
import type { Tasks } from '../tasks.js';
import { reputationView } from '../reputation.js';
import { HttpError } from './http.js';
import { STORAGE_ROUTES, StoragePathParams } from './storage-routes.js';
import { PAYMENT_ROUTES } from './payment-routes.js';
import { JOB_ROUTES, type JobServices } from './job-routes.js';
import { registered, routesFor } from './define-route.js';

export interface Services {
  auth: NodeAuth;
  nodes: Nodes;
  tasks: Tasks;
  /** Seconds a node without work should wait before asking again. */
  retryAfterS: number;
  heartbeatS: number;
  /** Customer render jobs, blobs, verification and reputation (job-routes.ts); absent: a bare queue. */
  work?: JobServices;
}

export interface Ctx<B> {
  body: B;
  params: Record<string, string>;
  /** The signed-in node's address (lowercase), for `auth: 'node'` routes. */
  node: string;
}

export interface Route {
  method: 'GET' | 'POST';
  /** With `{name}` for path parameters, each a HubId. */
  path: string;
  auth: 'none' | 'node' | 'admin';
  summary: string;
  body?: z.ZodType;
  response: z.ZodType;
  status: number;
  handle(s: Services, ctx: Ctx<unknown>): Promise<unknown>;
}

const route = routesFor<Services>();

export const PathParams = z.object({ leaseId: HubId, taskId: HubId, jobId: HubId }).partial().extend(StoragePathParams.shape);

export const ROUTES: readonly Route[] = [
  ...STORAGE_ROUTES,
  ...PAYMENT_ROUTES,
  ...JOB_ROUTES,
  route({ method: 'GET', path: '/v1/health', auth: 'none', summary: 'Liveness', response: HubHealth, handle: async () => ({ ok: true, api: 'v1' }) }),
  route({
    method: 'POST',
    path: '/v1/auth/challenge',
    auth: 'none',
    summary: 'A one-time sign-in challenge for a node key (valid 5 minutes)',
    body: ChallengeRequest,
    response: SignInChallenge,
    handle: (s, { body }) => s.auth.challenge(body.address),
  }),
  route({
    method: 'POST',
    path: '/v1/auth/sign-in',
    auth: 'none',
    summary: "Trade a challenge signed with the node key (EIP-191 of signInMessage) for a short-lived session token",
    body: SignInRequest,
    response: Session,
    handle: (s, { body }) => s.auth.signIn(body),
  }),
  route({
    method: 'POST',
    path: '/v1/nodes',
    auth: 'node',
    summary: "Register this node, or update its payout address and capabilities",
    body: RegisterNodeRequest,
    response: NodeView,
    handle: (s, { node, body }) => s.nodes.register(node, body),
  }),
  route({
    method: 'POST',
    path: '/v1/nodes/heartbeat',
    auth: 'node',
    summary: 'Availability per resource; answers which of the listed leases the node no longer holds',
    body: HeartbeatRequest,
    response: HeartbeatResponse,
    handle: async (s, { node, body }) => {
      const record = await s.nodes.heartbeat(node, body);
      if (!record) throw new HttpError(403, 'not_registered', 'register this node (POST /v1/nodes) first');
      const revokedLeases = await s.tasks.revoked(node, body.leases ?? []);
      return { nextHeartbeatS: s.heartbeatS, revokedLeases, ...(s.work ? { reputation: reputationView(record) } : {}) };
    },
  }),
  route({
    method: 'POST',
    path: '/v1/leases',
    auth: 'node',
    summary: 'Lease one task (lease.null when there is no work)',
    body: LeaseRequest,
    response: LeaseResponse,
    handle: async (s, { node, body }) => {
      await registered(s, node);
      const lease = await s.tasks.lease(node, body.kinds ?? ['render'], body.device ?? null);
      return { lease, retryAfterS: lease ? 0 : s.retryAfterS };
    },
  }),
  route({
    method: 'POST',
    path: '/v1/leases/{leaseId}/renew',
    auth: 'node',
    summary: "Extend a live lease's deadline",
    body: RenewRequest,
    response: RenewResponse,
    handle: async (s, { node, params }) => ({ leaseId: params.leaseId!, deadline: await s.tasks.renew(node, params.leaseId!) }),
  }),
  route({
    method: 'POST',
    path: '/v1/leases/{leaseId}/progress',
    auth: 'node',
    summary: 'Report progress (does not extend the deadline: renew does)',
    body: ProgressRequest,
    response: RenewResponse,
    handle: async (s, { node, params, body }) => ({ leaseId: params.leaseId!, deadline: await s.tasks.progress(node, params.leaseId!, body.fraction) }),
  }),
  route({
    method: 'POST',
    path: '/v1/leases/{leaseId}/complete',
    auth: 'node',
    summary: 'Hand in the result; repeating the same complete is harmless',
    body: CompleteRequest,
    response: TaskView,
    handle: async (s, { node, params, body }) => {
      await s.work?.jobs.checkResult(node, params.leaseId!, body.result);
      const done = await s.tasks.complete(node, params.leaseId!, body.result);
      // A job's result is looked at before the answer, so the node (and a test) sees its fate at once;
      // the sweep picks up any that a crash left unexamined.
      if (done.task.job) await s.work?.verifier.examine(done.id);
      return done;
    },
  }),
  route({
    method: 'POST',
    path: '/v1/leases/{leaseId}/release',
    auth: 'node',
    summary: 'Give the task back to the queue (paused, shutting down, failed)',
    body: ReleaseRequest,
    response: TaskView,
    handle: (s, { node, params }) => s.tasks.release(node, params.leaseId!),
  }),
  route({
    method: 'POST',
    path: '/v1/tasks',
    auth: 'admin',
    summary: 'Customer: create tasks',
    body: CreateTasksRequest,
    response: CreateTasksResponse,
    status: 201,
    handle: async (s, { body }) => ({ tasks: await s.tasks.create(body.tasks) }),
  }),
  route({
    method: 'GET',
    path: '/v1/tasks/{taskId}',
    auth: 'admin',
    summary: "Customer: a task's state",
    response: TaskView,
    handle: async (s, { params }) => {
      const t = await s.tasks.get(params.taskId!);
      if (!t) throw new HttpError(404, 'not_found', 'no such task');
      return t;
    },
  }),
];
