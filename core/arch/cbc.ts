/**
 * Channel-level bypass connections (paper Sec. 2.2, App. C) and width levels: the arithmetic every other module uses.
 */

/**
 * Output channels of a layer with C input channels, CBC limit T and M remaining filters: Z = max(min(C, T), M).
 * Channel i < M comes from filter i; channel M ≤ i < min(C, T) is input channel i, bypassed.
 */
export function cbcOutputChannels(inputChannels: number, limit: number, filters: number): number {
  return Math.max(Math.min(inputChannels, limit), filters);
}

/** How many input channels a layer bypasses: those with index in [M, min(C, T)). */
export function cbcBypassedChannels(inputChannels: number, limit: number, filters: number): number {
  return Math.max(Math.min(inputChannels, limit) - filters, 0);
}

/**
 * Filters at width level `level` of `levels` uniformly spaced levels from 0 to `full` (level 0 removes the layer).
 * Non-zero levels keep at least one filter, so small layers may map several levels to the same width.
 */
export function widthAtLevel(full: number, levels: number, level: number): number {
  if (level <= 0) return 0;
  if (level >= levels - 1) return full;
  return Math.max(1, Math.round((full * level) / (levels - 1)));
}

/** The smallest level whose width is at least `filters` (inverse of widthAtLevel), or -1 if none equals it exactly. */
export function levelOfWidth(full: number, levels: number, filters: number): number {
  for (let level = 0; level < levels; level++) {
    if (widthAtLevel(full, levels, level) === filters) return level;
  }
  return -1;
}

/** Kernel sizes a layer can take: odd sizes from 3 up to its full size (a 1×1 layer keeps 1). */
export function kernelChoices(fullKernel: number): number[] {
  if (fullKernel < 3) return [fullKernel];
  const choices: number[] = [];
  for (let k = 3; k <= fullKernel; k += 2) choices.push(k);
  return choices;
}

/** Output spatial size of a SAME-padded layer with the given stride. */
export function sameOutputSize(size: number, stride: number): number {
  return Math.ceil(size / stride);
}
