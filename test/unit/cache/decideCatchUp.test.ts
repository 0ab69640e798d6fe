import { describe, expect, it } from 'vitest';
import { decideCatchUp, type CatchUpInput } from '../../../shared/cache/decideColdBoot';

describe('decideCatchUp (Umbraco cold-boot rules, counted in journal entries)', () => {
  const cases: Array<[string, CatchUpInput, ReturnType<typeof decideCatchUp>]> = [
    ['new front-end starts at the head, no cold boot', { lastApplied: undefined, head: 42, nextExists: true, threshold: 1000 }, { action: 'start-at-head', head: 42 }],
    ['new front-end on an empty journal', { lastApplied: undefined, head: 0, nextExists: true, threshold: 1000 }, { action: 'start-at-head', head: 0 }],
    ['up to date', { lastApplied: 42, head: 42, nextExists: false, threshold: 1000 }, { action: 'up-to-date' }],
    ['behind within the threshold replays', { lastApplied: 40, head: 1040, nextExists: true, threshold: 1000 }, { action: 'replay', from: 41, to: 1040 }],
    ['one over the threshold cold-boots', { lastApplied: 40, head: 1041, nextExists: true, threshold: 1000 }, { action: 'cold-boot', reason: 'too-far-behind', skipTo: 1041 }],
    ['next entry pruned cold-boots', { lastApplied: 5, head: 9, nextExists: false, threshold: 1000 }, { action: 'cold-boot', reason: 'journal-pruned', skipTo: 9 }],
    ['journal behind the front-end (wiped) cold-boots', { lastApplied: 50, head: 3, nextExists: true, threshold: 1000 }, { action: 'cold-boot', reason: 'journal-reset', skipTo: 3 }],
    [
      'zero position with entries replays (not Umbraco rule b: position 0 is a real position here)',
      { lastApplied: 0, head: 2, nextExists: true, threshold: 1000 },
      { action: 'replay', from: 1, to: 2 },
    ],
  ];
  it.each(cases)('%s', (_, input, expected) => {
    expect(decideCatchUp(input)).toEqual(expected);
  });
});
