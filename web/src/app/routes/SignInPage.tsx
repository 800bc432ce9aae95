import { useNavigate, useSearchParams } from 'react-router';
import { usePageTitle } from '../../components/PageTitle';
import { SignInForm, useSession } from '../../features/auth';

export function SignInPage() {
  usePageTitle('Sign in');
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = params.get('next');
  const target = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
  return (
    <>
      <h1>Sign in</h1>
      {session && (
        <p data-testid="already-signed-in">
          You are signed in as {session.sub} ({session.role}). Signing in again replaces this.
        </p>
      )}
      <SignInForm onSignedIn={() => navigate(target)} />
    </>
  );
}
