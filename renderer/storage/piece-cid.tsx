// A piece CID is 60+ characters: the table shows both ends, the title and a copy button give the
// whole one (to paste into `offhours storage prove` or compare with a deal).
import { useState } from 'react';
import { shortCid } from './words.js';

export function PieceCid({ cid, copy = false }: { cid: string; copy?: boolean }) {
  const [copied, setCopied] = useState(false);
  const clipboard = typeof navigator !== 'undefined' ? navigator.clipboard : undefined;
  return (
    <span className="piece-cid">
      <code title={cid} aria-label={`piece ${cid}`} data-testid="piece-cid" data-cid={cid}>
        {shortCid(cid)}
      </code>
      {copy && clipboard && (
        <button
          type="button"
          className="button button-small button-ghost"
          aria-label={copied ? 'Copied' : `Copy piece CID ${cid}`}
          onClick={() => {
            void clipboard.writeText(cid).then(
              () => setCopied(true),
              () => setCopied(false),
            );
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      )}
    </span>
  );
}
