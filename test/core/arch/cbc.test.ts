import { describe, expect, it } from 'vitest';
import { cbcBypassedChannels, cbcOutputChannels, kernelChoices, levelOfWidth, widthAtLevel } from '../../../core/arch/cbc.ts';

/** Builds the channel list of Fig. 3 explicitly: filter outputs first, then bypassed input channels. */
function channelSources(c: number, t: number, m: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < m; i++) out.push(`filter${i}`);
  for (let i = m; i < Math.min(c, t); i++) out.push(`input${i}`);
  return out;
}

describe('channel-level bypass (paper Fig. 3)', () => {
  const cases = [
    { name: 'case 1: C = T', c: 4, t: 4 },
    { name: 'case 2: C < T', c: 4, t: 6 },
    { name: 'case 3: C > T', c: 4, t: 2 },
    { name: 'case 4: C = 4 with a given T = 2', c: 4, t: 2, m0: 4 },
  ];
  for (const { name, c, t } of cases) {
    it(`${name}: Z = max(min(C,T),M) and channel i<M is filter i, M<=i<min(C,T) is input i, for every M`, () => {
      const maxM = Math.max(t, 4);
      for (let m = maxM; m >= 0; m--) {
        const z = cbcOutputChannels(c, t, m);
        const sources = channelSources(c, t, m);
        expect(z).toBe(sources.length);
        expect(z).toBeGreaterThan(0);
        expect(cbcBypassedChannels(c, t, m)).toBe(sources.filter((s) => s.startsWith('input')).length);
        sources.forEach((s, i) => expect(s).toBe(i < m ? `filter${i}` : `input${i}`));
      }
    });
  }

  it('case 1 keeps Z = C for every M; M = 0 is the identity (all inputs bypassed)', () => {
    for (let m = 0; m <= 4; m++) expect(cbcOutputChannels(4, 4, m)).toBe(4);
    expect(channelSources(4, 4, 0)).toEqual(['input0', 'input1', 'input2', 'input3']);
  });

  it('case 2 bypasses nothing until M < C', () => {
    expect(cbcBypassedChannels(4, 6, 6)).toBe(0);
    expect(cbcBypassedChannels(4, 6, 5)).toBe(0);
    expect(cbcBypassedChannels(4, 6, 4)).toBe(0);
    expect(cbcBypassedChannels(4, 6, 3)).toBe(1);
    expect(cbcOutputChannels(4, 6, 6)).toBe(6);
    expect(cbcOutputChannels(4, 6, 2)).toBe(4);
  });

  it('case 3 / case 4 form a bottleneck: Z < C once M < T', () => {
    expect(cbcOutputChannels(4, 2, 4)).toBe(4);
    expect(cbcOutputChannels(4, 2, 2)).toBe(2);
    expect(cbcOutputChannels(4, 2, 1)).toBe(2);
    expect(cbcOutputChannels(4, 2, 0)).toBe(2);
    expect(channelSources(4, 2, 1)).toEqual(['filter0', 'input1']);
  });

  it('T = infinity bypasses every input channel', () => {
    expect(cbcOutputChannels(8, Number.POSITIVE_INFINITY, 3)).toBe(8);
  });
});

describe('width levels and kernels', () => {
  it('9 uniformly spaced levels from 0 to the full width', () => {
    expect([...Array(9).keys()].map((l) => widthAtLevel(16, 9, l))).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16]);
    expect([...Array(11).keys()].map((l) => widthAtLevel(160, 11, l))).toEqual([0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160]);
  });
  it('non-zero levels keep at least one filter; levelOfWidth inverts', () => {
    expect(widthAtLevel(3, 9, 1)).toBe(1);
    expect(levelOfWidth(16, 9, 10)).toBe(5);
    expect(levelOfWidth(16, 9, 11)).toBe(-1);
  });
  it('kernel choices are odd sizes from 3 to the full size', () => {
    expect(kernelChoices(7)).toEqual([3, 5, 7]);
    expect(kernelChoices(1)).toEqual([1]);
    expect(kernelChoices(3)).toEqual([3]);
  });
});
