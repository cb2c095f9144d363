import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { StructuredPatch, formatPatch } from 'diff';
import { Worker } from 'node:worker_threads';

/** A body diff: a line diff, or (when that would cost too much) the whole body replaced. */
export interface BodyDiff {
  patch: string;
  kind: 'lines' | 'whole';
}

/**
 * Myers' diff costs about the square of the number of changed lines: two unrelated 10,000-line bodies
 * took 14 s. It runs in a worker thread, so that the event loop keeps answering, and gives up past
 * these bounds for a whole-body replacement.
 */
export const MAX_EDIT_LENGTH = 1000;
export const DIFF_TIMEOUT_MS = 500;
/** Diffs waiting for the worker beyond this many are answered as whole-body replacements at once. */
export const MAX_QUEUED_DIFFS = 8;

// Plain JavaScript, evaluated as the worker's script: the same code whether this file runs compiled or under ts-jest.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPatch } = require(workerData.diffModule);
// On Linux a nice value is a thread's own: this thread yields the CPU to the event loop's.
if (process.platform === 'linux') {
  try {
    require('node:os').setPriority(0, 10);
  } catch {}
}
parentPort.on('message', ({ id, before, after, fromHeader, toHeader }) => {
  let patch;
  try {
    patch = createPatch('body', before, after, fromHeader, toHeader, { maxEditLength: workerData.maxEditLength, timeout: workerData.timeout });
  } catch {
    patch = undefined;
  }
  parentPort.postMessage({ id, patch: patch === undefined ? null : patch });
});
`;

/** The unified diff that removes every line of `before` and adds every line of `after`, as `diff` would print it. */
export function wholeBodyPatch(before: string, after: string, fromHeader: string, toHeader: string): string {
  const side = (text: string, sign: string) => {
    const lines = text.split('\n');
    const ends = lines[lines.length - 1] === '';
    if (ends) lines.pop();
    return { lines: [...lines.map((l) => sign + l), ...(ends ? [] : ['\\ No newline at end of file'])], count: lines.length };
  };
  const a = side(before, '-');
  const b = side(after, '+');
  const patch: StructuredPatch = {
    oldFileName: 'body',
    newFileName: 'body',
    oldHeader: fromHeader,
    newHeader: toHeader,
    hunks: [{ oldStart: a.count ? 1 : 0, oldLines: a.count, newStart: b.count ? 1 : 0, newLines: b.count, lines: [...a.lines, ...b.lines] }],
  };
  return formatPatch(patch);
}

/** Computes body diffs off the event loop, one at a time, in one worker thread started on first use. */
@Injectable()
export class BodyDiffer implements OnModuleDestroy {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, (patch: string | null) => void>();

  async diff(before: string, after: string, fromHeader: string, toHeader: string): Promise<BodyDiff> {
    const patch = this.pending.size >= MAX_QUEUED_DIFFS ? null : await this.inWorker(before, after, fromHeader, toHeader);
    return patch === null ? { patch: wholeBodyPatch(before, after, fromHeader, toHeader), kind: 'whole' } : { patch, kind: 'lines' };
  }

  private inWorker(before: string, after: string, fromHeader: string, toHeader: string): Promise<string | null> {
    const worker = this.started();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage({ id, before, after, fromHeader, toHeader });
    });
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { diffModule: require.resolve('diff'), maxEditLength: MAX_EDIT_LENGTH, timeout: DIFF_TIMEOUT_MS },
    });
    worker.unref();
    worker.on('message', ({ id, patch }: { id: number; patch: string | null }) => {
      this.pending.get(id)?.(patch);
      this.pending.delete(id);
    });
    // A worker that dies answers what it held as whole-body replacements; the next diff starts another.
    const fail = () => {
      if (this.worker === worker) this.worker = undefined;
      for (const resolve of this.pending.values()) resolve(null);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    this.worker = worker;
    return worker;
  }

  async onModuleDestroy(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }
}
