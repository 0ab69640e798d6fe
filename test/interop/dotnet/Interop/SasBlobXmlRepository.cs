using System.Net;
using System.Net.Http.Headers;
using System.Xml;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace RingkeeperInterop;

/// <summary>
/// Stand-in for AzureBlobXmlRepository (Azure.Extensions.AspNetCore.DataProtection.Blobs is not served
/// here, and Azure.Storage.Blobs cannot restore: System.IO.Hashing is missing). Same behaviour as
/// documented for the real one, over a blob SAS URL (the real package's Uri overload):
/// one blob, root &lt;repository&gt;, DTDs prohibited, PIs ignored, root name not checked,
/// missing or zero-length blob = no elements; StoreElement appends and saves without formatting,
/// content type application/xml; charset=utf-8, If-Match / If-None-Match:* with up to 5 attempts.
/// </summary>
public sealed class SasBlobXmlRepository : IXmlRepository
{
    private const int MaxAttempts = 5;
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Uri _blob;

    public SasBlobXmlRepository(Uri blobSasUri) => _blob = blobSasUri;

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        var (doc, _) = Download();
        return doc?.Root?.Elements().Select(e => new XElement(e)).ToList() ?? [];
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (attempt >= 2)
            {
                Thread.Sleep(TimeSpan.FromMilliseconds(200 * (0.8 + Random.Shared.NextDouble() * 0.2)));
            }
            var (doc, etag) = Download();
            doc ??= new XDocument(new XElement("repository"));
            doc.Root!.Add(new XElement(element));
            using var ms = new MemoryStream();
            doc.Save(ms, SaveOptions.DisableFormatting);

            using var put = new HttpRequestMessage(HttpMethod.Put, _blob) { Content = new ByteArrayContent(ms.ToArray()) };
            put.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/xml; charset=utf-8");
            put.Headers.Add("x-ms-blob-type", "BlockBlob");
            put.Headers.Add("x-ms-version", "2021-12-02");
            if (etag is null) put.Headers.TryAddWithoutValidation("If-None-Match", "*");
            else put.Headers.TryAddWithoutValidation("If-Match", etag);
            using var res = Http.Send(put);
            if (res.IsSuccessStatusCode) return;
            if ((res.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.PreconditionFailed) && attempt + 1 < MaxAttempts) continue;
            throw new IOException($"PUT {Redact(_blob)} failed: {(int)res.StatusCode} {res.ReasonPhrase}");
        }
    }

    private (XDocument? Doc, string? ETag) Download()
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, _blob);
        get.Headers.Add("x-ms-version", "2021-12-02");
        using var res = Http.Send(get);
        if (res.StatusCode == HttpStatusCode.NotFound) return (null, null);
        if (!res.IsSuccessStatusCode) throw new IOException($"GET {Redact(_blob)} failed: {(int)res.StatusCode} {res.ReasonPhrase}");
        var etag = res.Headers.ETag?.ToString();
        var bytes = res.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult();
        if (bytes.Length == 0) return (null, etag);
        using var ms = new MemoryStream(bytes);
        using var reader = XmlReader.Create(ms, new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            IgnoreProcessingInstructions = true,
        });
        return (XDocument.Load(reader), etag);
    }

    private static string Redact(Uri u) => u.GetLeftPart(UriPartial.Path);
}
