import { Link } from 'react-router';
import { useSession, useSetSession } from '../hooks/useSession';

/** Who is signed in, and a sign-out; or a link to sign in. */
export function UserBadge() {
  const session = useSession();
  const setSession = useSetSession();
  if (!session) {
    return (
      <Link to="/signin" data-testid="signin-link">
        Sign in
      </Link>
    );
  }
  return (
    <span className="user-badge">
      Signed in as{' '}
      <strong data-testid="signed-in-as" data-sub={session.sub} data-role={session.role}>
        {session.sub}
      </strong>{' '}
      ({session.role}){' '}
      <button type="button" className="link" data-testid="signout" onClick={() => setSession(null)}>
        Sign out
      </button>
    </span>
  );
}
