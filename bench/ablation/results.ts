/** What the ablation bench records: search runs, trainings, part (b)'s rows and their summary and goals. */
import type { SubnetConfig } from '../../core/arch/index.ts';
import { median } from '../../core/stats.ts';
import type { SupernetTrainConfig } from '../../core/supernet/training/config.ts';
import type { CbcPair } from './profiles.ts';

export interface SearchRun {
  setting: string;
  seed: number;
  status: string;
  iterations: number;
  /** Samples evaluated, without the initial network. */
  samples: number;
  /** The search's resource metric and the discovered network's resource as a fraction of the initial network's. */
  metric: string;
  finalResourceFraction: number;
  finalMacs: number;
  finalMacsFraction: number;
  heldoutTop1: number;
  searchSeconds: number;
  best: SubnetConfig;
}

export interface FinalTrainingResult {
  steps: number;
  trainSeconds: number;
  heldoutTop1: number;
  testTop1: number;
}

export interface CbcRow {
  network: string;
  cbc: boolean;
  superNetworkTrainSeconds: number;
  search: Omit<SearchRun, 'best'> & { best: unknown };
  removedLayers: string[];
  removedLayerCount: number;
  superNetworkHeldoutTop1: number;
  superNetworkTestTop1: number;
  afterFinalTraining: FinalTrainingResult;
  /** The discovered network trained alone from scratch (absent when the profile skips it). */
  standalone?: FinalTrainingResult;
  seed: number;
}

/** Part (b)'s record in the result file (without its summary), read back by bench/ablation-combine.ts. */
export interface CbcPartResult {
  pair: CbcPair;
  networks: { cbc: string; plain: string };
  metric: 'macs' | 'latency';
  targetFraction: number;
  setting: string;
  seeds: number[];
  finalTrainingSteps: number;
  standaloneEpochs: number;
  standaloneTrainConfig: Partial<SupernetTrainConfig>;
  unreachable: { network: string; cbc: boolean; message: string }[];
  rows: CbcRow[];
}

interface CbcSideSummary {
  removedLayerCounts: number[];
  medianRemovedLayers: number;
  medianFinalTestTop1: number;
  medianFinalHeldoutTop1: number;
  medianSuperNetworkHeldoutTop1: number;
  /** Present when every row of the side has a stand-alone training. */
  medianStandaloneTestTop1?: number;
  medianStandaloneHeldoutTop1?: number;
}

/** Medians per side over the search seeds, and in how many seeds the CBC side scored higher (test, after final training). */
export function summarizeCbcRows(rows: readonly Pick<CbcRow, 'cbc' | 'seed' | 'removedLayerCount' | 'afterFinalTraining' | 'superNetworkHeldoutTop1' | 'standalone'>[]): {
  cbc: CbcSideSummary;
  noCbc: CbcSideSummary;
  cbcHigherInSeeds: number;
  /** Seeds where the CBC side's stand-alone test top-1 is higher (when both sides have stand-alone trainings). */
  cbcStandaloneHigherInSeeds?: number;
} {
  const side = (cbc: boolean): CbcSideSummary => {
    const own = rows.filter((r) => r.cbc === cbc);
    if (own.length === 0) throw new Error(`no ${cbc ? 'CBC' : 'no-CBC'} rows to summarize`);
    return {
      removedLayerCounts: own.map((r) => r.removedLayerCount),
      medianRemovedLayers: median(own.map((r) => r.removedLayerCount)),
      medianFinalTestTop1: median(own.map((r) => r.afterFinalTraining.testTop1)),
      medianFinalHeldoutTop1: median(own.map((r) => r.afterFinalTraining.heldoutTop1)),
      medianSuperNetworkHeldoutTop1: median(own.map((r) => r.superNetworkHeldoutTop1)),
      ...(own.every((r) => r.standalone)
        ? {
            medianStandaloneTestTop1: median(own.map((r) => (r.standalone as FinalTrainingResult).testTop1)),
            medianStandaloneHeldoutTop1: median(own.map((r) => (r.standalone as FinalTrainingResult).heldoutTop1)),
          }
        : {}),
    };
  };
  const seeds = [...new Set(rows.map((r) => r.seed))];
  const higherIn = (test: (r: (typeof rows)[number]) => number | undefined) =>
    seeds.filter((seed) => {
      const of = (cbc: boolean) => {
        const row = rows.find((r) => r.cbc === cbc && r.seed === seed);
        return row ? test(row) : undefined;
      };
      return (of(true) ?? -1) > (of(false) ?? Infinity);
    }).length;
  const [cbc, noCbc] = [side(true), side(false)];
  return {
    cbc,
    noCbc,
    cbcHigherInSeeds: higherIn((r) => r.afterFinalTraining.testTop1),
    ...(cbc.medianStandaloneTestTop1 !== undefined && noCbc.medianStandaloneTestTop1 !== undefined
      ? { cbcStandaloneHigherInSeeds: higherIn((r) => r.standalone?.testTop1) }
      : {}),
  };
}

