/**
 * Temporary files to remove if the process is interrupted (SIGINT/SIGTERM)
 * before a run commits its output. Removal is synchronous: it runs in the
 * signal handler right before exit.
 */
import { rmSync } from 'node:fs';

const pending = new Set<string>();

export function trackTempFile(path: string): void {
  pending.add(path);
}

export function untrackTempFile(path: string): void {
  pending.delete(path);
}

export function removeTempFilesNow(): void {
  for (const p of pending) {
    try {
      rmSync(p, { force: true });
    } catch {
      // nothing more can be done while exiting
    }
  }
  pending.clear();
}
