/**
 * Executes parsed scripts (shell-parser.ts) against the emulated device state. Output goes to a sink as
 * it is produced so the adbd layer can stream it (and cut it off for the "unplug" fault).
 */
import { createHash } from 'node:crypto';
import { baseName, FsError, hasGlobChars, normalizePath } from './memory-fs.ts';
import type { MemoryFs } from './memory-fs.ts';
import { parseScript, ShellSyntaxError } from './shell-parser.ts';
import type { AndOr, Command, CommandList, SimpleCommand, Word } from './shell-parser.ts';
import { runFakeBenchmarkModel } from './fake-benchmark-model.ts';
import type { BenchmarkFaults, ExecuteModel, OpenModel } from './fake-benchmark-model.ts';
import type { ProcessTable } from './processes.ts';

export interface DeviceState {
  fs: MemoryFs;
  properties: Map<string, string>;
  cpuCount: number;
  executeModel: ExecuteModel;
  /** When set, benchmark_model loads each model once per run with it (see OpenModel). */
  openModel?: OpenModel | undefined;
  /** When true the benchmark tool prints unparseable output (a corrupted or wrong binary). */
  garbageBenchmarkOutput: boolean;
  processes: ProcessTable;
  /** Accelerator delegates the phone's benchmark_model can create. */
  delegates: { gpu: boolean; nnapi: boolean };
  faults: BenchmarkFaults;
  /** adbd runs as root (`adb root` on a userdebug build): `id -u` prints 0 and sysfs writes are allowed. */
  rooted: boolean;
}

export type OutputSink = (fd: 1 | 2, text: string) => void;

interface CommandIo {
  args: string[];
  stdout(text: string): void;
  stderr(text: string): void;
  session: ShellSession;
}

type DeviceCommand = (io: CommandIo) => Promise<number> | number;

class ExitRequest {
  constructor(readonly status: number) {}
}

export class ShellAborted extends Error {}

const SHELL_NAME = 'sh';

/** One `shell:` session: variables, working directory and `$?` live here. */
export class ShellSession {
  private readonly variables = new Map<string, string>();
  lastStatus = 0;
  cwd = '/';
  affinity: number[] | null = null;

  constructor(
    readonly device: DeviceState,
    readonly signal: AbortSignal,
  ) {}

  /** Run a script; returns its exit status. Syntax errors print like sh and return 2. */
  async run(source: string, sink: OutputSink): Promise<number> {
    let script: CommandList;
    try {
      script = parseScript(source);
    } catch (error) {
      if (!(error instanceof ShellSyntaxError)) throw error;
      sink(2, `${SHELL_NAME}: syntax error: ${error.message}\n`);
      return (this.lastStatus = 2);
    }
    try {
      return await this.runList(script, sink);
    } catch (error) {
      if (error instanceof ExitRequest) return (this.lastStatus = error.status);
      throw error;
    }
  }

  private async runList(list: CommandList, sink: OutputSink): Promise<number> {
    for (const item of list.items) await this.runAndOr(item, sink);
    return this.lastStatus;
  }

  private async runAndOr(item: AndOr, sink: OutputSink): Promise<void> {
    this.lastStatus = await this.runCommand(item.first, sink);
    for (const { op, command } of item.rest) {
      if ((op === '&&') === (this.lastStatus === 0)) this.lastStatus = await this.runCommand(command, sink);
    }
  }

  private async runCommand(command: Command, sink: OutputSink): Promise<number> {
    if (this.signal.aborted) throw new ShellAborted('session closed');
    if (command.type === 'for') {
      const items: string[] = [];
      for (const word of command.items) items.push(...(await this.expandWord(word)));
      let status = 0;
      for (const item of items) {
        this.variables.set(command.variable, item);
        status = await this.runList(command.body, sink);
      }
      return status;
    }
    if (command.type === 'subshell') {
      const child = this.fork();
      try {
        return await child.runList(command.body, sink);
      } catch (error) {
        if (error instanceof ExitRequest) return error.status;
        throw error;
      }
    }
    return this.runSimple(command, sink);
  }

  /** A child shell with a copy of this one's state (subshells, command substitution). */
  private fork(): ShellSession {
    const child = new ShellSession(this.device, this.signal);
    child.cwd = this.cwd;
    child.affinity = this.affinity;
    child.lastStatus = this.lastStatus;
    for (const [key, value] of this.variables) child.variables.set(key, value);
    return child;
  }

