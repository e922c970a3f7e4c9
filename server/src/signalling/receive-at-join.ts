import type { ConsumerInfo, ProducerInfo, RequestBody, ResponseData } from '@onstage/protocol';
import { OnstageError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Participant } from '../rooms/participant.ts';
import type { ServedRoom } from '../rooms/room-registry.ts';

type Receive = NonNullable<RequestBody<'join'>['receive']>;

/**
 * A joining client's receive side, made with the join: its receive transport and a running consumer
 * of each producer. The consumers run before the client has connected the transport: nothing flows
 * until it does, and the worker asks the senders for a keyframe the moment it connects, so the
 * first frame needs no further request. A producer that cannot be consumed is left out (the client
 * consumes it as usual and learns why); a media failure leaves everything out (the client then
 * asks for the transport itself).
 */
export async function receiveAtJoin(
  room: ServedRoom,
  me: Participant,
  producers: readonly ProducerInfo[],
  { rtpCapabilities, quality }: Receive,
  logger: Logger,
): Promise<ResponseData<'join'>['receive']> {
  let transport;
  try {
    transport = await room.createTransport(me, 'recv');
    if (quality && quality !== 'auto') await room.setPreferredQuality(me, quality);
  } catch (err) {
    logger.warn({ err }, 'could not make the receive side at join; the client will ask for it');
    return undefined;
  }
  const made = await Promise.all(
    producers.map(async ({ producerId }): Promise<ConsumerInfo | undefined> => {
      try {
        const consumer = await room.consume(me, transport.transportId, producerId, rtpCapabilities);
        await room.resumeConsumer(me, consumer.consumerId);
        return consumer;
      } catch (err) {
        if (!(err instanceof OnstageError)) logger.warn({ err, producerId }, 'could not consume at join');
        return undefined;
      }
    }),
  );
  return { transport, consumers: made.filter((c) => c !== undefined) };
}
