import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ApiError, type Capacity } from '../lib/api';

/** IPAM capacity as an accessible meter: how much of the address range is in use. */
export function CapacityBar({ ipam, label }: { ipam: Capacity; label: string }) {
  const pct = ipam.total ? Math.round((ipam.used / ipam.total) * 100) : 0;
  const level = pct >= 90 ? 'high' : pct >= 70 ? 'mid' : 'low';
  return (
    <div className="capacity">
      <div
        className={`meter meter-${level}`}
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={ipam.total}
        aria-valuenow={ipam.used}
        aria-valuetext={`${ipam.used} of ${ipam.total} addresses used (${pct} %)`}
      >
        <span style={{ width: `${Math.max(pct, ipam.used ? 1 : 0)}%` }} />
      </div>
      <small>{ipam.used} / {ipam.total} used · {ipam.free} free</small>
    </div>
  );
}

/** A failed request in words (the API's problem detail), or nothing. */
export function ErrorNote({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const message = error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
  return (
    <div className="alert alert-error" role="alert">
      {title && <strong>{title}: </strong>}
      {message}
    </div>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return <p className="muted" role="status" aria-live="polite">{what}…</p>;
}

/** A labelled form field that shows the API's validation messages for `name` underneath. */
export function Field({ label, name, error, hint, children }: {
  label: string; name: string; error?: unknown; hint?: string;
  children: (props: { id: string; name: string; 'aria-invalid'?: boolean; 'aria-describedby'?: string }) => ReactNode;
}) {
  const id = useId();
  const messages = error instanceof ApiError ? error.field(name) : [];
  const describedBy = [hint ? `${id}-hint` : '', messages.length ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${messages.length ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, name, 'aria-invalid': messages.length ? true : undefined, 'aria-describedby': describedBy })}
      {hint && <small id={`${id}-hint`} className="muted">{hint}</small>}
      {messages.length > 0 && (
        <small id={`${id}-err`} className="field-error" data-field-error={name}>{messages.join(' ')}</small>
      )}
    </div>
  );
}

/** A form-level problem that is not about one of the form's fields. */
export function FormProblem({ error, fields }: { error: unknown; fields: string[] }) {
  if (!error) return null;
  if (error instanceof ApiError) {
    const errors = error.problem.errors ?? {};
    const known = Object.keys(errors).every(k => fields.some(f => f.toLowerCase() === k.toLowerCase()));
    if (Object.keys(errors).length && known) return null;
  }
  return <ErrorNote error={error} />;
}

export function CopyButton({ text, label = 'Copy', small }: { text: string; label?: string; small?: boolean }) {
  const [done, setDone] = useState<'copied' | 'failed' | null>(null);
  return (
    <button
      type="button"
      className={`btn${small ? ' btn-small' : ''}`}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setDone('copied');
        } catch {
          setDone('failed');
        }
      }}
    >
      {done === 'copied' ? 'Copied ✓' : done === 'failed' ? 'Copy failed — select the text' : label}
      <span className="visually-hidden" aria-live="polite">{done === 'copied' ? 'Copied to the clipboard' : ''}</span>
    </button>
  );
}

/** A modal built on <dialog>: focus trap, Escape and backdrop handling come from the browser. */
export function Modal({ title, open, onClose, children, wide }: {
  title: string; open: boolean; onClose: () => void; children: ReactNode; wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  // Closing programmatically also fires `close`; only a close the user did (Escape, ✕) reports back.
  const openRef = useRef(open);
  openRef.current = open;
  const userClosed = () => { if (openRef.current) onClose(); };
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      if (typeof d.showModal === 'function') d.showModal(); else d.setAttribute('open', '');
      // showModal focuses the first focusable element (the close button); start at the first field instead.
      d.querySelector<HTMLElement>('.modal-body input:not([disabled]), .modal-body select, .modal-body textarea')?.focus();
    }
    if (!open && d.open) {
      if (typeof d.close === 'function') d.close(); else d.removeAttribute('open');
    }
  }, [open]);
  return (
    <dialog ref={ref} className={`modal${wide ? ' modal-wide' : ''}`} aria-labelledby={titleId} onClose={userClosed}>
      {open && (
        <>
          <header className="modal-head">
            <h2 id={titleId}>{title}</h2>
            <button type="button" className="btn btn-ghost" aria-label="Close" onClick={onClose}>✕</button>
          </header>
          <div className="modal-body">{children}</div>
        </>
      )}
    </dialog>
  );
}

export function Badge({ tone, children }: { tone: 'ok' | 'bad' | 'warn' | 'muted' | 'info'; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}