  private async runSimple(command: SimpleCommand, sink: OutputSink): Promise<number> {
    const args: string[] = [];
    for (const word of command.words) args.push(...(await this.expandWord(word)));
    const routes = await this.routeOutput(command, sink);
    if (typeof routes === 'number') return routes;
    try {
      if (args.length === 0) return 0;
      return await this.execute(args, routes.write);
    } finally {
      routes.flush();
    }
  }

  /** Execute an argv (also used by `taskset` and `toybox` for the command they wrap). */
  async execute(args: string[], write: OutputSink): Promise<number> {
    const name = args[0] ?? '';
    const io: CommandIo = {
      args,
      stdout: (text) => write(1, text),
      stderr: (text) => write(2, text),
      session: this,
    };
    if (name.includes('/')) return this.executeFile(name, io);
    const builtin = COMMANDS.get(name);
    if (!builtin) {
      io.stderr(`${SHELL_NAME}: ${name}: not found\n`);
      return 127;
    }
    return builtin(io);
  }

  private async executeFile(path: string, io: CommandIo): Promise<number> {
    const node = this.device.fs.stat(normalizePath(path, this.cwd));
    if (!node) {
      io.stderr(`${SHELL_NAME}: ${path}: not found\n`);
      return 127;
    }
    if (node.kind !== 'file' || (node.perm & 0o111) === 0) {
      io.stderr(`${SHELL_NAME}: ${path}: can't execute: Permission denied\n`);
      return 126;
    }
    if (baseName(path) !== 'benchmark_model') {
      io.stderr(`${SHELL_NAME}: ${path}: can't execute: Exec format error\n`);
      return 126;
    }
    return runFakeBenchmarkModel(io.args.slice(1), {
      stdout: io.stdout,
      stderr: io.stderr,
      readFile: (file) => {
        const target = this.device.fs.stat(normalizePath(file, this.cwd));
        return target?.kind === 'file' ? target.data : undefined;
      },
      executeModel: this.device.executeModel,
      openModel: this.device.openModel,
      affinity: this.affinity,
      garbageOutput: this.device.garbageBenchmarkOutput,
      signal: this.signal,
      delegates: this.device.delegates,
      processes: this.device.processes,
      faults: this.device.faults,
    });
  }

  private async routeOutput(
    command: SimpleCommand,
    sink: OutputSink,
  ): Promise<{ write: OutputSink; flush(): void } | number> {
    const targets: Record<number, OutputSink> = { 1: (_fd, text) => sink(1, text), 2: (_fd, text) => sink(2, text) };
    const files: { path: string; append: boolean; chunks: string[] }[] = [];
    for (const redirection of command.redirections) {
      const [target = ''] = await this.expandWord(redirection.target);
      if (redirection.op === '<') continue;
      if (redirection.op === '>&') {
        const source = targets[Number(target)];
        if (!/^\d+$/.test(target) || !source) {
          sink(2, `${SHELL_NAME}: ${target}: bad file descriptor\n`);
          return 1;
        }
        targets[redirection.fd] = source;
        continue;
      }
      if (target === '/dev/null') {
        targets[redirection.fd] = () => undefined;
        continue;
      }
      const file = { path: normalizePath(target, this.cwd), append: redirection.op === '>>', chunks: [] as string[] };
      files.push(file);
      targets[redirection.fd] = (_fd, text) => void file.chunks.push(text);
    }
    return {
      write: (fd, text) => (targets[fd] ?? targets[1] ?? sink)(fd, text),
      flush: () => {
        for (const file of files) {
          const previous = file.append ? (this.device.fs.stat(file.path)?.data.toString('utf8') ?? '') : '';
          this.device.fs.writeFile(file.path, previous + file.chunks.join(''));
        }
      },
    };
  }

