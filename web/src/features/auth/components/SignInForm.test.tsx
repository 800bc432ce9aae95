// @vitest-environment jsdom
import { QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getSession, setSession } from '../../../lib/auth-token';
import { createQueryClient } from '../../../lib/query-client';
import { SignInForm } from './SignInForm';

function renderForm() {
  return render(
    <QueryClientProvider client={createQueryClient()}>
      <SignInForm />
    </QueryClientProvider>,
  );
}

function respond(status: number, body: unknown) {
  return vi.spyOn(globalThis, 'fetch').mockResolvedValue(
    new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } }),
  );
}

describe('SignInForm', () => {
  afterEach(() => {
    cleanup();
    vi.restoreAllMocks();
    setSession(null);
  });

  it('signs in a customer through POST /v1/dev/token and keeps the token', async () => {
    const fetch = respond(200, { token: 'tok', sub: 'alice', role: 'customer', expires_at: '2030-01-01T00:00:00Z' });
    renderForm();
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'alice' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(getSession()?.token).toBe('tok'));
    expect(getSession()).toMatchObject({ sub: 'alice', role: 'customer' });
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe('/v1/dev/token');
    expect(JSON.parse(String(init?.body))).toEqual({ sub: 'alice' });
    expect(localStorage.getItem('boxoffice.session')).toContain('"tok"');
  });

  it('offers no admin role: an admin pastes a token from boxoffice token', async () => {
    renderForm();
    expect(screen.queryByLabelText('Role')).toBeNull();
    expect(screen.getByTestId('admin-hint').textContent).toContain('--role admin');
    fireEvent.click(screen.getByRole('button', { name: 'Paste a token instead' }));
    const payload = btoa(JSON.stringify({ sub: 'ops', role: 'admin', exp: 1900000000 }));
    fireEvent.change(screen.getByLabelText('Token'), { target: { value: `e30.${payload}.sig` } });
    fireEvent.click(screen.getByRole('button', { name: 'Use this token' }));
    expect(getSession()).toMatchObject({ sub: 'ops', role: 'admin' });
  });

  it('offers to paste a token when development sign-in is off (404)', async () => {
    respond(404, { error: { code: 'not_found', message: 'not found' } });
    renderForm();
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'bob' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByTestId('dev-signin-off')).textContent).toContain('identity provider');
    // header.payload.signature with payload {"sub":"bob","role":"customer","exp":1900000000}
    const payload = btoa(JSON.stringify({ sub: 'bob', role: 'customer', exp: 1900000000 }));
    fireEvent.change(screen.getByLabelText('Token'), { target: { value: `e30.${payload}.sig` } });
    fireEvent.click(screen.getByRole('button', { name: 'Use this token' }));
    expect(getSession()).toMatchObject({ sub: 'bob', role: 'customer', token: `e30.${payload}.sig` });
  });
});
