import ISOBoxer from 'codem-isoboxer';

/** The init section of a fragmented MP4 stream (ftyp + moov) and what fragments are measured by. */
export type Fmp4Init = { bytes: Buffer; videoTrackId: number; videoTimescale: number };

/** One fragment (moof + mdat): a part of a live segment. */
export type Fmp4Fragment = {
  bytes: Buffer;
  /** Video decode time of its first sample, seconds on its run's own timeline. */
  startS: number;
  durationS: number;
  /** Starts with a keyframe: a player can begin here. */
  independent: boolean;
};

type Fields = Record<string, unknown>;
const num = (box: Fields | undefined, key: string): number | undefined => (typeof box?.[key] === 'number' ? (box[key] as number) : undefined);
const arrayBufferOf = (b: Buffer): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
/** ISO/IEC 14496-12 sample flags: sample_depends_on == 2 (depends on no other sample) or not a non-sync sample. */
const isSync = (flags: number) => ((flags >> 24) & 0x3) === 2 || ((flags >> 16) & 0x1) === 0;

/** Reads the video track's id and timescale from an init section (ftyp + moov). */
export function describeInit(bytes: Buffer): Fmp4Init {
  const file = ISOBoxer.parseBuffer(arrayBufferOf(bytes));
  for (const trak of file.fetchAll('trak')) {
    const sub = (type: string) => findBox(trak, type) as Fields | undefined;
    if (sub('hdlr')?.['handler_type'] !== 'vide') continue;
    const videoTrackId = num(sub('tkhd'), 'track_ID');
    const videoTimescale = num(sub('mdhd'), 'timescale');
    if (videoTrackId !== undefined && videoTimescale) return { bytes, videoTrackId, videoTimescale };
  }
  throw new Error('no video track in the init section');
}

/**
 * Measures a fragment (its moof) by its video track's run of samples; undefined for a fragment without video
 * (FFmpeg's very last one can hold only the audio that was still buffered).
 */
export function describeFragment(bytes: Buffer, init: Fmp4Init): Fmp4Fragment | undefined {
  // The moof comes first; the mdat after it (most of the bytes) need not be copied or read.
  const file = ISOBoxer.parseBuffer(arrayBufferOf(bytes.subarray(0, bytes.readUInt32BE(0))));
  for (const traf of file.fetchAll('traf')) {
    const tfhd = findBox(traf, 'tfhd') as Fields | undefined;
    if (num(tfhd, 'track_ID') !== init.videoTrackId) continue;
    const tfdt = findBox(traf, 'tfdt') as Fields | undefined;
    const trun = findBox(traf, 'trun') as Fields | undefined;
    const samples = (trun?.['samples'] ?? []) as Fields[];
    const defaultDuration = num(tfhd, 'default_sample_duration') ?? 0;
    const ticks = samples.reduce((sum, s) => sum + (num(s, 'sample_duration') ?? defaultDuration), 0);
    const firstFlags = num(trun, 'first_sample_flags') ?? num(samples[0], 'sample_flags') ?? num(tfhd, 'default_sample_flags') ?? 0;
    return {
      bytes,
      startS: (num(tfdt, 'baseMediaDecodeTime') ?? 0) / init.videoTimescale,
      durationS: ticks / init.videoTimescale,
      independent: samples.length > 0 && isSync(firstFlags),
    };
  }
  return undefined;
}

function findBox(box: { type: string; boxes?: { type: string }[] }, type: string): object | undefined {
  for (const child of box.boxes ?? []) {
    if (child.type === type) return child;
    const deeper = findBox(child, type);
    if (deeper) return deeper;
  }
  return undefined;
}

/**
 * Cuts FFmpeg's fragmented MP4 output (a byte stream in arbitrary chunks) into its init section
 * and fragments, calling back as each is complete. Top-level boxes only: size + type is enough.
 */
export class Fmp4Splitter {
  #pending: Buffer = Buffer.alloc(0);
  #init: Buffer[] = [];
  #moof: Buffer | undefined;
  readonly #onInit: (init: Buffer) => void;
  readonly #onFragment: (fragment: Buffer) => void;

  constructor(onInit: (init: Buffer) => void, onFragment: (fragment: Buffer) => void) {
    this.#onInit = onInit;
    this.#onFragment = onFragment;
  }

  push(chunk: Buffer): void {
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    while (this.#pending.length >= 8) {
      let size = this.#pending.readUInt32BE(0);
      let header = 8;
      if (size === 1) {
        if (this.#pending.length < 16) return;
        size = Number(this.#pending.readBigUInt64BE(8));
        header = 16;
      }
      if (size < header) throw new Error(`bad MP4 box size ${size}`);
      if (this.#pending.length < size) return;
      const type = this.#pending.toString('latin1', 4, 8);
      // A view, not a copy: every chunk is a buffer of its own, and init and fragments are concatenated anew.
      const box = this.#pending.subarray(0, size);
      this.#pending = this.#pending.subarray(size);
      this.#box(type, box);
    }
  }

  #box(type: string, box: Buffer): void {
    if (type === 'ftyp') this.#init = [box];
    else if (type === 'moov') this.#onInit(Buffer.concat([...this.#init, box]));
    else if (type === 'moof') this.#moof = box;
    else if (type === 'mdat' && this.#moof) {
      this.#onFragment(Buffer.concat([this.#moof, box]));
      this.#moof = undefined;
    }
    // Anything else (mfra at the end, free) plays no part in live segments.
  }
}
