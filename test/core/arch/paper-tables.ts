/**
 * Tables 8 and 9 of the NetAdaptV2 paper (App. B), transcribed row by row: the networks NetAdaptV2 discovered on
 * ImageNet (51 ms latency-guided; 314M MACs). core/arch/zoo/paper/table8.json and table9.json express them as
 * sub-networks of netadaptv2-latency and netadaptv2-macs; the tests check that nothing of a row is lost on the way.
 * '-' is written as null; BN ✓ as true.
 */
export interface PaperRow {
  index: number;
  type: 'conv' | 'mnv3 block' | 'global avg pool' | 'fc';
  T: number | null;
  kernel: number | null;
  stride: number | null;
  bn: boolean;
  act: 'HS' | 'RE' | null;
  exp: number | null;
  dw: number | null;
  pw: number | null;
  se: number | null;
}

type N = number | null;
type Cells = [PaperRow['type'], N, N, N, boolean, PaperRow['act'], N, N, N, N];

function rows(cells: Cells[]): PaperRow[] {
  return cells.map(([type, T, kernel, stride, bn, act, exp, dw, pw, se], i) => ({ index: i + 1, type, T, kernel, stride, bn, act, exp, dw, pw, se }));
}

const Y = true;
const HS = 'HS' as const;
const RE = 'RE' as const;

const B = 'mnv3 block' as const;

/** Table 8: the discovered 51 ms network (latency-guided). */
export const TABLE_8: PaperRow[] = rows([
  ['conv', 8, 3, 2, Y, HS, 16, null, null, null],
  [B, 8, 3, 1, Y, RE, 8, 8, 16, null],
  [B, 16, 5, 2, Y, RE, 48, 48, 20, 16],
  [B, 16, 3, 1, Y, RE, 48, 48, 32, null],
  [B, 32, 7, 2, Y, RE, 80, 80, 32, 32],
  [B, 32, 3, 1, Y, RE, 112, 80, 40, 32],
  [B, 32, 3, 1, Y, RE, 64, 32, 16, 32],
  [B, 32, 3, 1, Y, RE, 96, 96, 8, 32],
  [B, 64, 5, 2, Y, HS, 192, 192, 128, 64],
  [B, 64, 5, 1, Y, HS, 224, 192, 128, null],
  [B, 64, 3, 1, Y, HS, 128, 32, 48, 64],
  [B, 64, 0, 1, Y, HS, 0, 0, 0, 0],
  [B, 64, 3, 1, Y, HS, 512, 256, 80, 256],
  [B, 64, 3, 1, Y, HS, 256, 256, 112, 256],
  [B, 64, 5, 1, Y, HS, 512, 512, 64, 256],
  [B, 128, 7, 2, Y, HS, 640, 640, 224, 256],
  [B, 128, 7, 1, Y, HS, 640, 384, 224, 256],
  [B, 128, 5, 1, Y, HS, 896, 512, 224, 256],
  ['conv', 128, 1, 1, Y, HS, 1024, null, null, null],
  ['global avg pool', null, null, null, false, null, null, null, null, null],
  ['conv', 1024, 1, 1, false, HS, 1792, null, null, null],
  ['fc', null, 1, 1, false, null, 1000, null, null, null],
]);

/** Table 9: the discovered 314M-MAC network (MAC-guided). */
export const TABLE_9: PaperRow[] = rows([
  ['conv', 8, 3, 2, Y, HS, 24, null, null, null],
  [B, 8, 3, 1, Y, RE, null, 24, 24, null],
  [B, 16, 5, 2, Y, RE, 64, 48, 32, 24],
  [B, 16, 3, 1, Y, RE, 128, 64, 32, null],
  [B, 32, 5, 2, Y, RE, 96, 96, 48, 40],
  [B, 32, 3, 1, Y, RE, 128, 80, 56, 40],
  [B, 32, 0, 1, Y, RE, 0, 0, 0, 0],
  [B, 32, 0, 1, Y, RE, 0, 0, 0, 0],
  [B, 64, 5, 2, Y, HS, 224, 224, 96, 80],
  [B, 64, 3, 1, Y, HS, 224, 96, 96, null],
  [B, 64, 3, 1, Y, HS, 256, 256, 96, 80],
  [B, 64, 0, 1, Y, HS, 0, 0, 0, 0],
  [B, 64, 5, 1, Y, HS, 640, 640, 144, 320],
  [B, 64, 3, 1, Y, HS, 640, 512, 144, 320],
  [B, 64, 0, 1, Y, HS, 0, 0, 0, 0],
  [B, 128, 5, 2, Y, HS, 768, 640, 192, 320],
  [B, 128, 5, 1, Y, HS, 768, 256, 192, 320],
  [B, 128, 7, 1, Y, HS, 896, 768, 192, 320],
  [B, 128, 7, 1, Y, HS, 1152, 1152, 192, 320],
  ['conv', 128, 1, 1, Y, HS, 1152, null, null, null],
  ['global avg pool', null, null, null, false, null, null, null, null, null],
  ['conv', 1024, 1, 1, false, HS, 2048, null, null, null],
  ['fc', null, 1, 1, false, null, 1000, null, null, null],
]);

/** Tables 8/9 name a 1×1 conv "conv"; our rows call it "pw". Our block rows add "(res)" for residual blocks. */
function sameType(ours: string, paper: PaperRow['type']): boolean {
  if (paper === 'conv') return ours === 'conv' || ours === 'pw';
  if (paper === 'mnv3 block') return ours === 'mnv3 block' || ours === 'mnv3 block (res)';
  return ours === paper;
}

const cell = (value: number | null): string => (value === null ? '-' : String(value));

/**
 * Every cell where an architecture table (ArchRow fields, as `netadapt arch --json` prints them) differs from the
 * paper's. One exception, chosen in core/arch/zoo/mobilenet-v3.ts: a block both tables remove that has no SE layer in
 * the initial network prints SE "-" where the paper prints 0.
 */
export function paperMismatches(
  rows: ReadonlyArray<{ index: number; type: string; limit: string; kernel: string; stride: string; bn: string; act: string; exp: string; dw: string; pw: string; se: string; removed: boolean }>,
  table: readonly PaperRow[],
): string[] {
  const problems: string[] = [];
  if (rows.length !== table.length) problems.push(`${rows.length} rows, the paper has ${table.length}`);
  table.forEach((paper, i) => {
    const ours = rows[i];
    if (!ours) return;
    const at = `row ${paper.index}`;
    if (!sameType(ours.type, paper.type)) problems.push(`${at} type: ${ours.type} vs ${paper.type}`);
    const expected: Record<string, string> = {
      limit: cell(paper.T), kernel: cell(paper.kernel), stride: cell(paper.stride), bn: paper.bn ? '✓' : '-',
      act: paper.act ?? '-', exp: cell(paper.exp), dw: cell(paper.dw), pw: cell(paper.pw), se: cell(paper.se),
    };
    if (ours.removed && paper.se === 0 && ours.se === '-') expected.se = '-';
    for (const [key, value] of Object.entries(expected)) {
      const got = (ours as unknown as Record<string, string>)[key];
      if (got !== value) problems.push(`${at} ${key}: ${got} vs the paper's ${value}`);
    }
  });
  return problems;
}
