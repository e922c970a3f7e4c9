import type { Rendition } from '../layout.ts';
import { masterPlaylist } from './master-playlist.ts';
import { LiveRendition, type HlsTiming } from './live-rendition.ts';

/** What a request for one of a show's live HLS files gets. */
export type HlsAnswer = { status: number; body: string | Buffer; contentType: string; cacheControl: string };

const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
const MEDIA_TYPE = 'video/mp4';
// Playlists change with every part; media never changes once it exists.
const NO_CACHE = 'no-cache';
const IMMUTABLE = 'public, max-age=86400, immutable';

const FILE = /^(?:master\.m3u8|v(\d{1,2})\/(?:index\.m3u8|init(\d{1,6})\.mp4|seg(\d{6,9})\.m4s|seg(\d{6,9})\.(\d{1,3})\.m4s))$/;

/**
 * A show's live HLS ladder: one LiveRendition per rendition and the master playlist; answers the
 * players' requests, holding a blocking playlist reload or a preload-hinted part until it exists
 * (at most three target durations, as RFC 8216bis asks).
 */
export class LiveLadder {
  readonly renditions: LiveRendition[];
  readonly #master: string;
  readonly #timing: HlsTiming;
  /** Each rendition's playlist as last written, and the renditions' versions it was written at: every player asks every part. */
  readonly #written = new Map<number, { versions: string; text: string }>();

  constructor(renditions: Rendition[], timing: HlsTiming) {
    this.renditions = renditions.map(() => new LiveRendition(timing));
    this.#master = masterPlaylist(renditions);
    this.#timing = timing;
  }

  /** Every rendition has media: players may start. */
  get ready(): boolean {
    return this.renditions.every((r) => r.edge() !== undefined);
  }

  end(): void {
    for (const r of this.renditions) r.end();
  }

  /** The answer to GET <file>?<query> (file relative to the show's HLS root), or undefined for no such file. */
  async answer(file: string, query: URLSearchParams): Promise<HlsAnswer | undefined> {
    const m = FILE.exec(file);
    if (!m) return undefined;
    if (file === 'master.m3u8') return { status: 200, body: this.#master, contentType: PLAYLIST_TYPE, cacheControl: NO_CACHE };
    const index = Number(m[1]);
    const rendition = this.renditions[index];
    if (!rendition) return undefined;
    const media = (bytes: Buffer | undefined) => (bytes ? { status: 200, body: bytes, contentType: MEDIA_TYPE, cacheControl: IMMUTABLE } : undefined);
    if (m[2] !== undefined) return media(rendition.init(Number(m[2])));
    if (m[3] !== undefined) return media(rendition.segment(Number(m[3])));
    if (m[4] !== undefined) {
      const [msn, part] = [Number(m[4]), Number(m[5])];
      // A preload hint's part is asked for before it exists: answer once it does.
      if (!rendition.part(msn, part) && msn <= rendition.nextMsn) await rendition.waitFor(msn, part, this.#holdMs());
      return media(rendition.part(msn, part));
    }
    return this.#playlist(index, query);
  }

  async #playlist(index: number, query: URLSearchParams): Promise<HlsAnswer> {
    const rendition = this.renditions[index]!;
    const msnParam = query.get('_HLS_msn');
    if (msnParam !== null) {
      const msn = Number(msnParam);
      const partParam = query.get('_HLS_part');
      const part = partParam === null ? undefined : Number(partParam);
      if (!Number.isInteger(msn) || msn < 0 || (part !== undefined && (!Number.isInteger(part) || part < 0))) {
        return { status: 400, body: 'bad _HLS_msn or _HLS_part', contentType: 'text/plain', cacheControl: NO_CACHE };
      }
      // More than two segments ahead of the live edge is a client's mistake (RFC 8216bis 6.2.5.2).
      if (msn > rendition.nextMsn + 1) return { status: 400, body: `_HLS_msn ${msn} is too far ahead`, contentType: 'text/plain', cacheControl: NO_CACHE };
      if (!(await rendition.waitFor(msn, part, this.#holdMs()))) {
        return { status: 503, body: 'the requested segment is late', contentType: 'text/plain', cacheControl: NO_CACHE };
      }
    }
    return { status: 200, body: this.#playlistText(index), contentType: PLAYLIST_TYPE, cacheControl: NO_CACHE };
  }

  /** Rendition `index`'s playlist (with the other renditions' reports), written again only after a change. */
  #playlistText(index: number): string {
    const versions = this.renditions.map((r) => r.version).join(',');
    const written = this.#written.get(index);
    if (written?.versions === versions) return written.text;
    const reports = this.renditions.flatMap((r, i) => {
      const edge = r.edge();
      return i !== index && edge ? [{ uri: `../v${i}/index.m3u8`, edge }] : [];
    });
    const text = this.renditions[index]!.playlist(reports);
    this.#written.set(index, { versions, text });
    return text;
  }

  #holdMs(): number {
    return 3 * this.#timing.segmentSeconds * 1000;
  }
}
