import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { usePageTitle } from '../../components/PageTitle';
import { describeError } from '../../lib/errors';
import { AdminShowList, CreateShowForm } from '../../features/admin';
import { SignInForm, useSession } from '../../features/auth';
import { showsKey, useShowCreation } from '../../features/shows';

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
          <AdminShowList />
        </>
      )}
    </>
  );
}

/**
 * A show just accepted (202). It reads at once (seat map version 0, "being created"); the processor then
 * creates it (version 1: ready, and in the listing) or refuses it (404 with the reason).
 */
function CreatedShow({ showId }: { showId: string }) {
  const creation = useShowCreation(showId);
  const queryClient = useQueryClient();
  const created = creation.state === 'created';
  useEffect(() => {
    if (created) void queryClient.invalidateQueries({ queryKey: [...showsKey, 'list'] });
  }, [created, queryClient]);
  const link = <Link to={`/shows/${encodeURIComponent(showId)}`}>Open the show</Link>;
  return (
    <p
      className={creation.state === 'refused' || creation.state === 'error' ? 'error' : 'notice'}
      role="status"
      data-testid="created-show"
      data-show-id={showId}
      data-state={creation.state}
      data-ready={created}
    >
      Show <code data-testid="created-show-id">{showId}</code> accepted.{' '}
      {creation.state === 'created' && <>It is created and on sale. {link}</>}
      {creation.state === 'pending' && <>Being created… {link}</>}
      {creation.state === 'refused' && <>Its creation was refused ({creation.reason}).</>}
      {creation.state === 'missing' && <>It has not appeared; check the listing later.</>}
      {creation.state === 'error' && <>Could not check on it: {describeError(creation.error)}</>}
    </p>
  );
}
