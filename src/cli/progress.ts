// A one-line progress bar on a terminal (redrawn in place); on a pipe or in CI, a plain line every 10 %.

export class ProgressBar {
  private readonly tty: boolean;
  private lastDecile = -1;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(stream.isTTY);
  }

  update(label: string, done: number, total: number, detail: string): void {
    const fraction = total > 0 ? done / total : 1;
    if (this.tty) {
      const width = 24;
      const filled = Math.round(fraction * width);
      this.stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(fraction * 100)}% ${detail}\x1b[K`);
      return;
    }
    const decile = Math.floor(fraction * 10);
    if (decile > this.lastDecile && decile < 10) {
      this.lastDecile = decile;
      this.stream.write(`${label} ${String(decile * 10).padStart(3)}% ${detail}\n`);
    }
  }

  done(): void {
    if (this.tty) this.stream.write('\r\x1b[K');
    this.lastDecile = -1;
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const whole = Math.round(s); // rounded first: 179.6 s is 3m00s, not 2m60s
  if (whole < 60) return `${whole}s`;
  return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
}

/** A count and its noun, singular for one: "1 epoch", "3 epochs", "60,000 images" (with `format`). */
export function counted(count: number, noun: string, format: (n: number) => string = String): string {
  return `${format(count)} ${count === 1 ? noun : `${noun}s`}`;
}