  /** Word expansion: parameters, command substitution, field splitting of unquoted results, globbing. */
  async expandWord(word: Word): Promise<string[]> {
    const fields: { text: string; glob: boolean }[] = [];
    let current: { text: string; glob: boolean } | undefined;
    const append = (text: string, glob: boolean): void => {
      current ??= { text: '', glob: false };
      current.text += text;
      current.glob ||= glob;
    };
    const endField = (): void => {
      if (current) fields.push(current);
      current = undefined;
    };
    for (const part of word.parts) {
      let value: string;
      if (part.kind === 'literal') {
        append(part.text, !part.quoted && hasGlobChars(part.text));
        continue;
      } else if (part.kind === 'variable') {
        value = this.variable(part.name);
      } else {
        value = (await this.substitute(part.source)).replace(/\n+$/, '');
      }
      if (part.quoted) {
        append(value, false);
        continue;
      }
      const pieces = value.split(/[ \t\n]+/);
      pieces.forEach((piece, index) => {
        if (index > 0) endField();
        if (piece !== '') append(piece, hasGlobChars(piece));
      });
    }
    endField();
    const result: string[] = [];
    for (const field of fields) {
      const matches = field.glob ? this.device.fs.glob(normalizeGlob(field.text, this.cwd)) : [];
      result.push(...(matches.length > 0 ? matches : [field.text]));
    }
    return result;
  }

  private variable(name: string): string {
    if (name === '?') return String(this.lastStatus);
    if (name === '#') return '0';
    return this.variables.get(name) ?? '';
  }

  private async substitute(source: string): Promise<string> {
    const nested = this.fork();
    let output = '';
    let stderr = '';
    const status = await nested.run(source, (fd, text) => {
      if (fd === 1) output += text;
      else stderr += text;
    });
    this.lastStatus = status;
    void stderr;
    return output;
  }
}

function normalizeGlob(pattern: string, cwd: string): string {
  return pattern.startsWith('/') ? pattern : `${cwd === '/' ? '' : cwd}/${pattern}`;
}

// ---- commands -------------------------------------------------------------------------------------

function fsMessage(error: unknown): string {
  if (error instanceof FsError) return error.message;
  throw error;
}

function resolve(io: CommandIo, path: string): string {
  return normalizePath(path, io.session.cwd);
}

function splitOptions(args: readonly string[], known: string): { flags: Set<string>; operands: string[] } {
  const flags = new Set<string>();
  const operands: string[] = [];
  let optionsDone = false;
  for (const arg of args) {
    if (!optionsDone && arg === '--') optionsDone = true;
    else if (!optionsDone && /^-[A-Za-z]+$/.test(arg) && [...arg.slice(1)].every((c) => known.includes(c))) {
      for (const c of arg.slice(1)) flags.add(c);
    } else operands.push(arg);
  }
  return { flags, operands };
}

function permString(kind: 'file' | 'dir', perm: number): string {
  const bits = 'rwxrwxrwx';
  let text = kind === 'dir' ? 'd' : '-';
  for (let i = 0; i < 9; i++) text += perm & (1 << (8 - i)) ? bits[i] : '-';
  return text;
}

function formatDate(seconds: number): string {
  const d = new Date(seconds * 1000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const range of text.trim().split(',')) {
    const [from, to] = range.split('-').map(Number);
    if (from === undefined || Number.isNaN(from)) continue;
    for (let cpu = from; cpu <= (to ?? from); cpu++) cpus.push(cpu);
  }
  return cpus;
}

function onlineCpus(io: CommandIo): number[] {
  const online = io.session.device.fs.stat('/sys/devices/system/cpu/online');
  if (online?.kind === 'file') return parseCpuList(online.data.toString('utf8'));
  return Array.from({ length: io.session.device.cpuCount }, (_, i) => i);
}

const COMMANDS = new Map<string, DeviceCommand>();

COMMANDS.set('echo', ({ args, stdout }) => {
  const noNewline = args[1] === '-n';
  stdout(args.slice(noNewline ? 2 : 1).join(' ') + (noNewline ? '' : '\n'));
  return 0;
});
COMMANDS.set('true', () => 0);
COMMANDS.set('false', () => 1);
COMMANDS.set('exit', ({ args }) => {
  throw new ExitRequest(args[1] === undefined ? 0 : Number(args[1]) & 0xff);
});
COMMANDS.set('cd', (io) => {
  const target = resolve(io, io.args[1] ?? '/');
  if (io.session.device.fs.stat(target)?.kind !== 'dir') {
    io.stderr(`${SHELL_NAME}: cd: ${io.args[1]}: No such file or directory\n`);
    return 2;
  }
  io.session.cwd = target;
  return 0;
});

