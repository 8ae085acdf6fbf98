// Engine output goes to the agent in batches (~16 ms): one message per status line would cost the
// agent more than the render's console is worth.
const MAX_MESSAGE_CHARS = 512 * 1024;

export class ConsoleBatcher {
  private pending = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly emit: (data: string) => void,
    private readonly delayMs = 16,
  ) {}

  push(text: string): void {
    this.pending += text;
    if (this.pending.length >= MAX_MESSAGE_CHARS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) {
      this.emit(this.pending.slice(0, MAX_MESSAGE_CHARS));
      this.pending = this.pending.slice(MAX_MESSAGE_CHARS);
    }
  }
}
