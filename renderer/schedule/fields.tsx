// Small form pieces for the Schedule page: numbers typed as text, field errors next to their
// control, and editable name lists with suggestions.
import { useId, useState } from 'react';
import type { FieldError } from '../../protocol/index.js';
import { addName } from './policy-draft.js';

/** Errors for one control: an id for aria-describedby, and the messages to show. */
export interface ControlErrors {
  id: string;
  messages: string[];
}

export function FieldErrorText({ errors, className = '' }: { errors: ControlErrors | undefined; className?: string }) {
  if (!errors || errors.messages.length === 0) return null;
  return (
    <p id={errors.id} className={`field-error ${className}`} data-testid="field-error">
      {errors.messages.join(' · ')}
    </p>
  );
}

export function errorsOf(fields: readonly FieldError[], id: string): ControlErrors {
  return { id, messages: [...new Set(fields.map((f) => f.message))] };
}

interface NumberFieldProps {
  id?: string;
  label?: string;
  value: number;
  onChange: (value: number) => void;
  min?: number;
  max?: number;
  unit?: string;
  disabled?: boolean;
  errors?: ControlErrors | undefined;
  className?: string;
}

/** A whole number typed as text: the draft changes on every valid keystroke; while the text is not
 * a number, the field says so and the draft keeps the last number. */
export function NumberField({ id, label, value, onChange, min, max, unit, disabled, errors, className = '' }: NumberFieldProps) {
  const ownId = useId();
  const inputId = id ?? ownId;
  const localErrorId = useId();
  const [text, setText] = useState(String(value));
  const [shown, setShown] = useState(value);
  if (value !== shown) {
    setShown(value);
    setText(String(value));
  }
  const notANumber = text.trim() === '' || !Number.isFinite(Number(text));
  const describedBy = [notANumber ? localErrorId : null, errors && errors.messages.length > 0 ? errors.id : null].filter(Boolean).join(' ') || undefined;
  return (
    <span className={`number-field ${className}`}>
      {label && (
        <label htmlFor={inputId} className="visually-hidden">
          {label}
        </label>
      )}
      <input
        id={inputId}
        type="number"
        inputMode="numeric"
        className="input input-number"
        value={text}
        min={min}
        max={max}
        step={1}
        disabled={disabled}
        aria-invalid={notANumber || (errors?.messages.length ?? 0) > 0 || undefined}
        aria-describedby={describedBy}
        onChange={(event) => {
          const raw = event.target.value;
          setText(raw);
          const n = Number(raw);
          if (raw.trim() !== '' && Number.isFinite(n)) {
            setShown(n);
            onChange(n);
          }
        }}
      />
      {unit && <span className="unit">{unit}</span>}
      {notANumber && (
        <span id={localErrorId} className="field-error">
          Enter a number
        </span>
      )}
    </span>
  );
}

interface NameListProps {
  title: string;
  description: string;
  /** What one entry is called in button names: "game", "program". */
  noun: string;
  names: readonly string[];
  onChange: (names: string[]) => void;
  suggestions: readonly string[];
  disabled?: boolean;
  errors?: ControlErrors | undefined;
  testId: string;
}

/** Names to add and remove; processes seen running are offered (datalist and one-click chips). */
export function NameList({ title, description, noun, names, onChange, suggestions, disabled, errors, testId }: NameListProps) {
  const inputId = useId();
  const listId = useId();
  const descId = useId();
  const [text, setText] = useState('');
  const listed = new Set(names.map((n) => n.toLowerCase()));
  const offered = suggestions.filter((s) => !listed.has(s.toLowerCase()));
  const add = (name: string) => {
    const next = addName(names, name);
    if (next.length !== names.length) onChange(next);
    setText('');
  };
  const describedBy = [descId, errors && errors.messages.length > 0 ? errors.id : null].filter(Boolean).join(' ');
  return (
    <div className="name-list" data-testid={testId}>
      <div>
        <label htmlFor={inputId} className="field-label">
          {title}
        </label>
        <p id={descId} className="field-hint">
          {description}
        </p>
      </div>
      <form
        className="name-add"
        onSubmit={(event) => {
          event.preventDefault();
          add(text);
        }}
      >
        <input
          id={inputId}
          className="input"
          list={listId}
          value={text}
          placeholder="Process name, e.g. eldenring.exe"
          autoComplete="off"
          spellCheck={false}
          disabled={disabled}
          aria-describedby={describedBy}
          aria-invalid={(errors?.messages.length ?? 0) > 0 || undefined}
          onChange={(event) => setText(event.target.value)}
        />
        <datalist id={listId}>
          {offered.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
        <button type="submit" className="button button-secondary" disabled={disabled || text.trim() === ''}>
          Add {noun}
        </button>
      </form>
      <FieldErrorText errors={errors} />
      {names.length === 0 ? (
        <p className="muted name-empty">None yet.</p>
      ) : (
        <ul className="chips" aria-label={title}>
          {names.map((name) => (
            <li key={name} className="chip">
              <span className="chip-text">{name}</span>
              <button
                type="button"
                className="chip-remove"
                aria-label={`Remove ${name}`}
                disabled={disabled}
                onClick={() => onChange(names.filter((n) => n !== name))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {offered.length > 0 && (
        <div className="suggestions">
          <p className="field-hint">Running recently on this machine:</p>
          <ul className="chips" aria-label={`Suggestions for ${title.toLowerCase()}`}>
            {offered.slice(0, 12).map((name) => (
              <li key={name}>
                <button type="button" className="chip chip-add" disabled={disabled} aria-label={`Add ${name} to ${title.toLowerCase()}`} onClick={() => add(name)}>
                  <span aria-hidden="true">+</span> {name}
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
