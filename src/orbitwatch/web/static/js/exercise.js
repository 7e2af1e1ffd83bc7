// Exercise console (placeholder until the exercise routes exist).
import { clear, el } from './util.js';

export class ExerciseConsole {
  constructor(root, { app }) { this.root = root; this.app = app; }
  show() {
    clear(this.root);
    this.root.append(el('section', {}, el('p', { class: 'muted', text: 'The exercise API is not available on this node.' })));
  }
}
