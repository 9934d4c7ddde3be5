/** Part (c): OD + super-network search (NetAdaptV2) vs NetAdaptV1 mode: total time and final accuracy (Table 3). */
import { loadNetwork, searchSpace, subnetToJson } from '../../core/arch/index.ts';
import { SupernetFineTuner } from '../../core/supernet/training/finetuner.ts';
import { copyWeights, type TrainedSupernet } from '../supernet-runs.ts';
import type { BenchContext, PartResult } from './context.ts';
import { PLAIN_NETWORK, describeSetting } from './profiles.ts';
import type { SearchRun } from './results.ts';
import { pct, runSearch, supernetScorer, trainAndScore } from './runs.ts';

export async function runPartC(ctx: BenchContext): Promise<PartResult> {
  const { profile, dataset, log, trained, fineTuneConfig } = ctx;
  const part: PartResult = { out: {}, goals: {} };
  const plainSpec = loadNetwork(PLAIN_NETWORK);
  const setting = profile.c.setting;
  log(
    `\n(c) OD + super-network vs NetAdaptV1 mode: ${PLAIN_NETWORK}, ${describeSetting(setting)} to ${pct(profile.c.target)} MACs; ` +
      `V1 fine-tunes every sample ${profile.c.fineTuneSteps} steps; both discovered networks then trained ${profile.c.finalSteps} steps`,
  );
  const od = await trained(plainSpec, true);
  const odScorer = supernetScorer(od.weights, dataset, profile);
  const odRun = await runSearch(plainSpec, { evaluator: odScorer }, setting, profile.c.target, 1);
  odScorer.dispose();
  const odFinal = await trainAndScore(copyWeights(od.weights), odRun.best, dataset, profile.c.finalSteps, fineTuneConfig, profile);
  const plain = await trained(plainSpec, false);
  // The product's NetAdaptV1 mode (core/search/supernet-finetuner.ts, its default fine-tuning settings).
  const fineTuner = new SupernetFineTuner({
    weights: plain.weights,
    dataset,
    fineTuneSteps: profile.c.fineTuneSteps,
    ...(profile.scoring.limit === undefined ? {} : { limit: profile.scoring.limit }),
  });
  const v1Run = await runSearch(plainSpec, { fineTuner, fineTuneSteps: profile.c.fineTuneSteps }, setting, profile.c.target, 1);
  fineTuner.dispose();
  // Like `finalTraining: { mode: "supernet" }` of a NetAdaptV1 run: the discovered network starts from the run's
  // checkpoint (the plain-trained full network), as the OD side starts from its super-network.
  const v1Final = await trainAndScore(copyWeights(plain.weights), v1Run.best, dataset, profile.c.finalSteps, fineTuneConfig, profile);
  const breakdown = (train: number, search: number, final: number) => ({
    trainSeconds: train,
    searchSeconds: search,
    finalTrainingSeconds: final,
    totalSeconds: train + search + final,
  });
  // Images through a training forward-backward pass: a load-independent view of the same cost (evaluation excluded).
  const trainImages = (net: TrainedSupernet) => net.steps * (net.config.batchSize);
  const finalImages = profile.c.finalSteps * (fineTuneConfig.batchSize as number);
  const v1SearchImages = v1Run.samples * profile.c.fineTuneSteps * (fineTuneConfig.batchSize as number);
  const v2 = {
    ...breakdown(od.trainSeconds, odRun.searchSeconds, odFinal.trainSeconds),
    trainingImages: { superNetwork: trainImages(od), search: 0, finalTraining: finalImages, total: trainImages(od) + finalImages },
    search: odRun,
    final: odFinal,
  };
  const v1 = {
    ...breakdown(plain.trainSeconds, v1Run.searchSeconds, v1Final.trainSeconds),
    trainingImages: {
      fullNetwork: trainImages(plain),
      search: v1SearchImages,
      finalTraining: finalImages,
      total: trainImages(plain) + v1SearchImages + finalImages,
    },
    fineTuneSteps: profile.c.fineTuneSteps,
    search: v1Run,
    final: v1Final,
  };
  for (const [name, r] of [['OD + super-network', v2], ['NetAdaptV1 mode', v1]] as const) {
    log(
      `  ${name.padEnd(20)} total ${r.totalSeconds.toFixed(0)} s (train ${r.trainSeconds.toFixed(0)} + search ${r.searchSeconds.toFixed(0)} ` +
        `[${r.search.samples} samples] + final ${r.finalTrainingSeconds.toFixed(0)}): ${pct(r.search.finalMacsFraction)} MACs, ` +
        `search score ${pct(r.search.heldoutTop1)}, after final training held-out ${pct(r.final.heldoutTop1)} test ${pct(r.final.testTop1)}`,
    );
  }
  const speedup = v1.totalSeconds / v2.totalSeconds;
  const imagesRatio = v1.trainingImages.total / v2.trainingImages.total;
  const testDiff = v2.final.testTop1 - v1.final.testTop1;
  log(
    `  speed-up ${speedup.toFixed(2)}× (training + search only: ${((v1.trainSeconds + v1.searchSeconds) / (v2.trainSeconds + v2.searchSeconds)).toFixed(2)}×; ` +
      `training images ${imagesRatio.toFixed(2)}×); test top-1 OD − V1 = ${(100 * testDiff).toFixed(1)} points`,
  );
  part.goals['c_odAtLeast3xFaster'] = {
    speedupTotal: speedup,
    speedupTrainPlusSearch: (v1.trainSeconds + v1.searchSeconds) / (v2.trainSeconds + v2.searchSeconds),
    trainingImagesRatio: imagesRatio,
    met: speedup >= 3,
  };
  part.goals['c_odSimilarAccuracy'] = { odTestTop1: v2.final.testTop1, v1TestTop1: v1.final.testTop1, differencePoints: 100 * testDiff, criterion: 'OD at most 2 points below V1', met: testDiff >= -0.02 };
  const strip = (r: SearchRun) => ({ ...r, best: subnetToJson(searchSpace(plainSpec), r.best) });
  part.out['c_odVsNetAdaptV1'] = {
    network: PLAIN_NETWORK,
    targetMacsFraction: profile.c.target,
    setting: describeSetting(setting),
    odSuperNetwork: { ...v2, search: strip(v2.search) },
    netAdaptV1: { ...v1, search: strip(v1.search) },
  };
  return part;
}
