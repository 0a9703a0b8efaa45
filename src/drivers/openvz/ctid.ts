import { createHash } from 'node:crypto';

/** Namespace of warmpool's name-based UUIDs (RFC 4122 v5); fixed forever, like the names. */
const WARMPOOL_NAMESPACE = '3c1e6a52-5b0f-4d7e-9a43-7f0c2b8e91d4';

/** RFC 4122 version 5 UUID of `name` within `namespace`. */
export function uuidV5(name: string, namespace = WARMPOOL_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The id of a container's pristine snapshot, derived from its name so that reset finds it
 * after a restart of warmpool without any bookkeeping (one pristine snapshot per container;
 * snapshots die with their container, so a later container of the same name reuses it safely).
 */
export function pristineSnapshotId(containerName: string): string {
  return uuidV5(`pristine-snapshot:${containerName}`);
}

/** The CT id of a golden container on OpenVZ 7 (it accepts UUIDs as CT ids). */
export function goldenCtid(goldenName: string): string {
  return uuidV5(`golden:${goldenName}`);
}

/**
 * vzctl 4.x wants numeric CT ids. Candidate `attempt` for a name: FNV-1a of the name mapped
 * into [LEGACY_CTID_MIN, LEGACY_CTID_MAX), then linear probing. The id only matters at
 * create time: every later command addresses the container by its name.
 */
export const LEGACY_CTID_MIN = 100_000;
export const LEGACY_CTID_MAX = 2_000_000_000;

export function legacyCtid(name: string, attempt = 0): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(name, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  const span = LEGACY_CTID_MAX - LEGACY_CTID_MIN;
  return LEGACY_CTID_MIN + ((hash + attempt) % span);
}

/**
 * The golden container's name for a template version. It must not start with `wp-`: the
 * reconciler destroys `wp-` containers the database does not know.
 */
export function goldenName(template: string, version: number): string {
  const safe = template.replace(/[^0-9A-Za-z_.-]/g, '-');
  return `wpgolden-${safe}-v${version}`;
}

/** How a legacy slot is made again from scratch (vzctl 4.x has no clone). */
export interface GoldenRecipe {
  ostemplate: string;
  setup: string[][];
}

const RECIPE_SEPARATOR = '#';

/**
 * The template ref returned by buildTemplate: the golden's name, plus on vzctl 4.x the
 * recipe (ostemplate and setup, base64url JSON) that clone replays, since there is no
 * prlctl to copy the golden.
 */
export function encodeGoldenRef(name: string, recipe?: GoldenRecipe): string {
  if (!recipe) return name;
  const json = JSON.stringify({ ostemplate: recipe.ostemplate, setup: recipe.setup });
  return `${name}${RECIPE_SEPARATOR}${Buffer.from(json, 'utf8').toString('base64url')}`;
}

export function decodeGoldenRef(ref: string): { name: string; recipe: GoldenRecipe | null } {
  const at = ref.indexOf(RECIPE_SEPARATOR);
  if (at === -1) return { name: ref, recipe: null };
  const name = ref.slice(0, at);
  const parsed: unknown = JSON.parse(Buffer.from(ref.slice(at + 1), 'base64url').toString('utf8'));
  if (!isRecipe(parsed)) throw new Error(`malformed golden ref ${JSON.stringify(ref)}`);
  return { name, recipe: parsed };
}

function isRecipe(value: unknown): value is GoldenRecipe {
  if (typeof value !== 'object' || value === null) return false;
  const { ostemplate, setup } = value as Record<string, unknown>;
  return (
    typeof ostemplate === 'string' &&
    Array.isArray(setup) &&
    setup.every((cmd) => Array.isArray(cmd) && cmd.every((w) => typeof w === 'string'))
  );
}
