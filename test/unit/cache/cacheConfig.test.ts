import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/config/ConfigError';
import { parseCacheConfig } from '../../../shared/cache/cacheConfig';

describe('parseCacheConfig', () => {
  it('accepts what infra generates and fills the defaults', () => {
    const config = parseCacheConfig({ channels: [{ name: 'production' }, { name: 'staging' }], instructionsQueue: 'cache-instructions', acceptDirectEnvelopes: false }, 'cfg.cache', {
      connection: 'Storage',
    });
    expect(config).toEqual({
      storage: { connection: 'Storage' },
      channels: [{ name: 'production' }, { name: 'staging' }],
      instructionsQueue: 'cache-instructions',
      rejectedQueue: 'cache-instructions-rejected',
      journalContainer: 'cache-journal',
      frontEndQueuePrefix: 'rkfe',
      staleTimeoutMinutes: 10,
      heartbeatSeconds: 60,
      retentionHours: 48,
      idempotencyMinutes: 10,
      coldBootThreshold: 1000,
      maxEnvelopeBytes: 262144,
      acceptDirectEnvelopes: false,
    });
  });

  it('accepts directly enqueued envelopes unless told not to (local and dev publishers use the queue-only path)', () => {
    expect(parseCacheConfig({ channels: [{ name: 'p' }] }, 'c').acceptDirectEnvelopes).toBe(true);
    expect(parseCacheConfig({ channels: [{ name: 'p' }], acceptDirectEnvelopes: true }, 'c').acceptDirectEnvelopes).toBe(true);
  });

  it('falls back to AzureWebJobsStorage and accepts its own storage', () => {
    expect(parseCacheConfig({ channels: [{ name: 'p' }] }, 'c').storage).toEqual({ connection: 'AzureWebJobsStorage' });
    expect(parseCacheConfig({ channels: [{ name: 'p' }], storage: { connectionString: 'UseDevelopmentStorage=true' } }, 'c', { connection: 'X' }).storage).toEqual({
      connectionString: 'UseDevelopmentStorage=true',
    });
  });

  const errors: Array<[unknown, string]> = [
    [undefined, 'cfg'],
    [{ channels: [] }, 'cfg.channels'],
    [{ channels: [{ name: 'Production' }] }, 'cfg.channels[0].name'],
    [{ channels: [{ name: 'p' }, { name: 'p' }] }, 'cfg.channels[1].name'],
    [{ channels: [{ name: 'p', slot: 1 }] }, 'cfg.channels[0].slot'],
    [{ channels: [{ name: 'p' }], instructionsQueue: 'Bad_Queue' }, 'cfg.instructionsQueue'],
    [{ channels: [{ name: 'p' }], instructionsQueue: 'q'.repeat(55) }, 'cfg.instructionsQueue'],
    [{ channels: [{ name: 'p' }], instructionsQueue: 'rkfe-x' }, 'cfg.instructionsQueue'],
    [{ channels: [{ name: 'p' }], journalContainer: 'x' }, 'cfg.journalContainer'],
    [{ channels: [{ name: 'p' }], frontEndQueuePrefix: 'toolongprefix' }, 'cfg.frontEndQueuePrefix'],
    [{ channels: [{ name: 'p' }], staleTimeoutMinutes: 0 }, 'cfg.staleTimeoutMinutes'],
    [{ channels: [{ name: 'p' }], staleTimeoutMinutes: 1, heartbeatSeconds: 40 }, 'cfg.heartbeatSeconds'],
    [{ channels: [{ name: 'p' }], coldBootThreshold: 1.5 }, 'cfg.coldBootThreshold'],
    [{ channels: [{ name: 'p' }], retentionHours: '48' }, 'cfg.retentionHours'],
    [{ channels: [{ name: 'p' }], retentionHours: 1, idempotencyMinutes: 31 }, 'cfg.idempotencyMinutes'],
    [{ channels: [{ name: 'p' }], maxEnvelopeBytes: 10 * 1024 * 1024 }, 'cfg.maxEnvelopeBytes'],
    [{ channels: [{ name: 'p' }], storage: { blobServiceUri: 'https://a.blob.core.windows.net' } }, 'cfg.storage'],
    [{ channels: [{ name: 'p' }], queues: 1 }, 'cfg.queues'],
    [{ channels: [{ name: 'p' }], acceptDirectEnvelopes: 'false' }, 'cfg.acceptDirectEnvelopes'],
  ];
  it.each(errors)('%j is refused naming %s', (raw, setting) => {
    const err = (() => {
      try {
        parseCacheConfig(raw, 'cfg');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).setting).toBe(setting);
  });
});
