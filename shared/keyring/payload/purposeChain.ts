/**
 * The purposes an app's protector carries: AddDataProtection links the provider to
 * DataProtectionOptions.ApplicationDiscriminator (what SetApplicationName sets) by prepending it as the
 * first purpose, unless it is null or empty; then each CreateProtector(p) appends p.
 * `purposeChain('MyApp', ['a', 'b'])` is what `provider.CreateProtector("a").CreateProtector("b")` uses.
 */
export function purposeChain(applicationName: string | undefined, purposes: readonly string[]): string[] {
  return applicationName ? [applicationName, ...purposes] : [...purposes];
}
