global using Umbraco.Extensions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Umbraco.Cms.Core.DependencyInjection;

namespace Umbraco.Extensions;

/// <summary>
/// Compile-time stand-ins for the Umbraco.Cms extension methods a site's Program.cs calls, with their real
/// signatures: Umbraco.Cms (Web.Common, back office) is not served by this machine's NuGet source. What the README's
/// snippet adds, AddRingkeeperCacheSync, is the real one, as is AddComposers (Umbraco.Cms.Core). Never run.
/// </summary>
public static class UmbracoCmsStandIns
{
    public static IUmbracoBuilder CreateUmbracoBuilder(this WebApplicationBuilder builder) =>
        throw new NotSupportedException("compile-time stand-in");

    public static IUmbracoBuilder AddBackOffice(this IUmbracoBuilder builder, Action<IMvcBuilder>? configureMvc = null) => builder;

    public static IUmbracoBuilder AddWebsite(this IUmbracoBuilder builder, Action<IMvcBuilder>? configureMvc = null) => builder;
}
