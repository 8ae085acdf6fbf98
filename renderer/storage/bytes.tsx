// A size as the page shows it, with the exact byte count on hover: the agent's figure, never redone.
import { exactBytes, formatBytes } from './words.js';

export function Bytes({ value, testId }: { value: number; testId?: string }) {
  return (
    <span title={exactBytes(value)} data-testid={testId} data-bytes={value}>
      {formatBytes(value)}
    </span>
  );
}
