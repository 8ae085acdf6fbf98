// The hubs this node works for: each one's connection state and why, when it last answered, the
// address it registered, what it asked for, and what it paid. Remove asks no confirmation: adding
// the same URL again restores it, and nothing earned is lost (the ledger keeps it).
import { useId, useState } from 'react';
import type { NetworkView } from '../../protocol/index.js';
import { formatDateTime } from '../format.js';
import { canAct, useAgent } from '../use-agent.js';
import { HUB_STATE_LABEL, HUB_STATE_TONE, earningsText, reputationText } from './words.js';

export function HubsCard({ hubs, onRemoved }: { hubs: readonly NetworkView[]; onRemoved: (id: string) => void }) {
  const ids = useId();
  const { state, agent } = useAgent();
  const [problem, setProblem] = useState<string | null>(null);

  const [copied, setCopied] = useState<string | null>(null);

  // The voucher is not a secret (it can only pay the payout address), so it may go to the clipboard
  // for a wallet or a relayer; the node key never leaves the agent.
  const copyVoucher = async (hub: NetworkView) => {
    setProblem(null);
    setCopied(null);
    const result = await agent.loadVoucher(hub.id);
    if (!result.ok) {
      setProblem(`Could not read the voucher from ${hub.id}: ${result.error.message}`);
      return;
    }
    try {
      await navigator.clipboard.writeText(JSON.stringify(result.value, null, 2));
      setCopied(hub.id);
    } catch {
      setProblem('The clipboard is not available here; GET /api/v1/networks/:id/voucher gives the same voucher.');
    }
  };

  const remove = async (hub: NetworkView) => {
    setProblem(null);
    const result = await agent.removeNetwork(hub.id);
    if (!result.ok) {
      setProblem(`Could not remove ${hub.id}: ${result.error.message}`);
      return;
    }
    onRemoved(hub.id);
  };

  return (
    <section className="card" aria-labelledby={`${ids}-title`} data-testid="hubs">
      <h2 id={`${ids}-title`} className="card-title">
        Hubs
      </h2>
      {problem && (
        <p className="field-error" role="alert" data-testid="hub-remove-problem">
          {problem}
        </p>
      )}
      {hubs.length === 0 ? (
        <p className="muted" data-testid="no-hubs">
          No hubs added: this machine works for no network yet. Add a hub by its URL below.
        </p>
      ) : (
        <table className="table" data-testid="hubs-table">
          <thead>
            <tr>
              <th scope="col">Hub</th>
              <th scope="col">State</th>
              <th scope="col">Last contact</th>
              <th scope="col">Registered as</th>
              <th scope="col">Reputation</th>
              <th scope="col">Earned</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {hubs.map((h) => (
              <tr key={h.id} data-testid="hub-row" data-id={h.id}>
                <th scope="row">
                  {h.name && <div>{h.name}</div>}
                  <code className="path">{h.url}</code>
                </th>
                <td>
                  <span className={HUB_STATE_TONE[h.state]} data-testid="hub-state">
                    {HUB_STATE_LABEL[h.state]}
                  </span>
                  {h.reason && (
                    <p className="field-hint" data-testid="hub-reason">
                      {h.reason}
                    </p>
                  )}
                  {h.state === 'backing-off' && h.retryAt && <p className="field-hint">Next try {formatDateTime(h.retryAt)}.</p>}
                </td>
                <td data-testid="hub-last-contact">{h.lastContactAt ? formatDateTime(h.lastContactAt) : <span className="muted">never</span>}</td>
                <td data-testid="hub-registration">
                  {h.registration ? (
                    <>
                      <div>
                        Node <code className="address">{h.registration.nodeAddress}</code>
                      </div>
                      <div>
                        Pays to <code className="address">{h.registration.payoutAddress}</code>
                      </div>
                      {h.wants.heartbeatEveryS !== null && <div className="field-hint">Asks for a heartbeat every {h.wants.heartbeatEveryS} s.</div>}
                    </>
                  ) : (
                    <span className="muted">not registered</span>
                  )}
                </td>
                <td data-testid="hub-reputation">
                  {h.reputation ? (
                    <>
                      <div>{reputationText(h.reputation)}</div>
                      <div className="field-hint">
                        {h.reputation.passed} verified, {h.reputation.failed} refused
                      </div>
                    </>
                  ) : (
                    <span className="muted">not reported</span>
                  )}
                  {h.working && (
                    <p className="field-hint" data-testid="hub-working">
                      Working on {h.working.title}
                    </p>
                  )}
                </td>
                <td data-testid="hub-earnings">
                  {earningsText(h.earnings) ?? <span className="muted">nothing yet</span>}
                  {h.payments?.voucherTotal && (
                    <>
                      <p className="field-hint" data-testid="hub-voucher">
                        Backed by a signed voucher for {h.payments.voucherTotal} {h.payments.token ?? ''}
                        {h.payments.voucherExpiresAt ? `, redeemable until ${formatDateTime(h.payments.voucherExpiresAt)}` : ''}.
                      </p>
                      <button type="button" className="button button-secondary" data-testid="hub-copy-voucher" onClick={() => void copyVoucher(h)}>
                        {copied === h.id ? 'Voucher copied' : 'Copy voucher'}
                      </button>
                    </>
                  )}
                  {h.payments?.refused && (
                    <p className="field-error" data-testid="hub-voucher-refused">
                      Refused: {h.payments.refused}
                    </p>
                  )}
                </td>
                <td>
                  <button
                    type="button"
                    className="button button-secondary"
                    disabled={!canAct(state)}
                    aria-busy={state.pending === `network-remove:${h.id}`}
                    aria-label={`Remove ${h.id}`}
                    onClick={() => void remove(h)}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="field-hint">
        Earnings count only what a hub's signed voucher backs; Offhours checks each voucher on this machine before it enters the ledger. Reputation is the
        hub's record of this node: verified results raise it, refused ones lower it.
      </p>
    </section>
  );
}
