// How `npm run deploy` talks: one line per step, ✓ or ✗, and on failure what to do, on the same
// line. Details (a list of problems, doctl's transcript) follow indented under their step.

/** A step that cannot go on: what is wrong, and the one thing that fixes it. */
export class StepFailure extends Error {
  override name = 'StepFailure';
  constructor(
    message: string,
    readonly fix: string,
    /** Lines shown under the step line, e.g. one per wrong setting. */
    readonly details: readonly string[] = [],
  ) {
    super(message);
  }
}

/** Step names are padded to this width so the summaries line up. */
const stepNameWidth = 12;

export interface Reporter {
  ok(step: string, summary: string): void;
  failed(step: string, failure: StepFailure): void;
  /** A line under the current step (indented). */
  detail(line: string): void;
  /** A line of its own: headings, the final summary. */
  line(text: string): void;
}

export function createReporter(write: (line: string) => void): Reporter {
  return {
    ok: (step, summary) => write(`✓ ${step.padEnd(stepNameWidth)} ${summary}`),
    failed: (step, failure) => {
      write(`✗ ${step.padEnd(stepNameWidth)} ${failure.message} → ${failure.fix}`);
      for (const detail of failure.details) write(`    ${detail}`);
    },
    detail: (text) => write(`    ${text}`),
    line: write,
  };
}
