/**
 * The generated RINGKEEPER_CONFIG_JSON is read by the project's own configuration and cache
 * parsers (shared/config, shared/cache), and every fixed name they derive from it is deployed in
 * the account that AzureWebJobsStorage names.
 */
import { describe, expect, it } from 'vitest';
import { parseCacheConfig } from '../../shared/cache/cacheConfig';
import { configFromEnvironment } from '../../shared/config/loadConfig';
import { appSettings, evaluateMain, functionApp } from './support/checks';

describe.each([[['staging']], [['staging', 'qa']]])('RINGKEEPER_CONFIG_JSON for slots %j', (slots) => {
  it('is accepted by shared/config and shared/cache, and its queues and journal are deployed', async () => {
    const d = await evaluateMain({ slots });
    const settings = appSettings(functionApp(d));
    const config = configFromEnvironment({ RINGKEEPER_CONFIG_JSON: settings.RINGKEEPER_CONFIG_JSON }, '/');
    expect(config?.rings.map((r) => r.name)).toEqual(['production', ...slots]);
    const cache = parseCacheConfig(config!.cache, 'RINGKEEPER_CONFIG_JSON.cache', config!.storage);
    expect(cache.storage).toEqual({ connection: 'AzureWebJobsStorage' });
    expect(cache.channels.map((c) => c.name)).toEqual(['production', ...slots]);

    const host = settings.AzureWebJobsStorage__blobServiceUri!.match(/^https:\/\/([a-z0-9]+)\./)![1];
    const names = new Set(d.resources.map((r) => r.name));
    for (const queue of [cache.instructionsQueue, `${cache.instructionsQueue}-poison`, cache.rejectedQueue]) {
      expect(names).toContain(`${host}/default/${queue}`);
    }
    expect(names).toContain(`${host}/default/${cache.journalContainer}`);
    expect(d.outputs.cacheQueueNames).toEqual([cache.instructionsQueue, `${cache.instructionsQueue}-poison`, cache.rejectedQueue]);
    expect(d.outputs.cacheJournalContainerName).toBe(cache.journalContainer);
  });
});
