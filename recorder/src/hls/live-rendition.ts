import hlsParser from 'hls-parser';
import type { Fmp4Fragment } from './fmp4.ts';

const { MediaPlaylist, Segment, PartialSegment, MediaInitializationSection, RenditionReport } = hlsParser.types;
// The library prints what it finds questionable to the console; the server logs through pino
// only. (The unit tests turn its strict mode on to check our playlists.)
hlsParser.setOptions({ silent: true });

/** How a rendition is cut: segments of about `segmentSeconds` (keyframe to keyframe), parts of at most `partTargetS`. */
export type HlsTiming = { segmentSeconds: number; partTargetS: number; listSize: number };

/** Where a rendition's live edge is: its last segment and the last part in it (for rendition reports). */
export type LiveEdge = { msn: number; part: number };

type Part = { bytes: Buffer; durationS: number; independent: boolean };
type LiveSegment = {
  msn: number;
  initId: number;
  discontinuity: boolean;
  /** Discontinuities before this segment since the rendition began. */
  discontinuitySeq: number;
  programDateTime: Date;
  parts: Part[];
  durationS: number;
  /** Set when complete. */
  bytes?: Buffer;
};

/** Segments kept past the playlist's window, for players still fetching what they were just told of. */
const EXTRA_KEPT = 2;
/** Segments at the live edge whose parts are listed (the rest are listed whole). */
const SEGMENTS_WITH_PARTS = 3;
/**
 * The least PART-HOLD-BACK: how far behind the newest part an LL-HLS player starts and stays, so its
 * buffer. Three part targets (Apple's advice) is 0.7 s for our parts, but hls.js then settles about
 * 1.2 s behind the newest part with about a second buffered, and on a busy machine new parts now and
 * then came 815 ms apart instead of 200 (bench:hls), which emptied that buffer: players keep 1.5 s.
 */
const MIN_PART_HOLD_BACK_S = 1.5;

export const segmentName = (msn: number) => `seg${String(msn).padStart(6, '0')}.m4s`;
export const partName = (msn: number, part: number) => `seg${String(msn).padStart(6, '0')}.${part}.m4s`;
export const initName = (id: number) => `init${id}.mp4`;

/**
 * One rendition's Low-Latency HLS, kept in memory: fMP4 fragments from FFmpeg come in as parts,
 * parts make segments that start at keyframes, and each FFmpeg run brings its own init section
 * (a new run after the first starts with a discontinuity). Serves its playlist (full segments
 * for every player, parts and a preload hint for low-latency ones), its media, and lets a request
 * wait for a segment or part that is about to exist (blocking playlist reload).
 */
export class LiveRendition {
  readonly #timing: HlsTiming;
  readonly #inits = new Map<number, Buffer>();
  #initId = 0;
  #segments: LiveSegment[] = [];
  #open: LiveSegment | undefined;
  #nextMsn = 0;
  #discontinuities = 0;
  #discontinuityPending = false;
  /** The wall clock at the current run's first fragment and that fragment's media time: segment dates follow media time from it. */
  #anchor: { wallMs: number; mediaS: number } | undefined;
  #ended = false;
  #version = 0;
  readonly #waiters = new Set<() => void>();

