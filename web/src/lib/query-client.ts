import { QueryClient } from '@tanstack/react-query';

/**
 * One QueryClient for the app. The API client already retries what is worth retrying (429/503 after
 * Retry-After, network errors on GETs), so TanStack Query does not retry on top of it.
 */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: false, refetchOnWindowFocus: false, staleTime: 5_000 },
      mutations: { retry: false },
    },
  });
}
