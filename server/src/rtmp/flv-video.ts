/**
 * What an RTMP encoder's video is, read from FLV video tag bodies (the bytes after the 11-byte tag
 * header): its codec, the H.264 profile and level from the AVC sequence header, and whether it
 * uses B-frames (a non-zero composition time offset: frames shown in another order than sent).
 */

/** FLV video codec id of H.264 (AVC), in the low nibble of a video tag's first byte. */
const FLV_CODEC_AVC = 7;
const AVC_SEQUENCE_HEADER = 0;
const AVC_NALU = 1;

export type FlvVideoTag =
  | { kind: 'avc-config'; profileLevelId: string }
  | { kind: 'avc-frame'; keyframe: boolean; compositionTimeMs: number }
  | { kind: 'other'; codecId: number };

export function readFlvVideoTag(body: Buffer): FlvVideoTag {
  if (body.length < 1) return { kind: 'other', codecId: -1 };
  // The enhanced-RTMP header (bit 7) carries a FourCC (HEVC, AV1, VP9): not H.264.
  const exHeader = (body[0]! & 0x80) !== 0;
  const codecId = body[0]! & 0x0f;
  if (exHeader || codecId !== FLV_CODEC_AVC || body.length < 5) return { kind: 'other', codecId: exHeader ? -1 : codecId };
  const packetType = body[1];
  if (packetType === AVC_SEQUENCE_HEADER) {
    // AVCDecoderConfigurationRecord: version, AVCProfileIndication, profile_compatibility, AVCLevelIndication.
    if (body.length < 9) return { kind: 'other', codecId };
    const hex = (b: number) => b.toString(16).padStart(2, '0');
    return { kind: 'avc-config', profileLevelId: `${hex(body[6]!)}${hex(body[7]!)}${hex(body[8]!)}` };
  }
  if (packetType === AVC_NALU) {
    // SI24 composition time offset.
    const raw = body.readUIntBE(2, 3);
    const compositionTimeMs = raw & 0x800000 ? raw - 0x1000000 : raw;
    return { kind: 'avc-frame', keyframe: body[0]! >> 4 === 1, compositionTimeMs };
  }
  return { kind: 'other', codecId };
}
