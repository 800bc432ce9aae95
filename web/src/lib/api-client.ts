/**
 * The preconfigured API client: same-origin `/v1/...` (NGINX in production, Vite's proxy in development),
 * `Authorization: Bearer <token>` on every call when signed in, JSON in and out, errors as ApiError.
 *
 * Retries: a 429 or 503 means the request was not accepted, so every request is retried after
 * `Retry-After`. A network error, 502 or 504 is ambiguous (the request may have been accepted), so only
 * requests that are safe to repeat are retried: GETs, and POSTs carrying an Idempotency-Key, which are
 * retried with the very same key (and body) so the server recognises the repeat.
 */
import { getToken } from './auth-token';

export type RetryReason = 'rate_limited' | 'unavailable' | 'bad_gateway' | 'network';

export interface RetryNotice {
  /** The attempt that just failed, 1-based. */
  attempt: number;
  reason: RetryReason;
  /** How long we wait before the next attempt. */
  delayS: number;
  error: ApiError | NetworkError;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Seconds from the Retry-After header, when the response carried one. */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The request never got an HTTP answer (offline, connection reset, DNS...). */
export class NetworkError extends Error {
  constructor(readonly cause?: unknown) {
    super('network error');
    this.name = 'NetworkError';
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
  /** Sent as the Idempotency-Key header, identical on every retry. */
  idempotencyKey?: string;
  /** Total attempts including the first; 1 disables retries. */
  maxAttempts?: number;
  onRetry?: (notice: RetryNotice) => void;
  signal?: AbortSignal;
}

export interface ApiClientDeps {
  fetch: typeof fetch;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  getToken: () => string | null;
  baseUrl?: string;
}

export interface ApiClient {
  request<T>(path: string, options?: RequestOptions): Promise<T>;
}

export const DEFAULT_MAX_ATTEMPTS = 4;
const MAX_RETRY_AFTER_S = 60;

export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value == null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.min(Number(trimmed), MAX_RETRY_AFTER_S);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, Math.ceil((date - now) / 1000)), MAX_RETRY_AFTER_S);
}

/** Backoff when the server gave no Retry-After: 1, 2, 4, 8 s. */
export function backoffS(attempt: number): number {
  return Math.min(2 ** (attempt - 1), 8);
}

function retryReason(error: ApiError | NetworkError, repeatable: boolean): RetryReason | null {
  if (error instanceof NetworkError) return repeatable ? 'network' : null;
  if (error.status === 429) return 'rate_limited';
  if (error.status === 503) return 'unavailable';
  if (error.status === 502 || error.status === 504) return repeatable ? 'bad_gateway' : null;
  return null;
}

/** True when repeating the same request (same Idempotency-Key) may succeed. */
export function isRetriable(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  return error instanceof ApiError && [429, 502, 503, 504].includes(error.status);
}

async function toApiError(response: Response): Promise<ApiError> {
  const retryAfterS = parseRetryAfter(response.headers.get('Retry-After'));
  let code = `http_${response.status}`;
  let message = response.statusText || `HTTP ${response.status}`;
  let details: unknown;
  try {
    const body: unknown = await response.json();
    const err = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } })?.error;
    if (err && typeof err.code === 'string') code = err.code;
    if (err && typeof err.message === 'string') message = err.message;
    details = err?.details;
  } catch {
    // not JSON (a proxy's HTML page): keep the status line
  }
  return new ApiError(response.status, code, message, details, retryAfterS);
}

function buildUrl(base: string, path: string, query?: RequestOptions['query']): string {
  let url = base + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
    }
    const qs = params.toString();
    if (qs) url += (url.includes('?') ? '&' : '?') + qs;
  }
  return url;
}

export function createApiClient(deps: ApiClientDeps): ApiClient {
  const base = deps.baseUrl ?? '';
  return {
    async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
      const method = options.method ?? 'GET';
      const headers: Record<string, string> = { Accept: 'application/json' };
      const token = deps.getToken();
      if (token) headers.Authorization = `Bearer ${token}`;
      if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
      let body: string | undefined;
      if (options.body !== undefined) {
        headers['Content-Type'] = 'application/json';
        body = JSON.stringify(options.body);
      }
      const repeatable = method === 'GET' || Boolean(options.idempotencyKey);
      const maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
      const url = buildUrl(base, path, options.query);

      for (let attempt = 1; ; attempt++) {
        let error: ApiError | NetworkError;
        try {
          const response = await deps.fetch(url, { method, headers: { ...headers }, body, signal: options.signal });
          if (response.ok) {
            const text = await response.text();
            return (text ? JSON.parse(text) : undefined) as T;
          }
          error = await toApiError(response);
        } catch (caught) {
          if (options.signal?.aborted) throw caught;
          if (caught instanceof ApiError) throw caught;
          error = new NetworkError(caught);
        }
        const reason = retryReason(error, repeatable);
        if (reason === null || attempt >= maxAttempts) throw error;
        const delayS =
          error instanceof ApiError && error.retryAfterS !== undefined ? error.retryAfterS : backoffS(attempt);
        options.onRetry?.({ attempt, reason, delayS, error });
        await deps.sleep(delayS * 1000, options.signal);
      }
    },
  };
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The application's client. */
export const api: ApiClient = createApiClient({
  fetch: (input, init) => globalThis.fetch(input, init),
  sleep,
  getToken,
});

/** A fresh Idempotency-Key. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
