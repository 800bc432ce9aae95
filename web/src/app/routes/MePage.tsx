import { usePageTitle } from '../../components/PageTitle';
import { SignInForm, useSession } from '../../features/auth';
import { MyBookings } from '../../features/bookings';

export function MePage() {
  usePageTitle('My bookings');
  const session = useSession();
  return (
    <>
      <h1>My bookings</h1>
      {session ? (
        <MyBookings key={session.sub} />
      ) : (
        <>
          <p>Sign in to see your bookings.</p>
          <SignInForm />
        </>
      )}
    </>
  );
}
