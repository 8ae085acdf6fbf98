// Adds a hub by its URL. The URL is checked here with the protocol's own rule (an http or https
// origin, no path) and again by the agent, which also refuses a hub that is already added.
import { useId } from 'react';
import type { NetworkView } from '../../protocol/index.js';
import { OneFieldForm } from '../components/one-field-form.js';
import { useAgent } from '../use-agent.js';

export function AddHubCard({ onAdded }: { onAdded: (hub: NetworkView) => void }) {
  const ids = useId();
  const { agent } = useAgent();

  return (
    <section className="card" aria-labelledby={`${ids}-title`} data-testid="hub-add">
      <h2 id={`${ids}-title`} className="card-title">
        Add a hub
      </h2>
      <OneFieldForm
        label="Hub URL"
        field="url"
        placeholder="https://hub.example"
        hint="The hub's address as its operator gives it: http:// or https:// and the host, no path."
        button="Add hub"
        pending="network-add"
        refusalTestId="hub-add-refusal"
        send={(url) => agent.addNetwork(url)}
        done={(hub) => {
          onAdded(hub);
          return `Added ${hub.url}.`;
        }}
      />
    </section>
  );
}
