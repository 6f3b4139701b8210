/** @module Managing users, shared by the admin API and the command line: schemas, generated passwords, audit records. */
import { z } from 'zod';
import type { Repository, UserChange, UserRow } from '../db/repository.ts';
import { IngestError } from '../errors.ts';
import { generatePassword, hashPassword } from './password.ts';
import { checkPasswordPolicy } from './password-policy.ts';
import { Role, RoomName } from './roles.ts';

/** A user name: lowercase letters, digits, ".", "_" and "-", up to 64 characters. */
export const Username = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a user name is 1–64 of a-z, 0-9, ".", "_" and "-"')
  .describe('user name');

/** A password someone chose: at least 12 characters. */
export const Password = z
  .string()
  .min(12, 'a password has at least 12 characters')
  .max(256)
  .describe('password');

/** A new user, as the API and the command line take it. */
export const NewUserInput = z.strictObject({
  username: Username,
  displayName: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('name shown in the console; the user name by default'),
  role: Role,
  rooms: z.array(RoomName).max(200).default([]).describe("an operator's rooms; ignored for other roles"),
  password: Password.optional().describe('omit to have a strong password generated and returned once'),
});
/** A new user. */
export type NewUserInput = z.input<typeof NewUserInput>;

/** A change to a user. */
export const UserChangeInput = z
  .strictObject({
    displayName: z.string().min(1).max(100).optional(),
    role: Role.optional(),
    rooms: z.array(RoomName).max(200).optional(),
    disabled: z.boolean().optional().describe('a disabled user cannot sign in; its sessions and tokens end'),
    password: Password.optional(),
  })
  .refine((c) => Object.keys(c).length > 0, 'name at least one field to change');
/** A change to a user. */
export type UserChangeInput = z.infer<typeof UserChangeInput>;

/** A user as the API shows it. */
export const UserView = z.object({
  username: z.string(),
  displayName: z.string(),
  role: Role,
  rooms: z.array(z.string()),
  disabled: z.boolean(),
  createdAt: z.string(),
  changedAt: z.string(),
});

/** Adds a user; returns the generated password when none was given (shown once, never stored). */
export async function addUser(
  repo: Repository,
  input: NewUserInput,
  at: string,
): Promise<{ user: UserRow; generatedPassword: string | null }> {
  const parsed = NewUserInput.safeParse(input);
  if (!parsed.success) throw new IngestError('INGEST_BAD_REQUEST', z.prettifyError(parsed.error));
  const u = parsed.data;
  if (u.password !== undefined) checkPasswordPolicy(u.password, u.username);
  const generatedPassword = u.password === undefined ? generatePassword() : null;
  const user = await repo.insertUser(
    {
      username: u.username,
      displayName: u.displayName ?? u.username,
      role: u.role,
      rooms: u.role === 'operator' ? u.rooms : [],
      password: await hashPassword(u.password ?? generatedPassword!),
    },
    at,
  );
  return { user, generatedPassword };
}

/** Changes a user; INGEST_NOT_FOUND when there is none by that name. */
export async function changeUser(
  repo: Repository,
  username: string,
  change: UserChangeInput,
  at: string,
): Promise<UserRow> {
  const { password, ...rest } = change;
  if (password !== undefined) checkPasswordPolicy(password, username);
  const stored: UserChange = {
    ...rest,
    ...(password !== undefined ? { password: await hashPassword(password) } : {}),
  };
  if (change.role !== undefined && change.role !== 'operator' && change.rooms === undefined)
    stored.rooms = [];
  const user = await repo.updateUser(username, stored, at);
  if (!user) throw new IngestError('INGEST_NOT_FOUND', `no user ${username}`);
  return user;
}

/** What an audit record says about a change (never a password). */
export function describeChange(change: UserChangeInput): string {
  const { password, ...rest } = change;
  return JSON.stringify({ ...rest, ...(password !== undefined ? { password: 'changed' } : {}) });
}
