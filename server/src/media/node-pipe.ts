import type { types } from 'mediasoup';
import type { MediaKind, RtpParameters } from '@onstage/protocol';

/** Where this node's media listens for pipes from other nodes, and the address they reach it at. */
export type PipeAddress = { listenIp: string; announcedAddress: string };

/** One end of a pipe as the other node needs it to connect. */
export type PipeEndpoint = { ip: string; port: number; srtpParameters: SrtpParameters };
export type SrtpParameters = { cryptoSuite: types.SrtpCryptoSuite; keyBase64: string };

/** A producer as it leaves the origin through a pipe: what the far end produces from. */
export type PipedProducer = { producerId: string; kind: MediaKind; rtpParameters: RtpParameters; paused: boolean };

/**
 * One end of the pipe between two nodes for one room: a mediasoup PipeTransport with SRTP and
 * RTX, as Router.pipeToRouter makes within a host, but connected across the network. Both nodes
 * make one, swap endpoints, and connect. The origin consumes each producer once on it (whatever
 * the number of viewers on the far node); the edge produces it with the same id.
 */
export class NodePipe {
  readonly #transport: types.PipeTransport;
  #sending = 0;
  #receiving = 0;

  private constructor(transport: types.PipeTransport) {
    this.#transport = transport;
  }

  static async open(router: types.Router, address: PipeAddress): Promise<NodePipe> {
    const transport = await router.createPipeTransport({
      listenInfo: { protocol: 'udp', ip: address.listenIp, announcedAddress: address.announcedAddress },
      enableSrtp: true,
      enableRtx: true,
    });
    return new NodePipe(transport);
  }

  get closed(): boolean {
    return this.#transport.closed;
  }

  /** What the other node connects to. */
  get endpoint(): PipeEndpoint {
    const { localAddress, localPort } = this.#transport.tuple;
    const srtp = this.#transport.srtpParameters;
    if (!srtp) throw new Error('a node pipe has SRTP');
    return { ip: localAddress, port: localPort, srtpParameters: srtp };
  }

  async connect(remote: PipeEndpoint): Promise<void> {
    await this.#transport.connect(remote);
  }

  /**
   * (origin) Sends a producer through the pipe. `mirror` hears of it pausing, resuming and
   * closing, so the far end follows.
   */
  async send(producerId: string, mirror: { paused(paused: boolean): void; closed(): void }): Promise<PipedProducer> {
    const consumer = await this.#transport.consume({ producerId });
    this.#sending++;
    consumer.observer.on('pause', () => mirror.paused(true));
    consumer.observer.on('resume', () => mirror.paused(false));
    consumer.observer.once('close', () => {
      this.#sending--;
      mirror.closed();
    });
    return { producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters as RtpParameters, paused: consumer.producerPaused };
  }

  /** (edge) The producer as it arrives from the origin, with the origin's id. */
  async receive(piped: PipedProducer): Promise<types.Producer> {
    const producer = await this.#transport.produce({
      id: piped.producerId,
      kind: piped.kind,
      rtpParameters: piped.rtpParameters as types.RtpParameters,
      paused: piped.paused,
    });
    this.#receiving++;
    producer.observer.once('close', () => this.#receiving--);
    return producer;
  }

  /** Producers going out (origin) and coming in (edge) through this pipe now. */
  get producers(): { sending: number; receiving: number } {
    return { sending: this.#sending, receiving: this.#receiving };
  }

  /** Bytes this end has sent into the pipe so far (RTP, RTX and RTCP). */
  async bytesSent(): Promise<number> {
    if (this.#transport.closed) return 0;
    return (await this.#transport.getStats()).reduce((n, s) => n + s.bytesSent, 0);
  }

  close(): void {
    this.#transport.close();
  }
}
