import { execFileSync } from 'node:child_process';

/** A fragmented MP4 part as the recorder writes it, cut off (SIGKILL) after about `seconds`. */
export function killedPart(file: string, seconds: number): void {
  try {
    execFileSync('timeout', ['-s', 'KILL', String(seconds), 'ffmpeg', '-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=s=640x360:r=30',
      '-f', 'lavfi', '-i', 'sine', '-map', '0:v', '-map', '1:a', '-c:v', 'libx264', '-preset', 'ultrafast', '-force_key_frames', 'expr:gte(t,n_forced*1)',
      '-c:a', 'aac', '-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof', '-flush_packets', '1', file]);
  } catch {
    // killed on purpose
  }
}
