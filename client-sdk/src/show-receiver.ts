import type { types } from 'mediasoup-client';
import type { ConsumerInfo, ProducerInfo, Quality, RequestBody, ResponseData, RtpCapabilities } from '@onstage/protocol';
import { asError } from './as-error.ts';
import { markJoinStep } from './join-timing.ts';
import { fetchMediaCapabilities, type MediaSession } from './media-session.ts';
import type { RemoteParticipants } from './remote-participants.ts';
import { OnstageRequestError, type SignallingChannel } from './signalling-channel.ts';
import type { WatchModeController } from './watch-mode.ts';

type ShowReceiverDeps = {
  media: MediaSession;
  remote: RemoteParticipants;
  watchMode: WatchModeController;
  /** Whether `channel` is still the client's connection (answers to an old one are dropped). */
  isCurrent(channel: SignallingChannel): boolean;
  /** A failure that neither ends in HLS nor is normal. */
  onError(error: Error): void;
};

/**
 * How the show's tracks come in over WebRTC: the device loaded while the connection opens, the
 * receive side the join answer brings (transport and running consumers), and each later track.
 * A failure a viewer in 'auto' cannot watch through switches it to HLS.
 */
export class ShowReceiver {
  readonly #d: ShowReceiverDeps;
  /** The node's router capabilities as this join learns them first (HTTP or `hello`). */
  #nodeCapabilities: Promise<RtpCapabilities> | undefined;

  constructor(deps: ShowReceiverDeps) {
    this.#d = deps;
  }

  /**
   * Starts loading the device while the connection to `url` opens, with the node's capabilities
   * from its HTTP API or the `hello`, whichever comes first (the join waits for it in `ready`).
   */
  preload(channel: SignallingChannel, url: string): void {
    const { media, watchMode } = this.#d;
    this.#nodeCapabilities = undefined;
    if (watchMode.mode !== 'webrtc' || media.loaded) return;
    const fromHttp = fetchMediaCapabilities(url);
    const first = new Promise<RtpCapabilities>((resolve, reject) => {
      fromHttp.then(resolve, () => undefined);
      channel.routerRtpCapabilities.then(resolve, reject);
    });
    this.#nodeCapabilities = first;
    // A failure here is met again, and reported, by the join.
    first.then((capabilities) => media.load(capabilities)).catch(() => undefined);
  }

  /** Over WebRTC: the device loaded, and what it can receive (for the join); undefined in HLS. */
  async ready(channel: SignallingChannel): Promise<RtpCapabilities | undefined> {
    const { media, watchMode } = this.#d;
    if (watchMode.mode !== 'webrtc') return undefined;
    try {
      const capabilities = await media.load(await (this.#nodeCapabilities ?? channel.routerRtpCapabilities));
      markJoinStep('device-loaded');
      return capabilities;
    } catch (err) {
      if (!watchMode.fallsBack) throw err;
      watchMode.fallBack(`WebRTC is not available here: ${asError(err).message}`);
      return undefined;
    }
  }

  /** Opens the receive transport (the server's from the join, or a new one) and receives every track. */
  async start(channel: SignallingChannel, joined: ResponseData<'join'>, quality: Quality): Promise<void> {
    const { media, watchMode } = this.#d;
    let transport: types.Transport;
    try {
      transport = await media.openReceiver(channel, joined.receive?.transport);
      if (!joined.receive && quality !== 'auto') await channel.request('setPreferredQuality', { quality });
    } catch (err) {
      if (!watchMode.fallsBack) throw err;
      watchMode.fallBack(`WebRTC failed: ${asError(err).message}`);
      return;
    }
    const given = new Map((joined.receive?.consumers ?? []).map((c) => [c.producerId, c]));
    await Promise.all(joined.producers.map((info) => this.receive(channel, info, given.get(info.producerId), transport)));
  }

  /** Receives a track; a producer that vanished meanwhile is normal, other failures are reported (or mean HLS). */
  async receive(channel: SignallingChannel, info: ProducerInfo, given?: ConsumerInfo, transport?: types.Transport): Promise<void> {
    try {
      await this.#receive(channel, info, given, transport);
    } catch (err) {
      if (!this.#d.isCurrent(channel)) return;
      if (err instanceof OnstageRequestError && err.code === 'PRODUCER_NOT_FOUND') return;
      if (this.#d.watchMode.fallBack(`cannot receive over WebRTC: ${asError(err).message}`)) return;
      this.#d.onError(asError(err));
    }
  }

  /** Adds a consumer the server made at join (`given`), or asks for one and resumes it. */
  async #receive(channel: SignallingChannel, info: ProducerInfo, given?: ConsumerInfo, joinTransport?: types.Transport): Promise<void> {
    const { media, remote, watchMode } = this.#d;
    const transport = joinTransport ?? (await media.receiver);
    if (!transport || !this.#d.isCurrent(channel) || remote.receives(info.producerId)) return;
    const consumerInfo =
      given ??
      (await channel.request('consume', {
        transportId: transport.id,
        producerId: info.producerId,
        rtpCapabilities: media.rtpCapabilities as RequestBody<'consume'>['rtpCapabilities'],
      }));
    if (transport.closed) return; // media was rebuilt meanwhile
    watchMode.arm(transport);
    const consumer = await media.consume(transport, consumerInfo);
    remote.add(consumer, info);
    if (!given) await channel.request('resumeConsumer', { consumerId: consumer.id });
  }
}
