import { ValidationError } from '../../core/errors.ts';

/**
 * Runtime options of a measurement (threads, CPU mask, benchmark runs, warm-up runs, ...) as one canonical string:
 * `key=value` pairs joined by `;`, keys sorted, e.g. `mask=f0;runs=50;threads=1;warmup=10`. Entries measured with
 * different options are different tables. The store canonicalizes every options string it is given, so
 * `threads=1;runs=50` and `runs=50;threads=1` name the same table.
 */
export type RuntimeOptionsInput = string | Readonly<Record<string, string | number | boolean>>;

const KEY = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const VALUE = /^[^;=\s]+$/;

export function canonicalRuntimeOptions(options: RuntimeOptionsInput): string {
  const pairs = typeof options === 'string' ? parsePairs(options) : Object.entries(options).map(([k, v]) => [k, String(v)] as const);
  const seen = new Set<string>();
  for (const [key, value] of pairs) {
    if (!KEY.test(key)) throw new ValidationError(`runtime options: "${key}" is not a valid option name`);
    if (!VALUE.test(value)) {
      throw new ValidationError(`runtime options: the value of "${key}" ("${value}") must be non-empty without ';', '=' or spaces`);
    }
    if (seen.has(key)) throw new ValidationError(`runtime options: "${key}" is given twice`);
    seen.add(key);
  }
  return [...pairs]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(';');
}

function parsePairs(text: string): (readonly [string, string])[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  return trimmed.split(';').map((part) => {
    const eq = part.indexOf('=');
    if (eq < 0) throw new ValidationError(`runtime options "${text}": "${part}" is not of the form key=value`);
    return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()] as const;
  });
}

/** The data type of the models a table measures. */
export type ModelDtype = 'float32' | 'int8';
export const MODEL_DTYPES: readonly ModelDtype[] = ['float32', 'int8'];

/**
 * Runtime options with the models' data type in them (`dtype=int8`): an int8 table is a different table from the
 * float one of the same device. Float tables keep their key without a dtype, so tables measured before int8 existed
 * stay valid.
 */
export function withModelDtype(options: RuntimeOptionsInput, dtype: ModelDtype): string {
  const canonical = canonicalRuntimeOptions(options);
  if (modelDtypeOf(canonical) !== 'float32') throw new ValidationError(`runtime options "${canonical}" already name a data type`);
  if (dtype === 'float32') return canonical;
  return canonicalRuntimeOptions(canonical === '' ? `dtype=${dtype}` : `${canonical};dtype=${dtype}`);
}

/** The models' data type of a table (float32 when its options name none). */
export function modelDtypeOf(runtimeOptions: string): ModelDtype {
  const pair = parsePairs(runtimeOptions).find(([key]) => key === 'dtype');
  if (!pair) return 'float32';
  const value = pair[1];
  if (!MODEL_DTYPES.includes(value as ModelDtype)) {
    throw new ValidationError(`runtime options "${runtimeOptions}": dtype "${value}" is not one of ${MODEL_DTYPES.join(', ')}`);
  }
  return value as ModelDtype;
}

export function parseModelDtype(text: string, what: string): ModelDtype {
  if (!MODEL_DTYPES.includes(text as ModelDtype)) throw new ValidationError(`${what} must be one of ${MODEL_DTYPES.join(', ')}, got "${text}"`);
  return text as ModelDtype;
}