export type Goal = Record<string, unknown> & { met: boolean };

/**
 * Part (b)'s goals. Removes whole layers: the CBC searches' median count > 0. Scores higher: the median test top-1 of
 * the discovered networks trained alone from scratch when every row has one (the paper compares fully trained
 * networks), else after the short final training; not comparable (not met) when a network could not reach the target.
 */
export function cbcGoals(
  rows: Parameters<typeof summarizeCbcRows>[0],
  unreachable: readonly { network: string; cbc: boolean; message: string }[],
  standaloneEpochs: number,
): { summary?: ReturnType<typeof summarizeCbcRows>; removesWholeLayers: Goal; scoresHigher: Goal } {
  const criterion = 'the CBC search removes at least one whole layer (median over seeds)';
  if (unreachable.length > 0) {
    const cbcRemoved = rows.filter((r) => r.cbc).map((r) => r.removedLayerCount);
    return {
      removesWholeLayers: { removedWithCbc: cbcRemoved, criterion, met: cbcRemoved.length > 0 && median(cbcRemoved) > 0 },
      scoresHigher: { unreachable, criterion: 'not comparable: a network cannot reach the target', met: false },
    };
  }
  const summary = summarizeCbcRows(rows);
  const { cbc: withCbc, noCbc: without } = summary;
  const standalone = summary.cbcStandaloneHigherInSeeds !== undefined;
  const shortTrainingHigher = withCbc.medianFinalTestTop1 > without.medianFinalTestTop1;
  return {
    summary,
    removesWholeLayers: { removedWithCbc: withCbc.removedLayerCounts, removedWithoutCbc: without.removedLayerCounts, criterion, met: withCbc.medianRemovedLayers > 0 },
    scoresHigher: {
      ...(standalone
        ? {
            medianStandaloneTestTop1: { cbc: withCbc.medianStandaloneTestTop1, noCbc: without.medianStandaloneTestTop1 },
            medianStandaloneHeldoutTop1: { cbc: withCbc.medianStandaloneHeldoutTop1, noCbc: without.medianStandaloneHeldoutTop1 },
            cbcStandaloneHigherInSeeds: summary.cbcStandaloneHigherInSeeds,
          }
        : {}),
      medianFinalTrainedTestTop1: { cbc: withCbc.medianFinalTestTop1, noCbc: without.medianFinalTestTop1 },
      medianFinalTrainedHeldoutTop1: { cbc: withCbc.medianFinalHeldoutTop1, noCbc: without.medianFinalHeldoutTop1 },
      medianSuperNetworkHeldoutTop1: { cbc: withCbc.medianSuperNetworkHeldoutTop1, noCbc: without.medianSuperNetworkHeldoutTop1 },
      cbcHigherInSeeds: summary.cbcHigherInSeeds,
      shortFinalTrainingHigher: shortTrainingHigher,
      criterion: standalone
        ? `median test top-1 of the discovered networks trained alone from scratch (${standaloneEpochs} epochs; the paper reports discovered networks after full training), CBC above no CBC`
        : 'median test top-1 after the short final training, CBC above no CBC',
      met: standalone ? (withCbc.medianStandaloneTestTop1 as number) > (without.medianStandaloneTestTop1 as number) : shortTrainingHigher,
    },
  };
}

