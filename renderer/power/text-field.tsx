// A labelled text input with its field errors right under it: the one control the Power page's
// forms are made of. Numbers and prices are typed as text so "0.30" stays "0.30".
import { useId } from 'react';
import type { FieldError } from '../../protocol/index.js';

export interface TextFieldProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  errors?: readonly FieldError[] | undefined;
  hint?: string;
  placeholder?: string;
  inputMode?: 'decimal' | 'numeric' | 'text';
  /** Shown after the input: "per kWh", "W". */
  unit?: string;
  disabled?: boolean;
  className?: string;
  /** Keeps the label for screen readers only, where a table header already says it. */
  hideLabel?: boolean;
  maxLength?: number;
  testId?: string;
}

export function TextField({ label, value, onChange, errors, hint, placeholder, inputMode = 'text', unit, disabled, className = '', hideLabel, maxLength, testId }: TextFieldProps) {
  const id = useId();
  const messages = [...new Set((errors ?? []).map((e) => e.message))];
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [hint ? hintId : null, messages.length > 0 ? errorId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`form-field ${className}`}>
      <label htmlFor={id} className={hideLabel ? 'visually-hidden' : undefined}>
        {label}
      </label>
      <span className="number-field">
        <input
          id={id}
          className={`input${inputMode === 'decimal' ? ' input-decimal' : ''}`}
          type="text"
          inputMode={inputMode}
          value={value}
          placeholder={placeholder}
          spellCheck={false}
          autoComplete="off"
          disabled={disabled}
          maxLength={maxLength}
          aria-invalid={messages.length > 0 || undefined}
          aria-describedby={describedBy}
          data-testid={testId}
          onChange={(e) => onChange(e.target.value)}
        />
        {unit && <span className="unit">{unit}</span>}
      </span>
      {hint && (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      )}
      {messages.length > 0 && (
        <p id={errorId} className="field-error" data-testid="field-error">
          {messages.join(' · ')}
        </p>
      )}
    </div>
  );
}
