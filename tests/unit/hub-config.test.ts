// The operator's config file for `offhours hub --config`: checked before the hub starts, so a typo
// is a clear error naming the field, never a hub that quietly runs without payments.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HubConfigError, hubOptionsFromConfig, readHubConfig } from '../../hub/config.js';
import { useTempDirs } from '../support/tmp.js';

const ESCROW = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const TOKEN = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
const payments = { chainId: 31337, escrow: ESCROW, token: TOKEN, tokenSymbol: 'USDC', decimals: 6, prices: { renderPerFrame: '25000', storagePerGiBDay: '100' } };

describe('hub config file', () => {
  const tmp = useTempDirs();
  const file = (content: unknown) => {
    const f = join(tmp(), 'hub.json');
    writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
    return f;
  };

  it('turns payments, checks and timings into the hub options', () => {
    const opts = hubOptionsFromConfig(
      readHubConfig(file({ payments: { ...payments, rpcUrl: 'http://127.0.0.1:8545' }, verify: { checkFraction: 0.2 }, leaseTtlS: 120, heartbeatS: 10, pricePerFrame: '500', storage: { challengeEveryS: 60 } })),
    );
    expect(opts.payments).toMatchObject(payments);
    expect(opts.payments?.provider).toBeDefined();
    expect(opts).toMatchObject({ verify: { checkFraction: 0.2 }, leaseTtlMs: 120_000, heartbeatS: 10, pricePerFrame: '500', storage: { challengeEveryMs: 60_000 } });
    // No rpcUrl: no chain access, and nothing else is invented.
    const bare = hubOptionsFromConfig(readHubConfig(file({ payments })));
    expect(bare.payments?.provider).toBeUndefined();
    expect(Object.keys(bare)).toEqual(['payments']);
  });

  it('names the field that is wrong, and refuses fields it does not know (a typo would silently drop a setting)', () => {
    expect(() => readHubConfig(file({ payments: { ...payments, escrow: '0x1234' } }))).toThrow(/payments\.escrow/);
    expect(() => readHubConfig(file({ payments: { ...payments, prices: { renderPerFrame: '0.5', storagePerGiBDay: '1' } } }))).toThrow(/payments\.prices\.renderPerFrame/);
    expect(() => readHubConfig(file({ payments: { ...payments, payerKey: '0xabc' } }))).toThrow(HubConfigError);
    expect(() => readHubConfig(file({ verfy: { checkFraction: 1 } }))).toThrow(/not valid/);
    expect(() => readHubConfig(file({ verify: { checkFraction: 2 } }))).toThrow(/verify\.checkFraction/);
    expect(() => readHubConfig(file('{ not json'))).toThrow(/cannot read the hub config/);
    expect(() => readHubConfig(join(tmp(), 'missing.json'))).toThrow(/cannot read the hub config/);
  });
});
