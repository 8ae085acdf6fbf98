import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, encodeJournalLine, readJournal } from '../../agent/journal.js';
import { useTempDirs } from '../support/tmp.js';

describe('append-only journal', () => {
  const tmp = useTempDirs();

  it('appends entries with increasing sequence numbers that survive reopening', () => {
    const path = join(tmp(), 'h', 'a.jsonl');
    const j = new Journal<{ n: number }>(path);
    j.append({ n: 1 });
    j.append({ n: 2 });
    j.close();
    const again = new Journal<{ n: number }>(path);
    expect(again.append({ n: 3 }).seq).toBe(3);
    again.close();
    expect(readJournal<{ n: number }>(path).entries.map((e) => e.data.n)).toEqual([1, 2, 3]);
  });

  it('only ever appends: earlier bytes are never rewritten', () => {
    const path = join(tmp(), 'a.jsonl');
    const j = new Journal<string>(path);
    j.append('first');
    const before = readFileSync(path, 'utf8');
    j.append('second');
    j.close();
    expect(readFileSync(path, 'utf8').startsWith(before)).toBe(true);
  });

  it('tolerates and drops a torn last line, then continues cleanly', () => {
    const path = join(tmp(), 'a.jsonl');
    const j = new Journal<string>(path);
    j.append('kept');
    j.close();
    const torn = encodeJournalLine({ seq: 2, t: 'x', data: 'half' }).slice(0, 30);
    appendFileSync(path, torn);
    expect(readJournal(path).tornTail).toBe(true);
    const reopened = new Journal<string>(path);
    expect(reopened.recovered.tornTail).toBe(true);
    reopened.append('next');
    reopened.close();
    const read = readJournal<string>(path);
    expect(read.entries.map((e) => e.data)).toEqual(['kept', 'next']);
    expect(read.damagedLines).toEqual([]);
    expect(read.tornTail).toBe(false);
  });

  it('reports a damaged line in the middle and skips it', () => {
    const path = join(tmp(), 'a.jsonl');
    const lines = [1, 2, 3].map((n) => encodeJournalLine({ seq: n, t: 't', data: n }));
    lines[1] = lines[1]!.replace('"data":2', '"data":9');
    writeFileSync(path, lines.join(''));
    const read = readJournal<number>(path);
    expect(read.entries.map((e) => e.data)).toEqual([1, 3]);
    expect(read.damagedLines).toEqual([2]);
  });

  it('never counts a duplicated line twice on replay', () => {
    const path = join(tmp(), 'a.jsonl');
    const line = encodeJournalLine({ seq: 1, t: 't', data: 'once' });
    writeFileSync(path, line + line);
    expect(readJournal(path).entries).toHaveLength(1);
  });
});
