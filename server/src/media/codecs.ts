import type { types } from 'mediasoup';

const h264 = (profileLevelId: string): types.RouterRtpCodecCapability => ({
  kind: 'video',
  mimeType: 'video/H264',
  clockRate: 90000,
  parameters: { 'packetization-mode': 1, 'profile-level-id': profileLevelId, 'level-asymmetry-allowed': 1 },
});

/**
 * Codecs every room router offers. VP8 first: every browser encodes it and it is cheap to forward.
 * H.264 in each profile encoders send (a router takes a profile only if it lists it): constrained
 * baseline (browsers), baseline, main (OBS's default) and high (hardware encoders).
 */
export const ROUTER_MEDIA_CODECS: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 } },
  h264('42e01f'),
  h264('42001f'),
  h264('4d001f'),
  h264('64001f'),
];
