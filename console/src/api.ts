// The REST client: every request carries the API token as a bearer header.
// The token lives in sessionStorage (this tab only, gone when it closes),
// never in a URL.
import type { Problem } from './types';

const KEY = 'phoenix.token';

export const auth = {
  get(): string {
    try {
      return sessionStorage.getItem(KEY) ?? '';
    } catch {
      return '';
    }
  },
  set(t: string) {
    sessionStorage.setItem(KEY, t);
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
};

export class APIError extends Error {
  constructor(public status: number, public problem?: Problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
  }
}

let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(f: () => void) {
  onUnauthorized = f;
}

export async function request<T>(method: string, path: string, body?: unknown, token = auth.get()): Promise<T> {
  const headers: Record<string, string> = { Authorization: 'Bearer ' + token, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-store' });
  const text = await r.text();
  let v: unknown;
  try {
    v = text ? JSON.parse(text) : undefined;
  } catch {
    v = undefined;
  }
  if (!r.ok) {
    if (r.status === 401) onUnauthorized();
    throw new APIError(r.status, v as Problem | undefined);
  }
  return v as T;
}

export const get = <T>(path: string) => request<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, body);
export const del = <T>(path: string) => request<T>('DELETE', path);

/** Path segment escaping for names that come from agents. */
export const seg = (s: string) => encodeURIComponent(s);
