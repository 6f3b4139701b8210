/** @module The password policy for passwords people choose: long enough, not the user name, not a common password. */
import { IngestError } from '../errors.ts';

/** The shortest password accepted. */
export const MIN_PASSWORD_LENGTH = 12;

/**
 * Passwords of 12 characters or more that lead the published lists of breached passwords (and their obvious
 * local variants); compared after lowercasing. A small built-in list, not a breach corpus.
 */
const COMMON = new Set([
  '123456789012',
  '1234567890123',
  '12345678901234',
  '123456789abc',
  '1q2w3e4r5t6y',
  '1qaz2wsx3edc',
  'qwertyuiop12',
  'qwertyuiopasdfgh',
  'qwerty123456',
  'qwertyuiop123',
  'asdfghjkl123',
  'zxcvbnm12345',
  'password1234',
  'password12345',
  'password123!',
  'passw0rd1234',
  'p@ssw0rd1234',
  'iloveyou1234',
  'welcome12345',
  'welcome123456',
  'administrator',
  'administrator1',
  'admin1234567',
  'admin123456789',
  'changeme1234',
  'letmein12345',
  'abc123456789',
  'abcdefghijkl',
  'aaaaaaaaaaaa',
  '111111111111',
  '000000000000',
  '123123123123',
  'trustno1trustno1',
  'football1234',
  'baseball1234',
  'sunshine1234',
  'superman1234',
  'princess1234',
  'whatever1234',
  'woaini1314520',
  'woaini520520',
  'a123456789012',
  'qq1234567890',
  'quanlu123456',
  'quanlu-admin',
  'quanlupassword',
]);

/** Why a password is refused, or null when the policy accepts it. */
export function passwordProblem(password: string, username: string): string | null {
  if ([...password].length < MIN_PASSWORD_LENGTH)
    return `a password has at least ${MIN_PASSWORD_LENGTH} characters: choose a longer one (a few unrelated words work well)`;
  const lower = password.toLowerCase();
  if (lower === username.toLowerCase())
    return 'a password must not be the user name: choose one that has nothing to do with it';
  if (COMMON.has(lower))
    return 'this password is on the list of common passwords that are guessed first: choose another';
  return null;
}

/** Throws INGEST_WEAK_PASSWORD when the policy refuses `password` for `username`. */
export function checkPasswordPolicy(password: string, username: string): void {
  const problem = passwordProblem(password, username);
  if (problem) throw new IngestError('INGEST_WEAK_PASSWORD', problem);
}
