/** What the pipeline reports while it works; every face (CLI, app jobs, demo, benches) renders these. */
import type { SearchEvent } from '../core/search/types.ts';
import type { Evaluation } from '../core/supernet/evaluate.ts';
import type { FinalTrainingEvent } from '../core/supernet/training/final-training.ts';
import type { TrainEvent } from '../core/supernet/training/supernet-trainer.ts';
import type { SearchOutputFiles, SearchReportInput } from '../core/search/report.ts';

export type JobPhase = 'supernet' | 'search' | 'final-training' | 'int8' | 'test' | 'export' | 'report';

export type PipelineEvent =
  | { type: 'phase'; phase: JobPhase; status: 'started' | 'done' | 'skipped' | 'interrupted'; message?: string }
  | { type: 'supernet'; event: TrainEvent }
  /** Held-out scores of the super-network being trained (EMA weights): the full network and the smallest sub-network. */
  | { type: 'supernet-heldout'; epoch: number; full: Evaluation; smallest: Evaluation }
  | { type: 'search'; event: SearchEvent }
  | { type: 'final-training'; event: FinalTrainingEvent }
  /** The test split's scores with the shared weights: the initial (full) and the discovered network. */
  | { type: 'test'; full: Evaluation; discovered: Evaluation }
  | { type: 'report'; files: SearchOutputFiles; report: SearchReportInput };

export type PipelineListener = (event: PipelineEvent) => void;
