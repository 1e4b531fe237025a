/**
 * What a run shows while it goes: two bars on a terminal (upload: images and bytes; analysis:
 * images done and the run's status), a few plain lines otherwise (logs, CI). Always on
 * stderr: stdout carries only the results.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';

export interface Progress {
  uploadStarted(images: number, bytes: number, target: string): void;
  /** Cumulative counts. */
  uploaded(images: number, bytes: number): void;
  analysisStarted(images: number): void;
  /** The service holds a run the user can look up: `execution <id> (<url>)`. */
  runStarted(description: string): void;
  /** The run's status; `done` when the route reports how many images are analyzed. */
  analysisStatus(status: string, done?: number): void;
  analysisFinished(images: number, unreadable: number): void;
  /** Restores the terminal; safe to call more than once. */
  stop(): void;
}

/** `812 kB`, `4.2 MB`. */
export const size = (bytes: number) =>
  bytes < 1e6 ? `${Math.ceil(bytes / 1e3)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
const images = (n: number) => `${n} image${n === 1 ? '' : 's'}`;
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** Plain lines: one when a phase starts, one per status change, one at the end. */
export const lineProgress = (out: NodeJS.WritableStream): Progress => {
  let started = Date.now();
  let lastStatus = '';
  let totalImages = 0;
  let uploadDone = false;
  const say = (line: string) => out.write(`${line}\n`);
  return {
    uploadStarted(count, bytes, target) {
      started = Date.now();
      totalImages = count;
      uploadDone = false;
      say(`uploading ${images(count)} (${size(bytes)}) to ${target}`);
    },
    uploaded(count) {
      // Once, when the last image is wholly sent (bytes of several may be in flight at once).
      if (count === totalImages && !uploadDone)
        say(`uploaded ${images(count)} in ${seconds(started)}`);
      uploadDone ||= count === totalImages;
    },
    analysisStarted() {
      lastStatus = '';
    },
    runStarted(description) {
      say(`analysis: ${description}`);
    },
    analysisStatus(status) {
      if (status !== lastStatus) say(`analysis: ${status}`);
      lastStatus = status;
    },
    analysisFinished(count, unreadable) {
      say(`analyzed ${images(count)} in ${seconds(started)}, ${unreadable} unreadable`);
    },
    stop() {},
  };
};

/** Two bars, redrawn in place; the elapsed time ticks while the service works. */
export const barProgress = (out: NodeJS.WritableStream): Progress => {
  const bars = new MultiBar(
    {
      stream: out,
      format: '{label} {bar} {percentage}% | {detail}',
      barsize: 30,
      hideCursor: true,
      clearOnComplete: false,
      // Ctrl-C is ours to handle (it also stops the bars): see main.ts.
      gracefulExit: false,
      autopadding: true,
    },
    Presets.shades_classic,
  );
  let upload: SingleBar | undefined;
  let analysis: SingleBar | undefined;
  let total = 0;
  let bytes = 0;
  let status = '';
  let done = 0;
  let analysisStart = Date.now();
  let ticker: NodeJS.Timeout | undefined;
  const analysisDetail = () => `${done}/${total} images | ${status} ${seconds(analysisStart)}`;
  let stopped = false;
  return {
    uploadStarted(count, length) {
      total = count;
      bytes = length;
      upload = bars.create(length, 0, { label: 'upload  ', detail: `0/${count} images | 0 B` });
    },
    uploaded(count, sent) {
      upload?.update(sent, {
        detail: `${count}/${total} images | ${size(sent)} of ${size(bytes)}`,
      });
    },
    analysisStarted(count) {
      total = count;
      analysisStart = Date.now();
      status = 'analyzing';
      analysis = bars.create(count, 0, { label: 'analysis', detail: analysisDetail() });
      ticker = setInterval(() => analysis?.update(done, { detail: analysisDetail() }), 200);
      ticker.unref();
    },
    runStarted() {
      // The bar shows the status; the run is named if Ctrl-C leaves it behind (main.ts).
    },
    analysisStatus(next, count) {
      status = next;
      if (count !== undefined) done = count;
      analysis?.update(done, { detail: analysisDetail() });
    },
    analysisFinished(count) {
      clearInterval(ticker);
      done = count;
      status = 'done in';
      analysis?.update(done, { detail: analysisDetail() });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(ticker);
      bars.stop();
    },
  };
};
