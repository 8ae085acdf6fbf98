// The customer's storage calls to a hub (POST and GET /v1/storage/files), beside HubCustomer
// (cli/hub-customer.ts), which does the blob uploads and downloads. Answers are size-capped and
// validated against the protocol; a 202 (the hub is fetching a replica back from a provider) is an
// answer of its own, not an error.
import { HubErrorBody, RetrieveFileResponse, StoredFileView, type StoreFileRequest } from '../protocol/index.js';
import { CliError, EXIT } from './api-client.js';
import { HubCallError } from './hub-customer.js';

const MAX_JSON_BYTES = 4 * 1024 * 1024;
const TIMEOUT_MS = 30_000;
/** A pessimistic CommP rate for one hub core: 20 MiB/s. */
const HUB_COMMP_BYTES_PER_MS = (20 * 1024 * 1024) / 1000;

export class StoreClient {
  readonly origin: string;

  constructor(
    url: string,
    private readonly key: string,
  ) {
    this.origin = new URL(url).origin;
  }

  private async call(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = TIMEOUT_MS): Promise<{ status: number; json: unknown }> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.origin), {
        method,
        headers: { authorization: `Bearer ${this.key}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new HubCallError(`Cannot reach the hub at ${this.origin}: ${(err as Error).message}`, EXIT.failed);
    }
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > MAX_JSON_BYTES) {
      await res.body?.cancel();
      throw new HubCallError(`The hub's answer is too large (${declared} bytes).`, EXIT.failed);
    }
    const text = await res.text().catch(() => '');
    if (text.length > MAX_JSON_BYTES) throw new HubCallError("The hub's answer is too large.", EXIT.failed);
    let json: unknown = null;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      if (res.ok) throw new HubCallError(`The hub at ${this.origin} answered with something that is not JSON (is this an Offhours hub?).`, EXIT.failed);
    }
    if (!res.ok) {
      const e = HubErrorBody.safeParse(json);
      const words = e.success ? `${e.data.error.message.slice(0, 300)}${e.data.error.fields ? ` (${e.data.error.fields.slice(0, 5).map((f) => `${f.path}: ${f.message}`).join('; ')})` : ''}` : `HTTP ${res.status}`;
      const exit = res.status === 401 || res.status === 403 ? EXIT.unauthorized : EXIT.failed;
      throw new HubCallError(`The hub refused: ${words}`, exit, res.status, e.success ? e.data.error.code : null);
    }
    return { status: res.status, json };
  }

  private parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> } } }, json: unknown): T {
    const r = schema.safeParse(json);
    if (r.success) return r.data;
    const i = r.error.issues[0];
    throw new CliError(`The hub at ${this.origin} sent an answer this CLI does not understand (${i ? `${i.path.map(String).join('.') || '(root)'}: ${i.message}` : 'invalid'}); is it another version?`, EXIT.failed);
  }

  async store(req: StoreFileRequest): Promise<StoredFileView> {
    // The hub computes each replica's piece CID before it answers: allow for a slow hub's hashing.
    const bytes = req.replicas.reduce((n, r) => n + r.bytes, 0);
    return this.parse(StoredFileView, (await this.call('POST', '/v1/storage/files', req, TIMEOUT_MS + Math.ceil(bytes / HUB_COMMP_BYTES_PER_MS))).json);
  }

  /** The file, and a replica to download, or `download: null` while the hub fetches one (202). */
  async retrieve(id: string): Promise<RetrieveFileResponse & { status: number }> {
    const { status, json } = await this.call('GET', `/v1/storage/files/${encodeURIComponent(id)}`);
    return { status, ...this.parse(RetrieveFileResponse, json) };
  }
}
