import { inject } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { AzuriteEndpoints } from '../../shared/azure/azurite';

export function azurite(): AzuriteEndpoints {
  return inject('azurite');
}

/** Container/queue names unique per test so tests never share state. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`.toLowerCase();
}
