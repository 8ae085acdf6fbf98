// A job's console: the last ~256 KiB of raw output (replayed to a UI that subscribes late) and the
// last lines with terminal escapes stripped (for JobDetail and a failure's attachment).
// eslint-disable-next-line no-control-regex -- terminal escapes are control characters
const ESCAPES = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]/g;

export class ConsoleRing {
  private chunks: string[] = [];
  private size = 0;
  private lines: string[] = [];
  private partial = '';

  constructor(
    private readonly maxChars = 256 * 1024,
    private readonly maxLines = 200,
  ) {}

  push(data: string): void {
    this.chunks.push(data);
    this.size += data.length;
    while (this.size > this.maxChars && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
    if (this.size > this.maxChars) {
      this.chunks[0] = this.chunks[0]!.slice(this.size - this.maxChars);
      this.size = this.maxChars;
    }
    const parts = (this.partial + data).split(/\r\n|\n|\r/);
    this.partial = parts.pop() ?? '';
    for (const p of parts) {
      const line = p.replace(ESCAPES, '');
      if (line.trim() === '') continue;
      this.lines.push(line.slice(0, 2000));
    }
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
  }

  text(): string {
    return this.chunks.join('');
  }

  tail(n = this.maxLines): string[] {
    const last = this.partial.replace(ESCAPES, '');
    const all = last.trim() === '' ? this.lines : [...this.lines, last];
    return all.slice(-n);
  }
}
