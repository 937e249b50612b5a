// Bytes in chunks → complete lines, as byte ranges, holding at most one
// partial line between chunks. Nothing is decoded here: on txiki.js
// (QuickJS, no JIT) decoding a 16 MB table to text alone costs ten times
// reading it, so lines stay bytes until the classifier wants one.

/** A conntrack line is a few hundred bytes; anything this long is garbage. */
export const MAX_LINE = 4096;

/** Receives one line: bytes[start, end), without the newline. */
export type OnLine = (bytes: Uint8Array, start: number, end: number) => void;

/** Takes lines one by one (those that crossed a chunk boundary) or a whole
 * run of complete lines at once: bytes[from, to), every line ending with
 * its newline, none of them checked against MAX_LINE yet. */
export interface LineSink {
  bytes: OnLine;
  block(bytes: Uint8Array, from: number, to: number): void;
}

const NL = 10;

export class LineSplitter {
  /** The unfinished line at the end of the last chunk. */
  private carry: Uint8Array | null = null;
  /** The unfinished line is already too long: drop it when it ends. */
  private overlong = false;
  /** Lines dropped because they grew past MAX_LINE. */
  dropped = 0;

  push(chunk: Uint8Array, onLine: OnLine): void {
    let start = 0;
    let nl = chunk.indexOf(NL);

    if (this.carry !== null || this.overlong) {
      if (nl < 0) return this.keep(chunk, 0);
      this.finish(chunk.subarray(0, nl), onLine);
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    while (nl >= 0) {
      if (nl - start > MAX_LINE) this.dropped++;
      else onLine(chunk, start, nl);
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    if (start < chunk.length) this.keep(chunk, start);
  }

  /** Like push, but the complete lines inside the chunk go to the sink in
   * one piece: on txiki.js a call per line costs as much as reading it. */
  pushBlock(chunk: Uint8Array, sink: LineSink): void {
    let start = 0;

    if (this.carry !== null || this.overlong) {
      const nl = chunk.indexOf(NL);

      if (nl < 0) return this.keep(chunk, 0);
      // The line that crossed the boundary, with its newline: a block of one.
      this.finish(chunk.subarray(0, nl + 1), (b, from, to) => sink.block(b, from, to));
      start = nl + 1;
    }

    const last = chunk.lastIndexOf(NL);

    if (last >= start) {
      sink.block(chunk, start, last + 1);
      start = last + 1;
    }
    if (start < chunk.length) this.keep(chunk, start);
  }

  /** The last line when the input does not end with a newline. */
  end(onLine: OnLine): void {
    this.finish(new Uint8Array(0), onLine);
  }

  /** Ends the carried line with `head`. */
  private finish(head: Uint8Array, onLine: OnLine): void {
    const carry = this.carry;

    this.carry = null;
    // (pushBlock hands the newline over too: it does not count)
    if (this.overlong || (carry?.length ?? 0) + head.length > MAX_LINE + (head[head.length - 1] === NL ? 1 : 0)) {
      if (this.overlong || carry !== null || head.length > 0) this.dropped++;
    } else if (carry !== null) {
      const line = new Uint8Array(carry.length + head.length);

      line.set(carry);
      line.set(head, carry.length);
      onLine(line, 0, line.length);
    }
    this.overlong = false;
  }

  private keep(chunk: Uint8Array, from: number): void {
    const have = this.carry?.length ?? 0;
    const length = have + chunk.length - from;

    if (this.overlong || length > MAX_LINE) {
      this.overlong = true;
      this.carry = null;

      return;
    }

    const next = new Uint8Array(length);

    if (this.carry !== null) next.set(this.carry);
    next.set(chunk.subarray(from), have);
    this.carry = next;
  }
}
