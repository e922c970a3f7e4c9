import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { MediaProcess, type ProcessExit } from './media-process.ts';
import type { Rendition } from './layout.ts';
import type { RtpCodec } from './rtp-codec.ts';

/** How to run the mixer: Debian's Python 3 with PyGObject and GStreamer's introspection data. */
export type StageMixerTool = { python: string; script: string };

const SCRIPT = fileURLToPath(new URL('../mixer/stage_mixer.py', import.meta.url));
/** The elements the mixer's pipeline is made of, by package: what a missing one means to install. */
const ELEMENTS = ['compositor', 'audiomixer', 'x264enc', 'avenc_aac', 'matroskamux', 'rtpjitterbuffer', 'vp8dec', 'avdec_h264', 'opusdec'];
const PACKAGES = 'gstreamer1.0-plugins-{base,good,bad,ugly} gstreamer1.0-libav gir1.2-gst-plugins-base-1.0 python3-gi';

/**
 * Finds a Python that can run the mixer (its own, not a virtualenv's: PyGObject comes from Debian)
 * and checks that every GStreamer element it uses exists. Throws with what to install.
 */
export function resolveStageMixer(setting?: string): StageMixerTool {
  const python = setting ?? ['/usr/bin/python3', '/bin/python3'].find((p) => existsSync(p)) ?? 'python3';
  const check = spawnSync(
    python,
    ['-c', `import gi; gi.require_version('Gst', '1.0'); from gi.repository import Gst; Gst.init(None); import sys; missing = [e for e in sys.argv[1:] if Gst.ElementFactory.find(e) is None]; print(' '.join(missing)); sys.exit(1 if missing else 0)`, ...ELEMENTS],
    { encoding: 'utf8', timeout: 10_000 },
  );
  if (check.status !== 0) {
    const missing = check.stdout?.trim();
    const why = missing ? `GStreamer elements missing: ${missing}` : `${python} cannot load GStreamer (${(check.stderr || String(check.error)).trim().split('\n').pop()})`;
    throw new Error(`no stage mixer: ${why}; install ${PACKAGES}`);
  }
  return { python, script: SCRIPT };
}

/** One RTP source of the stage: its RTP arrives on `port` (loopback). */
export type MixerSource = { id: string; kind: 'audio' | 'video'; port: number; codec: RtpCodec };
/** Where a video sits on the canvas of the top rendition. */
export type MixerCell = { id: string; x: number; y: number; w: number; h: number };

export type StageMixerConfig = { renditions: Rendition[]; fps: number; keyframeFrames: number };

type MixerEvents = {
  /** A source's first decoded media reached the mixer. */
  flowing: [id: string];
  /** A source failed (the mixer dropped it) or a command was refused; the show goes on. */
  problem: [message: string, id?: string];
};

type MixerEvent = { event: 'flowing'; id: string } | { event: 'error'; id?: string; message: string };

/** The mixer's event pipe. */
const EVENTS_FD = 3;

/**
 * The stage mixer process (mixer/stage_mixer.py): one GStreamer pipeline for the whole show that
 * composites the stage's videos and mixes its audio while sources are added, removed and laid out,
 * and writes the ladder's encodings as Matroska to `media`. It never restarts for a stage change.
 */
export class StageMixer extends EventEmitter<MixerEvents> {
  readonly process: MediaProcess;

  constructor(tool: StageMixerTool, config: StageMixerConfig, options: { cwd: string; nice?: number; onLog: (line: string) => void }) {
    super();
    this.process = new MediaProcess(tool.python, [tool.script, JSON.stringify(config)], {
      cwd: options.cwd,
      stdin: { stream: true },
      stdout: true,
      outputs: 1,
      ...(options.nice ? { nice: options.nice } : {}),
      onStderr: options.onLog,
    });
    let partial = '';
    this.process.output(EVENTS_FD).setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          this.#onEvent(JSON.parse(line) as MixerEvent);
        } catch {
          this.emit('problem', `unreadable mixer event: ${line.slice(0, 200)}`);
        }
      }
    });
  }

  /** The encoded ladder (Matroska: video i and audio i per rendition i). */
  get media(): Readable {
    return this.process.output(1);
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get exited(): Promise<ProcessExit> {
    return this.process.exited;
  }

  add(source: MixerSource): void {
    this.#send({ op: 'add', ...source, codec: { mimeType: source.codec.mimeType, payloadType: source.codec.payloadType, clockRate: source.codec.clockRate } });
  }

  remove(id: string): void {
    this.#send({ op: 'remove', id });
  }

  /** Shows these videos in these cells; the mixer's other videos are hidden. */
  layout(cells: MixerCell[]): void {
    this.#send({ op: 'layout', cells });
  }

  /** Ends the show's mix: the encoders flush what they hold, then the process exits. */
  stop(): Promise<ProcessExit> {
    return this.process.stop();
  }

  #send(command: object): void {
    this.process.input?.write(`${JSON.stringify(command)}\n`);
  }

  #onEvent(e: MixerEvent): void {
    if (e.event === 'flowing') this.emit('flowing', e.id);
    else this.emit('problem', e.message, e.id);
  }
}
