// Settings → Payouts: where hubs pay (an address the user controls, typed or pasted, shown back in
// its checksummed form to confirm before it is saved) and the node's own address, the identity hubs
// see. Offhours only ever holds addresses here: no key, no seed phrase.
import { useId, useState } from 'react';
import type { Settings } from '../../protocol/index.js';
import { checkPayoutAddress } from '../../protocol/node.js';
import type { AgentConnection } from '../agent-connection.js';
import { formatDateTime } from '../format.js';
import { canAct, useAgent } from '../use-agent.js';
import { usePolled } from '../use-polled.js';

const NODE_REFRESH_MS = 30_000;
const loadNode = (agent: AgentConnection) => agent.loadNode();

function NodeIdentity() {
  const { value: node, error } = usePolled(loadNode, NODE_REFRESH_MS);
  return (
    <div className="form-field">
      <h3 className="card-subtitle">This node’s identity</h3>
      {node ? (
        <>
          <code className="path" data-testid="node-address">
            {node.address}
          </code>
          <p className="muted">
            The address hubs see when this computer signs in. It belongs to a node key Offhours made for this computer and keeps encrypted
            {node.keystore === 'app-secret' ? ' with your system keychain' : ' beside a secret file only your user can read'} (made{' '}
            <time dateTime={node.created}>{formatDateTime(node.created)}</time>). It holds no earnings: those go to your payout address.
          </p>
        </>
      ) : (
        <p className="muted" data-testid="node-address-missing">
          {error ?? 'Unlocking the node key…'}
        </p>
      )}
    </div>
  );
}

export function PayoutsSection({ settings }: { settings: Settings | undefined }) {
  const { state, agent } = useAgent();
  const ids = useId();
  const saved = settings?.payout.address ?? null;
  const [draft, setDraft] = useState('');
  /** The checksummed form the user is asked to confirm; null while typing. */
  const [confirming, setConfirming] = useState<string | null>(null);
  const [errors, setErrors] = useState<string[]>([]);

  const check = () => {
    const r = checkPayoutAddress(draft);
    if (r.ok) {
      setConfirming(r.address);
      setErrors([]);
    } else setErrors([r.message]);
  };
  const save = async (address: string | null) => {
    const r = await agent.savePayoutAddress(address);
    setConfirming(null);
    if (r.ok) {
      setDraft('');
      setErrors([]);
    } else setErrors(r.error.fields?.map((f) => f.message) ?? [r.error.message]);
  };

  return (
    <section className="card" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`} className="card-title">
        Payouts
      </h2>
      <p>
        Hubs pay your earnings to an address you control, for example one from your hardware wallet. Offhours never asks for, shows or stores a
        seed phrase.
      </p>
      {saved !== null && settings?.payout.confirmedAt ? (
        <p data-testid="payout-saved">
          Payouts go to <code className="path">{saved}</code> (confirmed <time dateTime={settings.payout.confirmedAt}>{formatDateTime(settings.payout.confirmedAt)}</time>).
        </p>
      ) : (
        <p className="muted">No payout address set: nothing can be paid out until you add one.</p>
      )}
      {confirming === null ? (
        <form
          className="form-field"
          onSubmit={(e) => {
            e.preventDefault();
            check();
          }}
        >
          <label htmlFor={`${ids}-address`}>{saved === null ? 'Payout address' : 'New payout address'}</label>
          <input
            id={`${ids}-address`}
            className="input"
            value={draft}
            placeholder="0x…"
            spellCheck={false}
            autoComplete="off"
            aria-invalid={errors.length > 0}
            aria-describedby={`${ids}-help`}
            onChange={(e) => setDraft(e.target.value)}
            data-testid="payout-address"
          />
          <p id={`${ids}-help`} className="muted">
            Paste it from your wallet. The mix of capital letters is a checksum: Offhours checks it so a mistyped character cannot send your
            earnings to nobody.
          </p>
          {errors.map((m) => (
            <p key={m} className="field-error" role="alert">
              {m}
            </p>
          ))}
          <div className="actions">
            <button type="submit" className="button" disabled={!canAct(state) || draft.trim() === ''}>
              Check address
            </button>
            {saved !== null && (
              <button type="button" className="button button-secondary" disabled={!canAct(state)} onClick={() => void save(null)}>
                Remove payout address
              </button>
            )}
          </div>
        </form>
      ) : (
        <div className="form-field" role="group" aria-labelledby={`${ids}-confirm`}>
          <p id={`${ids}-confirm`}>Is this your address? Compare it with the one your wallet shows, character by character.</p>
          <code className="path" data-testid="payout-confirm">
            {confirming}
          </code>
          <div className="actions">
            <button type="button" className="button" disabled={!canAct(state)} aria-busy={state.pending === 'payout'} onClick={() => void save(confirming)}>
              Yes, pay to this address
            </button>
            <button type="button" className="button button-secondary" onClick={() => setConfirming(null)}>
              No, change it
            </button>
          </div>
        </div>
      )}
      <NodeIdentity />
    </section>
  );
}
