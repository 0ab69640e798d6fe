using Azure.Core.Cryptography;
using Azure.Extensions.AspNetCore.DataProtection.Keys;
using Microsoft.AspNetCore.DataProtection.Internal;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.DataProtection;

/// <summary>The package's entry point, same name and shape as the real overload taking a resolver.</summary>
public static class KeyVaultDataProtectionBuilderExtensions
{
    public static IDataProtectionBuilder ProtectKeysWithAzureKeyVault(this IDataProtectionBuilder builder, string keyIdentifier, IKeyEncryptionKeyResolver keyResolver)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(keyResolver);
        ArgumentException.ThrowIfNullOrEmpty(keyIdentifier);

        builder.Services.AddSingleton(keyResolver);
        WrapActivator(builder.Services);
        builder.Services.Configure<KeyManagementOptions>(o => o.XmlEncryptor = new AzureKeyVaultXmlEncryptor(keyResolver, keyIdentifier));
        return builder;
    }

    // ASP.NET Core registers its activator by implementation type; keep it as the inner activator.
    private static void WrapActivator(IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(ActivatorWrapped)))
        {
            return;
        }
        var original = services.LastOrDefault(d => d.ServiceType == typeof(IActivator))
            ?? throw new InvalidOperationException("Call AddDataProtection() first.");
        services.Remove(original);
        services.AddSingleton<ActivatorWrapped>();
        services.AddSingleton<IActivator>(sp => new KeyVaultDecryptorActivator(sp, CreateInner(sp, original)));
    }

    private static IActivator CreateInner(IServiceProvider sp, ServiceDescriptor d) =>
        (IActivator)(d.ImplementationInstance
            ?? d.ImplementationFactory?.Invoke(sp)
            ?? ActivatorUtilities.CreateInstance(sp, d.ImplementationType!));
}

internal sealed class ActivatorWrapped;
