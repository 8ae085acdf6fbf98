// The agent API (UI, tray and CLI <-> agent): request and response bodies with runtime validation.
// Every body that crosses the boundary is parsed with these schemas on the receiving side.
import { z } from 'zod';
import { isoDateTime, Reason } from './common.js';
import { Decision, Policy, defaultPolicy } from './policy.js';
import { JobSummary } from './jobs.js';
import { EnergySettings, defaultEnergySettings } from './energy-api.js';
import { StorageSettings, defaultStorageSettings } from './storage.js';
import { EthAddress } from './hub-auth.js';
import { PayoutAddressInput } from './node.js';
import { NetworksSettings, defaultNetworksSettings } from './networks.js';

export { isoDateTime, Reason };

// ---- errors -------------------------------------------------------------------------------

export const FieldError = z.object({ path: z.string(), message: z.string() });
export type FieldError = z.infer<typeof FieldError>;

export const ApiError = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    fields: z.array(FieldError).optional(),
  }),
});
export type ApiError = z.infer<typeof ApiError>;

/** Turns a zod error into field errors a UI can show next to its inputs. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => {
    // A bad record key carries the useful message one level down ("a resource is cpu, disk…").
    const nested = 'issues' in issue && Array.isArray(issue.issues) ? (issue.issues as Array<{ message?: string }>)[0]?.message : undefined;
    return {
      path: issue.path.length > 0 ? issue.path.map(String).join('.') : '(body)',
      message: issue.code === 'invalid_key' && nested ? `${issue.message}: ${nested}` : issue.message,
    };
  });
}

// ---- sharing --------------------------------------------------------------------------------

export const SharingMode = z.enum(['on', 'off', 'snooze', 'drain']);
export type SharingMode = z.infer<typeof SharingMode>;

/** `POST /api/v1/sharing`: the single place for manual control (UI, tray, CLI). */
export const SharingRequest = z
  .object({
    mode: SharingMode,
    until: isoDateTime.optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.mode === 'snooze' && v.until === undefined) {
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'snooze needs "until": the time sharing may start again' });
    }
    if (v.mode !== 'snooze' && v.until !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['until'], message: `"until" only goes with mode "snooze", not "${v.mode}"` });
    }
  });
export type SharingRequest = z.infer<typeof SharingRequest>;

/** What the user asked for, as stored. */
export const ManualSharing = z.object({
  mode: SharingMode,
  until: isoDateTime.nullable(),
  changedAt: isoDateTime.nullable(),
});
export type ManualSharing = z.infer<typeof ManualSharing>;

// ---- settings -------------------------------------------------------------------------------

export const SETTINGS_SCHEMA_VERSION = 7;

export const Consent = z.object({
  /** When the user completed the first-run screen; null until then, and sharing stays off. */
  acceptedAt: isoDateTime.nullable(),
  /** Which version of the first-run text they accepted. */
  version: z.number().int().nonnegative(),
});
export type Consent = z.infer<typeof Consent>;

/** An absolute path on any OS: /usr/bin/blender, C:\Program Files\…, \\server\share\… (one backslash each in the text). */
export const AbsolutePath = z.string().min(2).max(4096).regex(/^(\/|[A-Za-z]:[\\/]|\\\\)/, 'an absolute path');

export const RenderSettings = z
  .object({
    /** The Blender to use; null: look on PATH and in the usual install locations. */
    blenderPath: AbsolutePath.nullable(),
  })
  .strict();
export type RenderSettings = z.infer<typeof RenderSettings>;

export const PayoutSettings = z
  .object({
    /** The user's own address, stored in its EIP-55 form; the app never holds its key. */
    address: EthAddress.nullable(),
    /** When the user confirmed the checksummed address on screen; null while there is none. */
    confirmedAt: isoDateTime.nullable(),
  })
  .strict();
export type PayoutSettings = z.infer<typeof PayoutSettings>;

export const Settings = z
  .object({
    schemaVersion: z.literal(SETTINGS_SCHEMA_VERSION),
    consent: Consent,
    startAtLogin: z.boolean(),
    sharing: ManualSharing,
    /** When each resource may be shared (schedule rules, idle, games, limits). */
    policy: Policy,
    render: RenderSettings,
    /** PSU efficiency and the wall-meter calibration (tariffs live in their own file). */
    energy: EnergySettings,
    /** The folder and the size of disk shared. */
    storage: StorageSettings,
    /** Where hubs pay this node's earnings. */
    payout: PayoutSettings,
    /** The hubs this node works for; changed through /api/v1/networks, not PATCH /settings. */
    networks: NetworksSettings,
  })
  .strict();
export type Settings = z.infer<typeof Settings>;

