/** One output rendition of the HLS ladder. */
export type Rendition = { name: string; width: number; height: number; videoKbps: number; audioKbps: number };

/** The ladder we offer; renditions taller than the source are dropped (never upscaled past it). */
export const LADDER: readonly Rendition[] = [
  { name: '720p', width: 1280, height: 720, videoKbps: 2500, audioKbps: 128 },
  { name: '360p', width: 640, height: 360, videoKbps: 800, audioKbps: 64 },
];

/**
 * The renditions for a source this tall (unknown: the full ladder). A shorter source is never
 * scaled up: the top rendition is made at its height (16:9, bitrate by area) and the ladder steps
 * below it follow.
 */
export function renditionsFor(sourceHeight: number | undefined): Rendition[] {
  const best = LADDER[0]!;
  if (sourceHeight === undefined || sourceHeight >= best.height) return [...LADDER];
  const height = Math.max(90, Math.floor(sourceHeight / 2) * 2);
  const width = Math.round((height * 16) / 9 / 2) * 2;
  const videoKbps = Math.max(200, Math.round((best.videoKbps * width * height) / (best.width * best.height)));
  const top = { name: `${height}p`, width, height, videoKbps, audioKbps: best.audioKbps };
  return [top, ...LADDER.filter((r) => r.height < height)];
}

/** Who is on stage and what they send: the recorder's whole view of a show. Host first. */
export type StageMember = {
  participantId: string;
  video?: string;
  audio?: string;
  videoHeight?: number;
};

export const FPS = 30;

/** Cell positions of an n-member grid on a canvas: as square as possible, filled row by row. */
export function gridCells(n: number, width: number, height: number): { x: number; y: number; w: number; h: number }[] {
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const even = (v: number) => Math.floor(v / 2) * 2;
  const w = even(width / cols);
  const h = even(height / rows);
  return Array.from({ length: n }, (_, i) => ({ x: (i % cols) * w, y: Math.floor(i / cols) * h, w, h }));
}
