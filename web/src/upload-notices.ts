// Files the page or the server refused, each with the reason in plain words, under the upload
// widget. Uppy's own toast vanishes after a few seconds and its per-file error hides behind a "?";
// a refusal is what a person most needs to read, so it stays here until the file is dealt with.
import { byId, h } from './dom.js';
import type { Explanation } from './messages.js';

export class UploadNotices {
  private readonly list = byId('upload-notices', HTMLUListElement);
  private readonly items = new Map<string, HTMLLIElement>();

  show(filename: string, explanation: Explanation): void {
    const item = h(
      'li',
      { class: 'notice tone-error', 'data-file': filename },
      h('strong', {}, `${filename}: ${explanation.title}.`),
      explanation.detail ? ` ${explanation.detail}` : '',
    );
    const existing = this.items.get(filename);
    if (existing) existing.replaceWith(item);
    else this.list.append(item);
    this.items.set(filename, item);
  }

  clear(filename: string): void {
    this.items.get(filename)?.remove();
    this.items.delete(filename);
  }
}
