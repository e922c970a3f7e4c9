import { Device, type types } from 'mediasoup-client';
import type { ConsumerInfo, MediaCapabilities, RequestBody, RtpCapabilities, TransportOptions } from '@onstage/protocol';
import type { SignallingChannel } from './signalling-channel.ts';
import { toTransportOptions } from './transport-options.ts';
import { markJoinStep } from './join-timing.ts';

// Three simulcast layers: viewers get the one that fits their bandwidth (or their preference).
const SIMULCAST: types.RtpEncodingParameters[] = [
  { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

/**
 * The WebRTC side of one participant: the device (loaded once) and at most one transport per
 * direction, over one signalling channel at a time. Owns the transports and closes them; the
 * producers and consumers made on them belong to LocalParticipant and RemoteParticipants.
 */
export class MediaSession {
  #device: Device | undefined;
  #loading: Promise<Device> | undefined;
  #recv: Promise<types.Transport> | undefined;
  #send: Promise<types.Transport> | undefined;
  /** Told about every receive transport made (to watch its connection). */
  readonly #onReceiver: (transport: types.Transport) => void;

  constructor(onReceiver: (transport: types.Transport) => void) {
    this.#onReceiver = onReceiver;
  }

  /** Loads the device for a node's router capabilities (once; later calls reuse it); its receive capabilities. */
  async load(routerRtpCapabilities: RtpCapabilities): Promise<RtpCapabilities> {
    this.#loading ??= (async () => {
      const device = await Device.factory();
      await device.load({ routerRtpCapabilities: routerRtpCapabilities as types.RtpCapabilities });
      return (this.#device = device);
    })().catch((err: unknown) => {
      this.#loading = undefined;
      throw err;
    });
    return (await this.#loading).rtpCapabilities as RtpCapabilities;
  }

  get loaded(): boolean {
    return this.#device !== undefined;
  }

  /** The receive transport: from options the server sent (the join), or asked for now. */
  openReceiver(channel: SignallingChannel, options?: TransportOptions): Promise<types.Transport> {
    const device = this.#loadedDevice();
    const made = options ? Promise.resolve(options) : channel.request('createTransport', { direction: 'recv' });
    this.#recv = made.then((o) => {
      const transport = device.createRecvTransport(toTransportOptions(o));
      transport.on('connectionstatechange', (state) => state === 'connected' && markJoinStep('transport-connected'));
      wireConnect(channel, transport);
      this.#onReceiver(transport);
      return transport;
    });
    return this.#recv;
  }

  /** The receive transport now, if any (undefined once media was reset). */
  get receiver(): Promise<types.Transport> | undefined {
    return this.#recv;
  }

  /** Adds a consumer the server made to the receive transport `transport`. */
  consume(transport: types.Transport, c: ConsumerInfo): Promise<types.Consumer> {
    return transport.consume({ id: c.consumerId, producerId: c.producerId, kind: c.kind, rtpParameters: c.rtpParameters as types.RtpParameters });
  }

  /** The device's receive capabilities (the device is loaded). */
  get rtpCapabilities(): RtpCapabilities {
    return this.#loadedDevice().rtpCapabilities as RtpCapabilities;
  }

  /** Sends a track (video as simulcast layers), making the send transport first if needed. */
  async produce(channel: SignallingChannel, track: MediaStreamTrack): Promise<types.Producer> {
    const transport = await (this.#send ??= this.#openSender(channel));
    const height = track.kind === 'video' ? track.getSettings().height : undefined;
    return transport.produce({
      track,
      stopTracks: false,
      appData: height ? { videoHeight: height } : {},
      ...(track.kind === 'video' ? { encodings: SIMULCAST, codecOptions: { videoGoogleStartBitrate: 1000 } } : {}),
    });
  }

  async #openSender(channel: SignallingChannel): Promise<types.Transport> {
    const device = this.#loadedDevice();
    const options = await channel.request('createTransport', { direction: 'send' });
    const transport = device.createSendTransport(toTransportOptions(options));
    wireConnect(channel, transport);
    transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      const videoHeight = typeof appData['videoHeight'] === 'number' ? Math.round(appData['videoHeight']) : undefined;
      channel
        .request('produce', {
          transportId: transport.id,
          kind,
          rtpParameters: rtpParameters as RequestBody<'produce'>['rtpParameters'],
          ...(videoHeight ? { videoHeight } : {}),
        })
        .then(({ producerId }) => callback({ id: producerId }), errback);
    });
    return transport;
  }

  /** Closes both transports (and with them every producer and consumer on them). */
  async reset(): Promise<void> {
    const transports = [this.#send, this.#recv];
    this.#send = undefined;
    this.#recv = undefined;
    for (const t of transports) (await t?.catch(() => undefined))?.close();
  }

  #loadedDevice(): Device {
    if (!this.#device) throw new Error('the WebRTC device is not loaded');
    return this.#device;
  }
}

/** A node's router capabilities over HTTP (GET /api/rtp-capabilities), which needs no token. */
export async function fetchMediaCapabilities(url: string): Promise<RtpCapabilities> {
  const res = await fetch(new URL('/api/rtp-capabilities', url));
  if (!res.ok) throw new Error(`GET /api/rtp-capabilities: HTTP ${res.status}`);
  return ((await res.json()) as MediaCapabilities).routerRtpCapabilities;
}

function wireConnect(channel: SignallingChannel, transport: types.Transport): void {
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    channel
      .request('connectTransport', {
        transportId: transport.id,
        dtlsParameters: { role: dtlsParameters.role, fingerprints: dtlsParameters.fingerprints },
      })
      .then(() => callback(), errback);
  });
}
