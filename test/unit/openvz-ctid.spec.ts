import {
  decodeGoldenRef,
  encodeGoldenRef,
  goldenCtid,
  goldenName,
  LEGACY_CTID_MAX,
  LEGACY_CTID_MIN,
  legacyCtid,
  pristineSnapshotId,
  uuidV5,
} from '../../src/drivers/openvz/ctid';
import { CONTAINER_PREFIX } from '../../src/drivers/container-driver';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidV5', () => {
  it('matches the RFC 4122 reference (Python uuid5(NAMESPACE_DNS, "python.org"))', () => {
    expect(uuidV5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '886313e1-3b8a-5372-9b90-0c9aee199e5d',
    );
  });
});

describe('pristineSnapshotId', () => {
  it('is a version 5 UUID derived from the name alone', () => {
    const id = pristineSnapshotId('wp-3f9c2a1b');
    expect(id).toMatch(UUID);
    expect(pristineSnapshotId('wp-3f9c2a1b')).toBe(id);
  });

  it('differs between containers and from the golden ids', () => {
    expect(pristineSnapshotId('wp-a')).not.toBe(pristineSnapshotId('wp-b'));
    expect(pristineSnapshotId('wp-a')).not.toBe(goldenCtid('wp-a'));
  });
});

describe('legacyCtid', () => {
  it('is deterministic, numeric and within vzctl 4.x range', () => {
    for (const name of ['wp-a', 'wp-b', 'wpgolden-busybox-v1', 'wp-ünïcode']) {
      const id = legacyCtid(name);
      expect(legacyCtid(name)).toBe(id);
      expect(Number.isInteger(id)).toBe(true);
      expect(id).toBeGreaterThanOrEqual(LEGACY_CTID_MIN);
      expect(id).toBeLessThan(LEGACY_CTID_MAX);
    }
  });

  it('probes linearly on later attempts', () => {
    expect(legacyCtid('wp-a', 1)).toBe(legacyCtid('wp-a') + 1);
  });

  it('spreads names apart', () => {
    const ids = new Set(Array.from({ length: 500 }, (_, i) => legacyCtid(`wp-${i}`)));
    expect(ids.size).toBe(500);
  });
});

describe('goldenName', () => {
  it('never looks like a pool container, so the orphan sweep leaves it alone', () => {
    expect(goldenName('busybox', 3)).toBe('wpgolden-busybox-v3');
    expect(goldenName('busybox', 3).startsWith(CONTAINER_PREFIX)).toBe(false);
  });

  it('keeps only characters vzctl accepts in names', () => {
    expect(goldenName('a b/c', 1)).toBe('wpgolden-a-b-c-v1');
  });
});

describe('golden refs', () => {
  it('is the bare name on OpenVZ 7', () => {
    expect(encodeGoldenRef('wpgolden-x-v1')).toBe('wpgolden-x-v1');
    expect(decodeGoldenRef('wpgolden-x-v1')).toEqual({ name: 'wpgolden-x-v1', recipe: null });
  });

  it('carries the recipe for vzctl 4.x through a round trip', () => {
    const recipe = { ostemplate: 'centos-6-x86_64', setup: [['sh', '-c', "echo 'x' # y"]] };
    const ref = encodeGoldenRef('wpgolden-x-v2', recipe);
    expect(ref.startsWith('wpgolden-x-v2#')).toBe(true);
    expect(decodeGoldenRef(ref)).toEqual({ name: 'wpgolden-x-v2', recipe });
  });

  it('rejects a mangled recipe', () => {
    const bad = `n#${Buffer.from('{"ostemplate":1}').toString('base64url')}`;
    expect(() => decodeGoldenRef(bad)).toThrow(/malformed/);
  });
});
