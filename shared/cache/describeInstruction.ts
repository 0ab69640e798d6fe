import { REFRESH_TYPES, isUmbracoInstruction, type CacheInstruction } from './CacheEnvelope';

/** Umbraco's built-in refresher ids (DistributedCache constants), for readable output. */
const UMBRACO_REFRESHERS: Record<string, string> = {
  '900a4fbe-df3c-41e6-bb77-be896cd158ea': 'Content',
  'b29286dd-2d40-4ddb-b325-681226589fec': 'Media',
  'd1d7e227-f817-4816-bfe9-6c39b6152884': 'Dictionary',
  '6902e22c-9c10-483c-91f3-66b7cae9e2f5': 'ContentType',
  '35b16c25-a17e-45d7-bc8f-edab1dcc28d2': 'DataType',
  '11290a79-4b57-4c99-ad72-7748a3cf38af': 'Domain',
  '3e0f95d8-0be5-44b8-8394-2b8750b62654': 'Language',
  'e285df34-acdc-4226-ae32-c0cb5cf388da': 'Member',
  '187f236b-bd21-4c85-8a7c-29fba3d6c00c': 'MemberGroup',
  'dd12b6a0-14b9-46e8-8800-c154f74047c8': 'Template',
  'e057af6d-2ee6-41f4-8045-3694010f0aa6': 'User',
  '1db08769-b104-4f8b-850e-169cac1df2ec': 'PublicAccess',
  '7b1e683c-5f34-43dd-803d-9699ea1e98ca': 'Macro',
  'b15f34a1-bc1d-4f8b-8369-3222728ab4c8': 'Application',
};

/** One line for operators: refresher, method, ids/payload size. Pure. */
export function describeInstruction(i: CacheInstruction): string {
  if (isUmbracoInstruction(i)) {
    const refresher = UMBRACO_REFRESHERS[i.RefresherId.toLowerCase()] ?? i.RefresherId;
    const parts = [refresher, REFRESH_TYPES[i.RefreshType] ?? String(i.RefreshType)];
    if (i.RefreshType === 1 && i.GuidId) parts.push(`guid=${i.GuidId}`);
    if ((i.RefreshType === 2 || i.RefreshType === 5) && i.IntId !== undefined && i.IntId !== null) parts.push(`id=${i.IntId}`);
    if (i.JsonIds) parts.push(`ids=${i.JsonIds}`);
    if (i.JsonPayload) parts.push(`payload=${Buffer.byteLength(i.JsonPayload)}B`);
    return parts.join(' ');
  }
  const type = typeof i.type === 'number' ? (REFRESH_TYPES[i.type] ?? String(i.type)) : i.type;
  const parts = [i.refresher, type];
  if (i.ids) parts.push(`ids=${JSON.stringify(i.ids)}`);
  if (i.payload !== undefined) parts.push(`payload=${Buffer.byteLength(JSON.stringify(i.payload) ?? '')}B`);
  return parts.join(' ');
}
