/** Where new containers go (pure): spread over hosts with room, within their provisioning limits. */
export interface HostCapacity {
  hostId: string;
  name: string;
  /** Containers on the host that are not destroyed (every pool). */
  live: number;
  /** This pool's containers on the host. */
  poolLive: number;
  provisioning: number;
  maxContainers: number;
  maxConcurrentProvisions: number;
}

/**
 * Each new container goes to the eligible host with the fewest of this pool's containers,
 * then the fewest containers overall, then by name: a lost host costs the pool least.
 */
export function placeContainers(count: number, hosts: readonly HostCapacity[]): string[] {
  const state = hosts.map((h) => ({ ...h }));
  const placed: string[] = [];
  for (let i = 0; i < count; i++) {
    const candidates = state.filter(
      (h) => h.live < h.maxContainers && h.provisioning < h.maxConcurrentProvisions,
    );
    if (candidates.length === 0) break;
    candidates.sort(
      (a, b) => a.poolLive - b.poolLive || a.live - b.live || a.name.localeCompare(b.name),
    );
    const chosen = candidates[0];
    chosen.live++;
    chosen.poolLive++;
    chosen.provisioning++;
    placed.push(chosen.hostId);
  }
  return placed;
}
