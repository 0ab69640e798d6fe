using System.Text.RegularExpressions;
using Microsoft.AspNetCore.DataProtection.Internal;

namespace Azure.Extensions.AspNetCore.DataProtection.Keys;

/// <summary>
/// Wraps ASP.NET Core's own activator. Rings name the decryptor with a full assembly-qualified name
/// (Version=1.6.4.0, PublicKeyToken=…); like the real package, strip both for this namespace (and map
/// the legacy Microsoft.AspNetCore.DataProtection.AzureKeyVault name) so any writer's version loads.
/// Every other type name goes to ASP.NET Core's activator unchanged.
/// </summary>
internal sealed partial class KeyVaultDecryptorActivator : IActivator
{
    private const string Namespace = "Azure.Extensions.AspNetCore.DataProtection.Keys.";
    private const string LegacyDecryptor = "Microsoft.AspNetCore.DataProtection.AzureKeyVault.AzureKeyVaultXmlDecryptor";
    private const string LegacyAssembly = "Microsoft.AspNetCore.DataProtection.AzureKeyVault";

    private readonly IServiceProvider _services;
    private readonly IActivator _inner;

    public KeyVaultDecryptorActivator(IServiceProvider services, IActivator inner)
    {
        _services = services;
        _inner = inner;
    }

    public object CreateInstance(Type expectedBaseType, string implementationTypeName)
    {
        var name = implementationTypeName.Trim();
        if (name.StartsWith(LegacyDecryptor, StringComparison.Ordinal))
        {
            name = name.Replace(LegacyDecryptor, typeof(AzureKeyVaultXmlDecryptor).FullName!)
                       .Replace(LegacyAssembly, typeof(AzureKeyVaultXmlDecryptor).Assembly.GetName().Name!);
        }
        if (!name.StartsWith(Namespace, StringComparison.Ordinal))
        {
            return _inner.CreateInstance(expectedBaseType, implementationTypeName);
        }
        name = TokenPattern().Replace(VersionPattern().Replace(name, ""), "");
        var type = Type.GetType(name, throwOnError: true)!;
        if (!expectedBaseType.IsAssignableFrom(type))
        {
            throw new InvalidCastException($"The type '{type.AssemblyQualifiedName}' is not assignable to '{expectedBaseType.AssemblyQualifiedName}'.");
        }
        var ctor = type.GetConstructor([typeof(IServiceProvider)]);
        return ctor is not null ? ctor.Invoke([_services]) : Activator.CreateInstance(type)!;
    }

    [GeneratedRegex(@",\s?Version=[0-9]+(\.[0-9]+){0,3}")]
    private static partial Regex VersionPattern();

    [GeneratedRegex(@",\s?PublicKeyToken=\w+")]
    private static partial Regex TokenPattern();
}
