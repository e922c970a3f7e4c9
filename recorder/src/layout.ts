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
  /** A track of this member is still connecting (no media yet): its arrival is worth waiting for. */
  connecting?: boolean;
};

/** Stream indices of the members' media in FFmpeg's single SDP input. */
export type CompositeInputs = { videos: number; audios: number };

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

/**
 * The filter graph: every video scaled into its grid cell (letterboxed) and stacked on the top
 * rendition's canvas, then scaled down for each lower rendition; all audio mixed. Outputs
 * [v0]..[vN] and [a0]..[aN], one pair per rendition. With no video a black canvas is used, with no
 * audio silence, so every rendition always has H.264 + AAC.
 */
export function compositeFilter(inputs: CompositeInputs, renditions: Rendition[]): string {
  const top = renditions[0];
  if (!top) throw new Error('no renditions');
  const n = renditions.length;
  const parts: string[] = [];
  const canvas = `s=${top.width}x${top.height}`;
  if (inputs.videos === 0) {
    parts.push(`color=c=black:${canvas}:r=${FPS}[grid]`);
  } else {
    const cells = gridCells(inputs.videos, top.width, top.height);
    cells.forEach((c, i) =>
      parts.push(
        `[0:v:${i}]fps=${FPS},scale=${c.w}:${c.h}:force_original_aspect_ratio=decrease,` +
          `pad=${c.w}:${c.h}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1[c${i}]`,
      ),
    );
    if (cells.length === 1) {
      parts.push(`[c0]pad=${top.width}:${top.height}:(ow-iw)/2:(oh-ih)/2:color=black[grid]`);
    } else {
      const labels = cells.map((_, i) => `[c${i}]`).join('');
      const layout = cells.map((c) => `${c.x}_${c.y}`).join('|');
      parts.push(`${labels}xstack=inputs=${cells.length}:layout=${layout}:fill=black,pad=${top.width}:${top.height}:0:0:color=black[grid]`);
    }
  }
  parts.push(`[grid]format=yuv420p,split=${n}${renditions.map((_, i) => `[s${i}]`).join('')}`);
  renditions.forEach((r, i) => parts.push(i === 0 ? `[s0]null[v0]` : `[s${i}]scale=${r.width}:${r.height}[v${i}]`));

  // async resampling follows the RTP timestamps, smoothing jitter instead of emitting non-monotonic audio.
  for (let i = 0; i < inputs.audios; i++) parts.push(`[0:a:${i}]aresample=48000[in${i}]`);
  if (inputs.audios === 0) parts.push(`anullsrc=r=48000:cl=stereo[mix]`);
  else if (inputs.audios === 1) parts.push(`[in0]anull[mix]`);
  else {
    const labels = Array.from({ length: inputs.audios }, (_, i) => `[in${i}]`).join('');
    parts.push(`${labels}amix=inputs=${inputs.audios}:normalize=0:dropout_transition=0[mix]`);
  }
  parts.push(`[mix]aformat=sample_rates=48000:channel_layouts=stereo,asplit=${n}${renditions.map((_, i) => `[a${i}]`).join('')}`);
  return parts.join(';');
}
