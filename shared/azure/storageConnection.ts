import { AnonymousCredential, BlobServiceClient, newPipeline, StorageSharedKeyCredential, type RequestPolicyFactory, type StoragePipelineOptions } from '@azure/storage-blob';
import { newPipeline as newQueuePipeline, QueueServiceClient, type StoragePipelineOptions as QueuePipelineOptions } from '@azure/storage-queue';
import type { TokenCredential } from '@azure/identity';
import type { StorageReference } from '../config/types';
import { ConfigError } from '../config/ConfigError';
import { defaultCredential } from './credentials';

/** A resolved storage account: how to reach its blob and queue services. No secrets leave this module. */
export interface StorageConnection {
  /** Non-secret description for logs and status ("devstoreaccount1 (emulator)", "https://acct.blob..."). */
  readonly description: string;
  readonly isEmulator: boolean;
  /** `policies` are appended to the SDK pipeline, next to the transport: they see every attempt. */
  blobService(options?: StoragePipelineOptions, policies?: RequestPolicyFactory[]): BlobServiceClient;
  queueService(options?: QueuePipelineOptions, policies?: RequestPolicyFactory[]): QueueServiceClient;
}

const DEVELOPMENT_STORAGE = 'UseDevelopmentStorage=true';

export function resolveStorage(ref: StorageReference, where: string, env: NodeJS.ProcessEnv = process.env, credential: () => TokenCredential = defaultCredential): StorageConnection {
  if ('connectionString' in ref) return fromConnectionString(ref.connectionString, where);
  if ('connection' in ref) {
    const name = ref.connection;
    const direct = env[name];
    if (direct) return fromConnectionString(direct, `app setting ${name}`);
    const blobServiceUri = env[`${name}__blobServiceUri`] ?? accountUri(env[`${name}__accountName`], 'blob');
    const queueServiceUri = env[`${name}__queueServiceUri`] ?? accountUri(env[`${name}__accountName`], 'queue');
    if (!blobServiceUri && !queueServiceUri) {
      throw new ConfigError(`${where}.connection`, `app setting "${name}" is not set (neither "${name}" nor "${name}__blobServiceUri"/"${name}__queueServiceUri"/"${name}__accountName")`);
    }
    return fromServiceUris(blobServiceUri, queueServiceUri, where, credential);
  }
  return fromServiceUris(ref.blobServiceUri, ref.queueServiceUri, where, credential);
}

function accountUri(accountName: string | undefined, service: 'blob' | 'queue'): string | undefined {
  return accountName ? `https://${accountName}.${service}.core.windows.net` : undefined;
}

function fromServiceUris(blobServiceUri: string | undefined, queueServiceUri: string | undefined, where: string, credential: () => TokenCredential): StorageConnection {
  for (const [key, uri] of [
    ['blobServiceUri', blobServiceUri],
    ['queueServiceUri', queueServiceUri],
  ] as const) {
    if (uri !== undefined && !/^https?:\/\/[^/]+/.test(uri)) throw new ConfigError(`${where}.${key}`, `"${uri}" is not an http(s) URI`);
  }
  const description = blobServiceUri ?? queueServiceUri ?? '';
  return {
    description,
    isEmulator: isEmulatorUri(description),
    blobService(options, policies) {
      if (!blobServiceUri) throw new ConfigError(`${where}.blobServiceUri`, 'no blob service URI configured');
      return new BlobServiceClient(blobServiceUri, withPolicies(newPipeline(credential(), options), policies));
    },
    queueService(options, policies) {
      if (!queueServiceUri) throw new ConfigError(`${where}.queueServiceUri`, 'no queue service URI configured');
      return new QueueServiceClient(queueServiceUri, withPolicies(newQueuePipeline(credential(), options), policies));
    },
  };
}

function fromConnectionString(raw: string, where: string): StorageConnection {
  const connectionString = raw.trim() === DEVELOPMENT_STORAGE ? developmentConnectionString() : raw;
  const parts = parseConnectionString(connectionString, where);
  const account = parts.get('accountname');
  const blobEndpoint =
    parts.get('blobendpoint') ?? (account ? `${parts.get('defaultendpointsprotocol') ?? 'https'}://${account}.blob.${parts.get('endpointsuffix') ?? 'core.windows.net'}` : undefined);
  const queueEndpoint =
    parts.get('queueendpoint') ?? (account ? `${parts.get('defaultendpointsprotocol') ?? 'https'}://${account}.queue.${parts.get('endpointsuffix') ?? 'core.windows.net'}` : undefined);
  const description = `${account ?? 'account'} (${blobEndpoint ?? queueEndpoint ?? 'no endpoint'})`;
  const key = parts.get('accountkey');
  const sas = parts.get('sharedaccesssignature');
  if (!sas && !(account && key)) throw new ConfigError(where, 'the connection string needs AccountName and AccountKey, or SharedAccessSignature');
  const credential = () => (sas ? new AnonymousCredential() : new StorageSharedKeyCredential(account!, key!));
  const endpoint = (uri: string | undefined, service: string) => {
    if (!uri) throw new ConfigError(where, `the connection string has no ${service} endpoint`);
    return sas ? `${uri}?${sas.replace(/^\?/, '')}` : uri;
  };
  return {
    description,
    isEmulator: account === 'devstoreaccount1' || isEmulatorUri(blobEndpoint ?? queueEndpoint ?? ''),
    blobService(options, policies) {
      return new BlobServiceClient(endpoint(blobEndpoint, 'blob'), withPolicies(newPipeline(credential(), options), policies));
    },
    queueService(options, policies) {
      return new QueueServiceClient(endpoint(queueEndpoint, 'queue'), withPolicies(newQueuePipeline(credential(), options), policies));
    },
  };
}

function developmentConnectionString(): string {
  // Same expansion as the SDKs' UseDevelopmentStorage=true, written out so both clients agree.
  const key = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
  return (
    `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${key};` + 'BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;'
  );
}

function parseConnectionString(connectionString: string, where: string): Map<string, string> {
  const parts = new Map<string, string>();
  for (const segment of connectionString.split(';')) {
    if (!segment.trim()) continue;
    const eq = segment.indexOf('=');
    if (eq <= 0) throw new ConfigError(where, 'the connection string is malformed (expected Key=Value pairs separated by ";")');
    parts.set(segment.slice(0, eq).trim().toLowerCase(), segment.slice(eq + 1).trim());
  }
  if (!parts.has('blobendpoint') && !parts.has('queueendpoint') && !parts.has('accountname')) {
    throw new ConfigError(where, 'the connection string names no account or endpoint');
  }
  return parts;
}

function isEmulatorUri(uri: string): boolean {
  return /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\//i.test(uri + '/');
}

function withPolicies<P extends { factories: unknown[] }>(pipeline: P, policies: RequestPolicyFactory[] | undefined): P {
  if (policies) pipeline.factories.push(...policies);
  return pipeline;
}
