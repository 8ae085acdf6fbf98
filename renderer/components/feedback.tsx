// Messages about the connection and about actions, shared by every screen.
import { useAgent } from '../use-agent.js';

export function ConnectionBanner() {
  const { state, agent } = useAgent();
  if (state.phase !== 'disconnected') return null;
  return (
    <div className="banner banner-warning" data-testid="connection-banner" role="status">
      <span className="spinner" aria-hidden="true" />
      <span className="banner-text">Lost connection to the Offhours agent — retrying…</span>
      <button type="button" className="button button-small button-secondary" onClick={() => agent.retry()}>
        Retry now
      </button>
    </div>
  );
}

export function ActionErrorAlert() {
  const { state, agent } = useAgent();
  const error = state.actionError;
  if (!error) return null;
  return (
    <div className="banner banner-danger" data-testid="action-error" role="alert">
      <div className="banner-text">
        <p className="banner-title">{error.message}</p>
        {error.fields && error.fields.length > 0 && (
          <ul className="field-errors">
            {error.fields.map((field) => (
              <li key={`${field.path}:${field.message}`}>
                <code>{field.path}</code> {field.message}
              </li>
            ))}
          </ul>
        )}
      </div>
      <button type="button" className="button button-small button-ghost" onClick={() => agent.dismissActionError()}>
        Dismiss
      </button>
    </div>
  );
}
