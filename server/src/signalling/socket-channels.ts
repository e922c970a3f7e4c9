import type { Server } from 'socket.io';
import type { Connection } from '../rooms/participant.ts';
import { localChannels, type RoomChannels } from '../rooms/room-channel.ts';

/**
 * Room channels as socket.io rooms: a room-wide event is encoded once (and its WebSocket frame
 * built once) for all the room's sockets, and a socket.io adapter can carry it to other nodes.
 * A connection's id is its socket's id; a socket leaves every channel when it disconnects.
 * Connections without a socket (WHIP and WHEP sessions over HTTP) get events through their own `notify`.
 */
export function socketChannels(io: Server): RoomChannels {
  const socketless = localChannels();
  let serial = 0;
  return {
    open(roomId) {
      const name = `room:${roomId}:${++serial}`;
      const others = socketless.open(roomId);
      const socketOf = (c: Connection) => io.sockets.sockets.get(c.id);
      const sockets = () => io.sockets.adapter.rooms.get(name);
      return {
        add(c) {
          const socket = socketOf(c);
          if (socket) socket.join(name);
          else others.add(c);
        },
        remove(c) {
          const socket = socketOf(c);
          if (socket) socket.leave(name);
          else others.remove(c);
        },
        emit(event, body, except) {
          (except ? io.to(name).except(except.id) : io.to(name)).emit(event, body);
          const members = sockets();
          return (members?.size ?? 0) - (except && members?.has(except.id) ? 1 : 0) + others.emit(event, body, except);
        },
        get size() {
          return (sockets()?.size ?? 0) + others.size;
        },
        close() {
          io.in(name).socketsLeave(name);
          others.close();
        },
      };
    },
  };
}
