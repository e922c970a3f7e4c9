import type { OnstageClient } from '@onstage/client-sdk';
import { errorText } from './page-helpers.ts';

/** The chat column: messages as they come, an input, and (for the host) delete and ban. */
export function mountChat(root: HTMLElement, client: OnstageClient, moderate: boolean): void {
  const list = root.querySelector<HTMLOListElement>('ol')!;
  const form = root.querySelector<HTMLFormElement>('form')!;
  const input = form.querySelector<HTMLInputElement>('input')!;
  const note = root.querySelector<HTMLElement>('.chat-note')!;

  client.on('chat', (m) => {
    if (list.querySelector(`[data-message="${CSS.escape(m.messageId)}"]`)) return;
    const li = document.createElement('li');
    li.dataset['message'] = m.messageId;
    const who = document.createElement('b');
    who.textContent = `${m.displayName}: `;
    li.append(who, document.createTextNode(m.text));
    if (moderate && m.participantId !== client.participantId) {
      li.append(button('delete', () => client.deleteChat(m.messageId)), button('ban', () => client.ban(m.participantId)));
    }
    list.append(li);
    list.scrollTop = list.scrollHeight;
  });
  client.on('chatdeleted', (id) => list.querySelector(`[data-message="${CSS.escape(id)}"]`)?.remove());

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    client.sendChat(text).then(
      () => {
        input.value = '';
        note.textContent = '';
      },
      (err: unknown) => {
        note.textContent = errorText(err).replace(/^sendChat: /, '');
      },
    );
  });

  function button(label: string, action: () => Promise<void>): HTMLButtonElement {
    const b = document.createElement('button');
    b.className = 'link';
    b.textContent = label;
    b.addEventListener('click', () => void action().catch((err: unknown) => (note.textContent = errorText(err))));
    return b;
  }
}