COMMANDS.set('sleep', async (io) => {
  const seconds = Number(io.args[1]);
  if (io.args.length !== 2 || !Number.isFinite(seconds) || seconds < 0) {
    io.stderr(`sleep: bad duration '${io.args[1] ?? ''}'\n`);
    return 1;
  }
  await new Promise<void>((resolveSleep, reject) => {
    const timer = setTimeout(resolveSleep, seconds * 1000);
    io.session.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new ShellAborted('session closed'));
    });
  });
  return 0;
});

COMMANDS.set('getprop', ({ args, stdout, session }) => {
  const properties = session.device.properties;
  if (args.length === 1) {
    for (const key of [...properties.keys()].sort()) stdout(`[${key}]: [${properties.get(key)}]\n`);
  } else stdout(`${properties.get(args[1] ?? '') ?? args[2] ?? ''}\n`);
  return 0;
});

COMMANDS.set('cat', (io) => {
  let status = 0;
  for (const path of io.args.slice(1)) {
    try {
      io.stdout(io.session.device.fs.readFile(resolve(io, path)).toString('utf8'));
    } catch (error) {
      io.stderr(`cat: ${fsMessage(error).replace(/^[^:]*/, path)}\n`);
      status = 1;
    }
  }
  return status;
});

COMMANDS.set('grep', (io) => {
  const { flags, operands } = splitOptions(io.args.slice(1), 'qhH');
  const [pattern, ...files] = operands;
  if (pattern === undefined) {
    io.stderr('grep: no pattern\n');
    return 2;
  }
  const regex = new RegExp(pattern);
  const prefix = (files.length > 1 || flags.has('H')) && !flags.has('h');
  let matched = false;
  let error = false;
  for (const file of files) {
    let text: string;
    try {
      text = io.session.device.fs.readFile(resolve(io, file)).toString('utf8');
    } catch (caught) {
      io.stderr(`grep: ${fsMessage(caught).replace(/^[^:]*/, file)}\n`);
      error = true;
      continue;
    }
    for (const line of text.split('\n').filter((l, i, all) => i < all.length - 1 || l !== '')) {
      if (!regex.test(line)) continue;
      matched = true;
      if (!flags.has('q')) io.stdout(prefix ? `${file}:${line}\n` : `${line}\n`);
    }
  }
  return error ? 2 : matched ? 0 : 1;
});

COMMANDS.set('sha256sum', (io) => {
  let status = 0;
  for (const path of io.args.slice(1)) {
    try {
      const data = io.session.device.fs.readFile(resolve(io, path));
      io.stdout(`${createHash('sha256').update(data).digest('hex')}  ${path}\n`);
    } catch (error) {
      io.stderr(`sha256sum: ${fsMessage(error).replace(/^[^:]*/, path)}\n`);
      status = 1;
    }
  }
  return status;
});

COMMANDS.set('nproc', (io) => {
  io.stdout(`${io.session.affinity?.length ?? onlineCpus(io).length}\n`);
  return 0;
});

COMMANDS.set('ls', (io) => {
  const { flags, operands } = splitOptions(io.args.slice(1), 'la1');
  const fs = io.session.device.fs;
  let status = 0;
  const line = (name: string, path: string): string => {
    const node = fs.stat(path);
    if (!node || !flags.has('l')) return `${name}\n`;
    const size = node.kind === 'dir' ? 4096 : node.data.length;
    return `${permString(node.kind, node.perm)} 1 shell shell ${size} ${formatDate(node.mtimeSec)} ${name}\n`;
  };
  for (const operand of operands.length > 0 ? operands : ['.']) {
    const path = resolve(io, operand);
    const node = fs.stat(path);
    if (!node) {
      io.stderr(`ls: ${operand}: No such file or directory\n`);
      status = 1;
    } else if (node.kind === 'file') io.stdout(line(operand, path));
    else {
      if (flags.has('l')) io.stdout(`total ${fs.list(path).length}\n`);
      for (const name of fs.list(path)) io.stdout(line(name, `${path === '/' ? '' : path}/${name}`));
    }
  }
  return status;
});

