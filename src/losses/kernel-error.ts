/**
 * A kernel's complaint about one input value (a class index out of range, a
 * probability outside [0, 1]). The chunk runner turns it into a message with
 * the file, line, column and value as written.
 */
import type { RoleName } from './kernel.js';

export class KernelError extends Error {
  constructor(
    message: string,
    /** Row within the chunk (after --nan-policy omit). */
    readonly row: number,
    readonly role: RoleName,
    /** Value position within the role's row. */
    readonly offset: number,
  ) {
    super(message);
  }
}
