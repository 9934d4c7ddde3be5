/** The ablation bench's command line (commander), validated into AblationBenchOptions with messages that say what each flag takes. */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { MCD_SHRINK_MODES, type McdShrink } from '../../core/search/types.ts';
import { DEPTH_SAMPLINGS, type DepthSampling } from '../../core/supernet/sampling.ts';
import { CBC_PAIRS, type CbcPair } from './profiles.ts';

export type AblationPart = 'a' | 'b' | 'c';

export interface AblationBenchOptions {
  /** Tiny settings to check the bench end to end in a few minutes (the numbers mean nothing). */
  quick?: boolean;
  /** The optimizer-only check on the synthetic proxy score instead (no training, not an accuracy). */
  synthetic?: boolean;
  /** Run only these parts (default all). */
  only?: readonly AblationPart[];
  /** Part (b)'s final target as a fraction of the initial network (default 0.35). */
  cbcTarget?: number;
  /**
   * Part (b)'s resource: 'macs' (default) or 'latency' — the host TFLite runtime's per-layer latency table, profiled
   * lazily into a temporary workspace (the paper's CBC ablations are latency-guided: removing a layer also saves its
   * fixed per-operator cost, which MACs do not see).
   */
  cbcMetric?: 'macs' | 'latency';
  /** Part (b)'s pair of networks (profiles.ts CBC_PAIRS): 'demo' (default) or 'deep' (App. A.1's extra blocks). */
  cbcPair?: CbcPair;
  /** Super-network removal share instead of the demo recipe's (SupernetTrainConfig.removalShare). */
  removalShare?: number;
  /** Super-network depth sampling instead of the demo recipe's (core/supernet/sampling.ts DepthSampling). */
  depthSampling?: DepthSampling;
  /** Part (a)'s MCD settings shrink every one of a sample's L layers ('every-chosen-layer') instead of stopping at the target. */
  mcdShrink?: McdShrink;
  /** Part (b)'s search seeds instead of the profile's (one search, final and stand-alone training per seed and side). */
  cbcSeeds?: number[];
  /** Part (b)'s stand-alone training of each discovered network, in epochs, instead of the profile's (0 skips it). */
  standaloneEpochs?: number;
  /**
   * Keep the trained super-networks here (a checkpoint per network and recipe) and reuse them: a later run with the
   * same recipe, e.g. at another target, loads them instead of training again; a killed run continues them.
   */
  supernetDir?: string;
  /** Where to write the JSON result; null to skip writing. */
  outFile?: string | null;
  log?: (line: string) => void;
}

/** What each flag takes, for the messages. */
const TAKES: Record<string, string> = {
  '--only': 'parts a, b, c',
  '--cbc-target': 'a fraction between 0 and 1 (e.g. 0.2)',
  '--removal-share': 'a fraction in (0, 1] (e.g. 0.25)',
  '--cbc-metric': 'macs or latency',
  '--cbc-pair': Object.keys(CBC_PAIRS).join(', '),
  '--depth-sampling': `one of ${DEPTH_SAMPLINGS.join(', ')}`,
  '--mcd-shrink': `one of ${MCD_SHRINK_MODES.join(', ')}`,
  '--cbc-seeds': 'integers separated by commas (e.g. 1,2,3,4,5)',
  '--standalone-epochs': 'a number of epochs ≥ 0 (0 skips the stand-alone training)',
  '--out': 'a file name',
  '--supernet-dir': 'a directory',
};

const invalid = (flag: string, got: string) => new InvalidArgumentError(`${flag} takes ${TAKES[flag]} (got "${got}")`);

function value(flag: string, check: (text: string) => unknown): (text: string) => unknown {
  return (text) => {
    if (text.startsWith('--')) throw new InvalidArgumentError(`${flag} takes ${TAKES[flag]}`);
    const parsed = check(text);
    if (parsed === undefined) throw invalid(flag, text);
    return parsed;
  };
}

const fraction = (min: number, maxInclusive: boolean) => (text: string) => {
  const n = Number(text);
  return n > min && (maxInclusive ? n <= 1 : n < 1) ? n : undefined;
};

function program(): Command {
  const option = (flags: string, parse: (text: string) => unknown) => new Option(flags).argParser(parse);
  return new Command('ablation')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .allowExcessArguments(false)
    .option('--quick', 'tiny settings (minutes; the numbers mean nothing)')
    .option('--synthetic', 'the optimizer-only check on a synthetic proxy score')
    .addOption(option('--only <parts>', value('--only', (t) => {
      const parts = t.split(',').filter(Boolean);
      return parts.length > 0 && parts.every((p) => ['a', 'b', 'c'].includes(p)) ? parts : undefined;
    })))
    .addOption(option('--cbc-target <fraction>', value('--cbc-target', fraction(0, false))))
    .addOption(option('--removal-share <fraction>', value('--removal-share', fraction(0, true))))
    .addOption(option('--cbc-metric <metric>', value('--cbc-metric', (t) => (t === 'macs' || t === 'latency' ? t : undefined))))
    .addOption(option('--cbc-pair <pair>', value('--cbc-pair', (t) => (t in CBC_PAIRS ? t : undefined))))
    .addOption(option('--depth-sampling <mode>', value('--depth-sampling', (t) => (DEPTH_SAMPLINGS.includes(t as DepthSampling) ? t : undefined))))
    .addOption(option('--mcd-shrink <mode>', value('--mcd-shrink', (t) => (MCD_SHRINK_MODES.includes(t as McdShrink) ? t : undefined))))
    .addOption(option('--cbc-seeds <seeds>', value('--cbc-seeds', (t) => {
      const seeds = t.split(',').map(Number);
      return seeds.every(Number.isInteger) ? seeds : undefined;
    })))
    .addOption(option('--standalone-epochs <epochs>', value('--standalone-epochs', (t) => (Number(t) >= 0 ? Number(t) : undefined))))
    .addOption(option('--supernet-dir <dir>', value('--supernet-dir', (t) => t)))
    .addOption(option('--out <file>', value('--out', (t) => t)));
}

/** Parses the bench's flags; throws an Error whose message names the flag and what it takes. */
export function parseAblationArgs(argv: readonly string[]): AblationBenchOptions {
  const cli = program();
  try {
    cli.parse([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    const flag = /'(--[a-z-]+)/.exec(error.message)?.[1];
    if (error.code === 'commander.optionMissingArgument' && flag && TAKES[flag]) throw new Error(`${flag} takes ${TAKES[flag]}`);
    throw new Error(error.message.replace(/^error: /, '').replace(/^option '[^']+' argument '[^']*' is invalid\. /, ''));
  }
  const o = cli.opts<Record<string, unknown>>();
  const defined = (key: string, as: string = key) => (o[key] !== undefined ? { [as]: o[key] } : {});
  return {
    ...defined('cbcSeeds'),
    ...defined('mcdShrink'),
    ...defined('standaloneEpochs'),
    ...defined('supernetDir'),
    ...defined('out', 'outFile'),
    ...defined('depthSampling'),
    ...defined('cbcMetric'),
    ...defined('cbcPair'),
    ...defined('removalShare'),
    quick: o['quick'] === true,
    synthetic: o['synthetic'] === true,
    ...defined('only'),
    ...defined('cbcTarget'),
  } as AblationBenchOptions;
}
