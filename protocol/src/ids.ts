import { z } from 'zod';

export const RoomId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'room ids are 1-64 characters of A-Z a-z 0-9 _ -');
export type RoomId = z.infer<typeof RoomId>;

export const Role = z.enum(['host', 'viewer']);
export type Role = z.infer<typeof Role>;
