import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useSyncExternalStore } from 'react';
import { getSession, setSession, subscribeSession, type Session } from '../../../lib/auth-token';

export function useSession(): Session | null {
  return useSyncExternalStore(subscribeSession, getSession, () => null);
}

/** Signs in or out; cached server state belongs to the previous user, so it is dropped. */
export function useSetSession(): (session: Session | null) => void {
  const queryClient = useQueryClient();
  return useCallback(
    (session: Session | null) => {
      setSession(session);
      queryClient.removeQueries({ queryKey: ['me'] });
      queryClient.removeQueries({ queryKey: ['bookings'] });
    },
    [queryClient],
  );
}
