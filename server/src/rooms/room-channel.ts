import type { ServerEvent, ServerEventName } from '@onstage/protocol';
import type { Connection } from './participant.ts';

/**
 * Room-wide delivery. A room's connected participants are subscribed to its channel, and an
 * event for everyone is handed over once (socket.io encodes it once for all its sockets) instead
 * of once per participant. The signalling layer provides the socket.io implementation (which a
 * socket.io adapter can carry across nodes); `localChannels` serves connections in this process.
 */
export type RoomChannel = {
  add(connection: Connection): void;
  remove(connection: Connection): void;
  /** To every subscribed connection but `except`. */
  emit<N extends ServerEventName>(name: N, body: ServerEvent<N>, except?: Connection): void;
  /** Subscribed connections on this node. */
  readonly size: number;
  /** Unsubscribes everyone; the channel is not used again. */
  close(): void;
};

/** Makes one channel per room instance; a closed room's channel name is never reused. */
export type RoomChannels = { open(roomId: string): RoomChannel };

/** Channels that call each connection's own `notify`: for connections without a socket. */
export function localChannels(): RoomChannels {
  return {
    open() {
      const members = new Set<Connection>();
      return {
        add: (c) => void members.add(c),
        remove: (c) => void members.delete(c),
        emit(name, body, except) {
          for (const c of members) if (c !== except) c.notify(name, body);
        },
        get size() {
          return members.size;
        },
        close: () => members.clear(),
      };
    },
  };
}
