import { type FormEvent, type KeyboardEvent, useEffect, useRef } from 'react';

export function Composer({
  value,
  onChange,
  onSend,
  busy,
  busyLabel = 'Sending…',
  disabled,
}: {
  value: string;
  onChange: (v: string) => void;
  onSend: () => void;
  busy: boolean;
  /** The send button's label while busy. */
  busyLabel?: string;
  disabled?: boolean;
}) {
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
  }, [value]);

  const canSend = !busy && !disabled && value.trim().length > 0;
  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (canSend) onSend();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };

  return (
    <form className="composer" onSubmit={submit}>
      <textarea
        ref={ref}
        className="composer-input"
        rows={1}
        value={value}
        placeholder="Message Deputy…"
        aria-label="Message Deputy"
        data-testid="composer"
        maxLength={16000}
        disabled={disabled}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={onKeyDown}
        autoFocus
      />
      <button type="submit" className="btn btn-primary composer-send" disabled={!canSend} data-testid="send" aria-label="Send">
        {busy ? busyLabel : 'Send'}
      </button>
      <p className="composer-hint">Enter to send · Shift+Enter for a new line</p>
    </form>
  );
}
