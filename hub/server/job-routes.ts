// Customer render jobs and the hub's status in the API v1. Concatenated into ROUTES (routes.ts), so
// dispatch and OpenAPI see them like the rest. The blob endpoints carry raw bytes and live in
// blob-routes.ts.
import { HubJobList, HubJobView, HubStatusView, RenewRequest, SubmitRenderJob } from '../../protocol/index.js';
import type { Blobs } from '../blobs.js';
import type { Jobs } from '../jobs.js';
import type { Verifier } from '../verify/verifier.js';
import { HttpError } from './http.js';
import type { Route, Services } from './routes.js';
import { routesFor } from './define-route.js';

/** What hub.ts adds for jobs; a hub built without it serves the bare task queue only. */
export interface JobServices {
  blobs: Blobs;
  jobs: Jobs;
  verifier: Verifier;
  status(): Promise<HubStatusView>;
}

const route = routesFor<Services>();

export function work(s: Services): JobServices {
  if (!s.work) throw new HttpError(404, 'not_found', 'this hub does not take jobs');
  return s.work;
}

export const JOB_ROUTES: readonly Route[] = [
  route({
    method: 'POST',
    path: '/v1/jobs',
    auth: 'admin',
    summary: 'Customer: submit a render job (upload the scene to /v1/blobs first); one task per frame',
    body: SubmitRenderJob,
    response: HubJobView,
    status: 201,
    handle: (s, { body }) => work(s).jobs.submit(body),
  }),
  route({
    method: 'GET',
    path: '/v1/jobs',
    auth: 'admin',
    summary: 'Customer: jobs, newest first (at most 1,000), without their frames',
    response: HubJobList,
    handle: (s) => work(s).jobs.list(),
  }),
  route({
    method: 'GET',
    path: '/v1/jobs/{jobId}',
    auth: 'admin',
    summary: "Customer: a job with each frame's state, accepted result and refusals",
    response: HubJobView,
    handle: async (s, { params }) => {
      const j = await work(s).jobs.get(params.jobId!);
      if (!j) throw new HttpError(404, 'not_found', 'no such job');
      return j;
    },
  }),
  route({
    method: 'POST',
    path: '/v1/jobs/{jobId}/cancel',
    auth: 'admin',
    summary: 'Customer: cancel a job; frames not yet handed in are withdrawn (their nodes stop at the next heartbeat), those handed in are still verified and paid',
    // An empty object, like renew's: room for options later without a v2.
    body: RenewRequest,
    response: HubJobView,
    handle: async (s, { params }) => {
      const r = await work(s).jobs.cancel(params.jobId!);
      if (r === 'not_found') throw new HttpError(404, 'not_found', 'no such job');
      if (r === 'finished') throw new HttpError(409, 'conflict', 'the job has already finished');
      return r;
    },
  }),
  route({
    method: 'GET',
    path: '/v1/status',
    auth: 'admin',
    summary: 'Operator: providers, queue, jobs, recent refusals and what the hub owes',
    response: HubStatusView,
    handle: (s) => work(s).status(),
  }),
];
