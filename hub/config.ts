// `offhours hub --config FILE`: what an operator sets without code, as JSON, validated before the
// hub starts so a typo is a clear error rather than a hub that silently pays nothing. The payer's
// private key is deliberately not in here: it lives in DATA_DIR/hub-key (0600), created on first
// start, so a config file can be shared or committed.
import { readFileSync } from 'node:fs';
import { JsonRpcProvider } from 'ethers';
import { z } from 'zod';
import { MinorUnits, PaymentTerms } from '../protocol/index.js';
import type { HubOptions } from './hub.js';

const Share = z.number().min(0).max(1);

export const HubConfigFile = z
  .object({
    // The terms a node will pin, less the payer (its key is in DATA_DIR/hub-key), plus read-only
    // chain access for the operator's status and batch redemption.
    payments: PaymentTerms.omit({ payer: true })
      .extend({ rpcUrl: z.string().url().max(500).optional() })
      .strict()
      .optional(),
    verify: z
      .object({
        checkFraction: Share.optional(),
        cropArea: z.number().gt(0).max(1).optional(),
        psnrMin: z.number().min(0).max(100).optional(),
        ssimMin: Share.optional(),
      })
      .strict()
      .optional(),
    /** Minor units a verified frame pays when a job names no price. */
    pricePerFrame: MinorUnits.optional(),
    leaseTtlS: z.number().int().min(5).max(86_400).optional(),
    heartbeatS: z.number().int().min(1).max(600).optional(),
    storage: z
      .object({ challengeEveryS: z.number().int().min(1).max(7 * 86_400).optional() })
      .strict()
      .optional(),
  })
  .strict();
export type HubConfigFile = z.infer<typeof HubConfigFile>;

export class HubConfigError extends Error {}

export function readHubConfig(file: string): HubConfigFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new HubConfigError(`cannot read the hub config ${file}: ${(err as Error).message}`);
  }
  const r = HubConfigFile.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new HubConfigError(`the hub config ${file} is not valid: ${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}

/** The HubOptions a config file asks for (merged over the command line's). */
export function hubOptionsFromConfig(c: HubConfigFile): Partial<HubOptions> {
  const out: Partial<HubOptions> = {};
  if (c.payments) {
    const { rpcUrl, ...p } = c.payments;
    out.payments = { ...p, ...(rpcUrl ? { provider: new JsonRpcProvider(rpcUrl, p.chainId, { staticNetwork: true }) } : {}) };
  }
  if (c.verify) out.verify = c.verify;
  if (c.pricePerFrame) out.pricePerFrame = c.pricePerFrame;
  if (c.leaseTtlS) out.leaseTtlMs = c.leaseTtlS * 1000;
  if (c.heartbeatS) out.heartbeatS = c.heartbeatS;
  if (c.storage?.challengeEveryS) out.storage = { challengeEveryMs: c.storage.challengeEveryS * 1000 };
  return out;
}
