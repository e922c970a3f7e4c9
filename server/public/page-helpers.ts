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
