/** Part (b): CBC vs no CBC — a pair of networks that differ only in their bypass limits, searched to a low target. */
import type { NetworkSpec, SubnetConfig } from '../../core/arch/index.ts';
import { loadNetwork, searchSpace, subnetToJson } from '../../core/arch/index.ts';
import { MacsMetric } from '../../core/metrics/index.ts';
import { TargetUnreachableError } from '../../core/search/errors.ts';
import type { SupernetTrainConfig } from '../../core/supernet/training/config.ts';
import { SupernetWeights } from '../../core/supernet/weights.ts';
import { copyWeights, scoreSubnet } from '../supernet-runs.ts';
import type { BenchContext, PartResult } from './context.ts';
import { CBC_PAIRS, describeSetting, removedLayers } from './profiles.ts';
import { cbcGoals, type CbcPartResult, type CbcRow, type FinalTrainingResult, type SearchRun } from './results.ts';
import { hostLatency, pct, runSearch, supernetScorer, trainAndScore } from './runs.ts';

export async function runPartB(ctx: BenchContext): Promise<PartResult> {
  const { profile, dataset, log, trained, trainConfig, fineTuneConfig, options } = ctx;
  const part: PartResult = { out: {}, goals: {} };
  const metricName = options.cbcMetric ?? 'macs';
  const resourceLabel = metricName === 'latency' ? 'of the host latency' : 'MACs';
  log(
    `\n(b) CBC vs no CBC: ${describeSetting(profile.b.mcd)} to ${pct(profile.b.target)} ${resourceLabel}, search seeds ${profile.b.seeds.join(', ')}, ` +
      `then ${profile.b.finalSteps} identical training steps of each discovered network`,
  );
  const rows: CbcRow[] = [];
  const unreachable: { network: string; cbc: boolean; message: string }[] = [];
  const latency = metricName === 'latency' ? await hostLatency() : undefined;
  const pair = CBC_PAIRS[options.cbcPair ?? 'demo'];
  // The super-network recipe without ordered dropout, its learning rate halved four times over the run (no EMA in a
  // fixed sub-network's training, so it has to end on a small rate).
  const standaloneConfig: Partial<SupernetTrainConfig> = { ...trainConfig, orderedDropout: false, lrDecayEpochs: profile.b.standaloneEpochs / 4 };
  const standaloneTraining = (spec: NetworkSpec, subnet: SubnetConfig, seed: number): Promise<FinalTrainingResult> => {
    const stepsPerEpoch = Math.floor(profile.data.trainSize / (standaloneConfig.batchSize as number));
    const steps = Math.max(1, Math.round(profile.b.standaloneEpochs * stepsPerEpoch));
    return trainAndScore(SupernetWeights.init(spec, 1000 + seed), subnet, dataset, steps, { ...standaloneConfig, seed }, profile);
  };
  for (const [cbc, spec] of [[true, loadNetwork(pair.cbc)], [false, loadNetwork(pair.plain)]] as const) {
    const net = await trained(spec, true);
    const scorer = supernetScorer(net.weights, dataset, profile);
    const metric = latency ? await latency.metricFor(spec) : new MacsMetric(spec);
    for (const seed of profile.b.seeds) {
      let run: SearchRun;
      try {
        run = await runSearch(spec, { evaluator: scorer }, profile.b.mcd, profile.b.target, seed, metric);
      } catch (error) {
        if (!(error instanceof TargetUnreachableError)) throw error;
        // Same table and target for every seed: record it once and go on with the other network.
        log(`  ${spec.name}: ${error.message}`);
        unreachable.push({ network: spec.name, cbc, message: error.message });
        break;
      }
      const supernetTestTop1 = await scoreSubnet(net.weights, dataset, run.best, 'test', profile.scoring);
      const removed = removedLayers(spec, run.best);
      const final = await trainAndScore(copyWeights(net.weights), run.best, dataset, profile.b.finalSteps, fineTuneConfig, profile);
      const standalone = profile.b.standaloneEpochs > 0 ? await standaloneTraining(spec, run.best, seed) : undefined;
      log(
        `  ${spec.name.padEnd(29)} seed ${seed} ${run.status} in ${run.samples} samples: ` +
          `${metricName === 'latency' ? `${pct(run.finalResourceFraction)} of the latency, ` : ''}${pct(run.finalMacsFraction)} MACs, ${removed.length} layers removed` +
          `${removed.length ? ` (${removed.join(', ')})` : ''}; super-network held-out ${pct(run.heldoutTop1)} test ${pct(supernetTestTop1)}; ` +
          `after final training held-out ${pct(final.heldoutTop1)} test ${pct(final.testTop1)}` +
          `${standalone ? `; trained alone from scratch held-out ${pct(standalone.heldoutTop1)} test ${pct(standalone.testTop1)}` : ''}`,
      );
      rows.push({
        network: spec.name,
        cbc,
        superNetworkTrainSeconds: net.trainSeconds,
        search: { ...run, best: subnetToJson(searchSpace(spec), run.best) },
        removedLayers: removed,
        removedLayerCount: removed.length,
        superNetworkHeldoutTop1: run.heldoutTop1,
        superNetworkTestTop1: supernetTestTop1,
        afterFinalTraining: final,
        ...(standalone ? { standalone } : {}),
        seed,
      });
    }
    scorer.dispose();
  }
  await latency?.close();
  const bOut: CbcPartResult = {
    pair: options.cbcPair ?? 'demo',
    networks: pair,
    metric: metricName,
    targetFraction: profile.b.target,
    setting: describeSetting(profile.b.mcd),
    seeds: profile.b.seeds,
    finalTrainingSteps: profile.b.finalSteps,
    standaloneEpochs: profile.b.standaloneEpochs,
    standaloneTrainConfig: standaloneConfig,
    unreachable,
    rows,
  };
  const { summary, removesWholeLayers, scoresHigher } = cbcGoals(rows, unreachable, profile.b.standaloneEpochs);
  if (summary) {
    const { cbc: withCbc, noCbc: without } = summary;
    log(
      `  medians over seeds: CBC ${withCbc.medianRemovedLayers} layers removed, test ${pct(withCbc.medianFinalTestTop1)} after the final training; ` +
        `without CBC ${without.medianRemovedLayers} removed, ${pct(without.medianFinalTestTop1)}; CBC higher in ${summary.cbcHigherInSeeds} of ${profile.b.seeds.length} seeds` +
        (summary.cbcStandaloneHigherInSeeds !== undefined
          ? `\n  trained alone from scratch (${profile.b.standaloneEpochs} epochs): CBC test ${pct(withCbc.medianStandaloneTestTop1 as number)}, ` +
            `without ${pct(without.medianStandaloneTestTop1 as number)}; CBC higher in ${summary.cbcStandaloneHigherInSeeds} of ${profile.b.seeds.length} seeds`
          : ''),
    );
  }
  part.goals['b_cbcRemovesWholeLayers'] = removesWholeLayers;
  part.goals['b_cbcScoresHigher'] = scoresHigher;
  part.out['b_cbcVsNoCbc'] = { ...bOut, ...(summary ? { summary } : {}) };
  return part;
}
