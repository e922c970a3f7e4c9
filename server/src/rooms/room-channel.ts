import type { ServerEvent, ServerEventName } from '@onstage/protocol';
import type { Connection, Relay } from './participant.ts';

/**
 * Room-wide delivery. A room's connected participants are subscribed to its channel, and an
 * event for everyone is handed over once (socket.io encodes it once for all its sockets) instead
 * of once per participant. The signalling layer provides the socket.io implementation (which a
 * socket.io adapter can carry across nodes); `localChannels` serves connections in this process.
 */
export type RoomChannel = {
  add(connection: Connection): void;
  remove(connection: Connection): void;
  /** To every subscribed connection but `except`; returns how many connections it goes to. */
  emit<N extends ServerEventName>(name: N, body: ServerEvent<N>, except?: Connection): number;
  /** Subscribed connections (with `withRelays`, those on other nodes too). */
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
          return members.size - (except && members.has(except) ? 1 : 0);
        },
        get size() {
          return members.size;
        },
        close: () => members.clear(),
      };
    },
  };
}

/**
 * A room channel that also reaches connections on other nodes: a connection with a relay is
 * counted here, and a room-wide event goes to each relay once (its node fans it out).
 */
export function withRelays(local: RoomChannel): RoomChannel {
  const relayed = new Map<Relay, Set<string>>();
  let remote = 0;
  return {
    add(c) {
      if (!c.relay) return local.add(c);
      const ids = relayed.get(c.relay) ?? new Set<string>();
      relayed.set(c.relay, ids);
      if (!ids.has(c.id)) remote++;
      ids.add(c.id);
    },
    remove(c) {
      if (!c.relay) return local.remove(c);
      const ids = relayed.get(c.relay);
      if (!ids?.delete(c.id)) return;
      remote--;
      if (ids.size === 0) relayed.delete(c.relay);
    },
    emit(name, body, except) {
      let reached = local.emit(name, body, except?.relay ? undefined : except);
      for (const [relay, ids] of relayed) {
        const skip = except?.relay === relay && ids.has(except.id);
        relay.emit(name, body, skip ? except.id : undefined);
        reached += ids.size - (skip ? 1 : 0);
      }
      return reached;
    },
    get size() {
      return local.size + remote;
    },
    close() {
      relayed.clear();
      remote = 0;
      local.close();
    },
  };
}
