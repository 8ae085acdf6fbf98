// Full-page screens for when there is no dashboard to show: connecting, refused, or broken.
import { useId, useState, type FormEvent } from 'react';
import { Brand } from '../components/brand.js';
import { useAgent } from '../use-agent.js';

export function LoadingScreen() {
  return (
    <main className="center-screen">
      <div className="center-card" role="status" data-testid="loading">
        <Brand />
        <p className="loading-line">
          <span className="spinner" aria-hidden="true" />
          Connecting to the Offhours agent…
        </p>
      </div>
    </main>
  );
}

export function ErrorScreen() {
  const { state, agent } = useAgent();
  return (
    <main className="center-screen">
      <div className="center-card" data-testid="connection-error">
        <Brand />
        <h1>Can’t reach the Offhours agent</h1>
        <p className="error-text" role="alert">
          {state.lastError ?? 'Something went wrong while talking to the agent.'}
        </p>
        <p className="muted">
          Check that the agent is running (<code>offhours status</code> says so), then try again.
        </p>
        <div className="actions">
          <button type="button" className="button button-primary" onClick={() => agent.retry()}>
            Retry
          </button>
        </div>
      </div>
    </main>
  );
}

export function NotAuthorizedScreen() {
  const { state, agent } = useAgent();
  const [token, setTokenInput] = useState('');
  const [invalid, setInvalid] = useState(false);
  const inputId = useId();
  const hintId = useId();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setInvalid(!agent.setToken(token));
  };

  return (
    <main className="center-screen">
      <div className="center-card" data-testid="not-authorized">
        <Brand />
        <h1>Not authorized</h1>
        <p>
          {state.auth === 'rejected'
            ? 'The Offhours agent did not accept the access token this page has. It may be from another machine or an older install.'
            : 'This page has no access token for the Offhours agent, so it cannot show anything.'}
        </p>
        <p>
          Open the link the agent printed: <code>offhours agent</code> prints it when it starts, and{' '}
          <code>offhours status</code> shows it again. The link carries the token, and this page keeps it only for this
          browser session.
        </p>
        <form className="token-form" onSubmit={submit}>
          <label htmlFor={inputId}>Or paste the access token</label>
          <div className="token-row">
            <input
              id={inputId}
              className="input"
              type="password"
              autoComplete="off"
              spellCheck={false}
              value={token}
              aria-invalid={invalid}
              aria-describedby={invalid ? hintId : undefined}
              onChange={(event) => {
                setTokenInput(event.target.value);
                setInvalid(false);
              }}
            />
            <button type="submit" className="button button-primary" disabled={token.trim() === ''}>
              Use this token
            </button>
          </div>
          {invalid && (
            <p id={hintId} className="error-text">
              That does not look like an access token: paste it without spaces.
            </p>
          )}
        </form>
      </div>
    </main>
  );
}
