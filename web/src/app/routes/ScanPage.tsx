import { usePageTitle } from '../../components/PageTitle';
import { SignInForm, useSession } from '../../features/auth';
import { Scanner } from '../../features/checkin';

/** The door: for a scanner (or an admin), whose token comes from `boxoffice token --role scanner`. */
export function ScanPage() {
  usePageTitle('Check-in');
  const session = useSession();
  const allowed = session?.role === 'scanner' || session?.role === 'admin';
  return (
    <>
      <h1>Check-in</h1>
      {!session && (
        <>
          <p>Sign in with a scanner token (`boxoffice token --sub gate-1 --role scanner`).</p>
          <SignInForm />
        </>
      )}
      {session && !allowed && (
        <p className="error" role="alert" data-testid="scan-forbidden">
          You are signed in as {session.sub} ({session.role}): checking tickets in needs a scanner account.
        </p>
      )}
      {allowed && <Scanner />}
    </>
  );
}
