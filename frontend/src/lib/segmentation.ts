// Queries of a network's segmentation (groups, policies, routes, reachability) and what a change makes stale.
import { useQuery, type QueryClient } from '@tanstack/react-query';
import { keys, segmentation } from './api';

export const useGroups = (networkId: string) =>
  useQuery({ queryKey: keys.groups(networkId), queryFn: () => segmentation.groups(networkId) });
export const usePolicies = (networkId: string) =>
  useQuery({ queryKey: keys.policies(networkId), queryFn: () => segmentation.policies(networkId) });
export const useRoutes = (networkId: string) =>
  useQuery({ queryKey: keys.routes(networkId), queryFn: () => segmentation.routes(networkId) });
/** Who may reach whom, now or at `at` (an event sequence number or an ISO-8601 time). */
export const useReachability = (networkId: string, at?: string, enabled = true) =>
  useQuery({ queryKey: keys.reachability(networkId, at), queryFn: () => segmentation.reachability(networkId, at), enabled });

/**
 * After a segmentation change: groups, policies and routes name each other, peers list their groups, and
 * reachability follows from all of it, so all of them are refetched (the live channel does the same for
 * changes made elsewhere).
 */
export function invalidateSegmentation(client: QueryClient, networkId: string) {
  for (const queryKey of [keys.groups(networkId), keys.policies(networkId), keys.routes(networkId), keys.peers(networkId),
    keys.network(networkId), keys.reachability(networkId), keys.timeline(networkId)])
    void client.invalidateQueries({ queryKey });
}
