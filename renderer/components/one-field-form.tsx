// A form of one text field and a button that sends it to the agent: the field's errors under it, a
// refusal without fields as an alert, and what was done as a status. Adding a hub and storing a file
// use it.
import { useState } from 'react';
import type { FieldError } from '../../protocol/index.js';
import type { ActionError, QueryResult } from '../agent-connection.js';
import { TextField } from '../power/text-field.js';
import { canAct, useAgent } from '../use-agent.js';

export function OneFieldForm<T>(props: {
  label: string;
  placeholder: string;
  hint: string;
  /** The request body's field this text goes to, for the agent's field errors. */
  field: string;
  button: string;
  /** The connection's pending action while this one is sent. */
  pending: string;
  refusalTestId: string;
  send: (text: string) => Promise<QueryResult<T>>;
  refusal?: (error: ActionError) => string;
  /** Called with what the agent answered; returns the status line to show. */
  done: (value: T) => string;
}) {
  const { state } = useAgent();
  const [text, setText] = useState('');
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  const submit = async () => {
    setStatus(null);
    setRefusal(null);
    const result = await props.send(text.trim());
    if (!result.ok) {
      const fields = result.error.fields ?? [];
      setErrors(fields);
      if (fields.length === 0) setRefusal(props.refusal ? props.refusal(result.error) : result.error.message);
      return;
    }
    setErrors([]);
    setText('');
    setStatus(props.done(result.value));
  };

  return (
    <form
      className="queue-form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <TextField
        className="form-field-wide"
        label={props.label}
        value={text}
        onChange={(v) => {
          setText(v);
          setStatus(null);
        }}
        errors={errors.filter((f) => f.path === props.field || f.path === '(body)')}
        placeholder={props.placeholder}
        hint={props.hint}
      />
      {refusal && (
        <p className="field-error form-field-wide" role="alert" data-testid={props.refusalTestId}>
          {refusal}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="button button-secondary" disabled={!canAct(state)} aria-busy={state.pending === props.pending}>
          {props.button}
        </button>
        {status && (
          <span className="form-status" role="status">
            {status}
          </span>
        )}
      </div>
    </form>
  );
}
