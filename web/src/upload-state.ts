// The upload half of a job's status, as the page sees it: how far the bytes are, how fast they go,
// and whether they are moving at all. The server only knows `awaiting_upload` until `complete`, so
// without this the card would say "Waiting for the file" while Uppy shows 60 % — or while paused.

export type UploadActivity =
  /** The job exists; the first bytes are about to go. */
  | 'starting'
  | 'uploading'
  | 'paused'
  /** A part or the PUT failed and Uppy is trying it again. */
  | 'retrying'
  /** Uppy gave up on it; the person can retry from the upload box. */
  | 'failed'
  /** After a reload: the file is back in the upload box and resumes with Upload or Resume. */
  | 'ready'
  /** After a reload: the page no longer has the file's bytes; adding the same file again resumes it. */
  | 'needs-file';

export interface UploadView {
  activity: UploadActivity;
  bytesUploaded: number;
  bytesTotal: number;
  /** Smoothed over the last seconds; absent until there is enough to measure. */
  bytesPerSecond?: number;
  /** Why it stopped (failed). */
  message?: string;
}

/** Weight of the newest sample in the moving average: steady enough to read, quick to follow a change. */
const speedSmoothing = 0.3;
/** Samples closer together than this say more about timer jitter than about speed. */
const minSampleMs = 250;

/** Upload speed from progress events, as an exponential moving average. */
export class SpeedMeter {
  private last: { at: number; bytes: number } | undefined;
  private average: number | undefined;

  sample(bytes: number, at: number = performance.now()): number | undefined {
    if (this.last === undefined || bytes < this.last.bytes) {
      this.last = { at, bytes };
      return this.average;
    }
    const elapsedMs = at - this.last.at;
    if (elapsedMs < minSampleMs) return this.average;
    const rate = ((bytes - this.last.bytes) * 1000) / elapsedMs;
    this.average = this.average === undefined ? rate : speedSmoothing * rate + (1 - speedSmoothing) * this.average;
    this.last = { at, bytes };
    return this.average;
  }

  /** After a pause the clock restarts: the time spent paused is no measure of speed. */
  restart(): void {
    this.last = undefined;
  }
}

/** Rounded as Uppy rounds a file's percentage, so the card and the upload box show the same number. */
export function uploadPercent(view: UploadView): number {
  return view.bytesTotal > 0 ? Math.min(100, Math.round((view.bytesUploaded / view.bytesTotal) * 100)) : 0;
}
