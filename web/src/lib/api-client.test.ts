import { describe, expect, it, vi } from 'vitest';
import { ApiError, NetworkError, createApiClient, isRetriable, parseRetryAfter, type RetryNotice } from './api-client';

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

function setup(responses: (Response | Error)[], token: string | null = 'tok') {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    const next = responses.shift();
    if (!next) throw new Error('no more responses');
    if (next instanceof Error) throw next;
    return next;
  });
  const sleeps: number[] = [];
  const client = createApiClient({
    fetch: fetch as unknown as typeof globalThis.fetch,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    getToken: () => token,
  });
  // header names are case-insensitive: the client sends a Headers object
  const header = (i: number, name: string) => new Headers(calls[i].init.headers).get(name) ?? undefined;
  return { client, calls, sleeps, header };
}

const accepted = { booking_id: 'bk_1', status: 'RECEIVED' };

describe('api client', () => {
  it('reads conditionally: the body with its ETag, then 304 as notModified', async () => {
    const booking = { booking_id: 'bk_1', status: 'RECEIVED' };
    const { client, header } = setup([
      jsonResponse(200, booking, { ETag: '"s1"' }),
      new Response(null, { status: 304, headers: { ETag: '"s1"', 'Preference-Applied': 'wait=25' } }),
    ]);
    const path = '/v1/bookings/{booking_id}' as const;
    const first = await client.GET_TAGGED(path, { params: { path: { booking_id: 'bk_1' } } });
    expect(first).toEqual({ notModified: false, data: booking, etag: '"s1"' });
    const second = await client.GET_TAGGED(path, {
      params: { path: { booking_id: 'bk_1' }, header: { 'If-None-Match': '"s1"', Prefer: 'wait=25' } },
    });
    expect(second).toEqual({ notModified: true, etag: '"s1"' });
    expect(header(1, 'If-None-Match')).toBe('"s1"');
    expect(header(1, 'Prefer')).toBe('wait=25');
  });

  it('treats a 304 to a request that named no tag as an error', async () => {
    const { client } = setup([new Response(null, { status: 304 })]);
    await expect(client.GET('/v1/shows/{show_id}', { params: { path: { show_id: 'sh_1' } } })).rejects.toBeInstanceOf(
      ApiError,
    );
  });

  it('sends the bearer token and JSON body', async () => {
    const { client, calls, header } = setup([jsonResponse(202, accepted)]);
    const out = await client.POST('/v1/shows/{show_id}/bookings', {
      params: { path: { show_id: 'sh_1' }, header: { 'Idempotency-Key': 'key-1' } },
      body: { seats: ['A-1-1'] },
    });
    expect(out).toEqual(accepted);
    expect(calls[0].url).toBe('/v1/shows/sh_1/bookings');
    expect(header(0, 'Authorization')).toBe('Bearer tok');
    expect(header(0, 'Content-Type')).toBe('application/json');
    expect(header(0, 'Idempotency-Key')).toBe('key-1');
    expect(calls[0].init.body).toBe('{"seats":["A-1-1"]}');
  });

  it('retries a POST after a network error, a 502 and a 503 with the same Idempotency-Key and body', async () => {
    const { client, calls, sleeps, header } = setup([
      new TypeError('Failed to fetch'),
      jsonResponse(502, { error: { code: 'bad_gateway', message: 'no instance alive' } }),
      jsonResponse(503, { error: { code: 'unavailable', message: 'kafka down' } }, { 'Retry-After': '3' }),
      jsonResponse(200, accepted),
    ]);
    const notices: RetryNotice[] = [];
    const out = await client.POST('/v1/shows/{show_id}/bookings', {
      params: { path: { show_id: 'sh_1' }, header: { 'Idempotency-Key': 'same-key' } },
      body: { quantity: 2 },
      maxAttempts: 5,
      onRetry: (n) => notices.push(n),
    });
    expect(out).toEqual(accepted);
    expect(calls).toHaveLength(4);
    expect(calls.map((_, i) => header(i, 'Idempotency-Key'))).toEqual(['same-key', 'same-key', 'same-key', 'same-key']);
    expect(new Set(calls.map((c) => c.init.body))).toEqual(new Set(['{"quantity":2}']));
    expect(notices.map((n) => n.reason)).toEqual(['network', 'bad_gateway', 'unavailable']);
    // backoff 1 s, 2 s, then the server's Retry-After of 3 s
    expect(sleeps).toEqual([1000, 2000, 3000]);
  });

  it('waits Retry-After on 429 and reports it', async () => {
    const { client, sleeps } = setup([
      jsonResponse(429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'Retry-After': '7' }),
      jsonResponse(200, { ok: true }),
    ]);
    const notices: RetryNotice[] = [];
    await client.POST('/v1/bookings/{booking_id}/cancel', {
      params: { path: { booking_id: 'bk_1' } },
      onRetry: (n) => notices.push(n),
    });
    expect(sleeps).toEqual([7000]);
    expect(notices[0]).toMatchObject({ attempt: 1, reason: 'rate_limited', delayS: 7 });
  });

  it('does not repeat a POST without an Idempotency-Key after an ambiguous network error', async () => {
    const { client, calls } = setup([new TypeError('Failed to fetch'), jsonResponse(202, accepted)]);
    await expect(
      client.POST('/v1/bookings/{booking_id}/confirm', {
        params: { path: { booking_id: 'bk_1' } },
        body: { payment_reference: 'pay-1' },
      }),
    ).rejects.toBeInstanceOf(NetworkError);
    expect(calls).toHaveLength(1);
  });

  it('gives up after maxAttempts and throws the last error with its Retry-After', async () => {
    const busy = () => jsonResponse(503, { error: { code: 'unavailable', message: 'busy' } }, { 'Retry-After': '1' });
    const { client, calls } = setup([busy(), busy(), busy()]);
    const err = await client.GET('/v1/shows', { maxAttempts: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 503, code: 'unavailable', retryAfterS: 1 });
    expect(calls).toHaveLength(3);
    expect(isRetriable(err)).toBe(true);
  });

  it('does not retry a client error and exposes code and details', async () => {
    const { client, calls } = setup([
      jsonResponse(422, { error: { code: 'validation_error', message: '$.seats: bad', details: { path: '$.seats' } } }),
    ]);
    const err = await client
      .POST('/v1/shows/{show_id}/bookings', {
        params: { path: { show_id: 'x' }, header: { 'Idempotency-Key': 'k' } },
        body: { seats: ['A-1-1'] },
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 422, code: 'validation_error', details: { path: '$.seats' } });
    expect(isRetriable(err)).toBe(false);
    expect(calls).toHaveLength(1);
  });

  it('omits the Authorization header when signed out and builds query strings', async () => {
    const { client, calls, header } = setup([jsonResponse(200, { shows: [] })], null);
    await client.GET('/v1/shows', { params: { query: { limit: 20, cursor: undefined } } });
    expect(calls[0].url).toBe('/v1/shows?limit=20');
    expect(header(0, 'Authorization')).toBeUndefined();
  });

  it('fills path parameters (encoded) and resolves to the parsed body of a GET', async () => {
    const show = { show_id: 'sh 1/x', title: 'Hamlet' };
    const { client, calls, header } = setup([jsonResponse(200, show)]);
    const out = await client.GET('/v1/shows/{show_id}', { params: { path: { show_id: 'sh 1/x' } } });
    expect(out).toEqual(show);
    expect(calls[0].url).toBe('/v1/shows/sh%201%2Fx');
    expect(calls[0].init.method).toBe('GET');
    expect(calls[0].init.body).toBeUndefined();
    expect(header(0, 'Accept')).toBe('application/json');
    expect(header(0, 'Content-Type')).toBeUndefined();
  });

  it('sends a POST without a body when the operation takes none, and puts baseUrl before the path', async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const client = createApiClient({
      fetch: (async (url: string, init: RequestInit) => {
        calls.push({ url, init });
        return jsonResponse(202, accepted);
      }) as unknown as typeof fetch,
      sleep: async () => {},
      getToken: () => null,
      baseUrl: 'http://127.0.0.1:8000',
    });
    await client.POST('/v1/bookings/{booking_id}/cancel', { params: { path: { booking_id: 'bk_1' } } });
    expect(calls[0].url).toBe('http://127.0.0.1:8000/v1/bookings/bk_1/cancel');
    expect(calls[0].init).toMatchObject({ method: 'POST', body: undefined });
  });

  it('does not retry a POST without an Idempotency-Key after a 502, and throws on abort without retrying', async () => {
    const { client, calls } = setup([jsonResponse(502, { error: { code: 'bad_gateway', message: 'x' } })]);
    const err = await client
      .POST('/v1/bookings/{booking_id}/cancel', { params: { path: { booking_id: 'bk_1' } } })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502 });
    expect(calls).toHaveLength(1);

    const controller = new AbortController();
    const aborted = new DOMException('aborted', 'AbortError');
    const second = setup([aborted]);
    controller.abort(aborted);
    await expect(second.client.GET('/v1/shows', { signal: controller.signal })).rejects.toBe(aborted);
    expect(second.calls).toHaveLength(1);
  });

  it('maps a non-JSON error page to an ApiError with the status', async () => {
    const { client } = setup([new Response('<html>Bad gateway</html>', { status: 404, statusText: 'Not Found' })]);
    const err = await client.GET('/v1/shows').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 404, code: 'http_404', message: 'Not Found' });
  });

  it('parses Retry-After in seconds and as an HTTP date', () => {
    expect(parseRetryAfter('5')).toBe(5);
    expect(parseRetryAfter(null)).toBeUndefined();
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10);
    expect(parseRetryAfter('9999')).toBe(60);
  });
});
