// The seal worker: one command from the agent, one answer, then the agent stops it. It computes a
// piece's commitment (and its proof tree), answers challenges from the piece and its tree, or
// recomputes a commitment for the integrity scrub. Paths come from the agent, which made them inside
// the storage folder; nothing here takes a name from a network.
import { AgentToSealWorker, SealWorkerToAgent, type SealedPiece } from '../../protocol/index.js';
import { commpFile, type PieceCommitment } from '../seal/commp.js';
import { proveLeaf } from '../seal/tree.js';
import type { AgentChannel } from './channel.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function sealed(c: PieceCommitment): SealedPiece {
  return { payloadSize: c.payloadSize, paddedSize: c.paddedSize, padding: c.padding, height: c.height, root: hex(c.root), cidV1: c.cidV1, cidV2: c.cidV2 };
}

export function runSealWorker(channel: AgentChannel, exit: (code: number) => void): void {
  const send = (m: SealWorkerToAgent) => channel.send(SealWorkerToAgent.parse(m));
  channel.onClose(() => exit(0));
  let busy = false;
  channel.onMessage((raw) => {
    const parsed = AgentToSealWorker.safeParse(raw);
    if (!parsed.success || busy) {
      process.stderr.write(`offhours seal worker: ignored ${busy ? 'a second command' : 'an invalid message'}\n`);
      return;
    }
    busy = true;
    const m = parsed.data;
    void (async (): Promise<SealWorkerToAgent> => {
      switch (m.type) {
        case 'seal':
          return { type: 'sealed', piece: sealed(await commpFile(m.piece, { treePath: m.tree })) };
        case 'commp':
          return { type: 'sealed', piece: sealed(await commpFile(m.piece)) };
        case 'prove':
          return { type: 'proofs', proofs: m.leaves.map((leaf) => { const p = proveLeaf(m.piece, m.tree, leaf); return { leaf, value: hex(p.leaf), path: p.path.map(hex) }; }) };
      }
    })()
      .then(send, (err: unknown) => send({ type: 'seal-failed', error: (err instanceof Error ? err.message : String(err)).slice(0, 2000) }))
      .finally(() => (busy = false));
  });
}
