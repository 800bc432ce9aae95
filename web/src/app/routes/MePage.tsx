import { usePageTitle } from '../../components/PageTitle';
import { SignInForm, useSession } from '../../features/auth';
import { MyBookings } from '../../features/bookings';
import { ShowSummary } from '../../features/shows';

const showLabel = (showId: string) => <ShowSummary showId={showId} />;

export function MePage() {
  usePageTitle('My bookings');
  const session = useSession();
  return (
    <>
      <h1>My bookings</h1>
      {session ? (
        <MyBookings key={session.sub} showLabel={showLabel} />
      ) : (
        <>
          <p>Sign in to see your bookings.</p>
          <SignInForm />
        </>
      )}
    </>
  );
}
