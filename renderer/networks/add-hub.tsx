// Adds a hub by its URL. The URL is checked here with the protocol's own rule (an http or https
// origin, no path) and again by the agent, which also refuses a hub that is already added.
import { useId, useState } from 'react';
import type { FieldError, NetworkView } from '../../protocol/index.js';
import { TextField } from '../power/text-field.js';
import { canAct, useAgent } from '../use-agent.js';

export function AddHubCard({ onAdded }: { onAdded: (hub: NetworkView) => void }) {
  const ids = useId();
  const { state, agent } = useAgent();
  const [url, setUrl] = useState('');
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [added, setAdded] = useState<string | null>(null);

  const add = async () => {
    setAdded(null);
    setRefusal(null);
    const result = await agent.addNetwork(url.trim());
    if (!result.ok) {
      const fields = result.error.fields ?? [];
      setErrors(fields);
      if (fields.length === 0) setRefusal(result.error.message);
      return;
    }
    setErrors([]);
    setUrl('');
    setAdded(`Added ${result.value.url}.`);
    onAdded(result.value);
  };

  return (
    <section className="card" aria-labelledby={`${ids}-title`} data-testid="hub-add">
      <h2 id={`${ids}-title`} className="card-title">
        Add a hub
      </h2>
      <form
        className="queue-form"
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
      >
        <TextField
          className="form-field-wide"
          label="Hub URL"
          value={url}
          onChange={(v) => {
            setUrl(v);
            setAdded(null);
          }}
          errors={errors.filter((f) => f.path === 'url' || f.path === '(body)')}
          placeholder="https://hub.example"
          hint="The hub's address as its operator gives it: http:// or https:// and the host, no path."
        />
        {refusal && (
          <p className="field-error form-field-wide" role="alert" data-testid="hub-add-refusal">
            {refusal}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="button button-secondary" disabled={!canAct(state)} aria-busy={state.pending === 'network-add'}>
            Add hub
          </button>
          {added && (
            <span className="form-status" role="status">
              {added}
            </span>
          )}
        </div>
      </form>
    </section>
  );
}
