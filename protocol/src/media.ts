import { z } from 'zod';

/*
 * Shapes of the mediasoup objects that cross the wire. They check structure and bound sizes;
 * mediasoup itself validates the deep semantics (codecs, payload types) and the media layer maps
 * its errors to INVALID_PAYLOAD.
 */

export const MediaKind = z.enum(['audio', 'video']);
export type MediaKind = z.infer<typeof MediaKind>;

const Params = z.record(z.string().max(64), z.union([z.string().max(256), z.number(), z.boolean()]));

const RtcpFeedback = z.object({ type: z.string().max(32), parameter: z.string().max(32).optional() });

const RtpCodecParameters = z.looseObject({
  mimeType: z.string().max(64),
  payloadType: z.number().int().min(0).max(127),
  clockRate: z.number().int().positive(),
  channels: z.number().int().positive().max(8).optional(),
  parameters: Params.optional(),
  rtcpFeedback: z.array(RtcpFeedback).max(16).optional(),
});

const HeaderExtensionParameters = z.looseObject({
  uri: z.string().max(256),
  id: z.number().int().min(1).max(255),
  encrypt: z.boolean().optional(),
  parameters: Params.optional(),
});

const Encoding = z.looseObject({
  ssrc: z.number().int().nonnegative().optional(),
  rid: z.string().max(32).optional(),
  rtx: z.object({ ssrc: z.number().int().nonnegative() }).optional(),
  dtx: z.boolean().optional(),
  scalabilityMode: z.string().max(16).optional(),
  maxBitrate: z.number().positive().optional(),
  scaleResolutionDownBy: z.number().positive().optional(),
});

export const RtpParameters = z.looseObject({
  mid: z.string().max(32).optional(),
  codecs: z.array(RtpCodecParameters).min(1).max(16),
  headerExtensions: z.array(HeaderExtensionParameters).max(32).optional(),
  encodings: z.array(Encoding).max(8).optional(),
  rtcp: z.looseObject({ cname: z.string().max(256).optional(), reducedSize: z.boolean().optional() }).optional(),
});
export type RtpParameters = z.infer<typeof RtpParameters>;

const RtpCodecCapability = z.looseObject({
  kind: MediaKind,
  mimeType: z.string().max(64),
  preferredPayloadType: z.number().int().min(0).max(127).optional(),
  clockRate: z.number().int().positive(),
  channels: z.number().int().positive().max(8).optional(),
  parameters: Params.optional(),
  rtcpFeedback: z.array(RtcpFeedback).max(16).optional(),
});

const RtpHeaderExtension = z.looseObject({
  kind: MediaKind,
  uri: z.string().max(256),
  preferredId: z.number().int().min(1).max(255),
  preferredEncrypt: z.boolean().optional(),
  direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']).optional(),
});

export const RtpCapabilities = z.looseObject({
  codecs: z.array(RtpCodecCapability).max(64).optional(),
  headerExtensions: z.array(RtpHeaderExtension).max(64).optional(),
});
export type RtpCapabilities = z.infer<typeof RtpCapabilities>;

export const DtlsParameters = z.object({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z
    .array(
      z.object({
        algorithm: z.enum(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']),
        value: z.string().max(256),
      }),
    )
    .min(1)
    .max(8),
});
export type DtlsParameters = z.infer<typeof DtlsParameters>;

/** What the server sends the client to build its side of a WebRTC transport. */
export const TransportOptions = z.object({
  transportId: z.string(),
  iceParameters: z.looseObject({ usernameFragment: z.string(), password: z.string(), iceLite: z.boolean().optional() }),
  iceCandidates: z.array(
    z.looseObject({
      foundation: z.string(),
      priority: z.number(),
      address: z.string(),
      protocol: z.enum(['udp', 'tcp']),
      port: z.number(),
      type: z.enum(['host', 'srflx', 'prflx', 'relay']),
      tcpType: z.enum(['active', 'passive', 'so']).optional(),
    }),
  ),
  dtlsParameters: DtlsParameters,
});
export type TransportOptions = z.infer<typeof TransportOptions>;

/**
 * The media capabilities of every room's router on a node: in the `hello` event as a connection
 * opens, and at GET /api/rtp-capabilities (so a client can load its device while it connects).
 */
export const MediaCapabilities = z.object({ routerRtpCapabilities: RtpCapabilities });
export type MediaCapabilities = z.infer<typeof MediaCapabilities>;
