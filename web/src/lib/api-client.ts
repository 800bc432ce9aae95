/**
 * The preconfigured API client, typed by path from the generated OpenAPI types (`paths` in api-types.ts):
 * `api.GET('/v1/shows/{show_id}', { params: { path: { show_id } } })` resolves to that operation's success
 * body, so no caller names (or asserts) a response type, and a path, parameter or body the API does not
 * have fails `tsc`. openapi-fetch builds the request (path and query parameters, JSON body) and reads the
 * response; this module is its transport: same-origin `/v1/...` (NGINX in production, Vite's proxy in
 * development), `Authorization: Bearer <token>` on every call when signed in, errors as ApiError.
 *
 * Retries: a 429 or 503 means the request was not accepted, so every request is retried after
 * `Retry-After`. A network error, 502 or 504 is ambiguous (the request may have been accepted), so only
 * requests that are safe to repeat are retried: GETs, and POSTs carrying an Idempotency-Key (a header
 * parameter of the operation, e.g. POST /v1/shows/{show_id}/bookings), which are retried with the very same
 * key (and body) so the server recognises the repeat.
 *
 * Conditional reads: `GET_TAGGED` sends the operation's `If-None-Match` (and `Prefer`) header parameters and
 * resolves to the body with its `ETag`, or to `notModified` on a 304 (no body: the caller keeps its copy).
 */
import createClient, { type Client, type ClientPathsWithMethod, type MaybeOptionalInit, type MethodResponse } from 'openapi-fetch';
import type { paths } from './api-types';
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

/** What a call adds to the operation's own options (`params`, `body`). */
export interface CallOptions {
  /** Total attempts including the first; 1 disables retries. */
  maxAttempts?: number;
  onRetry?: (notice: RetryNotice) => void;
  signal?: AbortSignal;
}

export interface ApiClientDeps {
  fetch: typeof fetch;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  getToken: () => string | null;
  /** Put before every path; '' (the default) is the page's own origin. */
  baseUrl?: string;
}

type Method = 'get' | 'post' | 'patch' | 'delete';
type Raw = Client<paths, 'application/json'>;
type OperationInit<P extends keyof paths, M extends Method> = NonNullable<MaybeOptionalInit<paths[P], M>>;
/** The operation's `params` (path, query, header) and `body`, as the generated types have them, and ours. */
export type CallInit<P extends keyof paths, M extends Method> = Pick<OperationInit<P, M>, 'params' | 'body'> & CallOptions;
/** The options are optional when the operation needs none (no path parameter, no required body or header). */
type InitArgs<P extends keyof paths, M extends Method> =
  undefined extends MaybeOptionalInit<paths[P], M> ? [init?: CallInit<P, M>] : [init: CallInit<P, M>];
/** The operation's success (2xx) body. */
export type ResponseData<P extends keyof paths, M extends Method> = MethodResponse<Raw, M, P & ClientPathsWithMethod<Raw, M>>;

/** A conditional read's outcome: the body and its tag, or 304 (the tag the caller sent is still current). */
export type Tagged<T> = { notModified: false; data: T; etag: string | null } | { notModified: true; etag: string | null };

export interface ApiClient {
  GET<P extends ClientPathsWithMethod<Raw, 'get'>>(path: P, ...init: InitArgs<P, 'get'>): Promise<ResponseData<P, 'get'>>;
  GET_TAGGED<P extends ClientPathsWithMethod<Raw, 'get'>>(
    path: P,
    ...init: InitArgs<P, 'get'>
  ): Promise<Tagged<ResponseData<P, 'get'>>>;
  POST<P extends ClientPathsWithMethod<Raw, 'post'>>(path: P, ...init: InitArgs<P, 'post'>): Promise<ResponseData<P, 'post'>>;
  PATCH<P extends ClientPathsWithMethod<Raw, 'patch'>>(path: P, ...init: InitArgs<P, 'patch'>): Promise<ResponseData<P, 'patch'>>;
  DELETE<P extends ClientPathsWithMethod<Raw, 'delete'>>(
    path: P,
    ...init: InitArgs<P, 'delete'>
  ): Promise<ResponseData<P, 'delete'>>;
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
    // any JSON (ours is an ErrorBody, a proxy's may be anything): each field is checked
    const err = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } })?.error;
    if (err && typeof err.code === 'string') code = err.code;
    if (err && typeof err.message === 'string') message = err.message;
    details = err?.details;
  } catch {
    // not JSON (a proxy's HTML page): keep the status line
  }
  return new ApiError(response.status, code, message, details, retryAfterS);
}

/**
 * openapi-fetch makes a Request, whose URL must be absolute outside a page (Node, Vitest): it gets this origin,
 * which is never contacted (.invalid is reserved); the transport sends only the path and query, after
 * `deps.baseUrl`.
 */
const REQUEST_ORIGIN = 'http://boxoffice.invalid';

export function createApiClient(deps: ApiClientDeps): ApiClient {
  const base = deps.baseUrl ?? '';

  /** Sends openapi-fetch's request with our headers and retries; resolves to a 2xx response, or throws. */
  async function send(request: Request, options: CallOptions): Promise<Response> {
    const { pathname, search } = new URL(request.url);
    const url = base + pathname + search;
    const method = request.method;
    const headers = new Headers(request.headers);
    headers.set('Accept', 'application/json');
    const token = deps.getToken();
    if (token) headers.set('Authorization', `Bearer ${token}`);
    const body = request.body === null ? undefined : await request.text();
    const { signal } = options;
    const repeatable = method === 'GET' || headers.has('Idempotency-Key');
    const maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);

    for (let attempt = 1; ; attempt++) {
      let error: ApiError | NetworkError;
      try {
        const response = await deps.fetch(url, { method, headers: new Headers(headers), body, signal });
        if (response.ok || (response.status === 304 && headers.has('If-None-Match'))) return response;
        error = await toApiError(response);
      } catch (caught) {
        if (signal?.aborted) throw caught;
        if (caught instanceof ApiError) throw caught;
        error = new NetworkError(caught);
      }
      const reason = retryReason(error, repeatable);
      if (reason === null || attempt >= maxAttempts) throw error;
      const delayS =
        error instanceof ApiError && error.retryAfterS !== undefined ? error.retryAfterS : backoffS(attempt);
      options.onRetry?.({ attempt, reason, delayS, error });
      await deps.sleep(delayS * 1000, signal);
    }
  }

  const raw = createClient<paths>({ baseUrl: REQUEST_ORIGIN });
  const call = async (method: Method, path: string, init: CallOptions & { params?: unknown; body?: unknown } = {}) => {
    const { maxAttempts, onRetry, ...options } = init;
    // openapi-fetch's generics are checked at the typed methods below; inside, the call is untyped
    const result = await raw.request(method, path as never, {
      ...options,
      fetch: (request: Request) => send(request, { maxAttempts, onRetry, signal: options.signal }),
    } as never);
    return result as { data?: unknown; response: Response };
  };
  const tagged = async (path: string, init?: CallOptions & { params?: unknown }) => {
    const { data, response } = await call('get', path, init);
    const etag = response.headers.get('ETag');
    return response.status === 304 ? { notModified: true, etag } : { notModified: false, data, etag };
  };
  return {
    GET: async (path, ...init) => (await call('get', path, init[0])).data,
    GET_TAGGED: (path, ...init) => tagged(path, init[0]),
    POST: async (path, ...init) => (await call('post', path, init[0])).data,
    PATCH: async (path, ...init) => (await call('patch', path, init[0])).data,
    DELETE: async (path, ...init) => (await call('delete', path, init[0])).data,
  } as ApiClient;
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
