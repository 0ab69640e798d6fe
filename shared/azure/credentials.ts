import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';

let shared: TokenCredential | undefined;

/** One DefaultAzureCredential per process: managed identity in Azure, `az login` locally. Created on first use. */
export function defaultCredential(): TokenCredential {
  shared ??= new DefaultAzureCredential();
  return shared;
}
