// `npm run demo -- --exit-when-done` as a user runs it: the real chain (hardhat in-process), the
// real hub, the built agent with real Blender rendering a few frames. It must complete the whole
// loop (exit 0) and say each step as it happened, ending with the payout address paid on chain.
// Skipped with the reason printed where Blender is missing; a failure under CI=true.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot, requireBuild } from '../support/agent-process.js';
import { blender } from '../support/blender.js';
import { requireProgram } from '../support/external.js';

const found = blender();
const enabled = requireProgram(found, 'npm run demo');

describe.runIf(enabled)('npm run demo', () => {
  it('runs the loop from a customer job to a payout on chain, narrating each step', async () => {
    requireBuild();
    const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('npm', ['run', 'demo', '--', '--exit-when-done'], {
        cwd: repoRoot,
        env: { ...process.env, BLENDER_PATH: found.found!, OFFHOURS_DEMO_BUILD: 'never' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.stderr.on('data', (d) => (text += d));
      child.on('exit', (c) => resolve({ code: c, out: text }));
    });
    expect(code, out).toBe(0);
    const step = (re: RegExp) => expect(out, out).toMatch(re);
    step(/Chain 31337: MockUSDC 0x[0-9a-fA-F]{40}, OffhoursEscrow 0x[0-9a-fA-F]{40}/);
    step(/Dashboard: http:\/\/127\.0\.0\.1:\d+\/#token=/);
    step(/Hub: frame 1 leased/);
    step(/Hub: frame 3 verified/);
    step(/Agent: accepted a voucher from the hub, running total 0\.075 USDC/);
    step(/Ledger: 0\.075 USDC earned/);
    step(/Chain: redeemed the voucher \(total 0\.075 USDC\) in tx 0x[0-9a-f]{64}: paid 0\.075 USDC/);
    step(/Chain: payout address 0x[0-9a-fA-F]{40} holds 0\.075 USDC/);
    step(/Done: render -> verify -> voucher -> ledger -> chain/);
    // The narration follows the loop's order.
    const at = (s: string) => out.indexOf(s);
    expect(at('Hub: frame 1 leased')).toBeLessThan(at('Hub: frame 1 verified'));
    expect(at('Hub: frame 3 verified')).toBeLessThan(at('Chain: redeemed'));
    expect(at('accepted a voucher')).toBeLessThan(at('Chain: redeemed'));
  }, 300_000);
});
