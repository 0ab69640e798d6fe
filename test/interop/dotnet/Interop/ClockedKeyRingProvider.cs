using System.Reflection;
using Microsoft.AspNetCore.DataProtection.KeyManagement.Internal;

namespace RingkeeperInterop;

/// <summary>
/// ASP.NET Core 10's Data Protection reads DateTimeOffset.UtcNow directly (no TimeProvider). Its
/// KeyRingProvider exposes the whole decision for an arbitrary instant through the public
/// ICacheableKeyRingProvider.GetCacheableKeyRing(now): key listing, DefaultKeyResolver, the
/// auto-generation-disabled fallback/throw, revoked-default checks. This provider asks the real
/// KeyRingProvider at <see cref="Now"/> on every call and hands the resulting ring to the real
/// KeyRingBasedDataProtector. Only the ring is read from the internal CacheableKeyRing.KeyRing.
/// </summary>
public sealed class ClockedKeyRingProvider(ICacheableKeyRingProvider real) : IKeyRingProvider
{
    private static readonly PropertyInfo KeyRingProperty =
        typeof(CacheableKeyRing).GetProperty("KeyRing", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
        ?? throw new MissingMemberException(nameof(CacheableKeyRing), "KeyRing");

    public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;

    public IKeyRing GetCurrentKeyRing() => (IKeyRing)KeyRingProperty.GetValue(real.GetCacheableKeyRing(Now))!;
}
