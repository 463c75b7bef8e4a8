import { createHash, randomBytes } from 'node:crypto';

/**
 * Task tokens: 192 random bits, base64url, behind a `tsk_` prefix. Only their SHA-256 is stored,
 * so a read of the database cannot answer a task.
 */
const TOKEN = /^tsk_[A-Za-z0-9_-]{32}$/;

export function newTaskToken(): string {
  return `tsk_${randomBytes(24).toString('base64url')}`;
}

export function isTaskToken(token: string): boolean {
  return TOKEN.test(token);
}

export function hashTaskToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
