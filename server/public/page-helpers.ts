import type { ShowEndReason } from '@onstage/client-sdk';
import { fetchDevToken } from '@onstage/client-sdk/dev-token';

/** Small DOM helpers shared by the demo pages. */

export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the page`);
  return el as T;
}

/** The room id from a /host/<room> or /watch/<room> URL. */
export function roomFromPath(): string {
  return decodeURIComponent(location.pathname.split('/')[2] ?? '');
}

export function setStatus(text: string, isError = false): void {
  const el = byId('status');
  el.textContent = text;
  el.classList.toggle('error', isError);
}

export function setBadge(text: string, live: boolean): void {
  const el = byId('badge');
  el.textContent = text;
  el.classList.toggle('live', live);
}

export function setOverlay(text: string | undefined): void {
  const el = byId('overlay');
  el.hidden = text === undefined;
  el.textContent = text ?? '';
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A development token for this page. The identity is kept in localStorage per room and role, so a
 * reload comes back as the same participant (and resumes within the grace period).
 */
export async function devTokenFor(room: string, role: 'host' | 'viewer'): Promise<string> {
  const key = `onstage:${room}:${role}`;
  const saved = localStorage.getItem(key) ?? undefined;
  const name = role === 'host' ? 'Host' : `Guest ${Math.floor(1000 + Math.random() * 9000)}`;
  const stored = saved ? (JSON.parse(saved) as { identity: string; name: string }) : { identity: crypto.randomUUID(), name };
  localStorage.setItem(key, JSON.stringify(stored));
  const { token } = await fetchDevToken({ room, role, identity: stored.identity, name: stored.name });
  return token;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]) {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

export type Action = [label: string, run: () => Promise<unknown>];

/** Fills a list with rows of a label and buttons; failures show in the status line. */
export function renderList(ul: HTMLElement, rows: { label: string; actions: Action[] }[], empty: string): void {
  ul.replaceChildren(
    ...(rows.length === 0
      ? [el('li', { className: 'muted', textContent: empty })]
      : rows.map(({ label, actions }) =>
          el(
            'li',
            {},
            el('span', { textContent: label }),
            ...actions.map(([text, run]) => {
              const b = el('button', { className: 'small secondary', textContent: text });
              b.addEventListener('click', () => void run().catch((err: unknown) => setStatus(errorText(err), true)));
              return b;
            }),
          ),
        )),
  );
}

/** "N watching" in the header, from the client's audience count. */
export function showWatching(viewers: number): void {
  byId('watching').textContent = `${viewers} watching`;
}

/** What each way a show can end means to the people watching it. */
export const ENDED_TEXT: Record<ShowEndReason, string> = {
  host_left: 'The show has ended.',
  host_timeout: 'The host did not come back; the show has ended.',
  media_failure: 'The show was interrupted by a server problem.',
  server_shutdown: 'The server is restarting.',
  ended_by_operator: 'The show was ended by the service.',
};
