import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { WaitlistPlace, WaitlistRequest } from '../../../lib/types';
import { getMyPlace, joinWaitlist, leaveWaitlist, waitlistKey } from '../api/waitlist';
import { isActive } from '../model/place';

const ACTIVE_POLL_MS = 2_000;

/** My place on the show's waiting list: read every 2 s while it waits (its position moves, an offer comes). */
export function useMyPlace(showId: string, enabled: boolean) {
  return useQuery<WaitlistPlace | null, Error>({
    queryKey: waitlistKey(showId),
    queryFn: ({ signal }) => getMyPlace(showId, signal),
    enabled,
    refetchInterval: (query) => (isActive(query.state.data) ? ACTIVE_POLL_MS : false),
  });
}

export function useWaitlistActions(showId: string) {
  const queryClient = useQueryClient();
  const refresh = () => void queryClient.invalidateQueries({ queryKey: waitlistKey(showId) });
  const join = useMutation({ mutationFn: (body: WaitlistRequest) => joinWaitlist(showId, body), onSuccess: refresh });
  const leave = useMutation({ mutationFn: () => leaveWaitlist(showId), onSuccess: refresh });
  return { join, leave };
}
