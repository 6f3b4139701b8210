/** @module Roles and room scoping: who may see which recording, and who may manage what. */
import { z } from 'zod';

/** The four roles of the console and API. */
export const Role = z.enum(['admin', 'supervisor', 'auditor', 'operator']).describe('role of a user');
/** A role. */
export type Role = z.infer<typeof Role>;

/** A room name, as a recording's case elements carry it. */
export const RoomName = z.string().min(1).max(100);

/** What the access rules need to know about a user. */
export interface Principal {
  username: string;
  role: Role;
  rooms: string[];
}

/**
 * Whether this user may see a recording made in `room`: operators only their own rooms (a
 * recording with no room belongs to none of them); supervisors, auditors and admins every room.
 */
export function maySeeRoom(user: Principal, room: string | null): boolean {
  if (user.role !== 'operator') return true;
  return room !== null && user.rooms.includes(room);
}

/** The rooms a search must be narrowed to for this user, or null when it sees every room. */
export function roomScope(user: Principal): string[] | null {
  return user.role === 'operator' ? [...user.rooms] : null;
}
