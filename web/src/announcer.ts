// Status changes told to screen readers through one polite live region: a card that re-renders
// quietly from "Processing" to "Done" is invisible to someone who cannot see it. Each message is
// added as its own line (additions are what live regions read); old lines are dropped.
import { byId, h } from './dom.js';

/** Lines kept in the region: enough for a burst of changes, few enough to stay a short list. */
const keptLines = 5;

export class Announcer {
  private readonly region = byId('announcer', HTMLElement);

  say(message: string): void {
    this.region.append(h('p', {}, message));
    while (this.region.childElementCount > keptLines) this.region.firstElementChild?.remove();
  }
}
