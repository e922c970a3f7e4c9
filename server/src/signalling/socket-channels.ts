import type { Server } from 'socket.io';
import type { Connection } from '../rooms/participant.ts';
import type { RoomChannels } from '../rooms/room-channel.ts';

/**
 * Room channels as socket.io rooms: a room-wide event is encoded once (and its WebSocket frame
 * built once) for all the room's sockets, and a socket.io adapter can carry it to other nodes.
 * A connection's id is its socket's id; a socket leaves every channel when it disconnects.
 */
export function socketChannels(io: Server): RoomChannels {
  let serial = 0;
  return {
    open(roomId) {
      const name = `room:${roomId}:${++serial}`;
      const socketOf = (c: Connection) => io.sockets.sockets.get(c.id);
      return {
        add: (c) => void socketOf(c)?.join(name),
        remove: (c) => void socketOf(c)?.leave(name),
        emit(event, body, except) {
          (except ? io.to(name).except(except.id) : io.to(name)).emit(event, body);
          const members = io.sockets.adapter.rooms.get(name);
          return (members?.size ?? 0) - (except && members?.has(except.id) ? 1 : 0);
        },
        get size() {
          return io.sockets.adapter.rooms.get(name)?.size ?? 0;
        },
        close: () => io.in(name).socketsLeave(name),
      };
    },
  };
}
