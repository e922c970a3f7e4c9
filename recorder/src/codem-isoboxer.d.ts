/** The part of codem-isoboxer (an ISO BMFF box parser, no types of its own) the recorder reads. */
declare module 'codem-isoboxer' {
  type Box = { type: string; size: number; boxes?: Box[] };
  type ParsedFile = { boxes: Box[]; fetch(type: string): Box | undefined; fetchAll(type: string): Box[] };
  const ISOBoxer: { parseBuffer(buffer: ArrayBuffer): ParsedFile };
  export default ISOBoxer;
}
