/**
 * The search runs of a workspace (SQLite, core/store/workspace.ts). Tables:
 * - search_runs: one row per run: parameters, the user's config, status, owner process, summary of the best;
 * - search_iterations: per iteration its target and, once finished, its best sample (iteration -1 is the initial
 *   network);
 * - search_samples: every generated sample with its config and resource, and its score once evaluated.
 * An iteration's generated samples are written in one transaction before any is evaluated (so a resumed run
 * evaluates exactly the same samples, even with a noisy measured metric); each evaluation is its own transaction.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { subnetKey } from '../arch/index.ts';
import type { SubnetConfig } from '../arch/index.ts';
import { registerMigration } from '../store/migrations.ts';
import type { Workspace } from '../store/workspace.ts';
import type {
  IterationRecord,
  NewRun,
  PlannedSample,
  RunRecord,
  RunStatus,
  RunStore,
  SampleRecord,
  SearchBudget,
  SearchParams,
} from './types.ts';

registerMigration({
  id: 'search-001',
  up(db) {
    db.exec(`
      CREATE TABLE search_runs (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        status TEXT NOT NULL,
        message TEXT,
        network TEXT NOT NULL,
        metric TEXT NOT NULL,
        metric_unit TEXT NOT NULL,
        params_json TEXT NOT NULL,
        config_json TEXT NOT NULL,
        initial_resource REAL,
        final_target REAL,
        iterations INTEGER NOT NULL DEFAULT 0,
        samples_evaluated INTEGER NOT NULL DEFAULT 0,
        best_score REAL,
        best_resource REAL,
        owner_pid INTEGER,
        owner_host TEXT
      ) STRICT;
      CREATE TABLE search_iterations (
        run_id TEXT NOT NULL REFERENCES search_runs(id) ON DELETE CASCADE,
        iteration INTEGER NOT NULL,
        target REAL NOT NULL,
        parent_resource REAL NOT NULL,
        status TEXT NOT NULL,
        best_index INTEGER,
        sample_count INTEGER NOT NULL,
        planned_at TEXT NOT NULL,
        finished_at TEXT,
        PRIMARY KEY (run_id, iteration)
      ) STRICT;
      CREATE TABLE search_samples (
        run_id TEXT NOT NULL,
        iteration INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        key TEXT NOT NULL,
        config_json TEXT NOT NULL,
        resource REAL NOT NULL,
        changed_json TEXT NOT NULL,
        score REAL,
        metrics_json TEXT,
        eval_ms REAL,
        evaluated_at TEXT,
        PRIMARY KEY (run_id, iteration, idx),
        FOREIGN KEY (run_id, iteration) REFERENCES search_iterations(run_id, iteration) ON DELETE CASCADE
      ) STRICT;
    `);
  },
});

interface RunRow {
  id: string;
  created_at: string;
  updated_at: string;
  status: string;
  message: string | null;
  network: string;
  metric: string;
  metric_unit: string;
  params_json: string;
  config_json: string;
  initial_resource: number | null;
  final_target: number | null;
  iterations: number;
  samples_evaluated: number;
  best_score: number | null;
  best_resource: number | null;
  owner_pid: number | null;
  owner_host: string | null;
}

interface IterationRow {
  run_id: string;
  iteration: number;
  target: number;
  parent_resource: number;
  status: string;
  best_index: number | null;
  sample_count: number;
  planned_at: string;
  finished_at: string | null;
}

interface SampleRow {
  run_id: string;
  iteration: number;
  idx: number;
  key: string;
  config_json: string;
  resource: number;
  changed_json: string;
  score: number | null;
  metrics_json: string | null;
  eval_ms: number | null;
  evaluated_at: string | null;
}

/** A run id like `20250114-093012-a3f9`: sortable by creation time, unique enough for one workspace. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

const now = () => new Date().toISOString();

export class SqliteRunStore implements RunStore {
  private readonly db: Database.Database;

  constructor(readonly workspace: Workspace) {
    workspace.migrate();
    this.db = workspace.db;
  }

  createRun(run: NewRun): RunRecord {
    const id = newRunId();
    const time = now();
    this.db
      .prepare(
        `INSERT INTO search_runs (id, created_at, updated_at, status, network, metric, metric_unit, params_json, config_json)
         VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?)`,
      )
      .run(id, time, time, run.network, run.metric, run.metricUnit, JSON.stringify(run.params), JSON.stringify(run.config ?? null));
    return this.getRun(id) as RunRecord;
  }

  getRun(id: string): RunRecord | undefined {
    const row = this.db.prepare<[string], RunRow>('SELECT * FROM search_runs WHERE id = ?').get(id);
    return row ? toRun(row) : undefined;
  }

  listRuns(): RunRecord[] {
    return this.db.prepare<[], RunRow>('SELECT * FROM search_runs ORDER BY created_at, id').all().map(toRun);
  }

  setRunStatus(id: string, status: RunStatus, message: string | null = null): void {
    this.db.prepare('UPDATE search_runs SET status = ?, message = ?, updated_at = ? WHERE id = ?').run(status, message, now(), id);
  }

  setRunOwner(id: string, owner: { pid: number; host: string } | null): void {
    this.db
      .prepare('UPDATE search_runs SET owner_pid = ?, owner_host = ?, updated_at = ? WHERE id = ?')
      .run(owner?.pid ?? null, owner?.host ?? null, now(), id);
  }

  setRunBudget(id: string, budget: SearchBudget): void {
    const run = this.getRun(id);
    if (!run) throw new Error(`no search run ${id}`);
    const params: SearchParams = { ...run.params, budget };
    this.db.prepare('UPDATE search_runs SET params_json = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(params), now(), id);
  }

  setRunStart(id: string, initialResource: number, finalTarget: number): void {
    this.db
      .prepare('UPDATE search_runs SET initial_resource = ?, final_target = ?, updated_at = ? WHERE id = ?')
      .run(initialResource, finalTarget, now(), id);
  }

  planIteration(
    runId: string,
    iteration: { iteration: number; target: number; parentResource: number },
    samples: readonly PlannedSample[],
  ): void {
    const insertIteration = this.db.prepare(
      `INSERT INTO search_iterations (run_id, iteration, target, parent_resource, status, sample_count, planned_at)
       VALUES (?, ?, ?, ?, 'planned', ?, ?)`,
    );
    const insertSample = this.db.prepare(
      `INSERT INTO search_samples (run_id, iteration, idx, key, config_json, resource, changed_json)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db
      .transaction(() => {
        insertIteration.run(runId, iteration.iteration, iteration.target, iteration.parentResource, samples.length, now());
        for (const sample of samples) {
          insertSample.run(
            runId,
            iteration.iteration,
            sample.index,
            subnetKey(sample.config),
            JSON.stringify(sample.config),
            sample.resource,
            JSON.stringify(sample.changed),
          );
        }
        this.touch(runId);
      })
      .immediate();
  }

  getIteration(runId: string, iteration: number): IterationRecord | undefined {
    const row = this.db
      .prepare<[string, number], IterationRow>('SELECT * FROM search_iterations WHERE run_id = ? AND iteration = ?')
      .get(runId, iteration);
    return row ? toIteration(row) : undefined;
  }

  listIterations(runId: string): IterationRecord[] {
    return this.db
      .prepare<[string], IterationRow>('SELECT * FROM search_iterations WHERE run_id = ? ORDER BY iteration')
      .all(runId)
      .map(toIteration);
  }

  getSamples(runId: string, iteration?: number): SampleRecord[] {
    const rows =
      iteration === undefined
        ? this.db.prepare<[string], SampleRow>('SELECT * FROM search_samples WHERE run_id = ? ORDER BY iteration, idx').all(runId)
        : this.db
            .prepare<[string, number], SampleRow>('SELECT * FROM search_samples WHERE run_id = ? AND iteration = ? ORDER BY idx')
            .all(runId, iteration);
    return rows.map(toSample);
  }

  recordEvaluation(
    runId: string,
    iteration: number,
    index: number,
    result: { score: number; metrics: Record<string, number> | null; evalMs: number },
  ): void {
    this.db
      .transaction(() => {
        const changed = this.db
          .prepare(
            `UPDATE search_samples SET score = ?, metrics_json = ?, eval_ms = ?, evaluated_at = ?
             WHERE run_id = ? AND iteration = ? AND idx = ? AND score IS NULL`,
          )
          .run(result.score, result.metrics ? JSON.stringify(result.metrics) : null, result.evalMs, now(), runId, iteration, index).changes;
        if (changed !== 1) throw new Error(`sample ${index} of iteration ${iteration} of run ${runId} is not waiting for a score`);
        this.db.prepare('UPDATE search_runs SET samples_evaluated = samples_evaluated + 1, updated_at = ? WHERE id = ?').run(now(), runId);
      })
      .immediate();
  }

  finishIteration(runId: string, iteration: number, bestIndex: number): void {
    this.db
      .transaction(() => {
        const best = this.db
          .prepare<[string, number, number], SampleRow>('SELECT * FROM search_samples WHERE run_id = ? AND iteration = ? AND idx = ?')
          .get(runId, iteration, bestIndex);
        if (!best || best.score === null) throw new Error(`sample ${bestIndex} of iteration ${iteration} of run ${runId} has no score`);
        this.db
          .prepare(`UPDATE search_iterations SET status = 'done', best_index = ?, finished_at = ? WHERE run_id = ? AND iteration = ?`)
          .run(bestIndex, now(), runId, iteration);
        this.db
          .prepare(
            `UPDATE search_runs SET iterations = (SELECT count(*) FROM search_iterations WHERE run_id = ? AND status = 'done' AND iteration >= 0),
               best_score = ?, best_resource = ?, updated_at = ? WHERE id = ?`,
          )
          .run(runId, best.score, best.resource, now(), runId);
      })
      .immediate();
  }

  private touch(runId: string): void {
    this.db.prepare('UPDATE search_runs SET updated_at = ? WHERE id = ?').run(now(), runId);
  }
}

function toRun(row: RunRow): RunRecord {
  return {
    id: row.id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    status: row.status as RunStatus,
    message: row.message,
    network: row.network,
    metric: row.metric,
    metricUnit: row.metric_unit,
    params: JSON.parse(row.params_json) as SearchParams,
    config: JSON.parse(row.config_json) as unknown,
    initialResource: row.initial_resource,
    finalTarget: row.final_target,
    iterations: row.iterations,
    samplesEvaluated: row.samples_evaluated,
    bestScore: row.best_score,
    bestResource: row.best_resource,
    ownerPid: row.owner_pid,
    ownerHost: row.owner_host,
  };
}

function toIteration(row: IterationRow): IterationRecord {
  return {
    runId: row.run_id,
    iteration: row.iteration,
    target: row.target,
    parentResource: row.parent_resource,
    status: row.status as IterationRecord['status'],
    bestIndex: row.best_index,
    sampleCount: row.sample_count,
    plannedAt: row.planned_at,
    finishedAt: row.finished_at,
  };
}

function toSample(row: SampleRow): SampleRecord {
  return {
    runId: row.run_id,
    iteration: row.iteration,
    index: row.idx,
    key: row.key,
    config: JSON.parse(row.config_json) as SubnetConfig,
    resource: row.resource,
    changed: JSON.parse(row.changed_json) as number[],
    score: row.score,
    metrics: row.metrics_json === null ? null : (JSON.parse(row.metrics_json) as Record<string, number>),
    evalMs: row.eval_ms,
    evaluatedAt: row.evaluated_at,
  };
}
