import type { FrameRange } from '../../protocol/index.js';

/** The frames of `range` not in `done`, as contiguous sub-ranges in order. */
export function remainingRanges(range: FrameRange, done: Iterable<number>): FrameRange[] {
  const skip = new Set(done);
  const out: FrameRange[] = [];
  let open: FrameRange | null = null;
  for (let f = range.start; f <= range.end; f++) {
    if (skip.has(f)) {
      open = null;
    } else if (open && open.end === f - 1) {
      open.end = f;
    } else {
      open = { start: f, end: f };
      out.push(open);
    }
  }
  return out;
}
