import { StringDecoder } from 'node:string_decoder';

/** QEMU's reply to `query-qmp-schema` runs to a few hundred KB; a line near this is a broken peer. */
export const DEFAULT_MAX_LINE_LENGTH = 16 * 1024 * 1024;

export class LineTooLongError extends Error {
  override readonly name = 'LineTooLongError';
  constructor(readonly limit: number) {
    super(`a QMP line exceeded ${limit} characters without a newline`);
  }
}

/**
 * Splits a byte stream into lines ending in `\n` (a trailing `\r` is dropped, empty lines are skipped).
 * A partial line is held until its newline arrives and is never emitted on its own: at EOF it is lost,
 * as it should be, because QEMU always ends a message with a newline. Unlike `node:readline`, which
 * hands out the unterminated tail at close, this never turns half a JSON object into a "line".
 */
export class LineReader {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(private readonly maxLineLength = DEFAULT_MAX_LINE_LENGTH) {}

  /** Feed a chunk; returns the complete lines it finished. Throws LineTooLongError past the limit. */
  push(chunk: Buffer | string): string[] {
    const text = this.partial + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const pieces = text.split('\n');
    this.partial = pieces.pop() ?? '';
    if (this.partial.length > this.maxLineLength) {
      this.partial = '';
      throw new LineTooLongError(this.maxLineLength);
    }
    const lines: string[] = [];
    for (const piece of pieces) {
      const line = piece.endsWith('\r') ? piece.slice(0, -1) : piece;
      if (line.trim() !== '') lines.push(line);
    }
    return lines;
  }

  /** The unterminated tail, for logging at EOF. */
  get pending(): string {
    return this.partial;
  }
}