COMMANDS.set('stat', (io) => {
  const args = io.args.slice(1);
  let format = '  File: %n\n  Size: %s\nAccess: (0%a/%A)\n';
  if (args[0] === '-c') {
    format = `${args[1] ?? ''}\n`;
    args.splice(0, 2);
  }
  let status = 0;
  for (const operand of args) {
    const node = io.session.device.fs.stat(resolve(io, operand));
    if (!node) {
      io.stderr(`stat: '${operand}': No such file or directory\n`);
      status = 1;
      continue;
    }
    io.stdout(
      format.replace(/%([anAsFY%])/g, (_all, code: string) => {
        switch (code) {
          case 'a':
            return node.perm.toString(8);
          case 'A':
            return permString(node.kind, node.perm);
          case 'n':
            return operand;
          case 's':
            return String(node.kind === 'dir' ? 4096 : node.data.length);
          case 'F':
            return node.kind === 'dir' ? 'directory' : 'regular file';
          case 'Y':
            return String(node.mtimeSec);
          default:
            return '%';
        }
      }),
    );
  }
  return status;
});

COMMANDS.set('chmod', (io) => {
  const [mode, ...paths] = io.args.slice(1);
  if (mode === undefined || !/^[0-7]{1,4}$/.test(mode) || paths.length === 0) {
    io.stderr(`chmod: bad mode '${mode ?? ''}'\n`);
    return 1;
  }
  let status = 0;
  for (const path of paths) {
    try {
      io.session.device.fs.chmod(resolve(io, path), parseInt(mode, 8));
    } catch (error) {
      io.stderr(`chmod: ${fsMessage(error).replace(/^[^:]*/, path)}\n`);
      status = 1;
    }
  }
  return status;
});

COMMANDS.set('mkdir', (io) => {
  const { flags, operands } = splitOptions(io.args.slice(1), 'p');
  let status = 0;
  for (const path of operands) {
    try {
      io.session.device.fs.mkdir(resolve(io, path), { parents: flags.has('p') });
    } catch (error) {
      io.stderr(`mkdir: ${fsMessage(error).replace(/^[^:]*/, path)}\n`);
      status = 1;
    }
  }
  return status;
});

COMMANDS.set('rm', (io) => {
  const { flags, operands } = splitOptions(io.args.slice(1), 'rfR');
  let status = 0;
  for (const path of operands) {
    try {
      io.session.device.fs.remove(resolve(io, path), { recursive: flags.has('r') || flags.has('R') });
    } catch (error) {
      if (error instanceof FsError && error.code === 'ENOENT' && flags.has('f')) continue;
      io.stderr(`rm: ${fsMessage(error).replace(/^[^:]*/, path)}\n`);
      status = 1;
    }
  }
  return status;
});

COMMANDS.set('touch', (io) => {
  let status = 0;
  for (const path of io.args.slice(1)) {
    const target = resolve(io, path);
    try {
      const node = io.session.device.fs.stat(target);
      if (node) node.mtimeSec = Math.floor(Date.now() / 1000);
      else io.session.device.fs.writeFile(target, '');
    } catch (error) {
      io.stderr(`touch: ${fsMessage(error).replace(/^[^:]*/, path)}\n`);
      status = 1;
    }
  }
  return status;
});

COMMANDS.set('mv', (io) => {
  const [from, to] = io.args.slice(1);
  if (from === undefined || to === undefined) {
    io.stderr('mv: needs 2 arguments\n');
    return 1;
  }
  try {
    io.session.device.fs.rename(resolve(io, from), resolve(io, to));
    return 0;
  } catch (error) {
    io.stderr(`mv: ${fsMessage(error).replace(/^[^:]*/, from)}\n`);
    return 1;
  }
});

COMMANDS.set('taskset', async (io) => {
  const [mask, ...command] = io.args.slice(1);
  if (mask === undefined || !/^(0x)?[0-9a-fA-F]+$/.test(mask)) {
    io.stderr(`taskset: bad mask '${mask ?? ''}'\n`);
    return 1;
  }
  const value = BigInt(`0x${mask.replace(/^0x/, '')}`);
  const online = onlineCpus(io);
  const cpus = online.filter((cpu) => (value >> BigInt(cpu)) & 1n);
  if (cpus.length === 0) {
    io.stderr('taskset: sched_setaffinity: Invalid argument\n');
    return 1;
  }
  if (command.length === 0) {
    io.stderr('taskset: needs a command or -p PID\n');
    return 1;
  }
  const previous = io.session.affinity;
  io.session.affinity = cpus;
  try {
    return await io.session.execute(command, (fd, text) => (fd === 1 ? io.stdout(text) : io.stderr(text)));
  } finally {
    io.session.affinity = previous;
  }
});

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, KILL: 9, TERM: 15 };

