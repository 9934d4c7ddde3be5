/** The report step: network.json, report.md, report.html and samples.svg of a run (core/search/report.ts). */
import type { NetworkSpec } from '../../core/arch/index.ts';
import { loadReportInput, writeSearchOutputs, type DeviceResource, type SearchOutputFiles, type SearchReportInput } from '../../core/search/report.ts';
import type { FinalTrainingSummary } from '../../core/search/result.ts';
import type { RunStore } from '../../core/search/types.ts';

export function reportStep(input: {
  store: RunStore;
  runId: string;
  spec: NetworkSpec;
  scoreLabel: string;
  outputDir: string;
  finalTraining?: FinalTrainingSummary;
  devices?: readonly DeviceResource[];
}): { files: SearchOutputFiles; report: SearchReportInput } {
  const base = loadReportInput(input.store, input.runId, input.spec, input.scoreLabel);
  const report = { ...base, ...(input.finalTraining ? { finalTraining: input.finalTraining } : {}), ...(input.devices ? { devices: input.devices } : {}) };
  return { files: writeSearchOutputs(input.outputDir, report), report };
}
