import { createHash } from 'node:crypto';
import {
  matchesAnyAdminToken,
  newAdminToken,
  newTenantToken,
  secretsEqual,
  sha256Hex,
} from '../../src/common/auth/tokens';

describe('sha256Hex', () => {
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ])('matches the FIPS 180-2 vector for %j', (input, hex) => {
    expect(sha256Hex(input)).toBe(hex);
  });

  it('hashes UTF-8 bytes', () => {
    expect(sha256Hex('ünïcødé')).toBe(
      createHash('sha256').update(Buffer.from('ünïcødé', 'utf8')).digest('hex'),
    );
    expect(sha256Hex('ünïcødé')).not.toBe(
      createHash('sha256').update(Buffer.from('ünïcødé', 'latin1')).digest('hex'),
    );
  });

  it('is 64 lower-case hex characters', () => {
    expect(sha256Hex('wpt_anything')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('secretsEqual', () => {
  it.each<[string, string, boolean]>([
    ['same-secret-value', 'same-secret-value', true],
    ['', '', true],
    ['wpa_abc', 'wpa_abd', false],
    ['wpa_abc', 'WPA_ABC', false],
    ['short', 'a-much-longer-secret-value', false],
    ['', 'x', false],
    ['prefix', 'prefix-and-more', false],
    ['trailing ', 'trailing', false],
  ])('%j vs %j → %s', (a, b, expected) => {
    expect(secretsEqual(a, b)).toBe(expected);
    expect(secretsEqual(b, a)).toBe(expected);
  });

  it('does not throw on different lengths (timingSafeEqual would)', () => {
    expect(() => secretsEqual('a', 'bb')).not.toThrow();
  });
});

describe('matchesAnyAdminToken', () => {
  const tokens = ['first-admin-token-000', 'second-admin-token-11', 'third-admin-token-222'];

  it.each(tokens)('matches %s', (token) => {
    expect(matchesAnyAdminToken(token, tokens)).toBe(true);
  });

  it.each(['', 'first-admin-token-00', 'first-admin-token-0000', 'FIRST-ADMIN-TOKEN-000'])(
    'does not match %j',
    (candidate) => {
      expect(matchesAnyAdminToken(candidate, tokens)).toBe(false);
    },
  );

  it('matches nothing against no tokens, not even the empty string', () => {
    expect(matchesAnyAdminToken('', [])).toBe(false);
    expect(matchesAnyAdminToken('anything', [])).toBe(false);
  });

  it('compares with every token, without stopping at the first match', () => {
    const seen: string[] = [];
    const spying = new Proxy(tokens, {
      get(target, prop, receiver) {
        if (typeof prop === 'string' && /^\d+$/.test(prop)) seen.push(prop);
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    expect(matchesAnyAdminToken(tokens[0], spying)).toBe(true);
    expect(seen).toEqual(['0', '1', '2']);
  });
});

describe('new tokens', () => {
  it.each([
    ['newTenantToken', newTenantToken, /^wpt_[A-Za-z0-9_-]{32}$/],
    ['newAdminToken', newAdminToken, /^wpa_[A-Za-z0-9_-]{32}$/],
  ] as [string, () => string, RegExp][])(
    '%s has its prefix and 192 random bits',
    (_n, make, re) => {
      expect(make()).toMatch(re);
    },
  );

  it('never repeats', () => {
    const all = new Set<string>();
    for (let i = 0; i < 500; i++) {
      all.add(newTenantToken());
      all.add(newAdminToken());
    }
    expect(all.size).toBe(1000);
  });

  it('tells tenant and admin tokens apart by prefix', () => {
    expect(newTenantToken().slice(0, 4)).not.toBe(newAdminToken().slice(0, 4));
  });

  it('uses the whole base64url alphabet (not hex)', () => {
    const chars = new Set(
      Array.from({ length: 50 }, () => newTenantToken().slice(4))
        .join('')
        .split(''),
    );
    expect(chars.size).toBeGreaterThan(40);
  });
});
