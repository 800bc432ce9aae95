import { useState } from 'react';
import { Link } from 'react-router';
import { usePageTitle } from '../../components/PageTitle';
import { ApiError } from '../../lib/api-client';
import { CreateShowForm } from '../../features/admin';
import { SignInForm, useSession } from '../../features/auth';
import { useShow } from '../../features/shows';

export function AdminPage() {
  usePageTitle('Create a show');
  const session = useSession();
  const [created, setCreated] = useState<string[]>([]);
  return (
    <>
      <h1>Create a show</h1>
      {!session && (
        <>
          <p>Sign in as an administrator to create shows.</p>
          <SignInForm />
        </>
      )}
      {session && session.role !== 'admin' && (
        <p className="error" role="alert" data-testid="admin-forbidden">
          You are signed in as {session.sub} ({session.role}): creating shows needs an administrator account.
        </p>
      )}
      {session?.role === 'admin' && (
        <>
          {created.map((id) => (
            <CreatedShow key={id} showId={id} />
          ))}
          <CreateShowForm onCreated={(id) => setCreated((list) => [id, ...list])} />
        </>
      )}
    </>
  );
}

/** A show just accepted (202): it exists once the processor has created it, so poll until it answers. */
function CreatedShow({ showId }: { showId: string }) {
  const show = useShow(showId, { waitForIt: true });
  const waiting = show.isPending || (show.error instanceof ApiError && show.error.status === 404);
  return (
    <p className="notice" role="status" data-testid="created-show" data-show-id={showId} data-ready={Boolean(show.data)}>
      Show <code data-testid="created-show-id">{showId}</code> accepted.{' '}
      {show.data ? (
        <Link to={`/shows/${encodeURIComponent(showId)}`}>Open “{show.data.title}”</Link>
      ) : waiting ? (
        'Waiting for it to be created…'
      ) : (
        'It has not appeared yet; check the listing later.'
      )}
    </p>
  );
}