  constructor(timing: HlsTiming) {
    this.#timing = timing;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Changes whenever what the playlist lists changes. */
  get version(): number {
    return this.#version;
  }

  /** Fragments that follow come from a new FFmpeg run with this init section. */
  begin(init: Buffer): void {
    this.#close();
    if (this.#nextMsn > 0) this.#discontinuityPending = true;
    this.#anchor = undefined;
    this.#inits.set(++this.#initId, init);
  }

  append(fragment: Fmp4Fragment): void {
    if (this.#ended || this.#initId === 0) return;
    const open = this.#open;
    const longEnough = open !== undefined && open.durationS >= this.#timing.segmentSeconds / 2;
    if (!open || (fragment.independent && longEnough)) {
      // A segment must start where a player can begin; a run's first fragment always does.
      if (!open && !fragment.independent) return;
      this.#close();
      this.#open = this.#newSegment(fragment);
    }
    const segment = this.#open!;
    segment.parts.push({ bytes: fragment.bytes, durationS: fragment.durationS, independent: fragment.independent });
    segment.durationS += fragment.durationS;
    this.#wake();
  }

  /** The show ended: the last segment is complete and the playlist gets ENDLIST. */
  end(): void {
    this.#close();
    this.#ended = true;
    this.#wake();
  }

  /** The last segment and part listed, for other renditions' reports; undefined before any media. */
  edge(): LiveEdge | undefined {
    if (this.#open) return { msn: this.#open.msn, part: this.#open.parts.length - 1 };
    const last = this.#segments.at(-1);
    return last ? { msn: last.msn, part: last.parts.length - 1 } : undefined;
  }

  /**
   * True once segment `msn` is complete or, with `part`, once that part of it exists (a blocking
   * reload's `_HLS_msn` / `_HLS_part`); also when the show ended. False after `timeoutMs`.
   */
  async waitFor(msn: number, part: number | undefined, timeoutMs: number): Promise<boolean> {
    const ready = () => this.#ended || msn < (this.#open?.msn ?? this.#nextMsn) || (part !== undefined && this.#open?.msn === msn && this.#open.parts.length > part);
    if (ready()) return true;
    return new Promise((resolve) => {
      const check = () => {
        if (!ready()) return;
        done(true);
      };
      const done = (value: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.#waiters.add(check);
    });
  }

  /** The next segment number: how far ahead a blocking request may ask. */
  get nextMsn(): number {
    return this.#open ? this.#open.msn + 1 : this.#nextMsn;
  }

  init(id: number): Buffer | undefined {
    return this.#inits.get(id);
  }

  segment(msn: number): Buffer | undefined {
    return this.#segments.find((s) => s.msn === msn)?.bytes;
  }

  part(msn: number, index: number): Buffer | undefined {
    const s = msn === this.#open?.msn ? this.#open : this.#segments.find((x) => x.msn === msn);
    return s?.parts[index]?.bytes;
  }

  /** The media playlist; `reports` are the other renditions' edges (EXT-X-RENDITION-REPORT). */
  playlist(reports: { uri: string; edge: LiveEdge }[]): string {
    const listed = this.#segments.slice(-this.#timing.listSize);
    const all = this.#open ? [...listed, this.#open] : listed;
    const first = all[0];
    const withParts = new Set(all.slice(-SEGMENTS_WITH_PARTS).map((s) => s.msn));
    const longest = Math.max(this.#timing.segmentSeconds, ...listed.map((s) => Math.round(s.durationS)));
    const segments = all.map((s) => {
      const parts = withParts.has(s.msn)
        ? s.parts.map((p, i) => new PartialSegment({ hint: false, uri: partName(s.msn, i), duration: round(p.durationS), independent: p.independent }))
        : [];
      const complete = s !== this.#open;
      if (!complete && !this.#ended) parts.push(new PartialSegment({ hint: true, uri: partName(s.msn, s.parts.length) }));
      return new Segment({
        uri: segmentName(s.msn),
        duration: complete ? round(s.durationS) : undefined,
        mediaSequenceNumber: s.msn,
        discontinuitySequence: s.discontinuitySeq,
        discontinuity: s.discontinuity && s !== first,
        map: new MediaInitializationSection({ uri: initName(s.initId) }),
        programDateTime: s.programDateTime,
        parts,
      });
    });
    const playlist = new MediaPlaylist({
      version: 9,
      targetDuration: longest,
      mediaSequenceBase: first?.msn ?? this.#nextMsn,
      discontinuitySequenceBase: first?.discontinuitySeq ?? this.#discontinuities,
      endlist: this.#ended,
      lowLatencyCompatibility: {
        canBlockReload: true,
        // No delta updates (CAN-SKIP-UNTIL left out): our playlists are short.
        canSkipUntil: undefined as unknown as number,
        holdBack: round(3 * longest),
        partHoldBack: round(Math.max(3 * this.#timing.partTargetS, MIN_PART_HOLD_BACK_S)),
      },
      partTargetDuration: this.#timing.partTargetS,
      segments,
      renditionReports: reports.map((r) => new RenditionReport({ uri: r.uri, lastMSN: r.edge.msn, lastPart: r.edge.part })),
    });
    return hlsParser.stringify(playlist);
  }

  #newSegment(first: Fmp4Fragment): LiveSegment {
    // A new run's media time starts over; its dates go on from now, never back into the last run's.
    const last = this.#segments.at(-1);
    const lastEnd = last ? last.programDateTime.getTime() + Math.round(last.durationS * 1000) : 0;
    this.#anchor ??= { wallMs: Math.max(Date.now(), lastEnd), mediaS: first.startS };
    const discontinuity = this.#discontinuityPending;
    if (discontinuity) this.#discontinuities++;
    this.#discontinuityPending = false;
    return {
      msn: this.#nextMsn++,
      initId: this.#initId,
      discontinuity,
      discontinuitySeq: this.#discontinuities,
      programDateTime: new Date(this.#anchor.wallMs + Math.round((first.startS - this.#anchor.mediaS) * 1000)),
      parts: [],
      durationS: 0,
    };
  }

  #close(): void {
    const open = this.#open;
    if (!open) return;
    this.#open = undefined;
    open.bytes = Buffer.concat(open.parts.map((p) => p.bytes));
    this.#segments.push(open);
    const keep = this.#timing.listSize + EXTRA_KEPT;
    if (this.#segments.length > keep) this.#segments = this.#segments.slice(-keep);
    const usedInits = new Set(this.#segments.map((s) => s.initId));
    for (const id of this.#inits.keys()) if (id !== this.#initId && !usedInits.has(id)) this.#inits.delete(id);
    this.#wake();
  }

  #wake(): void {
    this.#version++;
    for (const check of [...this.#waiters]) check();
  }
}

const round = (s: number) => Math.round(s * 1000) / 1000;
