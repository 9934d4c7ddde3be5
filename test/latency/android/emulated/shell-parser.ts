/**
 * Parser for the small subset of POSIX sh that the profiler sends to a device: simple commands with
 * single/double quotes, backslash escapes, `$name`/`${name}`/`$?`, `$(…)` and backtick substitution,
 * redirections (`>`, `>>`, `2>&1`, `N>file`), `;`/newline, `&&`, `||` and `for NAME in WORDS; do LIST; done`.
 * Anything else (pipes, background jobs, subshells, if/while) is a syntax error, not a silent guess.
 */
export type WordPart =
  | { kind: 'literal'; text: string; quoted: boolean }
  | { kind: 'variable'; name: string; quoted: boolean }
  | { kind: 'substitution'; source: string; quoted: boolean };

export interface Word {
  parts: WordPart[];
}

export interface Redirection {
  fd: number;
  op: '>' | '>>' | '<' | '>&';
  target: Word;
}

export interface SimpleCommand {
  type: 'simple';
  words: Word[];
  redirections: Redirection[];
}

export interface ForLoop {
  type: 'for';
  variable: string;
  items: Word[];
  body: CommandList;
}

export interface Subshell {
  type: 'subshell';
  body: CommandList;
}

export type Command = SimpleCommand | ForLoop | Subshell;

export interface AndOr {
  first: Command;
  rest: { op: '&&' | '||'; command: Command }[];
}

export interface CommandList {
  items: AndOr[];
}

export class ShellSyntaxError extends Error {}

type Token =
  | { type: 'word'; word: Word; raw: string }
  | { type: 'op'; value: ';' | '&&' | '||' | '\n' | '(' | ')' }
  | { type: 'redirect'; fd: number; op: Redirection['op'] }
  | { type: 'eof' };

const UNSUPPORTED_OPERATORS = new Set(['|', '&']);

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i] as string;
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '\n' || ch === ';' || ch === '(' || ch === ')') {
      tokens.push({ type: 'op', value: ch });
      i++;
      continue;
    }
    if (source.startsWith('&&', i) || source.startsWith('||', i)) {
      tokens.push({ type: 'op', value: source.slice(i, i + 2) as '&&' | '||' });
      i += 2;
      continue;
    }
    if (ch === '#') {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    if (UNSUPPORTED_OPERATORS.has(ch)) {
      throw new ShellSyntaxError(`'${ch}' is not supported by the emulated shell`);
    }
    const redirect = /^(\d*)(>>|>&|>|<)/.exec(source.slice(i));
    if (redirect) {
      const [all, digits = '', op = '>'] = redirect;
      tokens.push({ type: 'redirect', fd: digits === '' ? (op === '<' ? 0 : 1) : Number(digits), op: op as Redirection['op'] });
      i += all.length;
      continue;
    }
    const { word, end } = readWord(source, i);
    tokens.push({ type: 'word', word, raw: source.slice(i, end) });
    i = end;
  }
  tokens.push({ type: 'eof' });
  return tokens;
}

function isWordEnd(ch: string): boolean {
  return ' \t\r\n;&|<>()'.includes(ch);
}

function readWord(source: string, start: number): { word: Word; end: number } {
  const parts: WordPart[] = [];
  const literal = (text: string, quoted: boolean): void => {
    const last = parts[parts.length - 1];
    if (last?.kind === 'literal' && last.quoted === quoted) last.text += text;
    else parts.push({ kind: 'literal', text, quoted });
  };
  let i = start;
  while (i < source.length && !isWordEnd(source[i] as string)) {
    const ch = source[i] as string;
    if (ch === "'") {
      const close = source.indexOf("'", i + 1);
      if (close === -1) throw new ShellSyntaxError('unterminated single quote');
      literal(source.slice(i + 1, close), true);
      i = close + 1;
    } else if (ch === '"') {
      i = readDoubleQuoted(source, i + 1, parts, literal);
    } else if (ch === '\\') {
      if (i + 1 >= source.length) throw new ShellSyntaxError('backslash at end of input');
      if (source[i + 1] !== '\n') literal(source[i + 1] as string, true);
      i += 2;
    } else if (ch === '$' || ch === '`') {
      const expansion = readExpansion(source, i, false);
      if (expansion) {
        parts.push(expansion.part);
        i = expansion.end;
      } else {
        literal('$', false);
        i++;
      }
    } else {
      literal(ch, false);
      i++;
    }
  }
  return { word: { parts: parts.filter((p) => !(p.kind === 'literal' && p.text === '' && !p.quoted)) }, end: i };
}

