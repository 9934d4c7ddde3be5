/** A one-line progress bar on stderr (rewritten with \r on a terminal, a line every few seconds otherwise). */
export class ProgressLine {
  private lastPrinted = 0;
  private active = false;
  private readonly tty = process.stderr.isTTY === true;

  /** `important`: print even when the last line was printed moments ago (e.g. a model that is taking long). */
  update(done: number, total: number, label: string, etaSec: number | null = null, important = false): void {
    const now = Date.now();
    const finished = done >= total;
    if (!this.tty && !finished && !important && now - this.lastPrinted < 5000) return;
    if (this.tty && !finished && now - this.lastPrinted < 100) return;
    this.lastPrinted = now;
    const width = 24;
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const bar = '#'.repeat(Math.round(fraction * width)).padEnd(width, '.');
    const eta = etaSec === null || !Number.isFinite(etaSec) ? '' : ` ETA ${formatDuration(etaSec)}`;
    const text = `[${bar}] ${done}/${total} ${label}${eta}`;
    if (this.tty) {
      process.stderr.write(`\r${text}\x1b[K`);
      this.active = true;
    } else {
      process.stderr.write(`${text}\n`);
    }
  }

  done(): void {
    if (this.active) process.stderr.write('\n');
    this.active = false;
  }
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
