// Small shared pieces: hooks on the live state, the status badge, the
// confirmation dialog (a native <dialog>), and error text.
import type { ComponentChildren } from 'preact';
import type { RefObject } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { APIError } from './api';
import { live } from './live';
import type { StreamEvent } from './types';
import { windowRange, type Range } from './windowing';

/** Re-renders on every change of the fleet state (coalesced per frame). */
export function useFleet(): number {
  const [n, setN] = useState(0);
  useEffect(() => live.fleet.subscribe(() => setN((x) => x + 1)), []);
  return n;
}

/**
 * The rows of a long list to render in a table body: those in the viewport
 * plus overscan (windowing.ts), following the page's scroll and size and
 * the rows' measured height. Rows carry data-row; spacer rows do not.
 */
export function useWindow(total: number, body: RefObject<HTMLElement | null>): { range: Range; rowHeight: number } {
  const rowHeight = useRef(40);
  const [range, setRange] = useState<Range>(() => windowRange({ total, rowHeight: 40, top: 0, height: 1000 }));
  const compute = useRef(() => {});
  compute.current = () => {
    const el = body.current;
    if (!el) return;
    const r = windowRange({ total, rowHeight: rowHeight.current, top: -el.getBoundingClientRect().top, height: window.innerHeight });
    setRange((p) => (p.start === r.start && p.end === r.end ? p : r));
  };
  useEffect(() => {
    let pending = false;
    const on = () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        compute.current();
      });
    };
    addEventListener('scroll', on, { passive: true });
    addEventListener('resize', on);
    return () => {
      removeEventListener('scroll', on);
      removeEventListener('resize', on);
    };
  }, []);
  // After each render: measure the rendered rows, then the range for the
  // current list length (it converges: same range, no new render).
  useLayoutEffect(() => {
    const rows = body.current?.querySelectorAll<HTMLElement>(':scope > tr[data-row]');
    if (rows && rows.length > 0) {
      const h = (rows[rows.length - 1].getBoundingClientRect().bottom - rows[0].getBoundingClientRect().top) / rows.length;
      if (h > 0 && Math.abs(h - rowHeight.current) > 1) rowHeight.current = h;
    }
    compute.current();
  });
  return { range, rowHeight: rowHeight.current };
}

/** Re-renders when the stream's state or event list changes. */
export function useLiveState(): number {
  const [n, setN] = useState(0);
  useEffect(() => live.onState(() => setN((x) => x + 1)), []);
  return n;
}

/** Runs f on every stream event (f may change between renders). */
export function useEvents(f: (e: StreamEvent) => void) {
  const ref = useRef(f);
  ref.current = f;
  useEffect(() => live.on((e) => ref.current(e)), []);
}

/**
 * Loads data with load() now, when deps change, and whenever reload() is
 * called. A reload never discards an answer in flight (under a burst of
 * events the page would otherwise never show one); only an answer older than
 * one already shown, or asked for other deps, is dropped.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data?: T; error?: string; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  const seq = useRef(0); // requests made
  const shown = useRef(0); // newest request whose answer is shown
  const base = useRef(0); // requests up to this one were for older deps
  const mounted = useRef(true);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => () => void (mounted.current = false), []);
  const run = useRef(() => {
    const n = ++seq.current;
    const fresh = () => mounted.current && n > shown.current && n > base.current;
    loadRef.current().then(
      (data) => {
        if (!fresh()) return;
        shown.current = n;
        setState({ data });
      },
      (err) => {
        if (!fresh()) return;
        shown.current = n;
        setState((s) => ({ data: s.data, error: errorText(err) }));
      },
    );
  }).current;
  useEffect(() => {
    base.current = seq.current;
    run();
  }, deps);
  return { ...state, reload: run };
}

export function errorText(err: unknown): string {
  if (err instanceof APIError) {
    const p = err.problem;
    if (p) return `${p.title} (${p.status}): ${p.detail}${p.field ? ` [field ${p.field}]` : ''}`;
    return `HTTP ${err.status}`;
  }
  return String((err as Error)?.message ?? err);
}

export function Badge({ status }: { status: string }) {
  return <span class={'badge s-' + (/^[a-z]+$/.test(status) ? status : 'unknown')}>{status}</span>;
}

export function ErrorText({ text }: { text?: string }) {
  if (!text) return null;
  return <p class="error" role="alert">{text}</p>;
}

/**
 * A button that asks before it acts: a modal <dialog> with the question,
 * Cancel (focused first, so Enter does not confirm by accident) and the action.
 */
export function ConfirmButton(props: {
  label: string;
  question: ComponentChildren;
  action: () => Promise<unknown>;
  danger?: boolean;
  confirmLabel?: string;
  children?: ComponentChildren;
  testid?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState('');
  const open = () => {
    setErr('');
    ref.current?.showModal();
  };
  const run = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      await props.action();
      ref.current?.close();
    } catch (x) {
      setErr(errorText(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" class={props.danger ? 'danger small' : 'small'} onClick={open} data-testid={props.testid}>
        {props.label}
      </button>
      <dialog ref={ref} class="confirm">
        <form method="dialog" onSubmit={run}>
          <p>{props.question}</p>
          {props.children}
          <ErrorText text={err} />
          <div class="actions">
            <button type="button" autofocus onClick={() => ref.current?.close()}>
              Cancel
            </button>
            <button type="submit" class={props.danger ? 'danger' : 'primary'} disabled={busy}>
              {props.confirmLabel ?? props.label}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}

/** Calls f at most once per ms milliseconds, the last call winning. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [JSON.stringify(value), ms]);
  return v;
}
