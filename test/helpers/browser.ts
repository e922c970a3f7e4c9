import { mkdirSync } from 'node:fs';
import { after, before } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { OnstageServer } from '../../server/src/app.ts';
import { startServer } from './server.ts';

export const RESULTS_DIR = new URL('../../test-results/', import.meta.url).pathname;
mkdirSync(RESULTS_DIR, { recursive: true });

/**
 * Debian's Chromium with a fake camera (a running clock) and microphone (a beep). Must run inside
 * a network namespace with only loopback; --allow-loopback-in-peer-connection makes 127.0.0.1 its
 * only ICE candidate there.
 */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      '--allow-loopback-in-peer-connection',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** A page in its own browser context (its own cookies, storage and media devices). */
export async function openPage(browser: Browser, url: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (err) => process.stderr.write(`[page ${url}] ${err.message}\n`));
  await page.goto(url);
  await demoPageReady(page);
  return page;
}

/**
 * Waits for a demo page's code: the watch page's code loads after its token request, possibly
 * after the load event, and sets `globalThis.onstage` (its client and state, for tests) when it runs.
 */
export async function demoPageReady(page: Page): Promise<void> {
  if (/\/(host|watch)\//.test(new URL(page.url()).pathname)) {
    await page.waitForFunction(() => 'onstage' in globalThis, null, { timeout: 15_000 });
  }
}

/** Host page: waits for the camera, clicks "Go live", waits until live. */
export async function goLive(page: Page): Promise<void> {
  await page.locator('#go-live:not([disabled])').click({ timeout: 15_000 });
  await page.waitForFunction(() => (globalThis as { onstage?: { live: boolean } }).onstage?.live === true, null, {
    timeout: 15_000,
  });
}

export type ParticipantMedia = { framesDecoded: number; audioBytes: number; width: number };
export type ViewerMedia = {
  /** Frames the page's first <video> element has shown (0 before any). */
  videoFrames: number;
  audioBytes: number;
  videoBytes: number;
  width: number;
  /** Decoded frames and audio bytes per stage member, from getStats. */
  byParticipant: Record<string, ParticipantMedia>;
};

/** What a watch page has received so far: decoded frames from the <video> element, bytes from getStats. */
export async function viewerMedia(page: Page): Promise<ViewerMedia> {
  return page.evaluate(async () => {
    type Stats = { participantId: string; kind: string; bytesReceived: number; framesDecoded?: number; frameWidth?: number }[];
    const g = globalThis as unknown as { onstage: { client: { getReceiveStats(): Promise<Stats> } } };
    const stats = await g.onstage.client.getReceiveStats();
    const video = document.querySelector('.tile:not([data-participant="local"]) video') as HTMLVideoElement | null;
    const sum = (kind: string) => stats.filter((s) => s.kind === kind).reduce((n, s) => n + s.bytesReceived, 0);
    const byParticipant: Record<string, { framesDecoded: number; audioBytes: number; width: number }> = {};
    for (const s of stats) {
      const p = (byParticipant[s.participantId] ??= { framesDecoded: 0, audioBytes: 0, width: 0 });
      if (s.kind === 'audio') p.audioBytes += s.bytesReceived;
      else {
        p.framesDecoded += s.framesDecoded ?? 0;
        p.width = Math.max(p.width, s.frameWidth ?? 0);
      }
    }
    return {
      videoFrames: video?.getVideoPlaybackQuality().totalVideoFrames ?? 0,
      audioBytes: sum('audio'),
      videoBytes: sum('video'),
      width: stats.find((s) => s.kind === 'video')?.frameWidth ?? 0,
      byParticipant,
    };
  });
}

/** Polls until `check` passes or the time is up; returns the last value. */
export async function eventually<T>(read: () => Promise<T>, check: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Asserts that a viewer's decoded frames and audio bytes keep rising over `ms`. */
export async function mediaKeepsFlowing(page: Page, ms = 2000): Promise<{ before: ViewerMedia; after: ViewerMedia }> {
  const before = await viewerMedia(page);
  await new Promise((r) => setTimeout(r, ms));
  const after = await viewerMedia(page);
  return { before, after };
}

/**
 * One server and one Chromium for a test file, started before its tests and closed after. Other
 * set-up hooks of the file await `ready` (root-level hooks of different modules are not ordered).
 */
export function useServerAndBrowser(env: Record<string, string> = {}): {
  server: OnstageServer;
  browser: Browser;
  ready: Promise<void>;
} {
  let started!: () => void;
  const ctx = { ready: new Promise<void>((resolve) => (started = resolve)) } as {
    server: OnstageServer;
    browser: Browser;
    ready: Promise<void>;
  };
  before(async () => {
    [ctx.server, ctx.browser] = await Promise.all([startServer(env), launchBrowser()]);
    started();
  });
  after(async () => {
    await ctx.browser?.close();
    await ctx.server?.close();
  });
  return ctx;
}
