import { useMutation } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { ApiError } from '../../../lib/api-client';
import { sessionFromToken } from '../../../lib/auth-token';
import { describeError } from '../../../lib/errors';
import { devTokenLimits, textProblem } from '../../../lib/limits';
import { requestDevToken } from '../api/dev-token';
import { useSetSession } from '../hooks/useSession';

/**
 * Development sign-in: a name, exchanged for a customer token by POST /v1/dev/token (it never grants
 * admin: administrators paste a token from `boxoffice token --role admin`). When the server has it off
 * (404), tokens come from the identity provider: the form then takes a pasted token.
 */
export function SignInForm({ onSignedIn }: { onSignedIn?: () => void }) {
  const setSession = useSetSession();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const [pasting, setPasting] = useState(false);
  const ids = { name: useId(), email: useId() };
  const mutation = useMutation({ mutationFn: requestDevToken });
  const devOff = mutation.error instanceof ApiError && mutation.error.status === 404;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (textProblem(name, devTokenLimits.sub) !== null) {
      const { minLength, maxLength } = devTokenLimits.sub;
      setInvalid(`Names are ${minLength} to ${maxLength} letters, digits, dots, dashes or underscores.`);
      return;
    }
    setInvalid(null);
    mutation.mutate(
      { sub: name, ...(email.trim() ? { email: email.trim() } : {}) },
      {
        onSuccess: (out) => {
          setSession({ token: out.token, sub: out.sub, role: out.role, expiresAt: out.expires_at });
          onSignedIn?.();
        },
      },
    );
  };

  return (
    <div className="panel sign-in" data-testid="signin">
      {!devOff && !pasting && (
        <form onSubmit={onSubmit} noValidate data-testid="signin-form" aria-labelledby={`${ids.name}-h`}>
          <h2 id={`${ids.name}-h`}>Sign in (development)</h2>
          <div className="field">
            <label htmlFor={ids.name}>Name</label>
            <input
              id={ids.name}
              name="sub"
              autoComplete="username"
              value={name}
              onChange={(e) => setName(e.target.value)}
              aria-invalid={invalid ? true : undefined}
            />
          </div>
          <div className="field">
            <label htmlFor={ids.email}>Email (optional)</label>
            <input id={ids.email} type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
          </div>
          <button type="submit" data-testid="signin-submit" disabled={mutation.isPending}>
            Sign in
          </button>{' '}
          <button type="button" className="link" onClick={() => setPasting(true)}>
            Paste a token instead
          </button>
          <p className="muted" data-testid="admin-hint">
            Development sign-in is for customers. To create shows, paste an admin token (
            <code>.venv/bin/boxoffice token --sub you --role admin</code>).
          </p>
          {invalid && (
            <p className="error" role="alert">
              {invalid}
            </p>
          )}
          {mutation.isError && !devOff && (
            <p className="error" role="alert">
              {describeError(mutation.error)}
            </p>
          )}
        </form>
      )}
      {(devOff || pasting) && (
        <PasteToken
          explain={
            devOff
              ? 'Development sign-in is turned off on this server: tokens come from the identity provider. Paste your token here.'
              : 'Paste a token (for example from `boxoffice token --sub alice`, or `--role admin` for show creation).'
          }
          onBack={devOff ? undefined : () => setPasting(false)}
          onSignedIn={onSignedIn}
        />
      )}
    </div>
  );
}

function PasteToken({ explain, onBack, onSignedIn }: { explain: string; onBack?: () => void; onSignedIn?: () => void }) {
  const setSession = useSetSession();
  const [token, setToken] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const id = useId();
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const session = sessionFromToken(token);
    if (!session) {
      setInvalid('That does not look like a token (a JWT with a subject).');
      return;
    }
    setSession(session);
    onSignedIn?.();
  };
  return (
    <form onSubmit={onSubmit} noValidate data-testid="token-form">
      <h2>Sign in with a token</h2>
      <p data-testid="dev-signin-off">{explain}</p>
      <div className="field">
        <label htmlFor={id}>Token</label>
        <textarea id={id} rows={3} value={token} onChange={(e) => setToken(e.target.value)} spellCheck={false} />
      </div>
      <button type="submit" data-testid="token-submit">
        Use this token
      </button>{' '}
      {onBack && (
        <button type="button" className="link" onClick={onBack}>
          Back to development sign-in
        </button>
      )}
      {invalid && (
        <p className="error" role="alert">
          {invalid}
        </p>
      )}
    </form>
  );
}
