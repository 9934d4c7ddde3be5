/**
 * Minimal RFC 4180 CSV: comma separated, CRLF or LF line ends, fields quoted with `"` (a quote inside a quoted field
 * is doubled). Text fields are always quoted on output, because layer signatures contain `;` and `=` (a
 * semicolon-separated spreadsheet locale would otherwise split them) and fingerprints contain commas and quotes.
 */

export type CsvCell = string | number | null;

/** One CSV line (no line end). Numbers are written unquoted in their shortest exact form; null is an empty field. */
export function csvLine(cells: readonly CsvCell[]): string {
  return cells.map(csvCell).join(',');
}

function csvCell(cell: CsvCell): string {
  if (cell === null) return '';
  if (typeof cell === 'number') return String(cell);
  return `"${cell.replaceAll('"', '""')}"`;
}

export interface CsvRecord {
  /** 1-based line number where the record starts (for error messages). */
  readonly line: number;
  readonly cells: string[];
}

/** Parses CSV text into records; throws `CsvSyntaxError` with the line number on malformed quoting. */
export function parseCsv(text: string): CsvRecord[] {
  const input = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let cells: string[] = [];
  let cell = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  let atCellStart = true;
  const endCell = (): void => {
    cells.push(cell);
    cell = '';
    atCellStart = true;
  };
  const endRecord = (): void => {
    endCell();
    // A blank line is not a record.
    if (!(cells.length === 1 && cells[0] === '')) records.push({ line: recordLine, cells });
    cells = [];
  };
  while (i < input.length) {
    const ch = input[i] as string;
    if (atCellStart && ch === '"') {
      const start = line;
      i++;
      for (;;) {
        if (i >= input.length) throw new CsvSyntaxError(`a quoted field that starts on line ${start} is never closed`);
        const q = input[i] as string;
        if (q === '"') {
          if (input[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (q === '\n') line++;
        cell += q;
        i++;
      }
      const next = input[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        throw new CsvSyntaxError(`line ${line}: unexpected text after a closing quote`);
      }
      atCellStart = false;
      continue;
    }
    if (ch === ',') {
      endCell();
      i++;
    } else if (ch === '\r' || ch === '\n') {
      endRecord();
      i += ch === '\r' && input[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
    } else {
      if (ch === '"') throw new CsvSyntaxError(`line ${line}: a quote inside an unquoted field`);
      cell += ch;
      atCellStart = false;
      i++;
    }
  }
  if (cell !== '' || cells.length > 0) endRecord();
  return records;
}

export class CsvSyntaxError extends Error {}
