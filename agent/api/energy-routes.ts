// The power, tariff and earnings endpoints. Every body and query string is validated against its
// schema in protocol/ before the agent sees it; the CSV export streams in chunks, so a year of
// history never becomes one giant string.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  API_PREFIX,
  CalibrationRequest,
  EarningsQueryParams,
  EnergySettingsPatch,
  Tariff,
  TariffCsvImport,
  TariffId,
  TariffSettings,
  type EarningsQuery,
  type EarningsReport,
  type EnergySettings,
  type PowerView,
  type TariffCsvPreview,
} from '../../protocol/index.js';
import { HttpError, check, readJsonBody, sendJson } from './http-util.js';

/** A dynamic price table of a year of half-hours is about 1.3 MB of JSON; a CSV export a bit less. */
export const TARIFF_BODY_BYTES = 16 * 1024 * 1024;

export interface EnergyApi {
  power(): PowerView;
  patchSettings(patch: EnergySettingsPatch): Promise<EnergySettings>;
  calibrate(req: CalibrationRequest): Promise<EnergySettings>;
  tariffs(): TariffSettings;
  putTariffs(next: TariffSettings): TariffSettings;
  previewTariffCsv(body: TariffCsvImport): TariffCsvPreview;
  earnings(query: EarningsQuery): EarningsReport;
  exportCsv(from: string, to: string, timeZone: string): Iterable<string>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

function queryOf(req: IncomingMessage): Record<string, string> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  return Object.fromEntries(url.searchParams.entries());
}

/** A time zone the report can group by: Intl must know it. */
function zoneOf(zone: string | undefined): string | undefined {
  if (zone === undefined) return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    throw new HttpError(400, 'invalid_request', 'the query string is not valid', [{ path: 'timeZone', message: `unknown time zone "${zone}"` }]);
  }
}

function range(q: { from: string; to: string }): void {
  if (Date.parse(q.to) <= Date.parse(q.from)) throw new HttpError(400, 'invalid_request', 'the query string is not valid', [{ path: 'to', message: 'to must be after from' }]);
}

/** One tariff at a time, for scripts: GET, PUT (create or replace) and DELETE /tariffs/:id. The
 * set is read, changed and saved whole, so the one-writer rule and the set's checks still hold. */
export function tariffRoute(energy: () => EnergyApi, pathname: string): Partial<Record<string, Handler>> | undefined {
  const m = new RegExp(`^${API_PREFIX}/tariffs/([^/]+)$`).exec(pathname);
  if (!m || m[1] === 'import') return undefined;
  const id = TariffId.safeParse(decodeURIComponent(m[1]!));
  if (!id.success) throw new HttpError(400, 'invalid_request', 'not a tariff id (lowercase letters, digits and dashes)');
  const find = () => energy().tariffs().tariffs.find((t) => t.id === id.data);
  const missing = () => new HttpError(404, 'not_found', `no tariff ${id.data}`);
  return {
    GET: (_req, res) => {
      const t = find();
      if (!t) throw missing();
      sendJson(res, 200, t);
    },
    PUT: async (req, res) => {
      const t = check(Tariff, await readJsonBody(req, TARIFF_BODY_BYTES), 'request body');
      if (t.id !== id.data) throw new HttpError(400, 'invalid_request', 'the request body is not valid', [{ path: 'id', message: `must be ${id.data}, as in the address` }]);
      const set = energy().tariffs();
      const exists = set.tariffs.some((x) => x.id === t.id);
      const tariffs = exists ? set.tariffs.map((x) => (x.id === t.id ? t : x)) : [...set.tariffs, t];
      const saved = energy().putTariffs(check(TariffSettings, { ...set, tariffs }, 'tariff set'));
      sendJson(res, exists ? 200 : 201, saved.tariffs.find((x) => x.id === t.id));
    },
    DELETE: (_req, res) => {
      const set = energy().tariffs();
      if (!find()) throw missing();
      // Deleting the active tariff leaves no tariff active: the Schedule page's flat price (if any) counts again.
      energy().putTariffs({ active: set.active === id.data ? null : set.active, tariffs: set.tariffs.filter((t) => t.id !== id.data) });
      res.writeHead(204, { 'cache-control': 'no-store' });
      res.end();
    },
  };
}

export function energyRoutes(energy: () => EnergyApi): Record<string, Partial<Record<string, Handler>>> {
  return {
    [`${API_PREFIX}/power`]: { GET: (_req, res) => sendJson(res, 200, energy().power()) },
    [`${API_PREFIX}/power/settings`]: {
      PATCH: async (req, res) => sendJson(res, 200, await energy().patchSettings(check(EnergySettingsPatch, await readJsonBody(req), 'request body'))),
    },
    [`${API_PREFIX}/power/calibrate`]: {
      POST: async (req, res) => sendJson(res, 200, await energy().calibrate(check(CalibrationRequest, await readJsonBody(req), 'request body'))),
    },
    [`${API_PREFIX}/tariffs`]: {
      GET: (_req, res) => sendJson(res, 200, energy().tariffs()),
      PUT: async (req, res) => sendJson(res, 200, energy().putTariffs(check(TariffSettings, await readJsonBody(req, TARIFF_BODY_BYTES), 'request body'))),
    },
    [`${API_PREFIX}/tariffs/import`]: {
      POST: async (req, res) => sendJson(res, 200, energy().previewTariffCsv(check(TariffCsvImport, await readJsonBody(req, TARIFF_BODY_BYTES), 'request body'))),
    },
    [`${API_PREFIX}/earnings`]: {
      GET: (req, res) => {
        const q = check(EarningsQueryParams, queryOf(req), 'query string');
        range(q);
        const timeZone = zoneOf(q.timeZone);
        sendJson(res, 200, energy().earnings({ from: q.from, to: q.to, groupBy: q.groupBy, ...(q.by ? { by: q.by } : {}), ...(timeZone ? { timeZone } : {}) }));
      },
    },
    [`${API_PREFIX}/earnings/export.csv`]: {
      GET: (req, res) => {
        const q = check(EarningsQueryParams.pick({ from: true, to: true, timeZone: true }), queryOf(req), 'query string');
        range(q);
        const zone = zoneOf(q.timeZone) ?? 'UTC';
        const chunks = energy().exportCsv(q.from, q.to, zone);
        res.writeHead(200, {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="offhours-earnings-${q.from.slice(0, 10)}-to-${q.to.slice(0, 10)}.csv"`,
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
        });
        for (const chunk of chunks) res.write(chunk);
        res.end();
      },
    },
  };
}
