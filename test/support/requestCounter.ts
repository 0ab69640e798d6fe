import type { RequestPolicyFactory } from '@azure/storage-blob';

export interface RecordedStorageRequest {
  method: string;
  path: string;
  status?: number;
}

/** An SDK pipeline policy next to the transport: records every storage request that goes on the wire. */
export function requestCounter(): { policy: RequestPolicyFactory; requests: RecordedStorageRequest[]; reset(): void } {
  const requests: RecordedStorageRequest[] = [];
  const policy: RequestPolicyFactory = {
    create: (next) => ({
      async sendRequest(request) {
        const entry: RecordedStorageRequest = { method: request.method, path: new URL(request.url).pathname };
        requests.push(entry);
        const response = await next.sendRequest(request);
        entry.status = response.status;
        return response;
      },
    }),
  };
  return { policy, requests, reset: () => void requests.splice(0) };
}