export function defaultSettings(): Settings {
  return {
    schemaVersion: SETTINGS_SCHEMA_VERSION,
    consent: { acceptedAt: null, version: 0 },
    startAtLogin: false,
    // Off until the user says otherwise on the first-run screen.
    sharing: { mode: 'off', until: null, changedAt: null },
    policy: defaultPolicy(),
    render: { blenderPath: null },
    energy: defaultEnergySettings(),
    storage: defaultStorageSettings(),
    payout: { address: null, confirmedAt: null },
    networks: defaultNetworksSettings(),
  };
}

/** `PATCH /api/v1/settings`. Sharing is not patched here: it has its own endpoint. Consent can only
 * be given (true), with the version of the text the user saw; withdrawing it is `consent: false`. */
export const SettingsPatch = z
  .object({
    startAtLogin: z.boolean().optional(),
    /** The whole policy, replaced at once: a rule list is never half-saved. */
    policy: Policy.optional(),
    render: RenderSettings.optional(),
    storage: StorageSettings.optional(),
    /** The address the user confirmed (null removes it); the agent stores the checksummed form. */
    payout: z.object({ address: PayoutAddressInput.nullable() }).strict().optional(),
    consent: z
      .union([
        z.object({ accepted: z.literal(true), version: z.number().int().positive() }).strict(),
        z.object({ accepted: z.literal(false) }).strict(),
      ])
      .optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, { message: 'the patch changes nothing' });
export type SettingsPatch = z.infer<typeof SettingsPatch>;

// ---- status ---------------------------------------------------------------------------------

export const EffectiveState = z.enum(['sharing', 'paused', 'draining', 'off', 'error']);
export type EffectiveState = z.infer<typeof EffectiveState>;


export const Problem = z.object({
  code: z.string(),
  text: z.string(),
  at: isoDateTime,
});
export type Problem = z.infer<typeof Problem>;

export const Status = z.object({
  agent: z.object({
    version: z.string(),
    pid: z.number().int(),
    startedAt: isoDateTime,
    dataDir: z.string(),
    host: z.string(),
    platform: z.string(),
    /** The agent computer's zone: weekly windows with no zone of their own are read in it. */
    timeZone: z.string(),
    headless: z.boolean(),
  }),
  consent: z.object({ required: z.boolean(), currentVersion: z.number().int() }),
  startAtLogin: z.boolean(),
  sharing: z.object({
    manual: ManualSharing,
    state: EffectiveState,
    reason: Reason,
  }),
  /** The policy's current decision per resource; null until the first evaluation. */
  decision: Decision.nullable(),
  /** Grows with every change this agent run publishes: newer status wins over older, whatever
   * the clocks say. */
  revision: z.number().int().nonnegative(),
  /** Grows with every settings change: a client holding settings reloads them when it moves. */
  settingsRevision: z.number().int().nonnegative(),
  /** Things the user should know about: a settings file that was kept aside, a log that cannot be written… */
  problems: z.array(Problem),
  updatedAt: isoDateTime,
});
export type Status = z.infer<typeof Status>;

export const Health = z.object({
  ok: z.literal(true),
  name: z.literal('offhours-agent'),
  version: z.string(),
  apiVersion: z.number().int(),
});
export type Health = z.infer<typeof Health>;

// ---- events WebSocket -----------------------------------------------------------------------

export const ClientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auth'), token: z.string().min(1).max(256) }).strict(),
  z.object({ type: z.literal('ping'), id: z.number().int().optional() }).strict(),
  /** Start or stop receiving one job's console output (it is large; nobody gets it unasked). */
  z.object({ type: z.literal('console-subscribe'), jobId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) }).strict(),
  z.object({ type: z.literal('console-unsubscribe'), jobId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) }).strict(),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

export const ServerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), apiVersion: z.number().int(), version: z.string() }),
  z.object({ type: z.literal('status'), status: Status }),
  z.object({ type: z.literal('pong'), id: z.number().int().optional() }),
  /** A job changed (state, progress). */
  z.object({ type: z.literal('job'), job: JobSummary }),
  /** A finished job was deleted (with its files): drop it from the list. */
  z.object({ type: z.literal('job-removed'), id: z.string() }),
  /** Console output of a job this client subscribed to: the ring buffer first, then live. */
  z.object({ type: z.literal('console'), jobId: z.string(), data: z.string(), replay: z.boolean().optional() }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
]);
export type ServerMessage = z.infer<typeof ServerMessage>;

/** Close codes for the events socket (4000–4999 are for applications). */
export const WS_CLOSE = {
  unauthorized: 4401,
  authTimeout: 4408,
  badMessage: 4400,
  shuttingDown: 4503,
} as const;

/** The running agent's runtime file (DATA_FILES.runtime): where it listens. Read by the app and the
 * CLI, written by the agent; the pid lets a reader tell a live agent from one that crashed. */
export const AgentRuntime = z.object({
  pid: z.number().int().positive(),
  port: z.number().int().min(1).max(65_535),
  url: z.string(),
  startedAt: isoDateTime,
  version: z.string().optional(),
});
export type AgentRuntime = z.infer<typeof AgentRuntime>;
