// The API key field, shown when the server needs a key (it says so in its limits, or answers 401 to
// `create`). The key is the person's own, typed in here and kept in this browser's localStorage;
// nothing secret is ever part of the page itself.
import { byId } from './dom.js';

const storageKey = 'sluice.apiKey';

export class ApiKeyField {
  private readonly section = byId('api-key-section', HTMLElement);
  private readonly form = byId('api-key-form', HTMLFormElement);
  private readonly input = byId('api-key', HTMLInputElement);
  private readonly status = byId('api-key-status', HTMLElement);
  private readonly forgetButton = byId('api-key-forget', HTMLButtonElement);
  private current: string;

  constructor(onChange: () => void) {
    this.current = readStored();
    this.input.value = this.current;
    if (this.current !== '') this.reveal();
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.save(this.input.value.trim());
      this.say(this.current === '' ? 'No key saved.' : 'Saved in this browser. Failed uploads are tried again with it.');
      onChange();
    });
    this.forgetButton.addEventListener('click', () => {
      this.save('');
      this.input.value = '';
      this.say('Forgotten.');
      this.input.focus();
    });
  }

  get key(): string {
    return this.current;
  }

  /** Shows the field; with a reason, also says why and puts the cursor in it. */
  reveal(reason?: string): void {
    const wasHidden = this.section.hidden;
    this.section.hidden = false;
    if (reason !== undefined) {
      this.say(reason);
      if (wasHidden || this.current === '') this.input.focus();
    }
  }

  private save(key: string): void {
    this.current = key;
    try {
      if (key === '') localStorage.removeItem(storageKey);
      else localStorage.setItem(storageKey, key);
    } catch {
      // Storage disabled: the key still works until the page is closed.
    }
  }

  private say(text: string): void {
    this.status.textContent = text;
  }
}

function readStored(): string {
  try {
    return localStorage.getItem(storageKey) ?? '';
  } catch {
    return '';
  }
}
