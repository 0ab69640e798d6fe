import { randomUUID } from 'node:crypto';

const base = () => ({ version: 2, id: '3f2b8a1e-9c1d-4f5e-8a7b-6c5d4e3f2a1b', channel: 'production', origin: 'WEB01//LM/W3SVC/2/ROOT [P72/D2] EAB28404', createdAt: '2024-05-01T10:00:00.000Z' });

/** Real Umbraco v8 rows (reference) and generic instructions. */
export const UMBRACO_USER = {
  RefreshType: 3,
  RefresherId: 'e057af6d-2ee6-41f4-8045-3694010f0aa6',
  GuidId: '00000000-0000-0000-0000-000000000000',
  IntId: 0,
  JsonIds: '[1]',
  JsonIdCount: 1,
  JsonPayload: null,
};
export const UMBRACO_CONTENT_TYPE = {
  RefreshType: 4,
  RefresherId: '6902e22c-9c10-483c-91f3-66b7cae9e2f5',
  GuidId: '00000000-0000-0000-0000-000000000000',
  IntId: 0,
  JsonIds: null,
  JsonIdCount: 1,
  JsonPayload: '[{"Alias":"homePage","Id":1052}]',
};

export const VALID: Array<[string, unknown]> = [
  ['umbraco RefreshByIds row', { ...base(), instructions: [UMBRACO_USER] }],
  ['umbraco RefreshByJson row', { ...base(), instructions: [UMBRACO_CONTENT_TYPE] }],
  ['umbraco minimal', { ...base(), instructions: [{ RefreshType: 0, RefresherId: '900A4FBE-DF3C-41E6-BB77-BE896CD158EA' }] }],
  ['generic by name', { ...base(), instructions: [{ refresher: 'content', type: 'RefreshByIds', ids: [1, 2, 3] }] }],
  ['generic by number with payload', { ...base(), instructions: [{ refresher: 'media', type: 4, payload: { any: ['json', 1] } }] }],
  ['generic string ids', { ...base(), instructions: [{ refresher: 'x', type: 'RemoveById', ids: ['a', 'b'] }] }],
  ['mixed forms', { ...base(), instructions: [UMBRACO_USER, { refresher: 'x', type: 'RefreshAll' }] }],
  ['offset time', { ...base(), createdAt: '2024-05-01T12:00:00+02:00', instructions: [{ refresher: 'x', type: 0 }] }],
  ['hyphenated channel', { ...base(), channel: 'prod-eu-2', instructions: [{ refresher: 'x', type: 0 }] }],
  ['random id', { ...base(), id: randomUUID().toUpperCase(), instructions: [{ refresher: 'x', type: 0 }] }],
];

export const INVALID: Array<[string, unknown]> = [
  ['not an object', [1, 2]],
  ['wrong version (v1)', { ...base(), version: 1, instructions: [UMBRACO_USER] }],
  ['version as string', { ...base(), version: '2', instructions: [UMBRACO_USER] }],
  ['missing id', { ...base(), id: undefined, instructions: [UMBRACO_USER] }],
  ['id not a uuid', { ...base(), id: 'abc', instructions: [UMBRACO_USER] }],
  ['upper-case channel', { ...base(), channel: 'Production', instructions: [UMBRACO_USER] }],
  ['double hyphen channel', { ...base(), channel: 'a--b', instructions: [UMBRACO_USER] }],
  ['channel too long', { ...base(), channel: 'a'.repeat(25), instructions: [UMBRACO_USER] }],
  ['empty origin', { ...base(), origin: '', instructions: [UMBRACO_USER] }],
  ['origin too long', { ...base(), origin: 'o'.repeat(501), instructions: [UMBRACO_USER] }],
  ['createdAt without zone', { ...base(), createdAt: '2024-05-01T10:00:00', instructions: [UMBRACO_USER] }],
  ['no instructions', { ...base(), instructions: [] }],
  ['too many instructions', { ...base(), instructions: Array.from({ length: 1001 }, () => UMBRACO_USER) }],
  ['unknown envelope field', { ...base(), instructions: [UMBRACO_USER], extra: 1 }],
  ['RefreshType 6', { ...base(), instructions: [{ ...UMBRACO_USER, RefreshType: 6 }] }],
  ['RefreshType as name', { ...base(), instructions: [{ ...UMBRACO_USER, RefreshType: 'RefreshAll' }] }],
  ['RefresherId not a guid', { ...base(), instructions: [{ ...UMBRACO_USER, RefresherId: 'content' }] }],
  ['JsonIds not an array string', { ...base(), instructions: [{ ...UMBRACO_USER, JsonIds: '1,2' }] }],
  ['JsonIdCount negative', { ...base(), instructions: [{ ...UMBRACO_USER, JsonIdCount: -1 }] }],
  ['JsonPayload object', { ...base(), instructions: [{ ...UMBRACO_USER, JsonPayload: { a: 1 } }] }],
  ['umbraco typo field', { ...base(), instructions: [{ ...UMBRACO_USER, refreshType: 3 }] }],
  ['mixed forms in one instruction', { ...base(), instructions: [{ ...UMBRACO_USER, refresher: 'x' }] }],
  ['neither form', { ...base(), instructions: [{ foo: 1 }] }],
  ['generic unknown type', { ...base(), instructions: [{ refresher: 'x', type: 'Refresh' }] }],
  ['generic missing type', { ...base(), instructions: [{ refresher: 'x' }] }],
  ['generic ids not array', { ...base(), instructions: [{ refresher: 'x', type: 0, ids: 5 }] }],
  ['generic id float', { ...base(), instructions: [{ refresher: 'x', type: 0, ids: [1.5] }] }],
  ['generic empty refresher', { ...base(), instructions: [{ refresher: '', type: 0 }] }],
];