function readDoubleQuoted(
  source: string,
  start: number,
  parts: WordPart[],
  literal: (text: string, quoted: boolean) => void,
): number {
  let i = start;
  literal('', true);
  while (i < source.length) {
    const ch = source[i] as string;
    if (ch === '"') return i + 1;
    if (ch === '\\' && i + 1 < source.length && '$`"\\\n'.includes(source[i + 1] as string)) {
      if (source[i + 1] !== '\n') literal(source[i + 1] as string, true);
      i += 2;
    } else if (ch === '$' || ch === '`') {
      const expansion = readExpansion(source, i, true);
      if (expansion) {
        parts.push(expansion.part);
        i = expansion.end;
      } else {
        literal('$', true);
        i++;
      }
    } else {
      literal(ch, true);
      i++;
    }
  }
  throw new ShellSyntaxError('unterminated double quote');
}

function readExpansion(source: string, start: number, quoted: boolean): { part: WordPart; end: number } | undefined {
  if (source[start] === '`') {
    let i = start + 1;
    let inner = '';
    while (i < source.length && source[i] !== '`') {
      if (source[i] === '\\' && i + 1 < source.length && '$`\\'.includes(source[i + 1] as string)) {
        inner += source[i + 1];
        i += 2;
      } else inner += source[i++];
    }
    if (i >= source.length) throw new ShellSyntaxError('unterminated backquote');
    return { part: { kind: 'substitution', source: inner, quoted }, end: i + 1 };
  }
  const next = source[start + 1];
  if (next === '(') {
    const end = findClosingParen(source, start + 2);
    return { part: { kind: 'substitution', source: source.slice(start + 2, end), quoted }, end: end + 1 };
  }
  if (next === '{') {
    const close = source.indexOf('}', start + 2);
    const name = close === -1 ? '' : source.slice(start + 2, close);
    if (!/^([A-Za-z_][A-Za-z0-9_]*|\?|#|[0-9])$/.test(name)) throw new ShellSyntaxError(`bad substitution: \${${name}`);
    return { part: { kind: 'variable', name, quoted }, end: close + 1 };
  }
  if (next === '?' || next === '#' || (next !== undefined && /[0-9]/.test(next))) {
    return { part: { kind: 'variable', name: next, quoted }, end: start + 2 };
  }
  const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(start + 1))?.[0];
  if (name) return { part: { kind: 'variable', name, quoted }, end: start + 1 + name.length };
  return undefined;
}

/** Index of the `)` closing a `$(` whose body starts at `start`, skipping quoted text and nested `$(`. */
function findClosingParen(source: string, start: number): number {
  let depth = 1;
  let i = start;
  while (i < source.length) {
    const ch = source[i];
    if (ch === "'") {
      const close = source.indexOf("'", i + 1);
      if (close === -1) break;
      i = close + 1;
      continue;
    }
    if (ch === '"') {
      i++;
      while (i < source.length && source[i] !== '"') i += source[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (ch === '\\') {
      i += 2;
      continue;
    }
    if (ch === '(') depth++;
    if (ch === ')' && --depth === 0) return i;
    i++;
  }
  throw new ShellSyntaxError('unterminated $(');
}

/** The literal text of a word if it has no quotes or expansions (used to recognize keywords). */
function bareText(word: Word): string | undefined {
  if (word.parts.length !== 1) return undefined;
  const part = word.parts[0];
  return part?.kind === 'literal' && !part.quoted ? part.text : undefined;
}

export function parseScript(source: string): CommandList {
  const parser = new Parser(tokenize(source));
  const list = parser.parseList(new Set());
  parser.expectEnd();
  return list;
}

class Parser {
  private position = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.position] ?? { type: 'eof' };
  }

  private next(): Token {
    const token = this.peek();
    this.position++;
    return token;
  }

  private peekKeyword(): string | undefined {
    const token = this.peek();
    return token.type === 'word' ? bareText(token.word) : undefined;
  }

  private skipSeparators(): void {
    while (this.peek().type === 'op' && ['\n', ';'].includes((this.peek() as { value: string }).value)) this.position++;
  }

  expectEnd(): void {
    const token = this.peek();
    if (token.type !== 'eof') throw new ShellSyntaxError(`unexpected ${describe(token)}`);
  }

  parseList(terminators: Set<string>): CommandList {
    const items: AndOr[] = [];
    this.skipNewlines();
    while (true) {
      const token = this.peek();
      if (token.type === 'eof') break;
      const keyword = this.peekKeyword();
      if (keyword !== undefined && terminators.has(keyword)) break;
      if (token.type === 'op' && token.value === ')' && terminators.has(')')) break;
      items.push(this.parseAndOr());
      const separator = this.peek();
      if (separator.type === 'op' && (separator.value === ';' || separator.value === '\n')) {
        this.position++;
        this.skipNewlines();
        continue;
      }
      break;
    }
    return { items };
  }

  private skipNewlines(): void {
    while (this.peek().type === 'op' && (this.peek() as { value: string }).value === '\n') this.position++;
  }

  private parseAndOr(): AndOr {
    const first = this.parseCommand();
    const rest: AndOr['rest'] = [];
    while (true) {
      const token = this.peek();
      if (token.type === 'op' && (token.value === '&&' || token.value === '||')) {
        this.position++;
        this.skipNewlines();
        rest.push({ op: token.value, command: this.parseCommand() });
      } else break;
    }
    return { first, rest };
  }

  private parseCommand(): Command {
    if (this.peekKeyword() === 'for') return this.parseFor();
    const open = this.peek();
    if (open.type === 'op' && open.value === '(') {
      this.position++;
      const body = this.parseList(new Set([')']));
      const close = this.next();
      if (close.type !== 'op' || close.value !== ')') throw new ShellSyntaxError("expected ')'");
      if (body.items.length === 0) throw new ShellSyntaxError('empty subshell');
      return { type: 'subshell', body };
    }
    const words: Word[] = [];
    const redirections: Redirection[] = [];
    while (true) {
      const token = this.peek();
      if (token.type === 'word') {
        const keyword = bareText(token.word);
        if (words.length === 0 && keyword !== undefined && ['do', 'done', 'in', 'then', 'fi'].includes(keyword)) {
          throw new ShellSyntaxError(`unexpected '${keyword}'`);
        }
        words.push(token.word);
        this.position++;
      } else if (token.type === 'redirect') {
        this.position++;
        const target = this.next();
        if (target.type !== 'word') throw new ShellSyntaxError('redirection without a target');
        redirections.push({ fd: token.fd, op: token.op, target: target.word });
      } else break;
    }
    if (words.length === 0 && redirections.length === 0) {
      throw new ShellSyntaxError(`unexpected ${describe(this.peek())}`);
    }
    return { type: 'simple', words, redirections };
  }

  private parseFor(): ForLoop {
    this.position++;
    const nameToken = this.next();
    const variable = nameToken.type === 'word' ? bareText(nameToken.word) : undefined;
    if (!variable || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) throw new ShellSyntaxError('bad for loop variable');
    if (this.peekKeyword() !== 'in') throw new ShellSyntaxError("expected 'in' in for loop");
    this.position++;
    const items: Word[] = [];
    while (this.peek().type === 'word') items.push((this.next() as { word: Word }).word);
    this.skipSeparators();
    if (this.peekKeyword() !== 'do') throw new ShellSyntaxError("expected 'do' in for loop");
    this.position++;
    const body = this.parseList(new Set(['done']));
    if (this.peekKeyword() !== 'done') throw new ShellSyntaxError("expected 'done' to close the for loop");
    this.position++;
    return { type: 'for', variable, items, body };
  }
}

function describe(token: Token): string {
  switch (token.type) {
    case 'eof':
      return 'end of input';
    case 'op':
      return token.value === '\n' ? 'newline' : `'${token.value}'`;
    case 'redirect':
      return `'${token.op}'`;
    case 'word':
      return `'${token.raw}'`;
  }
}