COMMANDS.set('pkill', (io) => {
  let signal = 15;
  let full = false;
  const operands: string[] = [];
  for (const arg of io.args.slice(1)) {
    if (arg === '-f') full = true;
    else if (/^-\d+$/.test(arg)) signal = Number(arg.slice(1));
    else if (/^-[A-Z]+$/.test(arg) && SIGNALS[arg.slice(1)] !== undefined) signal = SIGNALS[arg.slice(1)] as number;
    else operands.push(arg);
  }
  const [pattern] = operands;
  if (pattern === undefined || operands.length > 1) {
    io.stderr('pkill: needs 1 pattern\n');
    return 2;
  }
  let regex: RegExp;
  try {
    regex = new RegExp(full ? pattern : `^${pattern}`);
  } catch {
    io.stderr(`pkill: bad regex '${pattern}'\n`);
    return 2;
  }
  // Without -f the pattern matches the process name (here: the path's base name).
  const matcher = full ? regex : { test: (line: string) => regex.test(baseName(line.split(' ')[0] ?? '')) };
  return io.session.device.processes.kill(matcher as RegExp, signal) > 0 ? 0 : 1;
});

COMMANDS.set('id', (io) => {
  const root = io.session.device.rooted;
  if (io.args[1] === '-u') io.stdout(`${root ? 0 : 2000}\n`);
  else io.stdout(root ? 'uid=0(root) gid=0(root)\n' : 'uid=2000(shell) gid=2000(shell)\n');
  return 0;
});

const TOYBOX_APPLETS = ['pkill', 'id', 'cat', 'grep', 'sha256sum', 'nproc', 'ls', 'stat', 'chmod', 'mkdir', 'rm', 'touch', 'mv', 'taskset', 'sleep', 'echo', 'true', 'false', 'getprop'];

COMMANDS.set('toybox', (io) => {
  const applet = io.args[1];
  if (applet === undefined || !TOYBOX_APPLETS.includes(applet)) {
    io.stderr(`toybox: Unknown command ${applet ?? ''}\n`);
    return 1;
  }
  return io.session.execute(io.args.slice(1), (fd, text) => (fd === 1 ? io.stdout(text) : io.stderr(text)));
});

function testExpression(io: CommandIo, args: string[]): boolean | undefined {
  const fs = io.session.device.fs;
  if (args.length === 1) return (args[0] ?? '') !== '';
  if (args.length === 2) {
    const [op, operand = ''] = args;
    const node = fs.stat(resolve(io, operand));
    switch (op) {
      case '-e':
        return node !== undefined;
      case '-f':
        return node?.kind === 'file';
      case '-d':
        return node?.kind === 'dir';
      case '-x':
        return node !== undefined && (node.perm & 0o111) !== 0;
      case '-s':
        return node?.kind === 'file' && node.data.length > 0;
      case '-n':
        return operand !== '';
      case '-z':
        return operand === '';
      case '!':
        return operand === '';
    }
    return undefined;
  }
  if (args.length === 3) {
    const [left = '', op, right = ''] = args;
    if (op === '=') return left === right;
    if (op === '!=') return left !== right;
    if (op === '-eq') return Number(left) === Number(right);
    if (op === '-ne') return Number(left) !== Number(right);
  }
  return undefined;
}

const runTest: DeviceCommand = (io) => {
  const args = io.args.slice(1);
  if (io.args[0] === '[') {
    if (args.pop() !== ']') {
      io.stderr('[: missing ]\n');
      return 2;
    }
  }
  const result = testExpression(io, args);
  if (result === undefined) {
    io.stderr(`${io.args[0]}: unsupported expression\n`);
    return 2;
  }
  return result ? 0 : 1;
};
COMMANDS.set('test', runTest);
COMMANDS.set('[', runTest);
