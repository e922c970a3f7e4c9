/** One codec as mediasoup describes a consumer's RTP (the parts an SDP needs). */
export type RtpCodec = {
  mimeType: string;
  payloadType: number;
  clockRate: number;
  channels?: number;
  parameters?: Record<string, unknown>;
};

/** One RTP stream FFmpeg receives: RTP on `port`, RTCP on `port + 1`. */
export type RtpInput = { kind: 'audio' | 'video'; port: number; codec: RtpCodec };

/** The SDP that tells FFmpeg what arrives where, one m-line per input in the given order. */
export function buildSdp(inputs: RtpInput[], ip = '127.0.0.1'): string {
  const lines = ['v=0', `o=- 0 0 IN IP4 ${ip}`, 's=onstage-recorder', `c=IN IP4 ${ip}`, 't=0 0'];
  for (const { kind, port, codec } of inputs) {
    const name = codec.mimeType.split('/')[1];
    if (!name) throw new Error(`bad mimeType ${codec.mimeType}`);
    const pt = codec.payloadType;
    lines.push(`m=${kind} ${port} RTP/AVP ${pt}`);
    lines.push(`a=rtpmap:${pt} ${name}/${codec.clockRate}${codec.channels && codec.channels > 1 ? `/${codec.channels}` : ''}`);
    const fmtp = Object.entries(codec.parameters ?? {}).map(([k, v]) => `${k}=${String(v)}`);
    if (fmtp.length > 0) lines.push(`a=fmtp:${pt} ${fmtp.join(';')}`);
    lines.push('a=recvonly');
  }
  return `${lines.join('\r\n')}\r\n`;
}
