import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../../../app/api/csp.ts';
import { isAllowedHost, isAllowedOrigin, isLoopbackAddress, resolveStaticPath, tokensEqual } from '../../../app/api/http-security.ts';

describe('resolveStaticPath', () => {
  it.each([
    ['/', '/srv/app/index.html'],
    ['/index.html', '/srv/app/index.html'],
    ['/assets/index-1.js', '/srv/app/assets/index-1.js'],
  ])('%s -> %s', (url, expected) => {
    expect(resolveStaticPath('/srv/app', url)).toBe(expected);
  });

  it.each(['/../secret', '/assets/../../secret', '/%2e%2e/secret', '/..%2fsecret', '/..%5csecret', '/a\\..\\..\\b', '/x%00.js', '/.env', '/%E0%A4%A', '/assets/.hidden'])(
    'refuses %s',
    (url) => {
      expect(resolveStaticPath('/srv/app', url)).toBeNull();
    },
  );
});

describe('connection checks', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.3.4.5', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['192.168.1.10', false],
    ['::ffff:10.0.0.1', false],
    ['1270.0.0.1', false],
    [undefined, false],
  ])('isLoopbackAddress(%j) = %s', (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected);
  });

  it('accepts only this server as Host and Origin', () => {
    expect(isAllowedHost('127.0.0.1:4000', 4000)).toBe(true);
    expect(isAllowedHost('localhost:4000', 4000)).toBe(true);
    expect(isAllowedHost('evil.example:4000', 4000)).toBe(false);
    expect(isAllowedHost('127.0.0.1:4001', 4000)).toBe(false);
    expect(isAllowedHost(undefined, 4000)).toBe(false);
    expect(isAllowedOrigin(undefined, 4000)).toBe(true);
    expect(isAllowedOrigin('http://127.0.0.1:4000', 4000)).toBe(true);
    expect(isAllowedOrigin('http://evil.example', 4000)).toBe(false);
    expect(isAllowedOrigin('null', 4000)).toBe(false);
  });

  it('compares tokens exactly', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abd', 'abc')).toBe(false);
    expect(tokensEqual('ab', 'abc')).toBe(false);
    expect(tokensEqual(null, 'abc')).toBe(false);
    expect(tokensEqual('', 'abc')).toBe(false);
  });
});

describe('contentSecurityPolicy', () => {
  it('lists the API socket in connect-src and forbids inline code', () => {
    const csp = contentSecurityPolicy({ connect: ['ws://127.0.0.1:4000'] });
    expect(csp).toContain('connect-src ws://127.0.0.1:4000');
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe');
  });
});
