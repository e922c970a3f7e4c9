import type { types } from 'mediasoup-client';
import type { TransportOptions } from '@onstage/protocol';

/** The server's transport description (wire format) as mediasoup-client takes it. */
export function toTransportOptions(o: TransportOptions): types.TransportOptions {
  return {
    id: o.transportId,
    iceParameters: o.iceParameters as types.IceParameters,
    iceCandidates: o.iceCandidates as types.IceCandidate[],
    dtlsParameters: o.dtlsParameters as types.DtlsParameters,
  };
}
