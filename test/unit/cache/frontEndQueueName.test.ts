import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { QUEUE_NAME_PATTERN, frontEndQueueName, frontEndQueuePrefix } from '../../../shared/cache/frontEndQueueName';

describe('frontEndQueueName', () => {
  it('is always a valid Azure queue name under the channel prefix, whatever the instance id', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 300 }),
        fc.constantFrom('production', 'staging', 'a', 'x'.repeat(24), 'prod-eu-2'),
        fc.constantFrom('rkfe', 'a', 'abcdefghij'),
        (instance, channel, prefix) => {
          const name = frontEndQueueName(prefix, channel, instance);
          expect(name).toMatch(QUEUE_NAME_PATTERN);
          expect(name.length).toBeLessThanOrEqual(63);
          expect(name.startsWith(frontEndQueuePrefix(prefix, channel))).toBe(true);
        },
      ),
    );
  });

  it('keeps instances apart even when their readable parts collide', () => {
    expect(frontEndQueueName('rkfe', 'production', 'Web_01')).not.toBe(frontEndQueueName('rkfe', 'production', 'web-01'));
    expect(frontEndQueueName('rkfe', 'production', 'web-01')).toMatch(/^rkfe-production-web-01-[0-9a-f]{10}$/);
    expect(frontEndQueueName('rkfe', 'production', 'web-01')).toBe(frontEndQueueName('rkfe', 'production', 'web-01'));
  });
});
