import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';

export type FfmpegBinaries = {
  ffmpeg: string;
  ffprobe: string;
  /** Where ffmpeg was found, for the start-up log. */
  source: 'setting' | 'ffmpeg-static' | 'PATH';
};

/**
 * Finds FFmpeg: an explicit path (FFMPEG_PATH) wins, then ffmpeg-static's binary if that package's
 * download really happened (offline installs drop it), then `ffmpeg` on PATH. ffprobe is looked
 * for next to ffmpeg, then on PATH. Throws with what was tried when nothing is found.
 */
export function resolveFfmpeg(setting: string | undefined, path = process.env['PATH'] ?? ''): FfmpegBinaries {
  const onPath = (name: string) => path.split(delimiter).map((dir) => join(dir, name)).find((f) => f !== name && existsSync(f));
  const probeNextTo = (ffmpeg: string) => {
    const sibling = join(dirname(ffmpeg), 'ffprobe');
    return existsSync(sibling) ? sibling : (onPath('ffprobe') ?? 'ffprobe');
  };
  if (setting) {
    if (!existsSync(setting)) throw new Error(`FFMPEG_PATH=${setting} does not exist`);
    return { ffmpeg: setting, ffprobe: probeNextTo(setting), source: 'setting' };
  }
  const fromPackage = ffmpegStaticPath();
  if (fromPackage && existsSync(fromPackage)) return { ffmpeg: fromPackage, ffprobe: probeNextTo(fromPackage), source: 'ffmpeg-static' };
  const fromPath = onPath('ffmpeg');
  if (fromPath) return { ffmpeg: fromPath, ffprobe: probeNextTo(fromPath), source: 'PATH' };
  throw new Error('no FFmpeg: set FFMPEG_PATH, or install ffmpeg (apt-get install ffmpeg)');
}

function ffmpegStaticPath(): string | undefined {
  try {
    const exported: unknown = createRequire(import.meta.url)('ffmpeg-static');
    return typeof exported === 'string' ? exported : undefined;
  } catch {
    return undefined;
  }
}
