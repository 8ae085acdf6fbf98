import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createFileLogger } from '../../agent/logger.js';
import { useTempDirs } from '../support/tmp.js';

describe('file logger', () => {
  const tmp = useTempDirs();

  it('writes one JSON object per line with time, level, message and fields', () => {
    const dir = tmp();
    const log = createFileLogger({ dir, now: () => new Date('2026-01-02T03:04:05Z') });
    log.child({ part: 'api' }).info('hello', { n: 1, err: new Error('boom') });
    log.debug('hidden at info level');
    log.close();
    const lines = readFileSync(`${dir}/agent.log`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ t: '2026-01-02T03:04:05.000Z', level: 'info', msg: 'hello', part: 'api', n: 1, err: { message: 'boom' } });
  });

  it('rotates by size and keeps a bounded number of files', () => {
    const dir = tmp();
    const log = createFileLogger({ dir, maxBytes: 1000, keep: 3 });
    for (let i = 0; i < 200; i++) log.info(`line ${i}`, { pad: 'x'.repeat(50) });
    log.close();
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['agent.1.log', 'agent.2.log', 'agent.3.log', 'agent.log']);
    for (const f of files) expect(readFileSync(`${dir}/${f}`).length).toBeLessThanOrEqual(1000);
    expect(readFileSync(`${dir}/agent.log`, 'utf8')).toContain('line 199');
    expect(existsSync(`${dir}/agent.4.log`)).toBe(false);
  });
});
