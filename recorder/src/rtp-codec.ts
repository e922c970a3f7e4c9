/** One codec as mediasoup describes a consumer's RTP (what a receiver needs to depacketize it). */
export type RtpCodec = {
  mimeType: string;
  payloadType: number;
  clockRate: number;
  channels?: number;
  parameters?: Record<string, unknown>;
};
