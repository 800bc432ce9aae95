/**
 * The signed-in session: a bearer token kept in localStorage, plus what we know of its subject.
 * A tiny external store (subscribe/get) so React reads it with useSyncExternalStore and the API client
 * reads the token without React.
 */
export interface Session {
  token: string;
  sub: string;
  role: string;
  /** RFC 3339, when known. */
  expiresAt: string | null;
}

const KEY = 'boxoffice.session';
type Listener = () => void;
const listeners = new Set<Listener>();
let cached: Session | null | undefined;

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

function read(): Session | null {
  const raw = storage()?.getItem(KEY);
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as Session;
    return typeof value.token === 'string' && value.token ? value : null;
  } catch {
    return null;
  }
}

export function getSession(): Session | null {
  if (cached === undefined) cached = read();
  return cached;
}

export function getToken(): string | null {
  return getSession()?.token ?? null;
}

export function setSession(session: Session | null): void {
  cached = session;
  const store = storage();
  if (session) store?.setItem(KEY, JSON.stringify(session));
  else store?.removeItem(KEY);
  for (const listener of listeners) listener();
}

export function subscribeSession(listener: Listener): () => void {
  listeners.add(listener);
  const onStorage = (event: StorageEvent) => {
    if (event.key === KEY) {
      cached = read();
      listener();
    }
  };
  if (typeof window !== 'undefined') window.addEventListener('storage', onStorage);
  return () => {
    listeners.delete(listener);
    if (typeof window !== 'undefined') window.removeEventListener('storage', onStorage);
  };
}

/**
 * Reads the claims of a JWT without verifying it (the server verifies); used to show who a pasted
 * token belongs to. Returns null when the token is not a JWT.
 */
export function decodeClaims(token: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
    const json = new TextDecoder().decode(Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)));
    const claims: unknown = JSON.parse(json);
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A session from a pasted token, or null when it is not a JWT with a subject. */
export function sessionFromToken(token: string): Session | null {
  const trimmed = token.trim();
  const claims = decodeClaims(trimmed);
  if (!claims || typeof claims.sub !== 'string') return null;
  const exp = typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : null;
  const role = typeof claims.role === 'string' ? claims.role : 'customer';
  return { token: trimmed, sub: claims.sub, role, expiresAt: exp };
}
